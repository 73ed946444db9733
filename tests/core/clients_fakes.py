"""A small fake CommandBackend and helpers for the client layer's tests."""

from __future__ import annotations

import random

import attrs

from pysentinel import resp
from pysentinel.config import SentinelConfig
from pysentinel.core.clients import ClientRegistry
from pysentinel.core.effects import Effect, Reply
from pysentinel.core.inputs import ClientCommand, ClientConnected, ClientDisconnected
from pysentinel.core.types import ClientId, Millis
from pysentinel.core.values import Array, Bulk, Simple, Value


@attrs.define
class FakeBackend:
    """Records what the client layer asked; answers like a sentinel with one master."""

    sentinel_calls: list[tuple[ClientId, tuple[bytes, ...], int]] = attrs.Factory(list)
    hellos: list[bytes] = attrs.Factory(list)
    masters: tuple[str, ...] = ("mymaster",)

    def sentinel_command(
        self, client: ClientId, args: tuple[bytes, ...], proto: int, now: Millis
    ) -> list[Effect]:
        self.sentinel_calls.append((client, args, proto))
        return [Reply(client=client, value=Simple("OK"), proto=proto)]

    def role_reply(self) -> Value:
        return Array((Bulk(b"sentinel"), Array(tuple(Bulk(m.encode()) for m in self.masters))))

    def info_sentinel_section(self, now: Millis) -> str:
        return f"sentinel_masters:{len(self.masters)}\r\nsentinel_tilt:0"

    def hello_published(self, payload: bytes, now: Millis) -> list[Effect]:
        self.hellos.append(payload)
        return []


class Harness:
    """A registry plus helpers to connect clients and run commands by text."""

    def __init__(self, config: SentinelConfig | None = None, seed: int = 1) -> None:
        self.backend = FakeBackend()
        self.reg = ClientRegistry(config or SentinelConfig(), self.backend, random.Random(seed))
        self.now = Millis(1_000)
        self.next_id = 1

    def connect(self, addr: str = "127.0.0.1:50000") -> ClientId:
        cid = ClientId(self.next_id)
        self.next_id += 1
        self.reg.connected(
            ClientConnected(client=cid, addr=addr, laddr="127.0.0.1:26379", fd=7), self.now
        )
        return cid

    def disconnect(self, cid: ClientId) -> list[Effect]:
        return self.reg.disconnected(ClientDisconnected(client=cid), self.now)

    def run(self, cid: ClientId, *argv: bytes | str) -> list[Effect]:
        args = tuple(a.encode() if isinstance(a, str) else a for a in argv)
        return self.reg.command(ClientCommand(client=cid, argv=args), self.now)

    def wire(self, cid: ClientId, *argv: bytes | str) -> bytes:
        """The bytes the driver would write to ``cid`` for this command."""
        return encode_replies(self.run(cid, *argv), cid)


def encode_replies(effects: list[Effect], cid: ClientId) -> bytes:
    """Concatenated RESP of the ``Reply`` effects addressed to ``cid``."""
    return b"".join(
        resp.encode(e.value, e.proto) for e in effects if isinstance(e, Reply) and e.client == cid
    )
