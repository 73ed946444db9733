"""Whole failovers through the real ``Sentinel``: replies in, events and commands out.

The world (tests/core/failover_world.py) answers like redis-server 7.0.15 and like
peer sentinels; these tests check what the leader does against spec §4.2's observed
sequence, §8.4's transaction, §5.9's asks and §7's votes.
"""

from __future__ import annotations

from failover_world import HOST, World

from pysentinel.core.inputs import ClientCommand, ClientConnected
from pysentinel.core.types import Addr, ClientId, Millis

MYID = "0" * 39 + "a"
M = "master mymaster 127.0.0.1 16379"
R1 = "slave 127.0.0.1:16380 127.0.0.1 16380 @ mymaster 127.0.0.1 16379"
R2 = "slave 127.0.0.1:16381 127.0.0.1 16381 @ mymaster 127.0.0.1 16379"

#: The leader's sequence of spec §4.2 (quorum 2, 3 sentinels), without ``-odown``,
#: whose place depends on when the peers' answers arrive.
LEADER_SEQUENCE = [
    f"+sdown {M}",
    f"+odown {M} #quorum 2/2",
    "+new-epoch 1",
    f"+try-failover {M}",
    f"+vote-for-leader {MYID} 1",
    f"+elected-leader {M}",
    f"+failover-state-select-slave {M}",
    f"+selected-slave {R1}",
    f"+failover-state-send-slaveof-noone {R1}",
    f"+failover-state-wait-promotion {R1}",
    f"-role-change {R1} new reported role is master",
    f"+promoted-slave {R1}",
    f"+failover-state-reconf-slaves {M}",
    f"+slave-reconf-sent {R2}",
    f"+slave-reconf-inprog {R2}",
    f"+slave-reconf-done {R2}",
    f"+failover-end {M}",
    "+switch-master mymaster 127.0.0.1 16379 127.0.0.1 16380",
    "+slave slave 127.0.0.1:16381 127.0.0.1 16381 @ mymaster 127.0.0.1 16380",
    "+slave slave 127.0.0.1:16379 127.0.0.1 16379 @ mymaster 127.0.0.1 16380",
    "+sdown slave 127.0.0.1:16379 127.0.0.1 16379 @ mymaster 127.0.0.1 16380",
]


def _crash_master(world: World, *, peer_sees_down: bool = True) -> int:
    """Warm up, then kill the master; returns the index of the first event after."""
    world.advance(Millis(world.now + 3000))
    start = len(world.events)
    world.peers[26380].says_down[16379] = peer_sees_down
    world.crash(16379)
    return start


def test_full_failover_matches_the_observed_leader_sequence() -> None:
    world = World.build()
    since = _crash_master(world)
    world.advance(Millis(world.now + 20_000))
    events = world.event_texts(since)
    assert [e for e in events if not e.startswith("-odown")] == LEADER_SEQUENCE
    # -odown comes once the peers learnt the new address from our hellos.
    odown_cleared = events.index(f"-odown {M}")
    assert events.index(f"+failover-state-reconf-slaves {M}") < odown_cleared
    assert odown_cleared < events.index(f"+failover-end {M}")
    assert world.exit_code is None


def test_full_failover_sends_the_exact_transactions() -> None:
    world = World.build()
    _crash_master(world)
    world.advance(Millis(world.now + 20_000))
    transaction = [
        (b"MULTI",),
        (b"SLAVEOF", b"NO", b"ONE"),
        (b"CONFIG", b"REWRITE"),
        (b"CLIENT", b"KILL", b"TYPE", b"normal"),
        (b"CLIENT", b"KILL", b"TYPE", b"pubsub"),
        (b"EXEC",),
    ]
    to_promoted = [argv for port, argv in world.sent if port == 16380]
    start = to_promoted.index((b"MULTI",))
    assert to_promoted[start : start + 6] == transaction
    to_other = [argv for port, argv in world.sent if port == 16381]
    start = to_other.index((b"MULTI",))
    assert to_other[start + 1] == (b"SLAVEOF", HOST.encode(), b"16380")
    assert to_other[start : start + 6] == [
        *transaction[:1],
        (b"SLAVEOF", b"127.0.0.1", b"16380"),
        *transaction[2:],
    ]


def test_full_failover_asks_then_requests_votes() -> None:
    world = World.build()
    _crash_master(world)
    world.advance(Millis(world.now + 20_000))
    asked = world.peers[26380].asked
    assert asked[0] == (b"SENTINEL", b"is-master-down-by-addr", b"127.0.0.1", b"16379", b"0", b"*")
    vote_requests = [a for a in asked if a[5] != b"*"]
    assert vote_requests[0] == (
        b"SENTINEL",
        b"is-master-down-by-addr",
        b"127.0.0.1",
        b"16379",
        b"1",
        MYID.encode(),
    )
    # Both peers voted for us in epoch 1.
    assert [(p.vote, p.vote_epoch) for p in world.peers.values()] == [(MYID, 1), (MYID, 1)]


def test_full_failover_final_state_and_persisted_config() -> None:
    world = World.build()
    _crash_master(world)
    world.advance(Millis(world.now + 20_000))
    snap = world.sentinel.snapshot()
    master = snap.masters[0]
    assert (master.instance.host, master.instance.port) == (HOST, 16380)
    assert master.failover_state == "none"
    assert (master.config_epoch, master.leader_epoch, snap.current_epoch) == (1, 1, 1)
    assert [r.name for r in master.replicas] == ["127.0.0.1:16381", "127.0.0.1:16379"]
    last = world.persisted[-1].masters[0]
    assert last.addr == Addr(HOST, 16380)
    assert last.config_epoch == 1


def test_not_elected_when_peers_vote_for_someone_else() -> None:
    world = World.build()
    for peer in world.peers.values():
        peer.vote, peer.vote_epoch = "2" * 40, 1
    since = _crash_master(world)
    world.advance(Millis(world.now + 20_000))
    events = world.event_texts(since)
    assert f"+try-failover {M}" in events
    assert f"+elected-leader {M}" not in events
    aborted = events.index(f"-failover-abort-not-elected {M}")
    # We voted for ourselves in the tick that started the attempt, before any answer.
    assert f"+vote-for-leader {MYID} 1" in events[:aborted]
    assert [p.vote for p in world.peers.values()] == ["2" * 40] * 2
    # No new attempt before 2 x failover-timeout; the delay is logged once.
    delay = [line for line in world.logs if line.startswith("Next failover delay:")]
    assert len(delay) == 1
    assert events.count(f"+try-failover {M}") == 1


def test_simulated_crash_after_election() -> None:
    world = World.build()
    world.sentinel.simfailure_crash_after_election = True
    since = _crash_master(world)
    world.advance(Millis(world.now + 20_000))
    assert world.exit_code == 99
    assert world.event_texts(since)[-1] == f"+elected-leader {M}"
    assert world.logs[-1] == "Sentinel CRASH because of SENTINEL simulate-failure"


def test_simulated_crash_after_promotion() -> None:
    world = World.build()
    world.sentinel.simfailure_crash_after_promotion = True
    since = _crash_master(world)
    world.advance(Millis(world.now + 20_000))
    assert world.exit_code == 99
    assert world.event_texts(since)[-1] == f"+promoted-slave {R1}"
    # The promotion was persisted before the crash: config epoch and new address (T30).
    last = world.persisted[-1].masters[0]
    assert (last.addr, last.config_epoch) == (Addr(HOST, 16380), 1)


def test_manual_failover_through_the_sentinel_command() -> None:
    world = World.build()
    world.advance(Millis(world.now + 3000))
    since = len(world.events)
    client = ClientId(1)
    world.run(
        world.sentinel.handle(
            ClientConnected(client=client, addr="127.0.0.1:5000", laddr="127.0.0.1:26379"),
            world.now,
        )
    )
    world.run(
        world.sentinel.handle(
            ClientCommand(client=client, argv=(b"SENTINEL", b"FAILOVER", b"mymaster")), world.now
        )
    )
    assert "Executing user requested FAILOVER of 'mymaster'" in world.logs
    world.advance(Millis(world.now + 30_000))
    events = world.event_texts(since)
    assert events[:9] == [
        "+new-epoch 1",
        f"+try-failover {M}",
        f"+vote-for-leader {MYID} 1",
        f"+elected-leader {M}",
        f"+failover-state-select-slave {M}",
        f"+selected-slave {R1}",
        f"+failover-state-send-slaveof-noone {R1}",
        f"+failover-state-wait-promotion {R1}",
        f"-role-change {R1} new reported role is master",
    ]
    assert "+switch-master mymaster 127.0.0.1 16379 127.0.0.1 16380" in events


def test_second_failover_may_start_at_once_t21() -> None:
    world = World.build()
    _crash_master(world)
    world.advance(Millis(world.now + 20_000))
    assert world.sentinel.masters["mymaster"].addr == Addr(HOST, 16380)
    since = len(world.events)
    world.peers[26380].says_down[16380] = True
    world.crash(16380)
    world.advance(Millis(world.now + 20_000))
    events = world.event_texts(since)
    # No retry delay after a successful failover: a new epoch, 16381 promoted.
    assert "+new-epoch 2" in events
    assert f"+vote-for-leader {MYID} 2" in events
    assert "+switch-master mymaster 127.0.0.1 16380 127.0.0.1 16381" in events
    assert not [line for line in world.logs if line.startswith("Next failover delay")]
    master = world.sentinel.masters["mymaster"]
    assert (master.config_epoch, world.sentinel.current_epoch) == (2, 2)


def test_promotion_never_observed_aborts_then_retries_after_the_delay() -> None:
    world = World.build()
    world.servers[16380].refuse_slaveof = True
    since = _crash_master(world)
    world.advance(Millis(world.now + 70_000))
    events = world.event_texts(since)
    assert f"+failover-state-wait-promotion {R1}" in events
    aborted = events.index(f"-failover-abort-slave-timeout {M}")
    assert f"+promoted-slave {R1}" not in events
    # The replica was un-marked; the next attempt waits 2 x failover-timeout (T21).
    assert not world.sentinel.masters["mymaster"].replicas["127.0.0.1:16380"].promoted
    assert events.count(f"+try-failover {M}") == 1
    delay = [line for line in world.logs if line.startswith("Next failover delay")]
    assert len(delay) == 1
    prefix = "Next failover delay: I will not start a failover before "
    assert delay[0].startswith(prefix) and delay[0].endswith(" seconds from now")
    # Logged the tick after the abort, about 60 s (+ start jitter) before the retry.
    assert 58 <= int(delay[0][len(prefix) :].split()[0]) <= 62
    world.servers[16380].refuse_slaveof = False
    world.advance(Millis(world.now + 60_000))
    events = world.event_texts(since)
    assert events.count(f"+try-failover {M}") == 2
    assert "+new-epoch 2" in events[aborted:]
    assert "+switch-master mymaster 127.0.0.1 16379 127.0.0.1 16380" in events


def test_tilt_freezes_the_failover_until_it_ends() -> None:
    world = World.build()
    since = _crash_master(world)
    deadline = world.now + 20_000
    while not any("+failover-state-wait-promotion" in e for e in world.event_texts(since)):
        assert world.now < deadline
        world.advance(Millis(world.now + 10))
    # The clock jumps 3 s (a stopped process): TILT for 30 s.
    world.now = Millis(world.now + 3000)
    world.advance(Millis(world.now + 29_000))
    events = world.event_texts(since)
    tilt = events.index("+tilt #tilt mode entered")
    # The replica reports role master during TILT: seen, but not acted on (spec §9.1).
    assert events[tilt + 1] == f"-role-change {R1} new reported role is master"
    assert len(events) == tilt + 2
    world.advance(Millis(world.now + 10_000))
    events = world.event_texts(since)
    assert events[tilt + 2 : tilt + 5] == [
        "-tilt #tilt mode exited",
        f"+promoted-slave {R1}",
        f"+failover-state-reconf-slaves {M}",
    ]
    assert "+switch-master mymaster 127.0.0.1 16379 127.0.0.1 16380" in events


def test_client_reconfig_script_runs_once_as_leader() -> None:
    world = World.build(reconfig_script="/usr/local/bin/reconf.sh")
    _crash_master(world)
    world.advance(Millis(world.now + 20_000))
    assert world.scripts == [
        (
            "/usr/local/bin/reconf.sh",
            "mymaster",
            "leader",
            "start",
            "127.0.0.1",
            "16379",
            "127.0.0.1",
            "16380",
        )
    ]
