"""Random command sequences against ClientRegistry: no exception, well-formed replies.

Every command gets at most one reply unless it is a (un)subscribe (one per channel), the
replies encode as exactly one RESP frame each, and the per-client bookkeeping stays
consistent with the registry's channel index.
"""

from __future__ import annotations

import hiredis
from clients_fakes import Harness
from hypothesis import given, settings
from hypothesis import strategies as st

from pysentinel import resp
from pysentinel.config import SentinelConfig
from pysentinel.core.effects import CloseClient, Exit, Reply
from pysentinel.core.types import ClientId

_WORDS = st.sampled_from(
    [
        b"PING", b"INFO", b"ROLE", b"SENTINEL", b"CLIENT", b"COMMAND", b"ACL", b"AUTH",
        b"HELLO", b"SUBSCRIBE", b"PSUBSCRIBE", b"UNSUBSCRIBE", b"PUNSUBSCRIBE", b"PUBLISH",
        b"SHUTDOWN", b"LIST", b"KILL", b"ID", b"INFO", b"SETNAME", b"GETNAME", b"REPLY",
        b"ON", b"OFF", b"SKIP", b"SETUSER", b"DELUSER", b"GETUSER", b"LOG", b"CAT", b"3",
        b"2", b"u", b"default", b"on", b"nopass", b"+@all", b">pw", b"a*", b"a", b"b",
        b"USER", b"SKIPME", b"no", b"TYPE", b"pubsub", b"__sentinel__:hello", b"ABORT",
        b"", b"\xff", b"x y",
    ]
)  # fmt: skip
_COMMAND = st.tuples(st.integers(0, 2), st.lists(_WORDS, min_size=1, max_size=5))


@settings(max_examples=150, deadline=None)
@given(st.lists(_COMMAND, max_size=30), st.booleans())
def test_clients_fuzz_sequences_stay_consistent(
    commands: list[tuple[int, list[bytes]]], password: bool
) -> None:
    h = Harness(SentinelConfig(requirepass="pw" if password else None))
    ids = [h.connect(f"127.0.0.1:{n}") for n in range(3)]
    for who, argv in commands:
        cid = ids[who]
        effects = h.run(cid, *argv)
        multi = argv[0].upper() in (b"SUBSCRIBE", b"PSUBSCRIBE", b"UNSUBSCRIBE", b"PUNSUBSCRIBE")
        mine = [e for e in effects if isinstance(e, Reply) and e.client == cid]
        assert multi or len(mine) <= 1
        for effect in effects:
            if isinstance(effect, Reply):
                reader = hiredis.Reader()
                reader.feed(resp.encode(effect.value, effect.proto))
                assert reader.gets() is not False
                assert reader.gets() is False
        if any(isinstance(e, Exit) for e in effects):
            break
        for effect in effects:
            if isinstance(effect, CloseClient):
                assert effect.client not in h.reg.clients
    # The channel indexes hold exactly the live clients' subscriptions.
    for index, attr in ((h.reg.channel_subs, "channels"), (h.reg.pattern_subs, "patterns")):
        expected: dict[bytes, set[ClientId]] = {}
        for client in h.reg.clients.values():
            for name in getattr(client, attr):
                expected.setdefault(name, set()).add(client.id)
        assert {k: set(v) for k, v in index.items()} == expected
