"""Where pysentinel spends its time on the benchmarks' hot paths (py-spy / cProfile).

* ``throughput``: one pysentinel monitoring one redis-server while redis-benchmark
  sends ``SENTINEL get-master-addr-by-name mymaster`` (``-c 50 -P 1``); py-spy samples
  the sentinel process.
* ``scale``: one pysentinel monitoring N masters with a replica each (real ``hz 1``
  servers, as in ``scale.py``), sampled by py-spy in steady state after discovery.
* ``sim``: cProfile of the simulator playing ``sim_speed.py``'s one-hour scenario.

py-spy (``pip install py-spy``) samples without slowing the process much; its
collapsed stacks are folded here into the functions with the largest self time and
the largest inclusive time (share of all samples). Usage: ``python3 bench/hotspots.py
throughput|scale|sim [--seconds 10] [--n 500] [--top 25]``. Prints text; the findings
are summarised in ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    HOST,
    BenchError,
    bench_env,
    free_port,
    start_redis,
    start_sentinel,
    wait_redis,
    wait_until,
)

RAW_COPY: list[Path] = []


def fold(raw: str, top: int) -> str:
    """Top functions by self and by inclusive share of py-spy's collapsed stacks."""
    for path in RAW_COPY:
        path.write_text(raw)
    own: Counter[str] = Counter()
    by_module: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[_short(frames[-1])] += count
        by_module[_module(frames[-1])] += count
        for f in {_short(f) for f in frames}:
            incl[f] += count
    if not total:
        return "no samples\n"
    out = [f"{total} samples", "", "self %   module"]
    out += [f"{100 * c / total:6.1f}   {f}" for f, c in by_module.most_common(top)]
    out += ["", "self %   function"]
    out += [f"{100 * c / total:6.1f}   {f}" for f, c in own.most_common(top)]
    out += ["", "incl %   function"]
    out += [f"{100 * c / total:6.1f}   {f}" for f, c in incl.most_common(top)]
    return "\n".join(out) + "\n"


def _module(frame: str) -> str:
    """The file of a frame, shortened: ``trio/_core/_run.py`` -> ``trio/_core``."""
    path = frame.partition(" (")[2].rstrip(")").rsplit(":", 1)[0]
    for anchor in ("pysentinel/", "sim/", "trio/", "hiredis/", "attr/", "outcome/"):
        i = path.find(anchor)
        if i >= 0:
            rest = path[i:]
            return rest if anchor in ("pysentinel/", "sim/") else anchor.rstrip("/")
    return Path(path).name or path


def _short(frame: str) -> str:
    """``func (path/to/mod.py:123)`` -> ``func (mod.py)``, lines dropped so they add up."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    short = "/".join(parts[-2:]) if parts else path
    return f"{name} ({short})"


def py_spy(pid: int, seconds: float) -> str:
    """py-spy's collapsed stacks of ``pid`` over ``seconds``."""
    exe = shutil.which("py-spy")
    if exe is None:
        raise BenchError("py-spy is not installed (pip install py-spy)")
    with bench_env("pyspy") as procs:
        out = procs.workdir / "stacks.txt"
        argv = [exe, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "100"]
        argv += ["-f", "raw", "-o", str(out)]
        subprocess.run(argv, capture_output=True, timeout=seconds + 60, check=True)
        return out.read_text()


def throughput(seconds: float, top: int) -> str:
    with bench_env("prof-throughput") as procs:
        rport, sport = free_port(), free_port()
        wait_redis(start_redis(procs, rport), rport)
        monitors = [f"sentinel monitor mymaster {HOST} {rport} 1"]
        sentinel = start_sentinel(procs, "pysentinel", sport, monitors, "sentinel")
        wait_redis(sentinel, sport)
        stop = threading.Event()

        def load() -> None:
            argv = ["redis-benchmark", "-h", HOST, "-p", str(sport), "-c", "50", "-P", "1"]
            argv += ["-n", "20000", "--csv", "SENTINEL", "get-master-addr-by-name", "mymaster"]
            while not stop.is_set():
                subprocess.run(argv, capture_output=True, timeout=300, check=False)

        t = threading.Thread(target=load, daemon=True)
        t.start()
        time.sleep(1)
        try:
            return fold(py_spy(sentinel.pid, seconds), top)
        finally:
            stop.set()
            t.join(60)


def syscalls(requests: int) -> str:
    """System calls per request of each kind (strace -c) under redis-benchmark -c 50 -P 1."""
    from _common import KINDS

    exe = shutil.which("strace")
    if exe is None:
        raise BenchError("strace is not installed")
    out: list[str] = []
    with bench_env("prof-syscalls") as procs:
        for kind in KINDS:
            rport, sport = free_port(), free_port()
            wait_redis(start_redis(procs, rport, name=f"redis-{kind}"), rport)
            monitors = [f"sentinel monitor mymaster {HOST} {rport} 1"]
            sentinel = start_sentinel(procs, kind, sport, monitors, f"sentinel-{kind}")
            wait_redis(sentinel, sport)
            time.sleep(1)
            trace_file = procs.workdir / f"strace-{kind}.txt"
            tracer = procs.spawn(
                [exe, "-c", "-f", "-p", str(sentinel.pid), "-o", str(trace_file)],
                f"strace-{kind}.log",
            )
            time.sleep(1)
            argv = ["redis-benchmark", "-h", HOST, "-p", str(sport), "-c", "50", "-P", "1"]
            argv += ["-n", str(requests), "--csv"]
            argv += ["SENTINEL", "get-master-addr-by-name", "mymaster"]
            subprocess.run(argv, capture_output=True, timeout=600, check=True)
            procs.stop(tracer, sig=signal.SIGINT)
            out.append(f"{kind}: system calls per request ({requests} requests, incl. 1 s idle)")
            for line in trace_file.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                    calls = int(parts[3])
                    errors = int(parts[4]) if len(parts) == 6 else 0
                    if calls >= requests // 100:
                        out.append(
                            f"  {parts[-1]:<16} {calls / requests:6.2f}"
                            f"  (errors {errors / requests:.2f})"
                        )
    return "\n".join(out) + "\n"


def scale(n: int, seconds: float, top: int) -> str:
    from scale import start_servers

    with bench_env("prof-scale") as procs:
        masters = start_servers(procs, n)
        sport = free_port()
        monitors = [f"sentinel monitor m{i} {HOST} {p} 1" for i, p in enumerate(masters)]
        sentinel = start_sentinel(procs, "pysentinel", sport, monitors, "sentinel")
        wait_redis(sentinel, sport)
        log = procs.workdir / "sentinel.log"
        wait_until(
            "discovery",
            lambda: log.read_text(errors="replace").count("+slave slave ") >= n,
            120 + n,
            0.5,
        )
        time.sleep(5)
        return fold(py_spy(sentinel.pid, seconds), top)


def memory(n: int, seconds: float) -> str:
    """tracemalloc's top allocation sites of one pysentinel monitoring ``n`` masters."""
    from _common import memory_kib
    from scale import start_servers

    with bench_env("prof-memory") as procs:
        masters = start_servers(procs, n)
        sport = free_port()
        conf = procs.workdir / "sentinel.conf"
        lines = [f"port {sport}", f"bind {HOST}", f"dir {procs.workdir}"]
        for i, p in enumerate(masters):
            # tracemalloc slows the sentinel down a lot: a long down-after keeps it
            # from declaring masters down and failing them over meanwhile.
            lines.append(f"sentinel monitor m{i} {HOST} {p} 1")
            lines.append(f"sentinel down-after-milliseconds m{i} 3600000")
        conf.write_text("\n".join(lines) + "\n")
        out = procs.workdir / "tracemalloc.txt"
        wrapper = str(Path(__file__).resolve().parent / "_memwrap.py")
        sentinel = procs.spawn([sys.executable, wrapper, str(out), str(conf)], "sentinel.log")
        wait_redis(sentinel, sport, timeout_s=180)
        log = procs.workdir / "sentinel.log"
        wait_until(
            "discovery",
            lambda: log.read_text(errors="replace").count("+slave slave ") >= n,
            300 + n,
            0.5,
        )
        time.sleep(seconds)
        rss = memory_kib(sentinel.pid)
        sentinel.send_signal(signal.SIGUSR1)
        wait_until("the tracemalloc dump", out.exists, 120, 0.5)
        time.sleep(1)
        head = f"pysentinel, {n} masters + {n} replicas: VmRSS {rss['VmRSS'] / 1024:.0f} MiB\n"
        return head + out.read_text()


def sim(top: int) -> str:
    from sim_speed import hour_scenario

    from sim.runner import run_scenario
    from sim.scenario import parse_scenario

    scenario = parse_scenario(hour_scenario(0))
    prof = cProfile.Profile()
    prof.enable()
    run_scenario(scenario, 1)
    prof.disable()
    lines: list[str] = []

    class Sink:
        def write(self, text: str) -> int:
            lines.append(text)
            return len(text)

    stats = pstats.Stats(prof, stream=Sink())  # type: ignore[arg-type]
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("throughput", "syscalls", "scale", "memory", "sim"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--raw", type=Path, help="also save py-spy's collapsed stacks here")
    args = parser.parse_args(argv)
    if args.raw:
        RAW_COPY.append(args.raw)
    if args.what == "throughput":
        sys.stdout.write(throughput(args.seconds, args.top))
    elif args.what == "syscalls":
        sys.stdout.write(syscalls(args.requests))
    elif args.what == "memory":
        sys.stdout.write(memory(args.n, args.seconds))
    elif args.what == "scale":
        sys.stdout.write(scale(args.n, args.seconds, args.top))
    else:
        sys.stdout.write(sim(args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
