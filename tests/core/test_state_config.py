"""state_config.config_from_state: what a flush persists, and that it round-trips."""

from __future__ import annotations

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from pysentinel.config import KnownSentinel, SentinelConfig, parse, render
from pysentinel.core.instance import FailoverState
from pysentinel.core.state_config import config_from_state
from pysentinel.core.types import Addr, Epoch, Millis, RunId
from tests.core.commands_fakes import FakeSentinel

PEER = "b" * 40
DEFAULT_USER = ("default", "on", "nopass", "~*", "&*", "+@all")

CONF = f"""
port 26390
logfile "/tmp/x.log"
sentinel myid {"a" * 40}
sentinel monitor mymaster 127.0.0.1 6379 2
sentinel down-after-milliseconds mymaster 5000
sentinel auth-pass mymaster s3cret
sentinel rename-command mymaster CONFIG xconfig
sentinel config-epoch mymaster 3
sentinel leader-epoch mymaster 2
sentinel known-replica mymaster 127.0.0.1 6380
sentinel known-replica mymaster 127.0.0.1 6381
sentinel known-sentinel mymaster 127.0.0.1 26380 {PEER}
sentinel current-epoch 4
sentinel announce-port 1234
"""


def _state_fields(config: SentinelConfig) -> SentinelConfig:
    """Only the sentinel part (generic directives are render's business)."""
    return SentinelConfig(
        myid=config.myid,
        current_epoch=config.current_epoch,
        announce_ip=config.announce_ip,
        announce_port=config.announce_port,
        deny_scripts_reconfig=config.deny_scripts_reconfig,
        resolve_hostnames=config.resolve_hostnames,
        announce_hostnames=config.announce_hostnames,
        sentinel_user=config.sentinel_user,
        sentinel_pass=config.sentinel_pass,
        masters=config.masters,
    )


def test_state_config_reflects_loaded_config_and_keeps_generic_directives() -> None:
    loaded = parse(CONF, cwd="/tmp")
    s = FakeSentinel(loaded)
    out = config_from_state(s)  # type: ignore[arg-type]
    # The users are the ACL's now: the implicit default user, as the renderer adds.
    assert out == attrs.evolve(loaded, users=(DEFAULT_USER,))
    assert render(out) == render(loaded)
    assert out.port == 26390 and out.logfile == "/tmp/x.log"


def test_state_config_round_trips_through_render_and_parse() -> None:
    s = FakeSentinel(parse(CONF, cwd="/tmp"))
    s.current_epoch = Epoch(9)
    m = s.masters["mymaster"]
    m.leader_epoch = Epoch(9)
    m.rename_commands["PING"] = "xping"
    m.notification_script = None
    s.sentinel_user, s.sentinel_pass = "su", "sp"
    s.announce_ip = "10.0.0.5"
    out = config_from_state(s)  # type: ignore[arg-type]
    again = parse(render(out), cwd="/tmp")
    assert _state_fields(again) == _state_fields(out)
    assert again.masters[0].rename_commands == (("config", "xconfig"), ("ping", "xping"))


def test_state_config_mid_failover_writes_promoted_address_and_old_master() -> None:
    s = FakeSentinel(parse(CONF, cwd="/tmp"))
    m = s.masters["mymaster"]
    promoted = m.replicas["127.0.0.1:6381"]
    m.promoted_replica = promoted
    m.failover_state = FailoverState.WAIT_PROMOTION
    mc = config_from_state(s).masters[0]  # type: ignore[arg-type]
    assert mc.addr == Addr("127.0.0.1", 6379)
    m.failover_state = FailoverState.RECONF_SLAVES
    mc = config_from_state(s).masters[0]  # type: ignore[arg-type]
    assert mc.addr == Addr("127.0.0.1", 6381)
    assert mc.known_replicas == (Addr("127.0.0.1", 6380), Addr("127.0.0.1", 6379))


def test_state_config_announce_hostnames_and_peers_without_runid() -> None:
    s = FakeSentinel(parse(CONF, cwd="/tmp"))
    m = s.masters["mymaster"]
    m.hostname = "redis-a"
    m.replicas["127.0.0.1:6380"].hostname = "redis-b"
    peer = s.create_sentinel_peer(m, Addr("127.0.0.1", 26399), RunId("c" * 40), Millis(0))
    peer.run_id = None
    s.announce_hostnames = True
    mc = config_from_state(s).masters[0]  # type: ignore[arg-type]
    assert mc.addr == Addr("redis-a", 6379)
    assert mc.known_replicas[0] == Addr("redis-b", 6380)
    assert mc.known_sentinels == (KnownSentinel(addr=Addr("127.0.0.1", 26380), runid=PEER),)


_names = st.text(alphabet="abcdefghij_-.", min_size=1, max_size=8)
_ports = st.integers(min_value=1, max_value=65535)


@settings(max_examples=40, deadline=None)
@given(
    masters=st.dictionaries(
        _names,
        st.tuples(
            _ports,
            st.integers(min_value=1, max_value=5),
            st.integers(min_value=1, max_value=100_000),
            st.integers(min_value=1, max_value=4),
            st.lists(_ports, max_size=3, unique=True),
            st.integers(min_value=0, max_value=50),
        ),
        max_size=3,
    ),
    current_epoch=st.integers(min_value=0, max_value=100),
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans()),
)
def test_state_config_round_trip_property(
    masters: dict[str, tuple[int, int, int, int, list[int], int]],
    current_epoch: int,
    flags: tuple[bool, bool, bool],
) -> None:
    s = FakeSentinel(SentinelConfig(myid="d" * 40))
    s.current_epoch = Epoch(max(current_epoch, 50))
    s.deny_scripts_reconfig, s.resolve_hostnames, s.announce_hostnames = flags
    for name, (port, quorum, down_after, psyncs, replica_ports, epoch) in masters.items():
        mc = attrs.evolve(
            parse(f"sentinel monitor {name} 127.0.0.1 {port} {quorum}", cwd="/tmp").masters[0],
            down_after_ms=down_after,
            parallel_syncs=psyncs,
        )
        m = s.create_master(mc, Millis(0))
        m.config_epoch = Epoch(epoch)
        for rp in replica_ports:
            if rp != port:
                s.create_replica(m, Addr("127.0.0.2", rp), Millis(0))
    out = config_from_state(s)  # type: ignore[arg-type]
    assert _state_fields(parse(render(out), cwd="/tmp")) == _state_fields(out)
