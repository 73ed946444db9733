"""Whatever instances answer and however links fail, the core keeps its link
bookkeeping consistent and never raises (STYLE §9: a misbehaving peer produces data)."""

from __future__ import annotations

from helpers import PEER_ID, Harness, known_sentinel, master_config, sentinel_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pysentinel.core.inputs import LinkConnected, LinkDropped, LinkReply
from pysentinel.core.instance import Instance, SentinelPeer
from pysentinel.core.types import Addr, LinkId
from pysentinel.core.values import ErrorReply, InReply

replies: st.SearchStrategy[InReply] = st.recursive(
    st.one_of(
        st.none(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.binary(max_size=40),
        st.sampled_from(
            [
                b"PONG",
                b"OK",
                b"role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6379\r\n",
                b"role:master\r\nslave0:ip=127.0.0.1,port=6380,state=online\r\n",
                b"run_id:" + b"7" * 40 + b"\r\nrole:master\r\n",
            ]
        ),
        st.builds(ErrorReply, st.sampled_from(["BUSY x", "LOADING x", "NOAUTH x", "ERR"])),
    ),
    lambda children: st.lists(children, max_size=4).map(tuple),
    max_leaves=6,
)

actions = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.integers(min_value=1, max_value=3000)),
        st.tuples(st.just("deliver"), st.just(0)),
        st.tuples(st.just("drop"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("connect"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("reply"), st.integers(min_value=0, max_value=20), replies),
        st.tuples(st.just("hello"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("kill"), st.sampled_from([6379, 6380])),
    ),
    max_size=40,
)


def _instances(h: Harness) -> list[Instance]:
    out: list[Instance] = []
    for master in h.sentinel.masters.values():
        out += [master, *master.replicas.values(), *master.sentinels.values()]
    return out


def _check(h: Harness) -> None:
    registered = set(h.sentinel._links)
    for instance in _instances(h):
        link = instance.link
        for link_id in (link.cmd, link.pubsub):
            if link_id is not None:
                assert link_id in registered
        if link.cmd is None:
            assert link.disconnected
        if not isinstance(instance, SentinelPeer) and link.pubsub is None:
            assert link.disconnected
        if isinstance(instance, SentinelPeer):
            assert link.pubsub is None
        assert link.refcount >= 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions)
def test_sentinel_survives_any_link_history(steps: list[tuple[object, ...]]) -> None:
    peer = known_sentinel("127.0.0.1", 26380, PEER_ID)
    h = Harness(
        sentinel_config(
            master_config("m1", known_sentinels=(peer,), down_after_ms=2000),
            master_config("m2", port=6479, known_sentinels=(peer,)),
        )
    )
    h.server(port=6379, replicas=[Addr("127.0.0.1", 6380)])
    h.server(port=6380, role="slave")
    h.start()
    for step in steps:
        kind = step[0]
        ids = sorted(h.sentinel._links)
        pick = LinkId(ids[int(step[1]) % len(ids)]) if ids and kind != "kill" else None  # type: ignore[call-overload]
        if kind == "advance":
            h.advance(int(step[1]))  # type: ignore[call-overload]
        elif kind == "deliver":
            h.deliver()
        elif kind == "drop" and pick is not None:
            h.sockets.pop(pick, None)
            h.handle(LinkDropped(link=pick, error="reset"))
        elif kind == "connect" and pick is not None:
            h.handle(LinkConnected(link=pick, local_host="127.0.0.1", local_port=1))
        elif kind == "reply" and pick is not None:
            h.handle(LinkReply(link=pick, reply=step[2]))  # type: ignore[arg-type]
        elif kind == "hello" and pick is not None:
            payload = f"127.0.0.1,{26380 + int(step[1]) % 3},{'d' * 40},3,m1,127.0.0.1,6380,2"  # type: ignore[call-overload]
            h.handle(
                LinkReply(link=pick, reply=(b"message", b"__sentinel__:hello", payload.encode()))
            )
        elif kind == "kill":
            h.servers.pop(Addr("127.0.0.1", int(step[1])), None)  # type: ignore[call-overload]
        _check(h)
    h.advance(2000)
    _check(h)
