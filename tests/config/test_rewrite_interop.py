"""Differential: our rewrite of a file equals the one real redis-sentinel 7.0.15 writes.

redis-sentinel flushes its config as soon as it starts without a ``sentinel myid``;
we start it on a free loopback port, wait for that flush, stop it, and rewrite the same
original file with the same myid ourselves.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import attrs
import pytest

from pysentinel.config import parse, rewrite_text

ORIGINAL = """\
# user file
port {port}
bind 127.0.0.1
daemonize no
logfile ""
hz 10
sentinel known-replica m 127.0.0.1 6380
sentinel monitor m 127.0.0.1 6379 2
sentinel parallel-syncs m 1
sentinel down-after-milliseconds m 30000
sentinel failover-timeout m 20000
sentinel known-sentinel m 127.0.0.1 26380 0123456789012345678901234567890123456789
sentinel rename-command m ping PONG2
sentinel announce-ip ""
sentinel auth-pass m "se cret"
requirepass "pw"
sentinel deny-scripts-reconfig no
sentinel announce-port 7777
"""

# Generic lines whose relative order depends on redis's config dict hash seed.
_UNORDERED = ("protected-mode ", "dir ", "latency-tracking-info-percentiles ")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _split(text: str) -> tuple[list[str], set[str]]:
    ordered = [line for line in text.split("\n") if not line.startswith(_UNORDERED)]
    unordered = {line for line in text.split("\n") if line.startswith(_UNORDERED)}
    return ordered, unordered


@pytest.mark.interop
def test_rewrite_matches_real_redis_sentinel(tmp_path: Path) -> None:
    binary = shutil.which("redis-sentinel")
    if binary is None:
        pytest.fail("redis-sentinel is not installed (apt-get install redis-sentinel)")
    original = ORIGINAL.format(port=_free_port())
    path = tmp_path / "sentinel.conf"
    path.write_text(original)
    proc = subprocess.Popen(
        [binary, str(path)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while "sentinel myid" not in path.read_text():
            assert proc.poll() is None, "redis-sentinel exited early"
            assert time.monotonic() < deadline, "redis-sentinel never flushed its config"
            time.sleep(0.05)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    theirs = path.read_text()
    myid = next(line.split()[2] for line in theirs.split("\n") if line.startswith("sentinel myid"))
    # The real process runs in tmp_path; its `dir` line is its working directory.
    config = attrs.evolve(parse(original, cwd=str(tmp_path)), myid=myid, dir=str(tmp_path))
    ours = rewrite_text(original, config)
    assert _split(ours) == _split(theirs)
