"""Outbound links: one trio task per ``Connect``, speaking RESP2 to an instance or peer.

Rules of this module:

* A link task reports facts through ``report`` (non-blocking): ``LinkConnected`` once
  the TCP connection is up, a ``LinkReply`` per complete frame, and ``LinkDropped`` when
  the connect fails, the far side closes, an I/O error happens, the reply stream is not
  RESP, or the send buffer overflows. After ``LinkDropped`` the task is gone.
* ``Close`` cancels the task silently: no ``LinkDropped`` follows (effects.py contract).
  Inputs the task reported before the cancel may still sit in the driver's queue; the
  driver drops inputs for links that are no longer open (:meth:`Links.is_open`).
* ``Send`` never blocks the driver: commands queue in a bounded channel and a writer
  task drains it. ``Send`` before ``LinkConnected`` is fine (sentinel.c pipelines AUTH,
  CLIENT SETNAME and PING right after the non-blocking connect); the commands go out
  once connected. ``Send`` on a link that is not open is dropped (effects.py contract).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import attrs
import trio

from pysentinel import resp
from pysentinel.core.effects import Connect
from pysentinel.core.inputs import Input, LinkConnected, LinkDropped, LinkReply
from pysentinel.core.types import LinkId

__all__ = ["CONNECT_TIMEOUT_S", "SEND_QUEUE_MAX_COMMANDS", "Links"]

#: Upper bound on one TCP connect (seconds). sentinel.c's non-blocking connect has no
#: timeout of its own: a hung connect is noticed by the ping logic (the instance does not
#: answer within down-after-milliseconds) and the link is closed by the core. We still
#: bound it so a black-holed address frees its task; 10 s is ten ping periods
#: (SENTINEL_PING_PERIOD = 1 s), long enough for any real connect to finish.
CONNECT_TIMEOUT_S = 10.0
#: Commands that may wait in one link's send queue. A healthy instance drains a few per
#: ping period; hitting this means it stopped reading for a long time, and we drop the
#: link (like redis dropping a client over its output buffer limit).
SEND_QUEUE_MAX_COMMANDS = 10_000
_READ_SIZE = 65536

Report = Callable[[Input], None]


@attrs.define(eq=False)
class _Link:
    scope: trio.CancelScope
    send: trio.MemorySendChannel[bytes]


def _reason(exc: BaseException) -> str:
    """A short error text like hiredis's ``errstr`` (``Connection refused``)."""
    # trio wraps socket errors: BrokenResourceError and the "all attempts to connect"
    # OSError carry the real OSError (or a group of them) as their cause.
    while (
        isinstance(exc, OSError | trio.BrokenResourceError)
        and isinstance(exc.__cause__, OSError | BaseExceptionGroup)
        and not (isinstance(exc, OSError) and exc.errno)
    ):
        exc = exc.__cause__
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _reason(exc.exceptions[0])
    if isinstance(exc, OSError) and exc.errno:
        # trio's connect errors carry the errno under a longer strerror text.
        return os.strerror(exc.errno)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


class Links:
    """All open outbound links of the process.

    Args:
        nursery: where link tasks run.
        report: called (synchronously, never blocking) with every input a link produces.
    """

    def __init__(self, nursery: trio.Nursery, report: Report) -> None:
        self._nursery = nursery
        self._report = report
        self._links: dict[LinkId, _Link] = {}

    def is_open(self, link: LinkId) -> bool:
        """Whether ``link`` was connected by ``Connect`` and not closed or dropped since."""
        return link in self._links

    def connect(self, effect: Connect) -> None:
        """Start the task for ``effect.link`` (an already open link of that id is replaced)."""
        self.close(effect.link)
        send, receive = trio.open_memory_channel[bytes](math.inf)
        link = _Link(scope=trio.CancelScope(), send=send)
        self._links[effect.link] = link
        self._nursery.start_soon(self._run, effect, link, receive)

    def send(self, link_id: LinkId, argv: tuple[bytes, ...]) -> None:
        """Queue one command on the link; dropped if the link is not open."""
        link = self._links.get(link_id)
        if link is None:
            return
        if link.send.statistics().current_buffer_used >= SEND_QUEUE_MAX_COMMANDS:
            self._drop(link_id, link, "Send buffer full: the peer stopped reading")
            return
        link.send.send_nowait(resp.pack_command(argv))

    def close(self, link_id: LinkId) -> None:
        """Cancel the link's task; no ``LinkDropped`` is reported."""
        link = self._links.pop(link_id, None)
        if link is not None:
            link.scope.cancel()

    def close_all(self) -> None:
        """Close every link (shutdown)."""
        for link_id in list(self._links):
            self.close(link_id)

    def _drop(self, link_id: LinkId, link: _Link, error: str) -> None:
        if self._links.get(link_id) is link:
            del self._links[link_id]
            link.scope.cancel()
            self._report(LinkDropped(link=link_id, error=error))

    async def _run(
        self, effect: Connect, link: _Link, queue: trio.MemoryReceiveChannel[bytes]
    ) -> None:
        with link.scope:
            # except*: the reader and writer run in a nursery, so errors may come grouped.
            # _drop reports only once per link.
            try:
                await self._serve(effect, link, queue)
            except* (OSError, trio.BrokenResourceError, trio.ClosedResourceError) as group:
                self._drop(effect.link, link, _reason(group.exceptions[0]))
            except* trio.TooSlowError:
                self._drop(effect.link, link, "Connection timed out")
            except* resp.ProtocolError as group:
                self._drop(effect.link, link, f"Protocol error: {group.exceptions[0]}")

    async def _serve(
        self, effect: Connect, link: _Link, queue: trio.MemoryReceiveChannel[bytes]
    ) -> None:
        with trio.fail_after(CONNECT_TIMEOUT_S):
            stream = await trio.open_tcp_stream(
                effect.addr.host, effect.addr.port, local_address=effect.source_host
            )
        async with stream:
            sockname = stream.socket.getsockname()
            peername = stream.socket.getpeername()
            self._report(
                LinkConnected(
                    link=effect.link,
                    local_host=sockname[0],
                    local_port=sockname[1],
                    remote_host=str(peername[0]),
                )
            )
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._write, stream, queue)
                parser = resp.ReplyParser()
                while True:
                    data = await stream.receive_some(_READ_SIZE)
                    if not data:
                        # hiredis's text for an orderly close by the peer.
                        raise trio.BrokenResourceError("Server closed the connection")
                    parser.feed(data)
                    while True:
                        complete, reply = parser.next_reply()
                        if not complete:
                            break
                        self._report(LinkReply(link=effect.link, reply=reply))

    @staticmethod
    async def _write(stream: trio.SocketStream, queue: trio.MemoryReceiveChannel[bytes]) -> None:
        while True:
            data = await queue.receive()
            # Coalesce whatever else is queued into one write (pipelined commands).
            chunks = [data]
            while True:
                try:
                    chunks.append(queue.receive_nowait())
                except trio.WouldBlock:
                    break
            await stream.send_all(b"".join(chunks))
