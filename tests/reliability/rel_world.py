"""A real ``Sentinel`` wired to a scripted, misbehaving outside world, for fuzzing.

Every ``Send`` the core returns is answered by whatever the test draws (a well-formed
reply, random INFO text, junk of any shape); pub/sub links receive random hello frames;
clients send random argv. The world only keeps the bookkeeping a real driver keeps
(which links exist, which sends await a reply, in order) and checks every effect the
core hands back:

* a ``Reply`` encodes as exactly one RESP frame;
* an error reply starts with one of the error codes the spec documents;
* a ``PersistConfig`` renders to a file that parses again (no ``ConfigError``) and gives
  back the same masters, addresses and epochs.
"""

from __future__ import annotations

import random
from collections import deque

import attrs
import hiredis

from pysentinel import config as config_module
from pysentinel import resp
from pysentinel.config import MasterConfig, SentinelConfig
from pysentinel.core.effects import (
    Close,
    Connect,
    Effect,
    Emit,
    Exit,
    PersistConfig,
    Reply,
    Send,
)
from pysentinel.core.inputs import (
    ClientCommand,
    ClientConnected,
    Input,
    LinkConnected,
    LinkDropped,
    LinkReply,
)
from pysentinel.core.sentinel import Sentinel
from pysentinel.core.types import Addr, ClientId, LinkId, Millis
from pysentinel.core.values import Error, InReply, Value

MYID = "f" * 40
T0 = Millis(5_000_000)

#: The error codes the spec (sections 3 and 9) documents for the sentinel port.
ERROR_CODES = frozenset(
    {
        "ERR",
        "NOAUTH",
        "NOPERM",
        "WRONGPASS",
        "NOPROTO",
        "INPROG",
        "NOGOODSLAVE",
        "NOQUORUM",
        "DENIED",
        "WRONGTYPE",
        "NOSCRIPT",
    }
)


def base_config(**kwargs: object) -> SentinelConfig:
    master = MasterConfig(name="mymaster", addr=Addr("10.0.0.1", 6379), quorum=2)
    return SentinelConfig(myid=MYID, masters=(master,), **kwargs)  # type: ignore[arg-type]


def check_value(value: Value, proto: int) -> None:
    """One well-formed frame; an error carries a documented code."""
    data = resp.encode(value, proto)
    reader = hiredis.Reader()
    reader.feed(data)
    assert reader.gets() is not False, data
    assert reader.gets() is False, data
    if isinstance(value, Error):
        code = value.text.split(" ", 1)[0]
        assert code in ERROR_CODES, value


def check_persisted(config: SentinelConfig) -> None:
    """What would be written parses back to the same sentinel state."""
    text = config_module.render(config)
    again = config_module.parse(text, path="<flushed>", cwd="/")
    assert [(m.name, m.addr, m.quorum, m.config_epoch) for m in again.masters] == [
        (m.name, m.addr, m.quorum, m.config_epoch) for m in config.masters
    ], text
    # Loading a ``config-epoch`` raises the current epoch to it (spec §2.4); a hello can
    # leave a master's config epoch above the current epoch in memory, as in sentinel.c.
    expected_epoch = max([config.current_epoch, *(m.config_epoch for m in config.masters)])
    assert again.current_epoch == expected_epoch, text
    assert again.myid == config.myid, text


@attrs.define
class World:
    """The sentinel, its links and what it asked for."""

    sentinel: Sentinel
    now: Millis = T0
    #: link -> (kind name, address)
    links: dict[LinkId, Connect] = attrs.Factory(dict)
    connected: set[LinkId] = attrs.Factory(set)
    #: Sends awaiting a reply, per link, in order.
    awaiting: dict[LinkId, deque[tuple[bytes, ...]]] = attrs.Factory(dict)
    exited: bool = False
    persisted: int = 0
    #: Every event type the sentinel emitted (for coverage labels).
    emitted: set[str] = attrs.Factory(set)

    @classmethod
    def create(cls, config: SentinelConfig | None = None, seed: int = 0) -> World:
        world = cls(Sentinel(config or base_config(), random.Random(seed)))
        world.record(world.sentinel.start(world.now))
        return world

    def record(self, effects: list[Effect]) -> list[Effect]:
        for effect in effects:
            match effect:
                case Connect():
                    self.links[effect.link] = effect
                    self.awaiting[effect.link] = deque()
                case Close():
                    self.links.pop(effect.link, None)
                    self.awaiting.pop(effect.link, None)
                    self.connected.discard(effect.link)
                case Send():
                    if effect.link in self.awaiting:
                        self.awaiting[effect.link].append(effect.argv)
                case Reply():
                    check_value(effect.value, effect.proto)
                case PersistConfig():
                    check_persisted(effect.config)
                    self.persisted += 1
                case Exit():
                    self.exited = True
                case Emit():
                    self.emitted.add(effect.type)
                case _:
                    pass
        return effects

    def handle(self, input: Input) -> list[Effect]:
        return self.record(self.sentinel.handle(input, self.now))

    def tick(self, advance: int) -> list[Effect]:
        self.now = Millis(self.now + advance)
        return self.record(self.sentinel.tick(self.now))

    def connect_all(self) -> None:
        for link in sorted(self.links, key=repr):
            if link not in self.connected and link in self.links:
                self.connected.add(link)
                self.handle(LinkConnected(link=link, local_host="10.0.0.9", local_port=40000))

    def drop(self, link: LinkId) -> None:
        self.links.pop(link, None)
        self.awaiting.pop(link, None)
        self.connected.discard(link)
        self.handle(LinkDropped(link=link, error="Connection reset by peer"))

    def reply(self, link: LinkId, reply: InReply) -> None:
        queue = self.awaiting.get(link)
        if queue:
            queue.popleft()
        self.handle(LinkReply(link=link, reply=reply))

    def handle_frame(self, link: LinkId, frame: InReply) -> None:
        """A pub/sub frame pushed by the server (no request of ours answered)."""
        self.handle(LinkReply(link=link, reply=frame))

    def client(self, n: int) -> ClientId:
        cid = ClientId(1000 + n)
        self.handle(
            ClientConnected(client=cid, addr=f"10.0.0.50:{5000 + n}", laddr="10.0.0.9:26379")
        )
        return cid

    def command(self, cid: ClientId, argv: tuple[bytes, ...]) -> list[Effect]:
        return self.handle(ClientCommand(client=cid, argv=argv))
