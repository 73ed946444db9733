"""Runtime test helpers: a fake core with real behaviour, and a real redis-server fixture."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator

import attrs
import pytest

from pysentinel.config import SentinelConfig
from pysentinel.core.effects import (
    Connect,
    Effect,
    Emit,
    Exit,
    KillScript,
    Log,
    PersistConfig,
    Reply,
    RunScript,
    Send,
)
from pysentinel.core.inputs import (
    ClientCommand,
    ClientConnected,
    ClientDisconnected,
    Input,
    LinkConnected,
    LinkDropped,
    LinkReply,
    ScriptExited,
    ScriptStarted,
)
from pysentinel.core.types import Addr, ClientId, LinkId, LinkKind, LogLevel, Millis, ScriptId
from pysentinel.core.values import Array, Bulk, Error, Int, Simple, Value


@attrs.define(eq=False)
class FakeCore:
    """A tiny sentinel stand-in driven by client commands.

    Commands: PING, ECHO x, LINK port (connect + PING), SEND link args..., CLOSELINK link,
    FLUSH (persist with reply), RUN argv..., KILL id, EXIT code, LOG text, INPUTS (count).
    Every input is recorded in ``inputs``.
    """

    config: SentinelConfig
    inputs: list[Input] = attrs.Factory(list)
    ticks: int = 0
    next_link: int = 1
    next_script: int = 1
    period_ms: int = 50
    _deadline: Millis | None = None
    #: Installed by run_sentinel, as on the real Sentinel (SENTINEL SET script paths).
    script_path_check: Callable[[str], bool] | None = None

    def start(self, now: Millis) -> list[Effect]:
        self._deadline = Millis(now + self.period_ms)
        return [Log(level=LogLevel.WARNING, text="fake core started")]

    def next_deadline(self) -> Millis | None:
        return self._deadline

    def tick(self, now: Millis) -> list[Effect]:
        self.ticks += 1
        self._deadline = Millis(now + self.period_ms)
        return []

    def handle(self, input: Input, now: Millis, /) -> list[Effect]:
        self.inputs.append(input)
        if not isinstance(input, ClientCommand):
            return []
        return self._command(input.client, input.argv)

    def _reply(self, client: ClientId, value: Value) -> list[Effect]:
        return [Reply(client=client, value=value)]

    def _command(self, client: ClientId, argv: tuple[bytes, ...]) -> list[Effect]:
        name = argv[0].upper()
        if name == b"PING":
            return self._reply(client, Simple("PONG"))
        if name == b"ECHO":
            return self._reply(client, Bulk(argv[1]))
        if name == b"LINK":
            link = LinkId(self.next_link)
            self.next_link += 1
            addr = Addr("127.0.0.1", int(argv[1]))
            return [
                Connect(link=link, kind=LinkKind.COMMAND, addr=addr),
                Send(link=link, argv=(b"PING",)),
                *self._reply(client, Int(link)),
            ]
        if name == b"SEND":
            return [Send(link=LinkId(int(argv[1])), argv=argv[2:]), *self._reply(client, Int(1))]
        if name == b"CLOSELINK":
            from pysentinel.core.effects import Close

            return [Close(link=LinkId(int(argv[1]))), *self._reply(client, Int(1))]
        if name == b"FLUSH":
            return [PersistConfig(config=self.config, reply_to=client)]
        if name == b"RUN":
            script = ScriptId(self.next_script)
            self.next_script += 1
            argv_s = tuple(a.decode() for a in argv[1:])
            return [RunScript(script=script, argv=argv_s), *self._reply(client, Int(script))]
        if name == b"KILL":
            return [KillScript(script=ScriptId(int(argv[1]))), *self._reply(client, Int(1))]
        if name == b"EXIT":
            return [Exit(code=int(argv[1]))]
        if name == b"LOG":
            return [
                Log(level=LogLevel.WARNING, text=argv[1].decode()),
                *self._reply(client, Int(1)),
            ]
        if name == b"AUTH":
            ok = argv[-1] == (self.config.requirepass or "").encode()
            return self._reply(client, Simple("OK") if ok else Error("WRONGPASS invalid"))
        if name == b"EMIT":
            emit = Emit(
                level=LogLevel.from_name(argv[1].decode()),
                type=argv[2].decode(),
                payload=argv[3].decode(),
            )
            return [emit, *self._reply(client, Int(1))]
        if name == b"INPUTS":
            kinds = (
                ClientConnected,
                ClientDisconnected,
                LinkConnected,
                LinkReply,
                LinkDropped,
                ScriptStarted,
                ScriptExited,
            )
            count = sum(isinstance(i, kinds) for i in self.inputs)
            return self._reply(client, Array((Int(count),)))
        return self._reply(client, Error(f"ERR unknown command '{argv[0].decode()}'"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def redis_port(tmp_path: os.PathLike[str]) -> Iterator[int]:
    """A real redis-server on loopback, stopped by pid afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (the interop/runtime tests need it)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.02)
    yield port
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)
