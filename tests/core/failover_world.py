"""A tiny deterministic world around the real ``Sentinel`` for whole-failover tests.

Fakes with real behaviour (STYLE §13), just enough of them: redis servers that answer
PING, INFO (with redis-server 7.0.15's replication fields), PUBLISH, CLIENT, MULTI /
SLAVEOF / CONFIG REWRITE / EXEC, and SUBSCRIBE on the pub/sub link; peer sentinels that
answer PING, PUBLISH (learning a newer master address from our hellos) and
``SENTINEL is-master-down-by-addr`` with votes, first come first served per epoch.
Every effect the sentinel returns is carried out at once and every reply is fed back
in order; time moves only through :meth:`World.advance`.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Callable

import attrs

from pysentinel.config import KnownSentinel, MasterConfig, SentinelConfig
from pysentinel.core.effects import (
    Close,
    Connect,
    Effect,
    Emit,
    Exit,
    Log,
    PersistConfig,
    RunScript,
    Send,
)
from pysentinel.core.inputs import Input, LinkConnected, LinkDropped, LinkReply
from pysentinel.core.sentinel import Sentinel
from pysentinel.core.types import Addr, LinkId, LinkKind, LogLevel, Millis
from pysentinel.core.values import ErrorReply, InReply

HOST = "127.0.0.1"
HELLO = b"__sentinel__:hello"
#: Where the world's clock starts.
T0 = Millis(1_000_000)


@attrs.define
class FakeRedis:
    """One redis-server: its role and replication state, as INFO shows them."""

    port: int
    run_id: str
    up: bool = True
    master_port: int | None = None  # None: role master
    link_up: bool = True
    #: INFO replies to give with the link down after a SLAVEOF, before it comes up.
    sync_infos: int = 0
    offset: int = 1000
    priority: int = 100
    #: Misconfigured: answers SLAVEOF with an error (e.g. a rename-command mismatch).
    refuse_slaveof: bool = False
    in_multi: bool = False
    queued: list[tuple[bytes, ...]] = attrs.Factory(list)

    def info(self, world: World) -> bytes:
        lines = [
            "# Server",
            "redis_version:7.0.15",
            "redis_mode:standalone",
            "os:Linux 6.1.0 x86_64",
            "arch_bits:64",
            f"process_id:{self.port}",
            f"run_id:{self.run_id}",
            f"tcp_port:{self.port}",
            "",
            "# Replication",
        ]
        if self.master_port is None:
            replicas = [r for r in world.servers.values() if r.up and r.master_port == self.port]
            lines += ["role:master", f"connected_slaves:{len(replicas)}"]
            lines += [
                f"slave{i}:ip={HOST},port={r.port},state=online,offset={r.offset},lag=0"
                for i, r in enumerate(replicas)
            ]
            lines += [
                "master_failover_state:no-failover",
                "master_replid:" + "e" * 40,
                "master_replid2:" + "0" * 40,
                f"master_repl_offset:{self.offset}",
            ]
        else:
            if self.sync_infos > 0:
                self.sync_infos -= 1
                if self.sync_infos == 0:
                    self.link_up = True
            master = world.servers.get(self.master_port)
            link_up = self.link_up and master is not None and master.up
            lines += [
                "role:slave",
                f"master_host:{HOST}",
                f"master_port:{self.master_port}",
                f"master_link_status:{'up' if link_up else 'down'}",
                "master_last_io_seconds_ago:1" if link_up else "master_last_io_seconds_ago:-1",
                "master_sync_in_progress:0",
                f"slave_read_repl_offset:{self.offset}",
                f"slave_repl_offset:{self.offset}",
            ]
            if not link_up:
                lines.append("master_link_down_since_seconds:1")
            lines += [
                f"slave_priority:{self.priority}",
                "slave_read_only:1",
                "replica_announced:1",
                "connected_slaves:0",
                "master_failover_state:no-failover",
                f"master_repl_offset:{self.offset}",
            ]
        return ("\r\n".join(lines) + "\r\n").encode()

    def command(self, world: World, link: LinkId, argv: tuple[bytes, ...]) -> InReply:
        name = argv[0].upper()
        if self.in_multi and name not in (b"EXEC", b"MULTI"):
            self.queued.append(argv)
            return b"QUEUED"
        match name:
            case b"PING":
                return b"PONG"
            case b"INFO":
                return self.info(world)
            case b"CLIENT":
                return 1 if argv[1].upper() == b"KILL" else b"OK"
            case b"MULTI":
                self.in_multi = True
                return b"OK"
            case b"EXEC":
                self.in_multi = False
                queued, self.queued = self.queued, []
                return tuple(self.command(world, link, q) for q in queued)
            case b"SLAVEOF" | b"REPLICAOF":
                if self.refuse_slaveof:
                    return ErrorReply("ERR unknown command 'SLAVEOF'")
                if argv[1].upper() == b"NO":
                    self.master_port = None
                else:
                    self.master_port = int(argv[2])
                    self.link_up = False
                    self.sync_infos = 2
                return b"OK"
            case b"CONFIG":
                return b"OK"
            case b"PUBLISH":
                world.echo_hello(self.port, argv[2])
                return 1
            case b"SUBSCRIBE":
                return (b"subscribe", argv[1], 1)
        raise AssertionError(f"unexpected command {argv!r} to redis {self.port}")


@attrs.define
class FakePeer:
    """A peer sentinel that votes first come, first served, and may see the master down."""

    port: int
    run_id: str
    #: What it answers about each master port.
    says_down: dict[int, bool] = attrs.Factory(dict)
    #: The master port it monitors (learnt from our hellos after the promotion).
    master_port: int = 16379
    vote: str | None = None
    vote_epoch: int = 0
    asked: list[tuple[bytes, ...]] = attrs.Factory(list)

    def command(self, world: World, link: LinkId, argv: tuple[bytes, ...]) -> InReply:
        name = argv[0].upper()
        match name:
            case b"PING":
                return b"PONG"
            case b"CLIENT":
                return b"OK"
            case b"PUBLISH":
                fields = argv[2].decode().split(",")
                self.master_port = int(fields[6])
                return 1
            case b"SENTINEL":
                self.asked.append(argv)
                port, epoch, runid = int(argv[3]), int(argv[4]), argv[5].decode()
                down = int(port == self.master_port and self.says_down.get(port, False))
                if runid == "*":
                    return (down, b"*", 0)
                if epoch > self.vote_epoch:
                    self.vote, self.vote_epoch = runid, epoch
                return (down, (self.vote or "*").encode(), self.vote_epoch)
        raise AssertionError(f"unexpected command {argv!r} to sentinel {self.port}")


@attrs.define
class World:
    """The sentinel under test, its servers, its peers and the wires between them."""

    sentinel: Sentinel
    servers: dict[int, FakeRedis]
    peers: dict[int, FakePeer]
    now: Millis
    links: dict[LinkId, tuple[LinkKind, int]] = attrs.Factory(dict)
    inbox: collections.deque[Input] = attrs.Factory(collections.deque)
    #: Every event above debug level as ``"<type> <payload>"``, with its time (debug
    #: events, such as ``-cmd-link-reconnection``, are neither logged nor published).
    events: list[tuple[Millis, str]] = attrs.Factory(list)
    #: Every config the sentinel asked to persist, in order.
    persisted: list[SentinelConfig] = attrs.Factory(list)
    #: Every non-event log line, in order.
    logs: list[str] = attrs.Factory(list)
    #: The argv of every script started.
    scripts: list[tuple[str, ...]] = attrs.Factory(list)
    #: Every ``Send`` as (port, argv).
    sent: list[tuple[int, tuple[bytes, ...]]] = attrs.Factory(list)
    exit_code: int | None = None
    #: Called after every ``handle`` and ``tick``: property tests check invariants here.
    observer: Callable[[], None] | None = None

    @classmethod
    def build(cls, *, seed: int = 1, now: Millis = T0, reconfig_script: str | None = None) -> World:
        master_cfg = MasterConfig(
            name="mymaster",
            client_reconfig_script=reconfig_script,
            addr=Addr(HOST, 16379),
            quorum=2,
            down_after_ms=5000,
            failover_timeout_ms=60_000,
            known_replicas=(Addr(HOST, 16380), Addr(HOST, 16381)),
            known_sentinels=(
                KnownSentinel(addr=Addr(HOST, 26380), runid="1" * 40),
                KnownSentinel(addr=Addr(HOST, 26381), runid="2" * 40),
            ),
        )
        config = SentinelConfig(myid="0" * 39 + "a", masters=(master_cfg,))
        servers = {
            16379: FakeRedis(16379, "a1" * 20),
            16380: FakeRedis(16380, "b1" * 20, master_port=16379, offset=1000),
            16381: FakeRedis(16381, "c1" * 20, master_port=16379, offset=900),
        }
        peers = {26380: FakePeer(26380, "1" * 40), 26381: FakePeer(26381, "2" * 40)}
        world = cls(Sentinel(config, random.Random(seed)), servers, peers, now)
        world.run(world.sentinel.start(now))
        return world

    # --- carrying out effects ---------------------------------------------------------

    def run(self, effects: list[Effect]) -> None:
        """Carry out ``effects``, then feed back every input they caused, until quiet."""
        self._execute(effects)
        self._observe()
        while self.inbox and self.exit_code is None:
            self._execute(self.sentinel.handle(self.inbox.popleft(), self.now))
            self._observe()

    def _observe(self) -> None:
        if self.observer is not None:
            self.observer()

    def _execute(self, effects: list[Effect]) -> None:
        for effect in effects:
            if self.exit_code is not None:
                return
            match effect:
                case Connect():
                    self._connect(effect)
                case Close():
                    self.links.pop(effect.link, None)
                case Send():
                    self._send(effect)
                case Emit():
                    if effect.level is not LogLevel.DEBUG:
                        self.events.append((self.now, f"{effect.type} {effect.payload}"))
                case Log():
                    self.logs.append(effect.text)
                case PersistConfig():
                    self.persisted.append(effect.config)
                case RunScript():
                    self.scripts.append(effect.argv)
                case Exit():
                    self.exit_code = effect.code
                case _:
                    pass

    def _connect(self, effect: Connect) -> None:
        port = effect.addr.port
        server = self.servers.get(port)
        if (server is None and port not in self.peers) or (server is not None and not server.up):
            self.inbox.append(LinkDropped(link=effect.link, error="Connection refused"))
            return
        self.links[effect.link] = (effect.kind, port)
        self.inbox.append(LinkConnected(link=effect.link, local_host=HOST, local_port=40000))

    def _send(self, effect: Send) -> None:
        entry = self.links.get(effect.link)
        if entry is None:
            return
        _, port = entry
        self.sent.append((port, effect.argv))
        target: FakeRedis | FakePeer = (
            self.servers[port] if port in self.servers else self.peers[port]
        )
        reply = target.command(self, effect.link, effect.argv)
        self.inbox.append(LinkReply(link=effect.link, reply=reply))

    def echo_hello(self, port: int, payload: bytes) -> None:
        """redis delivers a PUBLISH to every subscriber: our own pub/sub link too."""
        for link, (kind, p) in list(self.links.items()):
            if p == port and kind is LinkKind.PUBSUB:
                self.inbox.append(LinkReply(link=link, reply=(b"message", HELLO, payload)))

    # --- the world's own moves -----------------------------------------------------------

    def restart(self, port: int, run_id: str) -> None:
        """The server at ``port`` comes back (a new run id), with its old replication role."""
        server = self.servers[port]
        server.up = True
        server.run_id = run_id

    def crash(self, port: int) -> None:
        """The server at ``port`` dies: its sockets drop, new connects are refused."""
        self.servers[port].up = False
        for link, (_, p) in list(self.links.items()):
            if p == port:
                del self.links[link]
                self.inbox.append(LinkDropped(link=link, error="Connection reset by peer"))
        self.run([])

    def advance(self, until: Millis) -> None:
        """Run every tick due up to ``until``."""
        while self.exit_code is None:
            deadline = self.sentinel.next_deadline()
            if deadline is None or deadline > until:
                break
            self.now = Millis(max(self.now, deadline))
            self.run(self.sentinel.tick(self.now))
        self.now = Millis(max(self.now, until))

    def event_texts(self, since: int = 0) -> list[str]:
        return [text for _, text in self.events[since:]]
