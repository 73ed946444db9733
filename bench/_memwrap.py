"""Run pysentinel with tracemalloc on; SIGUSR1 writes the top allocation sites.

``python3 bench/_memwrap.py OUT.txt sentinel.conf``: starts ``pysentinel
sentinel.conf`` in this process with ``tracemalloc`` tracing 4 frames; each
SIGUSR1 (re)writes ``OUT.txt`` with the 40 largest allocation sites by line and
by traceback. Used by ``hotspots.py memory``; pysentinel itself is not changed.
"""

from __future__ import annotations

import signal
import sys
import tracemalloc
from types import FrameType


def main() -> int:
    out_path, argv = sys.argv[1], sys.argv[2:]
    tracemalloc.start(4)

    def dump(signum: int, frame: FrameType | None) -> None:
        snap = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        total = sum(s.size for s in snap.statistics("filename"))
        lines = [f"traced total {total / 2**20:.1f} MiB", "", "by line:"]
        for stat in snap.statistics("lineno")[:40]:
            lines.append(f"{stat.size / 2**20:8.2f} MiB {stat.count:8d}  {stat.traceback[0]}")
        lines += ["", "by traceback (top 12):"]
        for stat in snap.statistics("traceback")[:12]:
            lines.append(f"{stat.size / 2**20:8.2f} MiB {stat.count:8d}")
            lines += [f"      {f}" for f in stat.traceback.format()]
        with open(out_path, "w") as f:
            f.write("\n".join(lines) + "\n")

    signal.signal(signal.SIGUSR1, dump)
    from pysentinel.__main__ import main as pysentinel_main

    return pysentinel_main(argv)


if __name__ == "__main__":
    sys.exit(main())
