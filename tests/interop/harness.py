"""Processes for the interop tests: real redis-server, pysentinel and redis-sentinel.

Rules of this harness:

* Everything listens on 127.0.0.1, on ports picked here (:func:`free_port`) from a range
  below Linux's ephemeral range, so that a restarted process does not find its port
  taken by somebody's outgoing connection.
* Every process is started through :class:`Processes`, which remembers it; teardown
  stops each one by its pid (SIGTERM, then SIGKILL after a deadline). Nothing is ever
  stopped by name.
* Nothing waits with a bare sleep: :func:`wait_until` polls a predicate until a
  deadline, and its failure message carries the tail of every sentinel's log, so a
  failing run explains itself.
* A missing binary is a clear failure, never a skip (STYLE §12).

The sentinels under test are pysentinel processes (``python -m pysentinel <conf>`` with
this interpreter). Setting ``PYSENTINEL_INTEROP_IMPL=redis-sentinel`` runs the very same
tests against the reference ``redis-sentinel`` 7.0.15 binary instead: that is how we tell
a wrong test from a pysentinel bug.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, TypeVar

import attrs
import hiredis
import redis

from pysentinel.core.events import EventType

T = TypeVar("T")

HOST = "127.0.0.1"
#: How long a process may take to answer PING after being started.
START_TIMEOUT_S = 20.0
#: How long a process may take to exit after SIGTERM before it gets SIGKILL.
STOP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.05
#: Socket timeout of the clients the tests use (a stuck server fails the test, not hangs it).
CLIENT_TIMEOUT_S = 5.0

IMPL_ENV = "PYSENTINEL_INTEROP_IMPL"
PYSENTINEL = "pysentinel"
REDIS_SENTINEL = "redis-sentinel"

REPO_ROOT = Path(__file__).resolve().parents[2]

_EVENT_TYPES = frozenset(e.value for e in EventType)
#: ``<pid>:X <DD Mon YYYY HH:MM:SS.mmm> <c> <message>`` (spec §4.3).
_LOG_LINE = re.compile(r"^(\d+):([A-Z]) (\d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3}) ([.\-*#]) (.*)$")
#: The raw line of redis's signal handler (spec §3.4).
_SIGNAL_LINE = re.compile(
    r"^\d+:signal-handler \(\d+\) Received SIG(TERM|INT) scheduling shutdown\.\.\.$"
)

_PORT_LOW = 20_000
_PORT_HIGH = 32_000  # Linux's ephemeral range starts at 32768.
_ports_handed_out: set[int] = set()
_port_rng = random.Random()


def free_port() -> int:
    """A loopback TCP port nobody listens on, never handed out before in this process."""
    for _ in range(1000):
        port = _port_rng.randrange(_PORT_LOW, _PORT_HIGH)
        if port in _ports_handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
        _ports_handed_out.add(port)
        return port
    raise AssertionError("no free loopback port found in 20000-32000")


def binary(name: str) -> str:
    """The path of a Debian redis binary, or a clear test failure."""
    path = shutil.which(name)
    if path is None:
        raise AssertionError(
            f"{name} is not installed: the interop tests need the Debian redis-server, "
            "redis-sentinel and redis-tools 7.0.15 packages (.ci/run installs them)"
        )
    return path


def sentinel_impl() -> str:
    """Which sentinel the tests run against (pysentinel unless the env var says so)."""
    impl = os.environ.get(IMPL_ENV, PYSENTINEL)
    if impl not in (PYSENTINEL, REDIS_SENTINEL):
        raise AssertionError(f"{IMPL_ENV} must be {PYSENTINEL} or {REDIS_SENTINEL}, not {impl!r}")
    return impl


class WaitTimeout(AssertionError):
    """A :func:`wait_until` deadline passed."""


def wait_until(
    predicate: Callable[[], T | None],
    timeout: float,
    what: str,
    describe: Callable[[], str] | None = None,
) -> T:
    """Poll ``predicate`` until it returns something truthy, and return that.

    Connection errors and timeouts raised by the predicate count as "not yet" (the
    process may be restarting); any other exception propagates.

    Raises:
        WaitTimeout: the deadline passed; the message says what we waited for, the last
            value or error seen, and ``describe()`` (the process logs).
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = predicate()
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            value = None
            last = exc
        else:
            last = value
        if value:
            return value
        if time.monotonic() > deadline:
            details = describe() if describe is not None else ""
            raise WaitTimeout(
                f"timed out after {timeout:.1f} s waiting for {what}; last seen: {last!r}\n"
                f"{details}"
            )
        time.sleep(POLL_INTERVAL_S)


def pairs_to_dict(flat: Sequence[object]) -> dict[str, str]:
    """A RESP2 flat field/value array (SENTINEL MASTER and friends) as a dict."""
    it = iter(flat)
    return {str(k): str(v) for k, v in zip(it, it, strict=True)}


@attrs.frozen
class LogLine:
    """One line of a redis-format log (spec §4.3)."""

    pid: int
    role: str
    stamp: str
    level: str
    message: str

    @property
    def event(self) -> str | None:
        """The event type when this line is an event (``+sdown``...), else None."""
        head = self.message.split(" ", 1)[0]
        return head if head in _EVENT_TYPES else None

    @property
    def payload(self) -> str:
        return self.message.split(" ", 1)[1] if " " in self.message else ""


def parse_log(text: str) -> list[LogLine]:
    """The well-formed lines of a log; other lines (tracebacks, banners) are skipped."""
    out = []
    for raw in text.splitlines():
        m = _LOG_LINE.match(raw)
        if m is not None:
            out.append(LogLine(int(m[1]), m[2], m[3], m[4], m[5]))
    return out


def tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a file ("" when it doesn't exist)."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------------------
# Processes


#: Every process any test started, for the last-resort cleanup at interpreter exit.
_EVERY_PROCESS: list[subprocess.Popen[bytes]] = []


@atexit.register
def _kill_leftovers() -> None:
    """SIGKILL (by pid) whatever a crashed test run left running."""
    for proc in _EVERY_PROCESS:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


class Processes:
    """Every process a test started; teardown stops them all by pid."""

    def __init__(self) -> None:
        self._procs: list[subprocess.Popen[bytes]] = []
        self._files: list[IO[bytes]] = []

    def spawn(
        self, argv: Sequence[str], *, cwd: Path, output: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        out = open(output, "ab")  # noqa: SIM115 - closed in stop_all()
        self._files.append(out)
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self._procs.append(proc)
        _EVERY_PROCESS.append(proc)
        return proc

    @staticmethod
    def stop(proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM ``proc`` (by pid), SIGKILL it if it outlives ``timeout``; its status."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        return proc.returncode

    @staticmethod
    def kill(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to ``proc`` by pid; for SIGKILL also reap it."""
        if proc.poll() is None:
            os.kill(proc.pid, sig)
            if sig == signal.SIGKILL:
                proc.wait()

    def stop_all(self) -> None:
        for proc in reversed(self._procs):
            self.stop(proc)
        for f in self._files:
            f.close()
        self._procs.clear()
        self._files.clear()


# --------------------------------------------------------------------------------------
# redis-server


class RedisNode:
    """A real ``redis-server`` (Debian 7.0.15) on a loopback port, no persistence."""

    def __init__(
        self,
        procs: Processes,
        workdir: Path,
        *,
        args: Sequence[str] = (),
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.procs = procs
        self.port = free_port()
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.args = list(args)
        self.username = username
        self.password = password
        self.proc: subprocess.Popen[bytes] | None = None
        self._client: redis.Redis | None = None

    @property
    def addr(self) -> tuple[str, int]:
        return (HOST, self.port)

    @property
    def log_path(self) -> Path:
        return self.dir / "redis.log"

    def start(self) -> RedisNode:
        argv = [
            binary("redis-server"),
            "--port", str(self.port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.dir),
            "--logfile", str(self.log_path),
            "--enable-debug-command", "yes",
            "--repl-diskless-sync-delay", "0",
            *self.args,
        ]  # fmt: skip
        self.proc = self.procs.spawn(argv, cwd=self.dir, output=self.dir / "stdout.txt")
        wait_until(
            self._answers,
            START_TIMEOUT_S,
            f"redis-server :{self.port} to answer PING",
            lambda: tail(self.log_path, 20),
        )
        return self

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(
                f"redis-server :{self.port} exited with {self.proc.returncode}:\n"
                + tail(self.log_path, 20)
                + tail(self.dir / "stdout.txt", 20)
            )
        return bool(self.client().ping())

    def client(self) -> redis.Redis:
        """A (cached) RESP2 client with the node's credentials."""
        if self._client is None:
            self._client = redis.Redis(
                host=HOST,
                port=self.port,
                username=self.username,
                password=self.password,
                protocol=2,
                decode_responses=True,
                socket_timeout=CLIENT_TIMEOUT_S,
                socket_connect_timeout=CLIENT_TIMEOUT_S,
            )
        return self._client

    def role(self) -> list[object]:
        """ROLE: ``["master", offset, [...]]`` or ``["slave", host, port, state, offset]``."""
        return _seq(execute(self.client(), "ROLE"))

    def replicates(self, master: RedisNode) -> bool:
        """Is this node a replica of ``master`` with the link up?"""
        role = self.role()
        return (
            role[0] == "slave"
            and role[1] == master.addr[0]
            and int(str(role[2])) == master.port
            and role[3] == "connected"
        )

    def is_master(self) -> bool:
        return self.role()[0] == "master"

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.procs.kill(self.proc, sig)
        if self._client is not None:
            self._client.close()
            self._client = None

    def debug_sleep(self, seconds: float) -> socket.socket:
        """Send ``DEBUG SLEEP`` without waiting for the reply; returns the socket (close it)."""
        sock = socket.create_connection(self.addr, timeout=CLIENT_TIMEOUT_S)
        cmd: list[str] = []
        if self.password is not None:
            cmd += ["AUTH"] + ([self.username] if self.username else []) + [self.password]
            sock.sendall(pack(cmd))
            assert sock.recv(100).startswith(b"+OK")
        sock.sendall(pack(["DEBUG", "SLEEP", str(seconds)]))
        return sock


def pack(argv: Sequence[str]) -> bytes:
    out = [f"*{len(argv)}\r\n".encode()]
    for arg in argv:
        b = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


# --------------------------------------------------------------------------------------
# Sentinels


class SentinelNode:
    """A sentinel process (pysentinel, or the reference redis-sentinel) with its own dir,
    config file, log file and port."""

    def __init__(
        self,
        procs: Processes,
        workdir: Path,
        *,
        impl: str,
        name: str,
        password: str | None = None,
        username: str | None = None,
    ) -> None:
        self.procs = procs
        self.impl = impl
        self.name = name
        self.port = free_port()
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "sentinel.conf"
        self.log_path = self.dir / "sentinel.log"
        self.output_path = self.dir / "stdout.txt"
        self.password = password
        self.username = username
        self.proc: subprocess.Popen[bytes] | None = None
        self._client: redis.Redis | None = None

    def write_config(self, lines: Sequence[str]) -> None:
        """Write the config file: our port/bind/dir/logfile, then ``lines``."""
        head = [
            f"port {self.port}",
            f"bind {HOST}",
            f'dir "{self.dir}"',
            f'logfile "{self.log_path}"',
            "loglevel verbose",
        ]
        self.conf.write_text("\n".join([*head, *lines]) + "\n")

    @property
    def argv(self) -> list[str]:
        if self.impl == PYSENTINEL:
            return [sys.executable, "-m", PYSENTINEL, str(self.conf)]
        return [binary("redis-sentinel"), str(self.conf)]

    def start(self) -> SentinelNode:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        self.proc = self.procs.spawn(self.argv, cwd=self.dir, output=self.output_path, env=env)
        wait_until(self._answers, START_TIMEOUT_S, f"{self} to answer PING", self.describe)
        return self

    def _answers(self) -> bool:
        if not self.running:
            raise AssertionError(f"{self} exited at start-up\n{self.describe()}")
        return bool(self.client().ping())

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __str__(self) -> str:
        pid = self.proc.pid if self.proc is not None else "-"
        return f"{self.impl} {self.name} (:{self.port}, pid {pid})"

    # --- talking to it ---

    def client(self) -> redis.Redis:
        """A (cached) RESP2 client, authenticated when the sentinel has a password."""
        if self._client is None:
            self._client = self.new_client()
        return self._client

    def new_client(self, *, authenticated: bool = True) -> redis.Redis:
        return redis.Redis(
            host=HOST,
            port=self.port,
            username=self.username if authenticated else None,
            password=self.password if authenticated else None,
            protocol=2,
            decode_responses=True,
            socket_timeout=CLIENT_TIMEOUT_S,
            socket_connect_timeout=CLIENT_TIMEOUT_S,
        )

    def cmd(self, *args: str | int) -> object:
        return execute(self.client(), *args)

    def sentinel(self, *args: str | int) -> object:
        return self.cmd("SENTINEL", *args)

    def myid(self) -> str:
        return str(self.sentinel("MYID"))

    def master(self, name: str = "mymaster") -> dict[str, str]:
        return pairs_to_dict(_seq(self.sentinel("MASTER", name)))

    def replicas(self, name: str = "mymaster") -> list[dict[str, str]]:
        return [pairs_to_dict(_seq(r)) for r in _seq(self.sentinel("REPLICAS", name))]

    def peers(self, name: str = "mymaster") -> list[dict[str, str]]:
        return [pairs_to_dict(_seq(r)) for r in _seq(self.sentinel("SENTINELS", name))]

    def master_addr(self, name: str = "mymaster") -> tuple[str, int] | None:
        reply = self.sentinel("GET-MASTER-ADDR-BY-NAME", name)
        if reply is None:
            return None
        ip, port = _seq(reply)
        return (str(ip), int(str(port)))

    def follows(self, node: RedisNode, name: str = "mymaster") -> bool:
        """Has this sentinel switched to ``node`` as the master, failover over?

        ``GET-MASTER-ADDR-BY-NAME`` answers the promoted replica as soon as the promotion
        is seen (spec §3.3); the master's own address changes only at the switch, at the
        end of the failover (spec §8.5). Both must name ``node``.
        """
        if self.master_addr(name) != node.addr:
            return False
        m = self.master(name)
        return (m["ip"], m["port"]) == (HOST, str(node.port)) and "failover-state" not in m

    # --- its log ---

    def log(self) -> list[LogLine]:
        try:
            return parse_log(self.log_path.read_text(errors="replace"))
        except FileNotFoundError:
            return []

    def malformed_log_lines(self) -> list[str]:
        """Lines of the log file in neither redis's log format nor the signal line."""
        text = self.log_path.read_text(errors="replace")
        return [
            raw
            for raw in text.splitlines()
            if raw and not _LOG_LINE.match(raw) and not _SIGNAL_LINE.match(raw)
        ]

    def events(self, type_: str | None = None) -> list[LogLine]:
        """The event lines of the log, in order (all, or those of one type)."""
        return [
            line
            for line in self.log()
            if line.event is not None and (type_ is None or line.event == type_)
        ]

    def has_event(self, type_: str, payload_prefix: str = "") -> bool:
        return any(e.payload.startswith(payload_prefix) for e in self.events(type_))

    def describe(self, lines: int = 40) -> str:
        status = "running" if self.running else f"exited {self.proc and self.proc.returncode}"
        return (
            f"--- {self} [{status}] log tail ---\n{tail(self.log_path, lines)}\n"
            f"--- {self} stdout/stderr tail ---\n{tail(self.output_path, 15)}\n"
        )

    # --- stopping it ---

    def stop(self) -> int:
        """SIGTERM, wait (SIGKILL after the deadline); returns the exit status."""
        assert self.proc is not None
        self.close_client()
        return self.procs.stop(self.proc)

    def kill(self) -> None:
        assert self.proc is not None
        self.close_client()
        self.procs.kill(self.proc)

    def close_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def execute(client: redis.Redis, *args: str | int) -> object:
    """``client.execute_command`` (untyped in redis-py) with a typed result."""
    reply: object = client.execute_command(*args)  # type: ignore[no-untyped-call]
    return reply


def _seq(value: object) -> list[object]:
    assert isinstance(value, list | tuple), f"expected an array reply, got {value!r}"
    return list(value)


# --------------------------------------------------------------------------------------
# The fixture object


#: A down-after-milliseconds for groups where one sentinel alone (quorum 1) can fail
#: over: sentinel.c's address switch resets the master's ping timers (act_ping_time =
#: now) while the reconnect to the new address may wait up to one ping period (1000 ms)
#: after the previous attempt, so with down-after 1000 the new master can look down in
#: the very tick the link is reopened, and a quorum-1 sentinel then fails back. redis-
#: sentinel 7.0.15 has the same race (we saw it once in pysentinel). 2000 ms leaves a
#: whole ping period for the PONG.
SWITCH_SAFE_DOWN_AFTER_MS = 2000


def monitor_lines(
    master: RedisNode,
    *,
    name: str = "mymaster",
    quorum: int = 2,
    down_after_ms: int = 1000,
    failover_timeout_ms: int = 60_000,
    parallel_syncs: int = 1,
    extra: Sequence[str] = (),
) -> list[str]:
    """The ``sentinel ...`` lines of the tutorial's master group."""
    return [
        f"sentinel monitor {name} {HOST} {master.port} {quorum}",
        f"sentinel down-after-milliseconds {name} {down_after_ms}",
        f"sentinel failover-timeout {name} {failover_timeout_ms}",
        f"sentinel parallel-syncs {name} {parallel_syncs}",
        *extra,
    ]


class Interop:
    """What one interop test starts: redis-servers and sentinels under ``tmp_path``."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs = Processes()
        self.redis_nodes: list[RedisNode] = []
        self.sentinel_nodes: list[SentinelNode] = []

    # --- starting things ---

    def redis(
        self,
        *,
        replicaof: RedisNode | None = None,
        args: Sequence[str] = (),
        username: str | None = None,
        password: str | None = None,
    ) -> RedisNode:
        """Start a redis-server (a replica of ``replicaof`` if given) and wait for it.

        A replica is returned once its link to the master is up, so that sentinels see
        it with a fresh offset.
        """
        extra = list(args)
        if replicaof is not None:
            extra += ["--replicaof", HOST, str(replicaof.port)]
        node = RedisNode(
            self.procs,
            self.tmp_path / f"redis-{len(self.redis_nodes)}",
            args=extra,
            username=username,
            password=password,
        )
        self.redis_nodes.append(node)
        node.start()
        if replicaof is not None:
            self.wait_until(lambda: node.replicates(replicaof), 20, f"{node.port} to sync")
        return node

    def sentinel(
        self,
        lines: Sequence[str],
        *,
        impl: str | None = None,
        password: str | None = None,
        username: str | None = None,
        start: bool = True,
    ) -> SentinelNode:
        """Create (and by default start) a sentinel whose config holds ``lines``."""
        n = len(self.sentinel_nodes)
        node = SentinelNode(
            self.procs,
            self.tmp_path / f"sentinel-{n}",
            impl=impl or sentinel_impl(),
            name=f"s{n}",
            password=password,
            username=username,
        )
        node.write_config(lines)
        self.sentinel_nodes.append(node)
        if start:
            node.start()
        return node

    def group(self, lines: Sequence[str], count: int = 3) -> list[SentinelNode]:
        """``count`` sentinels with the same master lines."""
        return [self.sentinel(lines) for _ in range(count)]

    # --- waiting ---

    def wait_until(self, predicate: Callable[[], T | None], timeout: float, what: str) -> T:
        return wait_until(predicate, timeout, what, self.describe)

    def wait_discovery(
        self,
        sentinels: Sequence[SentinelNode],
        *,
        replicas: int,
        name: str = "mymaster",
        timeout: float = 20,
    ) -> None:
        """Wait until every sentinel knows all the others and ``replicas`` replicas, and
        sees the master as plain ``master``."""

        def done() -> bool:
            for s in sentinels:
                m = s.master(name)
                if (
                    m["flags"] != "master"
                    or int(m["num-other-sentinels"]) != len(sentinels) - 1
                    or int(m["num-slaves"]) != replicas
                ):
                    return False
            return True

        self.wait_until(done, timeout, "the sentinels to discover each other and the replicas")

    def describe(self) -> str:
        """The tail of every process's log, for failure messages."""
        parts = [s.describe() for s in self.sentinel_nodes]
        for node in self.redis_nodes:
            alive = node.proc is not None and node.proc.poll() is None
            parts.append(
                f"--- redis-server :{node.port} [{'running' if alive else 'stopped'}] "
                f"log tail ---\n{tail(node.log_path, 8)}\n"
            )
        return "\n".join(parts)

    def close(self) -> None:
        for node in self.sentinel_nodes:
            node.close_client()
        for rnode in self.redis_nodes:
            if rnode._client is not None:
                rnode._client.close()
        self.procs.stop_all()


@contextlib.contextmanager
def interop_env(tmp_path: Path) -> Iterator[Interop]:
    env = Interop(tmp_path)
    try:
        yield env
    finally:
        env.close()


# --------------------------------------------------------------------------------------
# Raw RESP, for byte-exact reply checks


def read_replies(sock: socket.socket, count: int, timeout: float = CLIENT_TIMEOUT_S) -> bytes:
    """Read exactly ``count`` complete RESP replies; return their bytes, unparsed.

    Raises:
        AssertionError: the peer closed or the deadline passed first.
    """
    reader = hiredis.Reader()
    data = b""
    got = 0
    deadline = time.monotonic() + timeout
    while got < count:
        reply = reader.gets()
        if reply is not False:
            got += 1
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no complete reply after {timeout} s; got {data!r}")
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed after {data!r}")
        data += chunk
        reader.feed(chunk)
    return data


def call_raw(port: int, *args: str | int, auth: Sequence[str] = ()) -> bytes:
    """Send one command on a new connection (after ``AUTH *auth`` if given) and return
    the reply's exact bytes."""
    with socket.create_connection((HOST, port), timeout=CLIENT_TIMEOUT_S) as sock:
        if auth:
            sock.sendall(pack(["AUTH", *auth]))
            ok = read_replies(sock, 1)
            assert ok == b"+OK\r\n", ok
        sock.sendall(pack([str(a) for a in args]))
        return read_replies(sock, 1)


def redis_cli(port: int, *args: str) -> str:
    """Run the real ``redis-cli`` against a port and return its stdout."""
    done = subprocess.run(
        [binary("redis-cli"), "-h", HOST, "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=CLIENT_TIMEOUT_S * 2,
        check=False,
    )
    return done.stdout


def pipeline_raw(
    port: int, commands: Sequence[Sequence[str | int]], *, auth: Sequence[str] = ()
) -> bytes:
    """Send ``commands`` in one write on a new connection; the exact bytes of the replies."""
    with socket.create_connection((HOST, port), timeout=CLIENT_TIMEOUT_S) as sock:
        if auth:
            sock.sendall(pack(["AUTH", *auth]))
            assert read_replies(sock, 1) == b"+OK\r\n"
        sock.sendall(b"".join(pack([str(a) for a in cmd]) for cmd in commands))
        return read_replies(sock, len(commands))
