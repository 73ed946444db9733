"""pytest-trio tests of the runtime against a fake core, on loopback."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
import trio
from runtime_helpers import FakeCore, free_port

from pysentinel import resp
from pysentinel.config import SentinelConfig
from pysentinel.core.effects import PersistConfig
from pysentinel.core.inputs import (
    ClientCommand,
    ClientConnected,
    ClientDisconnected,
    LinkConnected,
    LinkDropped,
    LinkReply,
    ScriptExited,
    ScriptStarted,
)
from pysentinel.core.types import ClientId, LogLevel
from pysentinel.core.values import Error, ErrorReply, Simple
from pysentinel.runtime import driver
from pysentinel.runtime.log import Logger, format_line
from pysentinel.runtime.persist import persist
from pysentinel.runtime.server import default_user_needs_auth, format_addr

LINE = re.compile(r"^\d+:X \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\.\d{3} [.\-*#] .*$")


@attrs.define
class Running:
    core: FakeCore
    port: int
    log: Path
    result: list[int]


@asynccontextmanager
async def sentinel(tmp_path: Path, **options: object) -> AsyncIterator[Running]:
    log = tmp_path / "sentinel.log"
    settings: dict[str, object] = {"bind": ("127.0.0.1",), **options}
    config = SentinelConfig(
        port=free_port(),
        logfile=str(log),
        loglevel=LogLevel.DEBUG,
        **settings,  # type: ignore[arg-type]
    )
    core = FakeCore(config)
    result: list[int] = []

    async def serve(task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async def inner(task_status: trio.TaskStatus[object] = trio.TASK_STATUS_IGNORED) -> int:
            return await driver.run_core(
                core,
                config,
                str(tmp_path / "s.conf"),
                Logger(str(log), LogLevel.DEBUG),
                task_status=task_status,
            )

        async with trio.open_nursery() as inner_nursery:
            await inner_nursery.start(_collect, inner, result)
            task_status.started()

    async with trio.open_nursery() as nursery:
        await nursery.start(serve)
        yield Running(core=core, port=config.port, log=log, result=result)
        nursery.cancel_scope.cancel()


async def _collect(
    fn: Callable[..., Awaitable[int]],
    result: list[int],
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    async def wrapped(task_status: trio.TaskStatus[object] = trio.TASK_STATUS_IGNORED) -> None:
        result.append(await fn(task_status=task_status))

    async with trio.open_nursery() as nursery:
        await nursery.start(wrapped)
        task_status.started()


class Client:
    """A raw RESP client for tests."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.parser = resp.ReplyParser()

    @classmethod
    async def open(cls, port: int) -> Client:
        return cls(await trio.open_tcp_stream("127.0.0.1", port))

    async def call(self, *argv: bytes) -> object:
        await self.stream.send_all(resp.pack_command(argv))
        return await self.read()

    async def read(self) -> object:
        with trio.fail_after(5):
            while True:
                complete, reply = self.parser.next_reply()
                if complete:
                    return reply
                data = await self.stream.receive_some(65536)
                if not data:
                    return EOFError
                self.parser.feed(data)

    async def read_all(self) -> bytes:
        out = b""
        with trio.fail_after(5):
            while data := await self.stream.receive_some(65536):
                out += data
        return out


async def wait_for(predicate: Callable[[], bool]) -> None:
    with trio.fail_after(10):
        while not predicate():
            await trio.sleep(0.01)


async def test_server_resp_inline_and_pipelined(tmp_path: Path) -> None:
    async with sentinel(tmp_path) as s:
        c = await Client.open(s.port)
        assert await c.call(b"PING") == b"PONG"
        await c.stream.send_all(b"PING\r\necho 'a b'\r\n\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n")
        assert [await c.read() for _ in range(3)] == [b"PONG", b"a b", b"x"]
        assert isinstance(s.core.inputs[0], ClientConnected)
        assert s.core.inputs[0].addr.startswith("127.0.0.1:")
        assert s.core.inputs[0].laddr == f"127.0.0.1:{s.port}"
        await c.stream.aclose()
        await wait_for(lambda: isinstance(s.core.inputs[-1], ClientDisconnected))


async def test_server_protocol_error_closes_only_that_client(tmp_path: Path) -> None:
    async with sentinel(tmp_path) as s:
        good = await Client.open(s.port)
        bad = await Client.open(s.port)
        await bad.stream.send_all(b"PING\r\n*1\r\nfoo\r\n")
        assert await bad.read_all() == (b"+PONG\r\n-ERR Protocol error: expected '$', got 'f'\r\n")
        assert await good.call(b"PING") == b"PONG"


async def test_server_maxclients(tmp_path: Path) -> None:
    async with sentinel(tmp_path, maxclients=1) as s:
        first = await Client.open(s.port)
        assert await first.call(b"PING") == b"PONG"
        second = await Client.open(s.port)
        assert await second.read_all() == b"-ERR max number of clients reached\r\n"


async def test_links_to_real_redis(tmp_path: Path, redis_port: int) -> None:
    async with sentinel(tmp_path) as s:
        c = await Client.open(s.port)
        link = await c.call(b"LINK", str(redis_port).encode())
        await wait_for(lambda: any(isinstance(i, LinkReply) for i in s.core.inputs))
        connected = [i for i in s.core.inputs if isinstance(i, LinkConnected)]
        assert connected[0].link == link and connected[0].local_host == "127.0.0.1"
        replies = [i for i in s.core.inputs if isinstance(i, LinkReply)]
        assert replies[0].reply == b"PONG"
        await c.call(b"SEND", str(link).encode(), b"SET", b"k", b"v")
        await c.call(b"SEND", str(link).encode(), b"GET", b"k")
        await c.call(b"SEND", str(link).encode(), b"NOSUCH")
        await wait_for(lambda: sum(isinstance(i, LinkReply) for i in s.core.inputs) == 4)
        got = [i.reply for i in s.core.inputs if isinstance(i, LinkReply)]
        assert got[1:3] == [b"OK", b"v"]
        assert "unknown command" in got[3].message  # type: ignore[union-attr]
        # Close: no LinkDropped follows.
        await c.call(b"CLOSELINK", str(link).encode())
        await c.call(b"SEND", str(link).encode(), b"PING")
        assert await c.call(b"PING") == b"PONG"
        assert not any(isinstance(i, LinkDropped) for i in s.core.inputs)


async def test_links_refused_reports_dropped(tmp_path: Path) -> None:
    async with sentinel(tmp_path) as s:
        c = await Client.open(s.port)
        await c.call(b"LINK", str(free_port()).encode())
        await wait_for(lambda: any(isinstance(i, LinkDropped) for i in s.core.inputs))
        dropped = next(i for i in s.core.inputs if isinstance(i, LinkDropped))
        assert dropped.error == "Connection refused"


async def test_links_server_close_reports_dropped(tmp_path: Path, redis_port: int) -> None:
    async with sentinel(tmp_path) as s:
        c = await Client.open(s.port)
        link = await c.call(b"LINK", str(redis_port).encode())
        await wait_for(lambda: any(isinstance(i, LinkReply) for i in s.core.inputs))
        await c.call(b"SEND", str(link).encode(), b"QUIT")
        await wait_for(lambda: any(isinstance(i, LinkDropped) for i in s.core.inputs))
        dropped = next(i for i in s.core.inputs if isinstance(i, LinkDropped))
        assert dropped == LinkDropped(link=link, error="Server closed the connection")


async def test_log_line_format(tmp_path: Path) -> None:
    async with sentinel(tmp_path) as s:
        c = await Client.open(s.port)
        await c.call(b"LOG", b"+sdown master mymaster 127.0.0.1 6379")
        lines = s.log.read_text().splitlines()
    assert all(LINE.match(line) for line in lines), lines
    assert lines[0].endswith(" # fake core started")
    assert lines[-1].endswith(" # +sdown master mymaster 127.0.0.1 6379")
    assert lines[0].startswith(f"{os.getpid()}:X ")


def test_log_filters_by_level(tmp_path: Path) -> None:
    path = tmp_path / "l.log"
    logger = Logger(str(path), LogLevel.NOTICE)
    logger.log(LogLevel.VERBOSE, "hidden")
    logger.log(LogLevel.NOTICE, "shown")
    logger.raw("123:signal-handler (1) Received SIGTERM scheduling shutdown...")
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and lines[0].endswith(" * shown")
    assert lines[1] == "123:signal-handler (1) Received SIGTERM scheduling shutdown..."
    assert format_line(7, LogLevel.DEBUG, "x", 0.5).split(" ")[-2] == "."


def test_persist_success_and_failure(tmp_path: Path) -> None:
    path = tmp_path / "s.conf"
    path.write_text("port 26379\n")
    log = tmp_path / "l.log"
    logger = Logger(str(log), LogLevel.DEBUG)
    effect = PersistConfig(config=SentinelConfig(myid="a" * 40), reply_to=ClientId(1))
    assert persist(effect, str(path), logger) == Simple("OK")
    assert "sentinel myid " + "a" * 40 in path.read_text()
    bad = str(tmp_path / "missing-dir" / "s.conf")
    assert persist(effect, bad, logger) == Error(
        "ERR Failed to save config file. Check server logs."
    )
    assert persist(attrs.evolve(effect, reply_to=None), bad, logger) is None
    lines = log.read_text().splitlines()
    assert lines[0].endswith(" * Sentinel new configuration saved on disk")
    assert lines[1].endswith(
        " # WARNING: Sentinel was not able to save the new configuration on disk!!!: "
        "No such file or directory"
    )


async def test_persist_reply_through_driver(tmp_path: Path) -> None:
    async with sentinel(tmp_path) as s:
        c = await Client.open(s.port)
        assert await c.call(b"FLUSH") == b"OK"
        assert (tmp_path / "s.conf").exists()


async def test_scripts_report_exit_status(tmp_path: Path) -> None:
    out = tmp_path / "out"
    script = tmp_path / "script.sh"
    script.write_text(f'#!/bin/sh\necho "$@" > {out}\nexit 3\n')
    script.chmod(0o755)
    async with sentinel(tmp_path) as s:
        c = await Client.open(s.port)
        sid = await c.call(b"RUN", str(script).encode(), b"+sdown", b"master m 1.2.3.4 5")
        await wait_for(lambda: any(isinstance(i, ScriptExited) for i in s.core.inputs))
        started = next(i for i in s.core.inputs if isinstance(i, ScriptStarted))
        exited = next(i for i in s.core.inputs if isinstance(i, ScriptExited))
        assert started.script == exited.script == sid and started.pid > 0
        assert (exited.exit_code, exited.signal) == (3, 0)
        assert out.read_text() == "+sdown master m 1.2.3.4 5\n"
        # Killed by SIGKILL.
        sid = await c.call(b"RUN", b"/bin/sleep", b"30")
        await wait_for(lambda: sum(isinstance(i, ScriptStarted) for i in s.core.inputs) == 2)
        await c.call(b"KILL", str(sid).encode())
        await wait_for(lambda: sum(isinstance(i, ScriptExited) for i in s.core.inputs) == 2)
        killed = [i for i in s.core.inputs if isinstance(i, ScriptExited)][-1]
        assert (killed.script, killed.exit_code, killed.signal) == (sid, 0, 9)
        # Not executable: reported like sentinel.c's failed exec (exit 2).
        sid = await c.call(b"RUN", str(tmp_path / "nope").encode())
        await wait_for(lambda: sum(isinstance(i, ScriptExited) for i in s.core.inputs) == 3)
        failed = [i for i in s.core.inputs if isinstance(i, ScriptExited)][-1]
        assert (failed.script, failed.exit_code) == (sid, 2)


async def test_exit_effect_returns_code_and_logs(tmp_path: Path) -> None:
    pidfile = tmp_path / "s.pid"
    pidfile.write_text("1\n")
    async with sentinel(tmp_path, pidfile=str(pidfile)) as s:
        c = await Client.open(s.port)
        await c.stream.send_all(resp.pack_command((b"EXIT", b"0")))
        await wait_for(lambda: bool(s.result))
        assert s.result == [0]
    assert not pidfile.exists()
    tail = [line.split(" ", 6)[-1] for line in s.log.read_text().splitlines()[-3:]]
    assert tail == [
        "User requested shutdown...",
        "Removing the pid file.",
        "Sentinel is now ready to exit, bye bye...",
    ]


async def test_ticks_follow_next_deadline(tmp_path: Path) -> None:
    async with sentinel(tmp_path) as s:
        await wait_for(lambda: s.core.ticks >= 3)


assert sys.version_info >= (3, 11)


DIFFERENTIAL = [
    b"*abc\r\n",
    b"*1\r\n$abc\r\n",
    b"*1\r\nfoo\r\n",
    b"*1\r\n$600000000\r\n",
    b'PING\r\nset "a\r\n',
    b"x" * 70000,
    b"*" + b"1" * 70000,
    b"*1\r\n$" + b"1" * 70000,
    b"*1\r\n$-1\r\n",
    b"*+1\r\n$4\r\nPING\r\n",
    b"*0\r\nPING\r\n*1\r\n$4\r\nPINGxx\r\n*1\r\n\r",
    b"*1\r\n\r\n",
    b"*1\r\n\n\r\n",
    b"*1\r\nfoo",
    b"*2\r\n$4\r\nPING\r\n$",
    b"*-7\r\nPING\n",
    b"*01\r\n",
    b"  \t\r\nPING   \r\n",
]


async def _exchange(port: int, data: bytes) -> bytes:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(data)
        out = b""
        # Read until the server closes, or until it has been quiet for a moment.
        while True:
            with trio.move_on_after(0.3) as quiet:
                chunk = await stream.receive_some(65536)
            if quiet.cancelled_caught or not chunk:
                return out + (b"<open>" if quiet.cancelled_caught else b"<closed>")
            out += chunk


async def test_server_protocol_errors_match_redis(tmp_path: Path, redis_port: int) -> None:
    async with sentinel(tmp_path) as s:
        for data in DIFFERENTIAL:
            ours, theirs = await _exchange(s.port, data), await _exchange(redis_port, data)
            assert ours == theirs, data[:40]


async def test_emit_logged_by_level_and_info_gets_process_stats(tmp_path: Path) -> None:
    async with sentinel(tmp_path) as s:
        c = await Client.open(s.port)
        await c.call(b"EMIT", b"warning", b"+odown", b"master m 127.0.0.1 6379 #quorum 2/2")
        await c.call(b"EMIT", b"verbose", b"+reboot", b"slave 1.2.3.4:5 1.2.3.4 5 @ m 1.1.1.1 1")
        await c.call(b"INFO", b"server")
        commands = [i for i in s.core.inputs if isinstance(i, ClientCommand)]
        assert commands[-1].proc is not None and commands[-1].proc.pid == os.getpid()
        assert commands[-1].proc.config_file == str(tmp_path / "s.conf")
        assert commands[0].proc is None
    texts = [line.split(" ", 5)[-1] for line in s.log.read_text().splitlines()]
    assert "# +odown master m 127.0.0.1 6379 #quorum 2/2" in texts
    assert "- +reboot slave 1.2.3.4:5 1.2.3.4 5 @ m 1.1.1.1 1" in texts


def test_format_addr_ipv6() -> None:
    assert format_addr(("::1", 6379, 0, 0)) == "[::1]:6379"
    assert format_addr(("10.0.0.1", 1)) == "10.0.0.1:1"


def test_default_user_needs_auth() -> None:
    assert not default_user_needs_auth(None, ())
    assert default_user_needs_auth("pw", ())
    assert default_user_needs_auth(None, (("default", "on", ">pw", "~*"),))
    assert not default_user_needs_auth(None, (("default", "on", ">pw", "nopass"),))
    assert default_user_needs_auth(None, (("default", "off", "nopass"),))
    assert not default_user_needs_auth(None, (("alice", "on", ">pw"),))


async def test_server_unauthenticated_limits(tmp_path: Path) -> None:
    async with sentinel(tmp_path, requirepass="secret") as s:
        c = await Client.open(s.port)
        await c.stream.send_all(b"*11\r\n")
        assert await c.read_all() == b"-ERR Protocol error: unauthenticated multibulk length\r\n"
        c = await Client.open(s.port)
        await c.stream.send_all(b"*2\r\n$4\r\nECHO\r\n$16385\r\n")
        assert await c.read_all() == b"-ERR Protocol error: unauthenticated bulk length\r\n"
        # A wrong password keeps the limits; a right one lifts them for the rest of
        # the same pipeline, as redis parses after running AUTH.
        c = await Client.open(s.port)
        big = resp.pack_command((b"ECHO", b"y" * 20000))
        await c.stream.send_all(
            resp.pack_command((b"AUTH", b"nope")) + resp.pack_command((b"AUTH", b"secret")) + big
        )
        assert await c.read() == ErrorReply("WRONGPASS invalid")
        assert await c.read() == b"OK"
        assert await c.read() == b"y" * 20000


def _external_ip() -> str | None:
    """A non-loopback IPv4 address of this machine, if it has one."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
        except OSError:
            return None
        host: str = s.getsockname()[0]
    return None if host.startswith("127.") else host


async def test_server_protected_mode(tmp_path: Path) -> None:
    async with sentinel(tmp_path, bind=(), protected_mode=True) as s:
        local = await Client.open(s.port)
        assert await local.call(b"PING") == b"PONG"
        host = _external_ip()
        assert host is not None, "the protected-mode test needs a non-loopback address"
        remote = Client(await trio.open_tcp_stream(host, s.port))
        out = await remote.read_all()
        assert out.startswith(b"-DENIED Redis is running in protected mode because")
        assert out.endswith(b"to start accepting connections from the outside.\r\n")
    async with sentinel(tmp_path, bind=(), protected_mode=True, requirepass="pw") as s:
        remote = Client(await trio.open_tcp_stream(host, s.port))
        assert await remote.call(b"AUTH", b"pw") == b"OK"
