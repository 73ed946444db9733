"""Creating, resetting and releasing instances; the snapshot."""

from __future__ import annotations

import attrs
import pytest
from helpers import (
    PEER_ID,
    T0,
    Harness,
    events,
    flushes,
    known_sentinel,
    master_config,
    sentinel_config,
)

from pysentinel.core.effects import Close
from pysentinel.core.instance import FailoverState, ReconfState
from pysentinel.core.types import Addr, Millis, RunId


def _harness(**kwargs: object) -> Harness:
    h = Harness(sentinel_config(master_config(**kwargs)))
    h.start()
    return h


def test_sentinel_ipv6_replica_name() -> None:
    h = _harness()
    master = h.sentinel.masters["mymaster"]
    replica = h.sentinel.create_replica(master, Addr("::1", 6380), T0)
    assert replica.name == "[::1]:6380"
    assert h.sentinel.lookup_replica(master, Addr("::1", 6380)) is replica


def test_sentinel_start_creates_known_replicas_and_peers_without_events() -> None:
    peer = known_sentinel("127.0.0.1", 26380, PEER_ID)
    h = Harness(
        sentinel_config(
            master_config(
                known_replicas=(Addr("127.0.0.1", 6380),),
                known_sentinels=(peer,),
                config_epoch=3,
                leader_epoch=2,
            ),
            current_epoch=4,
        )
    )
    effects = h.start()
    assert [e.split()[0] for e in events(effects)] == ["+monitor"]
    s = h.sentinel
    master = s.masters["mymaster"]
    assert list(master.replicas) == ["127.0.0.1:6380"]
    assert master.sentinels[PEER_ID].run_id == PEER_ID
    assert (master.config_epoch, master.leader_epoch, master.leader) == (3, 2, None)
    assert s.current_epoch == 4


def test_sentinel_reset_master_and_change_address() -> None:
    h = _harness()
    s = h.sentinel
    master = s.masters["mymaster"]
    h.tick()
    old_links = (master.link.cmd, master.link.pubsub)
    r1 = s.create_replica(master, Addr("127.0.0.1", 6380), T0)
    s.create_replica(master, Addr("127.0.0.1", 6381), T0)
    s.create_sentinel_peer(master, Addr("127.0.0.1", 26380), RunId(PEER_ID), T0)
    master.failover_state = FailoverState.UPDATE_CONFIG
    master.promoted_replica = r1
    master.sdown_since = master.odown_since = Millis(T0)
    master.failover_start_time = Millis(T0)
    master.config_epoch = 5  # type: ignore[assignment]
    r1.reconf = ReconfState.DONE
    now = Millis(T0 + 50)
    effects = s.reset_master_and_change_address(master, Addr("127.0.0.1", 6380), now)
    assert events(effects) == [
        "+slave slave 127.0.0.1:6381 127.0.0.1 6381 @ mymaster 127.0.0.1 6380",
        "+slave slave 127.0.0.1:6379 127.0.0.1 6379 @ mymaster 127.0.0.1 6380",
    ]
    assert flushes(effects) == 1
    for link in old_links:
        assert Close(link=link) in effects  # type: ignore[arg-type]
    assert master.addr == Addr("127.0.0.1", 6380)
    assert master.failover_state is FailoverState.NONE
    assert master.promoted_replica is None
    assert master.sdown_since is None and master.odown_since is None
    assert master.failover_start_time == 0
    assert master.config_epoch == 5
    assert list(master.sentinels) == [PEER_ID]
    assert master.link.act_ping_time == now and master.link.last_ping_time == 0
    assert all(r.reconf is ReconfState.NONE for r in master.replicas.values())


def test_sentinel_change_to_same_address_keeps_replicas_only() -> None:
    h = _harness()
    s = h.sentinel
    master = s.masters["mymaster"]
    s.create_replica(master, Addr("127.0.0.1", 6380), T0)
    effects = s.reset_master_and_change_address(master, Addr("127.0.0.1", 6379), T0)
    assert [e.split()[1] for e in events(effects)] == ["slave"]
    assert list(master.replicas) == ["127.0.0.1:6380"]


def test_sentinel_change_address_rejects_hostname_without_resolve() -> None:
    h = _harness()
    s = h.sentinel
    master = s.masters["mymaster"]
    effects = s.reset_master_and_change_address(master, Addr("db.example", 6380), T0)
    assert master.addr == Addr("127.0.0.1", 6379)
    assert flushes(effects) == 0


def test_sentinel_reset_master_forgets_replicas_and_peers() -> None:
    h = _harness()
    s = h.sentinel
    master = s.masters["mymaster"]
    s.create_replica(master, Addr("127.0.0.1", 6380), T0)
    s.create_sentinel_peer(master, Addr("127.0.0.1", 26380), RunId(PEER_ID), T0)
    assert events(s.reset_master(master, T0)) == []
    assert master.replicas == {} and master.sentinels == {}
    assert events(s.reset_master(master, T0, generate_event=True)) == [
        "+reset-master master mymaster 127.0.0.1 6379"
    ]


def test_sentinel_send_returns_none_without_command_socket() -> None:
    from pysentinel.core.instance import ReplyKind

    h = _harness()
    master = h.sentinel.masters["mymaster"]
    assert h.sentinel.send(master, "PING", kind=ReplyKind.PING) is None
    assert master.link.pending_commands == 0


def test_sentinel_notification_script_on_warning_events_only() -> None:
    h = _harness(notification_script="/bin/notify", down_after_ms=1000)
    h.advance(1500)  # unreachable master: +sdown (warning) and debug reconnection events
    argvs = [job.argv for job in h.sentinel.scripts.jobs]
    assert ("/bin/notify", "+monitor", "master mymaster 127.0.0.1 6379 quorum 2") in argvs
    assert ("/bin/notify", "+sdown", "master mymaster 127.0.0.1 6379") in argvs
    assert not [a for a in argvs if a[1].startswith("-cmd")]


def test_sentinel_snapshot_is_frozen_and_complete() -> None:
    peer = known_sentinel("127.0.0.1", 26380, PEER_ID)
    h = Harness(sentinel_config(master_config(known_sentinels=(peer,))))
    h.start()
    h.server(port=6379, replicas=[Addr("127.0.0.1", 6380)])
    h.advance(500)
    snap = h.sentinel.snapshot()
    assert snap.myid == h.sentinel.myid and snap.current_epoch == 0 and not snap.tilt
    (m,) = snap.masters
    assert m.instance.name == "mymaster" and m.quorum == 2
    assert m.instance.flags == ("master",)
    assert [r.name for r in m.replicas] == ["127.0.0.1:6380"]
    assert [p.name for p in m.sentinels] == [PEER_ID]
    assert m.instance.fields == ()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        m.quorum = 3  # type: ignore[misc]
    fields = dict(h.sentinel.snapshot(h.now).masters[0].instance.fields)
    assert fields["name"] == "mymaster" and fields["num-slaves"] == "1"
    assert fields["num-other-sentinels"] == "1"
