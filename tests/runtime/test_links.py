"""Links in isolation: the bounded send queue."""

from __future__ import annotations

import functools

import pytest
import trio

from pysentinel.core.effects import Connect
from pysentinel.core.inputs import Input, LinkConnected, LinkDropped
from pysentinel.core.types import Addr, LinkId, LinkKind
from pysentinel.runtime import links as links_module
from pysentinel.runtime.links import Links


async def test_links_drop_when_peer_stops_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(links_module, "SEND_QUEUE_MAX_COMMANDS", 3)
    accepted: list[trio.SocketStream] = []

    async def never_read(stream: trio.SocketStream) -> None:
        accepted.append(stream)
        await trio.sleep_forever()

    reported: list[Input] = []
    async with trio.open_nursery() as nursery:
        listeners = await nursery.start(
            functools.partial(trio.serve_tcp, never_read, 0, host="127.0.0.1")
        )
        port = listeners[0].socket.getsockname()[1]
        links = Links(nursery, reported.append)
        link = LinkId(1)
        links.connect(Connect(link=link, kind=LinkKind.COMMAND, addr=Addr("127.0.0.1", port)))
        with trio.fail_after(10):
            while not reported:
                await trio.sleep(0.01)
        assert isinstance(reported[0], LinkConnected)
        big = b"x" * (4 * 1024 * 1024)
        with trio.fail_after(20):
            while links.is_open(link):
                links.send(link, (b"SET", b"k", big))
                await trio.sleep(0.01)
        assert reported[-1] == LinkDropped(
            link=link, error="Send buffer full: the peer stopped reading"
        )
        nursery.cancel_scope.cancel()
