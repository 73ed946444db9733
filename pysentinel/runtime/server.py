"""The client-facing listener: RESP and inline requests in, encoded replies out.

Rules of this module:

* One task per client. Its reader splits the byte stream with
  :class:`pysentinel.resp.RequestParser` and reports ``ClientCommand`` inputs; a writer
  task sends the bytes the driver queued for it, in order.
* Protocol errors do not reply directly: the reader reports a :class:`ClientProtocolError`
  to the driver, which answers ``-ERR <text>`` and closes *after* the replies to the
  commands parsed before the error (redis runs those first). Only that client is closed.
* ``ClientDisconnected`` is reported exactly once per ``ClientConnected``, when the
  connection is gone for any reason (peer closed, I/O error, ``CloseClient``).
* Over ``maxclients`` a new connection gets ``-ERR max number of clients reached`` and
  is closed without the core ever seeing it (as redis does in acceptCommonHandler).
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import resource
import sys
import time
from collections.abc import Callable

import attrs
import trio

from pysentinel import resp
from pysentinel.core.inputs import (
    ClientCommand,
    ClientConnected,
    ClientDisconnected,
    Input,
    ProcessStats,
)
from pysentinel.core.types import ClientId
from pysentinel.core.values import Map, Simple, Value

__all__ = [
    "MAX_OUTPUT_BYTES",
    "ClientProtocolError",
    "ProcessInfo",
    "Server",
    "default_user_needs_auth",
    "format_addr",
    "is_loopback",
]

#: Bytes that may wait unsent for one client before we drop it. This is redis's hard
#: limit for pub/sub clients (client-output-buffer-limit pubsub 32mb), the only kind of
#: client that can receive unbounded output from a sentinel.
MAX_OUTPUT_BYTES = 32 * 1024 * 1024
_READ_SIZE = 16 * 1024  # PROTO_IOBUF_LEN

_MAX_CLIENTS_REPLY = b"-ERR max number of clients reached\r\n"
# clientAcceptHandler's text in 7.0.15, typo ("Setup a an") included.
_DENIED_REPLY = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no "
    b"password is set for the default user. In this mode connections are only accepted "
    b"from the loopback interface. If you want to connect from external computers to Redis "
    b"you may adopt one of the following solutions: 1) Just disable protected mode sending "
    b"the command 'CONFIG SET protected-mode no' from the loopback interface by connecting "
    b"to Redis from the same host the server is running, however MAKE SURE Redis is not "
    b"publicly accessible from internet if you do so. Use CONFIG REWRITE to make this "
    b"change permanent. 2) Alternatively you can just disable the protected mode by editing "
    b"the Redis configuration file, and setting the protected mode option to 'no', and then "
    b"restarting the server. 3) If you started the server manually just for testing, "
    b"restart it with the '--protected-mode no' option. 4) Setup a an authentication "
    b"password for the default user. NOTE: You only need to do one of the above things in "
    b"order for the server to start accepting connections from the outside.\r\n"
)


def is_loopback(host: str) -> bool:
    """7.0.15's protected-mode test in clientAcceptHandler: exactly ``127.0.0.1`` or ``::1``.

    (connIsLocal(), which accepts all of ``127.*``, only came with redis 7.2: a client
    from 127.0.0.2 is refused by redis-sentinel 7.0.15, and so by us.)
    """
    return host in ("127.0.0.1", "::1")


@attrs.frozen(kw_only=True)
class ClientProtocolError:
    """Runtime-internal: a client sent an invalid request (handled by the driver)."""

    client: ClientId
    text: str


Report = Callable[["Input | ClientProtocolError"], None]


def format_addr(sockaddr: tuple[object, ...]) -> str:
    """redis's ``ip:port`` form of a socket address (``[ip]:port`` for IPv6)."""
    host, port = str(sockaddr[0]), sockaddr[1]
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def default_user_needs_auth(requirepass: str | None, users: tuple[tuple[str, ...], ...]) -> bool:
    """Whether a new connection starts unauthenticated (redis's ``authRequired()``).

    True when the default user has a password (``requirepass`` or a ``user default``
    line without ``nopass``) or is disabled. Used only for the stricter request limits
    before AUTH; ACL changes made at run time are not followed.
    """
    if requirepass:
        return True
    nopass, enabled = True, True
    for rules in users:
        if not rules or rules[0] != "default":
            continue
        for rule in rules[1:]:
            lower = rule.lower()
            if lower == "nopass":
                nopass = True
            elif lower in ("resetpass",) or rule[:1] in (">", "#"):
                nopass = False
            elif lower == "reset":
                nopass, enabled = False, False
            elif lower == "on":
                enabled = True
            elif lower == "off":
                enabled = False
    return not nopass or not enabled


@attrs.frozen(kw_only=True)
class ProcessInfo:
    """The process facts that don't change while we run (for ``ProcessStats``)."""

    config_path: str
    executable: str = attrs.field(factory=lambda: sys.executable or sys.argv[0])
    os_name: str = attrs.field(
        factory=lambda: f"{os.uname().sysname} {os.uname().release} {os.uname().machine}"
    )

    def stats(self) -> ProcessStats:
        """A fresh ``ProcessStats`` (wall clock and CPU times read now)."""
        me = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ProcessStats(
            pid=os.getpid(),
            executable=self.executable,
            config_file=self.config_path,
            os=self.os_name,
            wall_time_us=time.time_ns() // 1000,
            used_cpu_sys=me.ru_stime,
            used_cpu_user=me.ru_utime,
            used_cpu_sys_children=children.ru_stime,
            used_cpu_user_children=children.ru_utime,
        )


@attrs.define(eq=False)
class _Client:
    send: trio.MemorySendChannel[bytes | None]
    queued: int = 0
    closing: bool = False
    #: Until AUTH (or HELLO ... AUTH) succeeds: redis's stricter request limits apply.
    authenticated: bool = True
    #: While unauthenticated: names of the commands still waiting for their reply. No
    #: pushes reach an unauthenticated client, so replies match these in order.
    pending: collections.deque[bytes] = attrs.Factory(collections.deque)
    #: Set when the reply to the AUTH/HELLO the reader is waiting on was queued.
    auth_settled: trio.Event | None = None


class Server:
    """All listeners and client connections of the process.

    Args:
        nursery: where the listener and client tasks run.
        report: called (synchronously, never blocking) with every input.
        maxclients: connections beyond this many are refused with an error.
        process: facts attached to ``INFO`` commands as ``ProcessStats``.
        auth_required: new clients start unauthenticated (see default_user_needs_auth).
        protected: protected mode is on and the default user has no password: only
            loopback clients are served, others get redis's ``-DENIED ...`` and are closed.
            (7.0.15 applies this whatever ``bind`` says; checked against redis-server.)
    """

    def __init__(
        self,
        nursery: trio.Nursery,
        report: Report,
        maxclients: int,
        process: ProcessInfo,
        *,
        auth_required: bool = False,
        protected: bool = False,
    ) -> None:
        self._auth_required = auth_required
        self._protected = protected
        self._nursery = nursery
        self._report = report
        self._maxclients = maxclients
        self._process = process
        self._clients: dict[ClientId, _Client] = {}
        self._next_id = 1

    async def listen(self, hosts: tuple[str, ...], port: int) -> list[trio.SocketListener]:
        """Bind the listeners (all interfaces when ``hosts`` is empty); start serving.

        Returns:
            The listeners (their sockets tell the bound addresses; tests bind port 0).

        Raises:
            OSError: a bind failed (the caller logs it and exits, as redis does).
        """
        listeners: list[trio.SocketListener] = []
        if hosts:
            for host in hosts:
                # redis accepts "-addr" for an optional bind; we bind it when possible.
                optional = host.startswith("-")
                name = host[1:] if optional else host
                try:
                    listeners.extend(await trio.open_tcp_listeners(port, host=name))
                except OSError:
                    if not optional:
                        raise
        else:
            listeners = await trio.open_tcp_listeners(port)
        for listener in listeners:
            self._nursery.start_soon(trio.serve_listeners, self._serve, [listener])
        return listeners

    def reply(self, client_id: ClientId, value: Value, proto: int) -> None:
        """Queue ``value`` for ``client_id`` in RESP ``proto``; dropped if the client is gone."""
        client = self._clients.get(client_id)
        if client is None or client.closing:
            return
        if not client.authenticated and client.pending:
            self._track_auth(client, value)
        data = resp.encode(value, proto)
        client.queued += len(data)
        if client.queued > MAX_OUTPUT_BYTES:
            # The client stopped reading (a stuck subscriber): drop it, like redis.
            client.closing = True
            client.send.send_nowait(None)
            return
        client.send.send_nowait(data)

    @staticmethod
    def _track_auth(client: _Client, value: Value) -> None:
        # The reply to the oldest pending command of an unauthenticated client.
        name = client.pending.popleft()
        if (name == b"auth" and value == Simple("OK")) or (
            name == b"hello" and isinstance(value, Map)
        ):
            client.authenticated = True
            client.pending.clear()
        if name in (b"auth", b"hello") and client.auth_settled is not None:
            client.auth_settled.set()

    def close(self, client_id: ClientId) -> None:
        """Close ``client_id`` after the bytes already queued for it are written."""
        client = self._clients.get(client_id)
        if client is not None and not client.closing:
            client.closing = True
            client.send.send_nowait(None)

    async def wait_flushed(self, timeout_s: float) -> None:
        """Wait until every queued byte was written, at most ``timeout_s`` seconds."""
        with trio.move_on_after(timeout_s):
            while any(client.queued for client in self._clients.values()):
                await trio.sleep(0.001)

    async def _serve(self, stream: trio.SocketStream) -> None:
        async with stream:
            refusal = None
            if len(self._clients) >= self._maxclients:
                refusal = _MAX_CLIENTS_REPLY
            elif self._protected and not is_loopback(str(stream.socket.getpeername()[0])):
                refusal = _DENIED_REPLY
            if refusal is not None:
                with contextlib.suppress(
                    OSError, trio.BrokenResourceError, trio.ClosedResourceError
                ):
                    await stream.send_all(refusal)
                return
            client_id = ClientId(self._next_id)
            self._next_id += 1
            send, receive = trio.open_memory_channel[bytes | None](math.inf)
            client = _Client(send=send, authenticated=not self._auth_required)
            self._clients[client_id] = client
            sock = stream.socket
            self._report(
                ClientConnected(
                    client=client_id,
                    addr=format_addr(sock.getpeername()),
                    laddr=format_addr(sock.getsockname()),
                    fd=sock.fileno(),
                )
            )
            try:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._write, stream, client, receive, nursery.cancel_scope)
                    await self._read(stream, client_id, client)
                    # The peer closed its side: stop writing too.
                    nursery.cancel_scope.cancel()
            except* (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
                pass  # the connection is gone; ClientDisconnected below says so
            finally:
                del self._clients[client_id]
                self._report(ClientDisconnected(client=client_id))

    async def _read(self, stream: trio.SocketStream, client_id: ClientId, client: _Client) -> None:
        parser = resp.RequestParser(auth_required=not client.authenticated)
        while True:
            data = await stream.receive_some(_READ_SIZE)
            if not data:
                return
            parser.feed(data)
            try:
                while (argv := parser.next_command()) is not None:
                    name = argv[0].lower()
                    proc = self._process.stats() if name == b"info" else None
                    if client.authenticated:
                        self._report(ClientCommand(client=client_id, argv=argv, proc=proc))
                        continue
                    # Before AUTH, redis parses the next command only after running this
                    # one, so a successful AUTH lifts the limits for the rest of the
                    # pipeline: wait for the AUTH/HELLO reply before parsing on.
                    client.pending.append(name)
                    if name in (b"auth", b"hello"):
                        client.auth_settled = trio.Event()
                    self._report(ClientCommand(client=client_id, argv=argv, proc=proc))
                    if client.auth_settled is not None:
                        await client.auth_settled.wait()
                        client.auth_settled = None
                        parser.auth_required = not client.authenticated
            except resp.ProtocolError as exc:
                self._report(ClientProtocolError(client=client_id, text=str(exc)))
                # Stop reading; the writer closes the connection once the driver has
                # queued the error after the earlier replies.
                await trio.sleep_forever()

    @staticmethod
    async def _write(
        stream: trio.SocketStream,
        client: _Client,
        queue: trio.MemoryReceiveChannel[bytes | None],
        scope: trio.CancelScope,
    ) -> None:
        while True:
            data = await queue.receive()
            chunks: list[bytes] = []
            done = data is None
            if data is not None:
                chunks.append(data)
            while not done:
                try:
                    more = queue.receive_nowait()
                except trio.WouldBlock:
                    break
                if more is None:
                    done = True
                else:
                    chunks.append(more)
            if chunks:
                out = b"".join(chunks)
                client.queued -= len(out)
                await stream.send_all(out)
            if done:
                scope.cancel()
                return
