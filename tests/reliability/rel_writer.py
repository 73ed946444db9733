"""A client stuck on one box: writes ``SET w:<n> <n>`` in a loop and logs the outcome.

Run inside a namespace by the partition tests:
``python rel_writer.py HOST PORT OUT_DIR``. Every acknowledged write appends
``<n> <monotonic seconds>`` to ``acked.txt``; every refused or failed one appends
``<n> <seconds> <error>`` to ``errors.txt`` (flushed per line, so a kill loses nothing
written). It stops on SIGTERM.
"""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path


def _reply(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def main() -> None:
    host, port, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    acked = open(out / "acked.txt", "a", buffering=1)  # noqa: SIM115 - lives until killed
    errors = open(out / "errors.txt", "a", buffering=1)  # noqa: SIM115
    sock: socket.socket | None = None
    n = 0
    while True:
        n += 1
        cmd = b"*3\r\n$3\r\nSET\r\n$%d\r\nw:%d\r\n$%d\r\n%d\r\n" % (
            len(b"w:%d" % n), n, len(b"%d" % n), n,
        )  # fmt: skip
        try:
            if sock is None:
                sock = socket.create_connection((host, port), timeout=1.0)
            sock.sendall(cmd)
            reply = _reply(sock)
        except OSError as exc:
            errors.write(f"{n} {time.monotonic():.3f} {type(exc).__name__}\n")
            if sock is not None:
                sock.close()
            sock = None
        else:
            if reply == b"+OK\r\n":
                acked.write(f"{n} {time.monotonic():.3f}\n")
            else:
                errors.write(
                    f"{n} {time.monotonic():.3f} {reply.decode(errors='replace').strip()}\n"
                )
        time.sleep(0.02)


if __name__ == "__main__":
    main()
