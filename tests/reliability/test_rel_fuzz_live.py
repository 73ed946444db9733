"""A running ``python -m pysentinel`` under a fuzzing client (issue 8 item 4).

One seeded fuzzer keeps up to six connections open and, on each step, writes to one of
them: random bytes, RESP fragments left unfinished, huge declared lengths, inline
garbage, or a random command built from the command table and hostile arguments. It
reads whatever comes back without waiting for it, and now and then closes or
half-closes a connection. Between fuzz steps a well-behaved client asks PING,
``SENTINEL GET-MASTER-ADDR-BY-NAME``, ``SENTINEL MASTER`` and ``SENTINEL MYID`` and must
get the right answers every time. At the end the process must still be running.

Commands that legitimately change or end the sentinel (SHUTDOWN, SENTINEL REMOVE/RESET/
SET/MONITOR/FAILOVER/DEBUG/SIMULATE-FAILURE/CONFIG SET, CLIENT KILL/PAUSE, ACL changes)
are not sent: they are correct behaviour, not robustness.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import time

import pytest
from harness import HOST, Interop, monitor_lines, pack, read_replies

from pysentinel.core.cmdtable import COMMANDS

pytestmark = pytest.mark.interop

#: Wall-clock budget of the fuzzing loop (CI); PYSENTINEL_FUZZ_SECONDS overrides it.
FUZZ_SECONDS = float(os.environ.get("PYSENTINEL_FUZZ_SECONDS", "8"))
SEED = int(os.environ.get("PYSENTINEL_FUZZ_SEED", "20261125"))

_UNSAFE = {"shutdown", "acl", "client", "sentinel", "debug", "monitor", "quit", "reset"}
_SAFE_COMMANDS = sorted(s.fullname for s in COMMANDS if s.fullname not in _UNSAFE)
_SAFE_SENTINEL = [
    "masters", "master", "replicas", "slaves", "sentinels", "get-master-addr-by-name",
    "ckquorum", "info-cache", "pending-scripts", "myid", "help", "is-master-down-by-addr",
    "config", "nosuch",
]  # fmt: skip
_ARGS = [
    "mymaster", "other", "*", "", "0", "-1", "9223372036854775808", "get", "x" * 70_000,
    "\x00\xff", "\r\n", '"', "127.0.0.1", "65536", "3", "2", "AUTH", "default", "HELP",
]  # fmt: skip
_FRAGMENTS = [
    b"*", b"*3\r\n", b"$", b"$5\r\nhel", b"*2147483647\r\n", b"$2147483647\r\n",
    b"*-1\r\n", b"*0\r\n", b"\r\n", b"\n", b"PING", b"PING\r\n", b'"unbalanced\r\n',
    b"*1\r\n$4\r\nPING\r\n", b"\x00" * 64, b"x" * 5000, b"*1\r\n$x\r\n",
]  # fmt: skip


def _random_command(rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        argv = ["SENTINEL", rng.choice(_SAFE_SENTINEL)]
        if argv[1] == "config":
            argv.append("GET")
    else:
        argv = [rng.choice(_SAFE_COMMANDS)]
    argv += [rng.choice(_ARGS) for _ in range(rng.randrange(4))]
    if rng.random() < 0.3:
        return " ".join(argv).encode(errors="replace") + b"\r\n"  # inline
    return pack(argv)


def _random_bytes(rng: random.Random) -> bytes:
    choice = rng.random()
    if choice < 0.4:
        return _random_command(rng)
    if choice < 0.7:
        return b"".join(rng.choice(_FRAGMENTS) for _ in range(rng.randrange(1, 5)))
    return rng.randbytes(rng.randrange(1, 300))


def _check(env: Interop, checker: socket.socket, master_port: int, myid: bytes) -> None:
    checker.sendall(
        pack(["PING"])
        + pack(["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"])
        + pack(["SENTINEL", "MYID"])
        + pack(["SENTINEL", "MASTER", "mymaster"])
    )
    data = read_replies(checker, 4)
    expected_head = b"+PONG\r\n*2\r\n$9\r\n127.0.0.1\r\n$%d\r\n%d\r\n$40\r\n%s\r\n*" % (
        len(str(master_port)),
        master_port,
        myid,
    )
    assert data.startswith(expected_head), (data[:200], env.describe())
    assert b"$4\r\nname\r\n$8\r\nmymaster\r\n" in data


@pytest.mark.parametrize("password", [None, "fuzz-pw"])
def test_fuzz_live_process_survives_random_bytes(procs_env: Interop, password: str | None) -> None:
    """With a password the fuzzers are unauthenticated (AUTH with random arguments is in
    their vocabulary), which exercises redis's tighter pre-AUTH request limits."""
    env = procs_env
    master = env.redis()
    extra = [f"requirepass {password}"] if password else []
    sentinel = env.sentinel([*extra, *monitor_lines(master, quorum=1)], password=password)
    myid = sentinel.myid().encode()
    rng = random.Random(SEED)
    open_socks: list[socket.socket] = []
    steps = closed_by_server = 0
    checker = socket.create_connection((HOST, sentinel.port), timeout=5)
    if password:
        checker.sendall(pack(["AUTH", password]))
        assert read_replies(checker, 1) == b"+OK\r\n"
    seconds = FUZZ_SECONDS if password is None else FUZZ_SECONDS / 2
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            steps += 1
            if len(open_socks) < 6 and (not open_socks or rng.random() < 0.2):
                sock = socket.create_connection((HOST, sentinel.port), timeout=5)
                sock.setblocking(False)
                open_socks.append(sock)
            sock = rng.choice(open_socks)
            try:
                sock.sendall(_random_bytes(rng))
                with contextlib.suppress(BlockingIOError):
                    while sock.recv(65536):
                        pass
            except (BlockingIOError, ConnectionError):
                # The server closed it (protocol error) or its buffer is full.
                closed_by_server += 1
                open_socks.remove(sock)
                sock.close()
            if open_socks and rng.random() < 0.05:
                victim = open_socks.pop(rng.randrange(len(open_socks)))
                with contextlib.suppress(OSError):
                    if rng.random() < 0.5:
                        victim.shutdown(socket.SHUT_WR)
                victim.close()
            if steps % 5 == 0:
                _check(env, checker, master.port, myid)
        _check(env, checker, master.port, myid)
        assert sentinel.running, env.describe()
    finally:
        checker.close()
        for sock in open_socks:
            sock.close()
    print(
        f"live fuzz ({'requirepass' if password else 'no password'}): {steps} steps in "
        f"{seconds} s, {closed_by_server} closed by server"
    )
    assert steps > 100
