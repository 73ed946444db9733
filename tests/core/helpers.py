"""Shared fakes for the core's tests: a fake clock, small fake Redis instances and a
harness that wires a real ``Sentinel`` to them through its effects and inputs.

The harness is a fake network, not a mock: ``Connect`` effects open fake sockets,
``Send`` effects are answered by the fake instance listening at that address, in
order, and the answers are fed back as ``LinkReply`` inputs when the test says so.

The real failover, election, commands and state_config modules run behind it: the
tests see the whole core, as the drivers do.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from pysentinel.config import KnownSentinel, MasterConfig, SentinelConfig
from pysentinel.core.effects import Close, Connect, Effect, Emit, Log, PersistConfig, Send
from pysentinel.core.inputs import LinkConnected, LinkDropped, LinkReply
from pysentinel.core.types import Addr, LinkId, LinkKind, Millis
from pysentinel.core.values import ErrorReply, InReply

if TYPE_CHECKING:
    from pysentinel.core.sentinel import Sentinel

MYID = "a" * 40
PEER_ID = "b" * 40
PEER2_ID = "c" * 40
T0 = Millis(1_000_000)

# --- configs ---------------------------------------------------------------------------------


def master_config(
    name: str = "mymaster",
    host: str = "127.0.0.1",
    port: int = 6379,
    quorum: int = 2,
    **kwargs: object,
) -> MasterConfig:
    return MasterConfig(name=name, addr=Addr(host, port), quorum=quorum, **kwargs)  # type: ignore[arg-type]


def sentinel_config(
    *masters: MasterConfig, myid: str | None = MYID, **kwargs: object
) -> SentinelConfig:
    return SentinelConfig(myid=myid, masters=masters or (master_config(),), **kwargs)  # type: ignore[arg-type]


def known_sentinel(host: str, port: int, runid: str) -> KnownSentinel:
    return KnownSentinel(addr=Addr(host, port), runid=runid)


# --- fake instances -------------------------------------------------------------------------


@attrs.define
class FakeRedis:
    """A Redis server that answers the commands sentinel sends, like 7.0 does."""

    addr: Addr
    run_id: str = "1" * 40
    role: str = "master"
    replicas: list[Addr] = attrs.Factory(list)
    master_host: str = "127.0.0.1"
    master_port: int = 6379
    link_up: bool = True
    priority: int = 100
    offset: int = 0
    #: When set, PING answers this instead of PONG.
    ping_reply: InReply = None
    #: Every command received, in order.
    received: list[tuple[bytes, ...]] = attrs.Factory(list)

    def info_text(self) -> str:
        lines = ["# Server", "redis_version:7.0.15", f"run_id:{self.run_id}", "", "# Replication"]
        lines.append(f"role:{self.role}")
        if self.role == "master":
            lines.append(f"connected_slaves:{len(self.replicas)}")
            for i, r in enumerate(self.replicas):
                lines.append(f"slave{i}:ip={r.host},port={r.port},state=online,offset=0,lag=0")
        else:
            lines += [
                f"master_host:{self.master_host}",
                f"master_port:{self.master_port}",
                f"master_link_status:{'up' if self.link_up else 'down'}",
                "master_last_io_seconds_ago:0",
                f"slave_repl_offset:{self.offset}",
                f"slave_priority:{self.priority}",
                "slave_read_only:1",
                "replica_announced:1",
            ]
        return "\r\n".join(lines) + "\r\n"

    def answer(self, argv: tuple[bytes, ...]) -> InReply:
        self.received.append(argv)
        cmd = argv[0].upper()
        if cmd == b"PING":
            return self.ping_reply if self.ping_reply is not None else b"PONG"
        if cmd == b"INFO":
            return self.info_text().encode()
        if cmd == b"PUBLISH":
            return 1
        if cmd == b"SUBSCRIBE":
            return (b"subscribe", argv[1], 1)
        if cmd == b"SLAVEOF" and argv[1:] == (b"NO", b"ONE"):
            self.role = "master"
            return b"OK"
        if cmd == b"SLAVEOF":
            self.role = "slave"
            self.master_host, self.master_port = argv[1].decode(), int(argv[2])
            return b"OK"
        if cmd == b"EXEC":
            return ()
        if cmd in (b"MULTI", b"CONFIG", b"CLIENT", b"AUTH", b"SCRIPT"):
            return b"OK"
        return ErrorReply(f"ERR unknown command '{argv[0].decode()}'")


@attrs.define
class Socket:
    link: LinkId
    kind: LinkKind
    addr: Addr
    connected: bool = False
    #: Replies waiting to be delivered, in order.
    inbox: list[InReply] = attrs.Factory(list)


@attrs.define
class Harness:
    """A real Sentinel on a fake clock and a fake network of :class:`FakeRedis`."""

    config: SentinelConfig
    seed: int = 0
    now: Millis = T0
    sentinel: Sentinel = attrs.field(init=False)
    servers: dict[Addr, FakeRedis] = attrs.Factory(dict)
    sockets: dict[LinkId, Socket] = attrs.Factory(dict)
    #: Every effect returned, in order.
    log: list[Effect] = attrs.Factory(list)

    def __attrs_post_init__(self) -> None:
        from pysentinel.core.sentinel import Sentinel

        self.sentinel = Sentinel(self.config, random.Random(self.seed))

    # --- driving -----------------------------------------------------------------

    def server(self, host: str = "127.0.0.1", port: int = 6379, **kwargs: object) -> FakeRedis:
        addr = Addr(host, port)
        fake = FakeRedis(addr=addr, **kwargs)  # type: ignore[arg-type]
        self.servers[addr] = fake
        return fake

    def _record(self, effects: list[Effect]) -> list[Effect]:
        for effect in effects:
            if isinstance(effect, Connect):
                self.sockets[effect.link] = Socket(effect.link, effect.kind, effect.addr)
            elif isinstance(effect, Close):
                self.sockets.pop(effect.link, None)
            elif isinstance(effect, Send):
                sock = self.sockets.get(effect.link)
                if sock is not None:
                    server = self.servers.get(sock.addr)
                    if server is not None:
                        sock.inbox.append(server.answer(effect.argv))
        self.log += effects
        return effects

    def start(self) -> list[Effect]:
        return self._record(self.sentinel.start(self.now))

    def tick(self, advance: int = 0) -> list[Effect]:
        self.now = Millis(self.now + advance)
        return self._record(self.sentinel.tick(self.now))

    def advance(self, ms: int, step: int = 100) -> list[Effect]:
        """Tick every ``step`` ms for ``ms`` ms, delivering connections and replies."""
        out: list[Effect] = []
        end = self.now + ms
        while self.now < end:
            out += self.tick(min(step, end - self.now))
            out += self.deliver()
        return out

    def handle(self, input: object) -> list[Effect]:
        return self._record(self.sentinel.handle(input, self.now))  # type: ignore[arg-type]

    def connect_all(self) -> list[Effect]:
        """Complete every pending connect to a fake server; refuse the others."""
        out: list[Effect] = []
        for sock in list(self.sockets.values()):
            if sock.connected:
                continue
            if sock.addr in self.servers:
                sock.connected = True
                out += self.handle(
                    LinkConnected(link=sock.link, local_host="127.0.0.1", local_port=50000)
                )
            else:
                self.sockets.pop(sock.link)
                out += self.handle(LinkDropped(link=sock.link, error="Connection refused"))
        return out

    def deliver(self) -> list[Effect]:
        """Connect what is connecting and deliver every queued reply, in order."""
        out = self.connect_all()
        progress = True
        while progress:
            progress = False
            for sock in list(self.sockets.values()):
                if sock.connected and sock.inbox and sock.link in self.sockets:
                    reply = sock.inbox.pop(0)
                    out += self.handle(LinkReply(link=sock.link, reply=reply))
                    progress = True
        return out

    def push(self, link: LinkId, reply: InReply) -> list[Effect]:
        return self.handle(LinkReply(link=link, reply=reply))

    def links_to(self, addr: Addr, kind: LinkKind | None = None) -> list[LinkId]:
        return [
            s.link
            for s in self.sockets.values()
            if s.addr == addr and (kind is None or s.kind is kind)
        ]


# --- reading effects ------------------------------------------------------------------------


def events(effects: Iterable[Effect]) -> list[str]:
    """``"<type> <payload>"`` of every Emit, in order (what the log would show)."""
    return [f"{e.type} {e.payload}" for e in effects if isinstance(e, Emit)]


def logs(effects: Iterable[Effect]) -> list[str]:
    return [e.text for e in effects if isinstance(e, Log)]


def sends(effects: Iterable[Effect], link: LinkId | None = None) -> list[tuple[bytes, ...]]:
    return [e.argv for e in effects if isinstance(e, Send) and (link is None or e.link == link)]


def flushes(effects: Iterable[Effect]) -> int:
    return sum(1 for e in effects if isinstance(e, PersistConfig))


def is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needle)


# --- several real sentinels ---------------------------------------------------------------


@attrs.define
class _ClusterSocket:
    owner: int
    link: LinkId
    kind: LinkKind
    addr: Addr
    connected: bool = False
    inbox: list[InReply] = attrs.Factory(list)
    #: When the far side is one of our sentinels: its client id for this socket.
    client: int | None = None
    subscribed: bool = False


@attrs.define
class Cluster:
    """Several real Sentinels, fake Redis servers and a fake network between them.

    A ``Send`` to a sentinel's port becomes a ``ClientCommand`` on that sentinel (with a
    ``ClientConnected`` first), and its ``Reply`` comes back as the ``LinkReply``: the
    same path a real peer takes, through the client layer and SENTINEL commands.
    """

    configs: list[SentinelConfig]
    now: Millis = T0
    sentinels: list[Sentinel] = attrs.field(init=False)
    servers: dict[Addr, FakeRedis] = attrs.Factory(dict)
    sockets: dict[tuple[int, LinkId], _ClusterSocket] = attrs.Factory(dict)
    #: Per sentinel, every effect it returned.
    effects: list[list[Effect]] = attrs.field(init=False)
    #: Sentinels that are down (not ticking, refusing connections).
    down: set[int] = attrs.Factory(set)
    #: Sentinels cut off from everything (they tick, but reach nobody and nobody them).
    partitioned: set[int] = attrs.Factory(set)
    #: Sentinels that receive no hello at all (neither pub/sub nor PUBLISH from peers).
    deaf: set[int] = attrs.Factory(set)
    _next_client: int = 1000

    def __attrs_post_init__(self) -> None:
        from pysentinel.core.sentinel import Sentinel

        self.sentinels = [Sentinel(c, random.Random(i)) for i, c in enumerate(self.configs)]
        self.effects = [[] for _ in self.configs]

    @classmethod
    def of(cls, n: int, master: MasterConfig) -> Cluster:
        peers = [known_sentinel("127.0.0.1", 26379 + i, f"{i + 1:x}" * 40) for i in range(n)]
        configs = [
            SentinelConfig(
                myid=peers[i].runid,
                port=26379 + i,
                masters=(
                    attrs.evolve(
                        master, known_sentinels=tuple(p for j, p in enumerate(peers) if j != i)
                    ),
                ),
            )
            for i in range(n)
        ]
        return cls(configs)

    def server(self, host: str = "127.0.0.1", port: int = 6379, **kwargs: object) -> FakeRedis:
        fake = FakeRedis(addr=Addr(host, port), **kwargs)  # type: ignore[arg-type]
        self.servers[fake.addr] = fake
        return fake

    def _sentinel_at(self, addr: Addr) -> int | None:
        for i, c in enumerate(self.configs):
            if addr == Addr("127.0.0.1", c.port) and i not in self.down:
                return i
        return None

    def _run(self, i: int, effects: list[Effect]) -> None:
        self.effects[i] += effects
        for effect in effects:
            if isinstance(effect, Connect):
                self.sockets[(i, effect.link)] = _ClusterSocket(
                    i, effect.link, effect.kind, effect.addr
                )
            elif isinstance(effect, Close):
                self.sockets.pop((i, effect.link), None)
            elif isinstance(effect, Send):
                sock = self.sockets.get((i, effect.link))
                if sock is not None:
                    self._send(sock, effect.argv)

    def _send(self, sock: _ClusterSocket, argv: tuple[bytes, ...]) -> None:
        from pysentinel import resp
        from pysentinel.core.effects import Reply
        from pysentinel.core.inputs import ClientCommand, ClientConnected
        from pysentinel.core.types import ClientId

        server = self.servers.get(sock.addr)
        if server is not None:
            sock.inbox.append(server.answer(argv))
            if argv[0].upper() == b"SUBSCRIBE":
                sock.subscribed = True
            if argv[0].upper() == b"PUBLISH":
                # redis delivers the message to every subscriber of the channel.
                for other in self.sockets.values():
                    if (
                        other.addr == sock.addr
                        and other.subscribed
                        and other.connected
                        and other.owner not in self.deaf
                    ):
                        other.inbox.append((b"message", argv[1], argv[2]))
            return
        target = self._sentinel_at(sock.addr)
        if target is None:
            return
        peer = self.sentinels[target]
        if target in self.deaf and argv[0].upper() == b"PUBLISH":
            sock.inbox.append(1)
            return
        if sock.client is None:
            sock.client = self._next_client
            self._next_client += 1
            self._run(
                target,
                peer.handle(
                    ClientConnected(
                        client=ClientId(sock.client), addr="127.0.0.1:1", laddr="127.0.0.1:2"
                    ),
                    self.now,
                ),
            )
        effects = peer.handle(ClientCommand(client=ClientId(sock.client), argv=argv), self.now)
        self._run(target, effects)
        for effect in effects:
            value: object = None
            if isinstance(effect, Reply) and effect.client == sock.client:
                parser = resp.ReplyParser()
                parser.feed(resp.encode(effect.value, 2))
                value = parser.next_reply()[1]
                sock.inbox.append(value)  # type: ignore[arg-type]
            elif isinstance(effect, PersistConfig) and effect.reply_to == sock.client:
                sock.inbox.append(b"OK")

    def _reachable(self, sock: _ClusterSocket) -> bool:
        if sock.owner in self.partitioned:
            return False
        target = self._sentinel_at(sock.addr)
        if target is not None and target in self.partitioned:
            return False
        return sock.addr in self.servers or target is not None

    def partition(self, i: int) -> None:
        """Cut sentinel ``i`` off: its sockets and the sockets to it drop."""
        self.partitioned.add(i)
        for key, sock in list(self.sockets.items()):
            if sock.connected and not self._reachable(sock):
                del self.sockets[key]
                self._run(
                    sock.owner,
                    self.sentinels[sock.owner].handle(
                        LinkDropped(link=sock.link, error="partition"), self.now
                    ),
                )

    def heal(self, i: int) -> None:
        self.partitioned.discard(i)

    def deliver(self) -> None:
        progress = True
        while progress:
            progress = False
            for key, sock in list(self.sockets.items()):
                if key not in self.sockets:
                    continue
                i = sock.owner
                s = self.sentinels[i]
                if i in self.down:
                    continue
                if not sock.connected:
                    if self._reachable(sock):
                        sock.connected = True
                        self._run(
                            i,
                            s.handle(
                                LinkConnected(
                                    link=sock.link, local_host="127.0.0.1", local_port=40000
                                ),
                                self.now,
                            ),
                        )
                    else:
                        del self.sockets[key]
                        self._run(
                            i, s.handle(LinkDropped(link=sock.link, error="refused"), self.now)
                        )
                    progress = True
                    continue
                if sock.inbox:
                    reply = sock.inbox.pop(0)
                    self._run(i, s.handle(LinkReply(link=sock.link, reply=reply), self.now))
                    progress = True

    def start(self) -> None:
        for i, s in enumerate(self.sentinels):
            self._run(i, s.start(self.now))

    def advance(self, ms: int, step: int = 50) -> None:
        """Move time ``ms`` ahead in ``step``s; tick whoever is due, deliver everything."""
        end = self.now + ms
        while self.now < end:
            self.now = Millis(min(end, self.now + step))
            for i, s in enumerate(self.sentinels):
                deadline = s.next_deadline()
                if i not in self.down and deadline is not None and deadline <= self.now:
                    self._run(i, s.tick(self.now))
            self.deliver()

    def kill_server(self, addr: Addr) -> None:
        del self.servers[addr]
        for key, sock in list(self.sockets.items()):
            if sock.addr == addr:
                del self.sockets[key]
                self._run(
                    sock.owner,
                    self.sentinels[sock.owner].handle(
                        LinkDropped(link=sock.link, error="reset"), self.now
                    ),
                )

    def events(self, i: int) -> list[str]:
        return events(self.effects[i])
