"""A tiny core that follows the contract, for testing the simulator's wiring only.

It monitors the one configured master with PINGs (SDOWN after down-after), enters
TILT on clock gaps, answers ``SENTINEL get-master-addr-by-name`` and
``SENTINEL FAILOVER`` (which just bumps the epoch and casts a vote), and persists
its id on first start. It decides nothing else: the real core does that.
"""

from __future__ import annotations

import random

import attrs

from pysentinel.config import SentinelConfig
from pysentinel.core.effects import Connect, Effect, Emit, Log, PersistConfig, Reply, Send
from pysentinel.core.inputs import ClientCommand, Input, LinkConnected, LinkDropped, LinkReply
from pysentinel.core.instance import InstanceLink, MasterInstance
from pysentinel.core.types import Epoch, LinkId, LinkKind, LogLevel, Millis, RunId
from pysentinel.core.values import Array, Bulk, Error


class FakeCore:
    def __init__(self, config: SentinelConfig, rng: random.Random) -> None:
        self.config = config
        self.rng = rng
        self.myid = RunId(config.myid or "".join(rng.choice("0123456789abcdef") for _ in range(40)))
        self.current_epoch = Epoch(config.current_epoch)
        self.tilt = False
        mc = config.masters[0]
        self.masters = {
            mc.name: MasterInstance(
                name=mc.name,
                addr=mc.addr,
                link=InstanceLink.created(Millis(0)),
                down_after_ms=mc.down_after_ms,
                quorum=mc.quorum,
            )
        }
        self.master = self.masters[mc.name]
        self.link: LinkId | None = None
        self.links = 0
        self.connected = False
        self.prev = Millis(0)
        self.deadline = Millis(0)
        #: Test hook: vote for a random id on every tick (a planted bug).
        self.vote_randomly = False

    def _connect(self) -> list[Effect]:
        self.links += 1
        self.link = LinkId(self.links)
        return [Connect(link=self.link, kind=LinkKind.COMMAND, addr=self.master.addr)]

    def start(self, now: Millis) -> list[Effect]:
        self.prev = now
        self.master.link = InstanceLink.created(now)
        out: list[Effect] = [Log(level=LogLevel.WARNING, text=f"Sentinel ID is {self.myid}")]
        if self.config.myid is None:
            out.append(PersistConfig(config=attrs.evolve(self.config, myid=self.myid)))
        out += self._connect()
        self.deadline = Millis(now + 100)
        return out

    def next_deadline(self) -> Millis | None:
        return self.deadline

    def tick(self, now: Millis) -> list[Effect]:
        out: list[Effect] = []
        if now - self.prev > 2000 or now < self.prev:
            self.tilt = True
            out.append(Emit(level=LogLevel.WARNING, type="+tilt", payload="#tilt mode entered"))
        self.prev = now
        self.deadline = Millis(now + 100)
        link = self.master.link
        if self.connected and self.link is not None and now - link.last_ping_time > 500:
            link.last_ping_time = now
            out.append(Send(link=self.link, argv=(b"PING",)))
        if not self.tilt:
            down = now - link.last_avail_time > self.master.down_after_ms
            if down and self.master.sdown_since is None:
                self.master.sdown_since = now
                out.append(Emit(level=LogLevel.WARNING, type="+sdown", payload="master x"))
            elif not down and self.master.sdown_since is not None:
                self.master.sdown_since = None
                out.append(Emit(level=LogLevel.WARNING, type="-sdown", payload="master x"))
        if self.vote_randomly:
            leader = RunId("".join(self.rng.choice("0123456789abcdef") for _ in range(40)))
            out.append(Emit(level=LogLevel.WARNING, type="+vote-for-leader", payload=f"{leader} 1"))
        return out

    def handle(self, event: Input, now: Millis, /) -> list[Effect]:
        if isinstance(event, LinkConnected) and event.link == self.link:
            self.connected = True
            return [Send(link=event.link, argv=(b"PING",))]
        if isinstance(event, LinkReply) and event.link == self.link:
            self.master.link.last_avail_time = now
            return []
        if isinstance(event, LinkDropped) and event.link == self.link:
            self.connected = False
            return self._connect()
        if isinstance(event, ClientCommand):
            args = [a.lower() for a in event.argv]
            if args[:2] == [b"sentinel", b"get-master-addr-by-name"]:
                addr = self.master.addr
                value = Array((Bulk.of(addr.host), Bulk.of(addr.port)))
                return [Reply(client=event.client, value=value)]
            if args[:2] == [b"sentinel", b"failover"]:
                self.current_epoch = Epoch(self.current_epoch + 1)
                self.master.leader = self.myid
                self.master.leader_epoch = self.current_epoch
                return [
                    PersistConfig(
                        config=attrs.evolve(
                            self.config, myid=self.myid, current_epoch=self.current_epoch
                        ),
                        reply_to=event.client,
                    )
                ]
            return [Reply(client=event.client, value=Error("ERR unknown"))]
        return []
