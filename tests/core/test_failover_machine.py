"""The failover state machine, replica selection and the address switch (spec §7.4-§8)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import pytest
from failover_fakes import MYID, PEER1, PEER2, T0, FakeSentinel, standard_setup
from hypothesis import given, settings
from hypothesis import strategies as st

from pysentinel.core import failover
from pysentinel.core.effects import Effect, Emit, Exit, Log, PersistConfig, Send
from pysentinel.core.events import EventType
from pysentinel.core.instance import (
    NEVER,
    FailoverState,
    MasterInstance,
    ReconfState,
    ReplicaInstance,
)
from pysentinel.core.types import Addr, Epoch, LogLevel, Millis, Role, RunId
from pysentinel.errors import UsageError

S = FailoverState
M = "master mymaster 127.0.0.1 16379"
R1 = "slave 127.0.0.1:16380 127.0.0.1 16380 @ mymaster 127.0.0.1 16379"
R2 = "slave 127.0.0.1:16381 127.0.0.1 16381 @ mymaster 127.0.0.1 16379"


def _state(m: MasterInstance) -> FailoverState:
    """Read the state through a call, so the type checker does not narrow it."""
    return m.failover_state


def _sends(effects: Sequence[Effect]) -> list[tuple[bytes, ...]]:
    return [e.argv for e in effects if isinstance(e, Send)]


def _emits(effects: Sequence[Effect]) -> list[tuple[str, str]]:
    return [(e.type, e.payload) for e in effects if isinstance(e, Emit)]


def _transaction(target: tuple[str, str]) -> list[tuple[bytes, ...]]:
    return [
        (b"MULTI",),
        (b"SLAVEOF", target[0].encode(), target[1].encode()),
        (b"CONFIG", b"REWRITE"),
        (b"CLIENT", b"KILL", b"TYPE", b"normal"),
        (b"CLIENT", b"KILL", b"TYPE", b"pubsub"),
        (b"EXEC",),
    ]


# --- select_replica (§8.2) -------------------------------------------------------------


def _selection_setup() -> tuple[FakeSentinel, MasterInstance, ReplicaInstance]:
    s = FakeSentinel()
    m = s.add_master(now=T0)
    r = s.add_replica(m, "127.0.0.1", 16380, T0, run_id="b" * 40)
    return s, m, r


def test_select_replica_picks_a_healthy_replica() -> None:
    s, m, r = _selection_setup()
    assert failover.select_replica(s, m, T0) is r


def test_select_replica_none_without_replicas() -> None:
    s = FakeSentinel()
    m = s.add_master(now=T0)
    assert failover.select_replica(s, m, T0) is None


def test_select_replica_excludes_sdown() -> None:
    s, m, r = _selection_setup()
    r.sdown_since = T0
    assert failover.select_replica(s, m, T0) is None


def test_select_replica_excludes_disconnected() -> None:
    s, m, r = _selection_setup()
    s.disconnect(r)
    assert failover.select_replica(s, m, T0) is None


def test_select_replica_excludes_old_ping_reply() -> None:
    s, m, r = _selection_setup()
    r.link.last_avail_time = Millis(T0 - 5000)
    r.info_refresh = T0
    assert failover.select_replica(s, m, T0) is r
    r.link.last_avail_time = Millis(T0 - 5001)
    assert failover.select_replica(s, m, T0) is None


def test_select_replica_excludes_priority_zero() -> None:
    s, m, r = _selection_setup()
    r.priority = 0
    assert failover.select_replica(s, m, T0) is None


def test_select_replica_info_age_depends_on_master_sdown() -> None:
    s, m, r = _selection_setup()
    r.info_refresh = Millis(T0 - 30_000)
    assert failover.select_replica(s, m, T0) is r
    r.info_refresh = Millis(T0 - 30_001)
    assert failover.select_replica(s, m, T0) is None
    m.sdown_since = Millis(T0 - 1)
    r.info_refresh = Millis(T0 - 5000)
    assert failover.select_replica(s, m, T0) is r
    r.info_refresh = Millis(T0 - 5001)
    assert failover.select_replica(s, m, T0) is None


def test_select_replica_excludes_never_refreshed_even_near_time_zero() -> None:
    s = FakeSentinel()
    m = s.add_master(now=Millis(10))
    r = s.add_replica(m, "127.0.0.1", 16380, Millis(10), info=False)
    assert r.info_refresh == NEVER
    assert failover.select_replica(s, m, Millis(20)) is None


def test_select_replica_master_link_down_limit() -> None:
    s, m, r = _selection_setup()
    # down-after 5000: 10 x = 50 s, plus the time the master is SDOWN.
    r.master_link_down_time = 50_000
    assert failover.select_replica(s, m, T0) is r
    r.master_link_down_time = 50_001
    assert failover.select_replica(s, m, T0) is None
    m.sdown_since = Millis(T0 - 1)
    assert failover.select_replica(s, m, T0) is r


def test_select_replica_ignores_replica_announced_t22() -> None:
    s, m, r = _selection_setup()
    r.replica_announced = False
    assert failover.select_replica(s, m, T0) is r


def test_select_replica_order_priority_offset_runid() -> None:
    s = FakeSentinel()
    m = s.add_master(now=T0)
    a = s.add_replica(m, "10.0.0.1", 1, T0, run_id="B" * 40, priority=10, offset=5)
    b = s.add_replica(m, "10.0.0.2", 2, T0, run_id="a" * 40, priority=10, offset=5)
    c = s.add_replica(m, "10.0.0.3", 3, T0, run_id=None, priority=10, offset=9)
    d = s.add_replica(m, "10.0.0.4", 4, T0, run_id="0" * 40, priority=20, offset=99)
    assert failover.select_replica(s, m, T0) is c  # same priority, bigger offset
    c.repl_offset = 5
    # Same priority and offset: "a..." < "B..." ignoring case; no run id sorts last.
    assert failover.select_replica(s, m, T0) is b
    b.priority = 11
    assert failover.select_replica(s, m, T0) is a
    a.priority = b.priority = c.priority = 30
    assert failover.select_replica(s, m, T0) is d


def test_select_replica_without_run_ids_keeps_table_order() -> None:
    s = FakeSentinel()
    m = s.add_master(now=T0)
    first = s.add_replica(m, "10.0.0.9", 1, T0)
    s.add_replica(m, "10.0.0.1", 1, T0)
    assert failover.select_replica(s, m, T0) is first


def test_start_failover_refused_while_in_progress() -> None:
    s, m, _, _ = standard_setup()
    failover.start_failover(s, m, T0)
    with pytest.raises(UsageError):
        failover.start_failover(s, m, T0)


def test_reconf_progress_without_promoted_replica_is_ignored() -> None:
    s, _, _, r2 = standard_setup()
    r2.reconf = ReconfState.SENT
    assert failover.on_replica_reconf_progress(s, r2, T0) == []
    assert r2.reconf is ReconfState.SENT


def test_select_replica_independent_of_table_order() -> None:
    """Every order of five distinct candidates picks the same replica."""
    specs = [
        ("10.0.0.1", 100, 5, "cc" * 20),
        ("10.0.0.2", 100, 9, None),
        ("10.0.0.3", 100, 9, "BB" * 20),
        ("10.0.0.4", 100, 9, "bA" * 20),
        ("10.0.0.5", 101, 99, "00" * 20),
    ]
    for order in itertools.permutations(specs):
        s = FakeSentinel()
        m = s.add_master(now=T0)
        for host, priority, offset, run_id in order:
            s.add_replica(m, host, 6379, T0, run_id=run_id, priority=priority, offset=offset)
        chosen = failover.select_replica(s, m, T0)
        assert chosen is not None and chosen.addr.host == "10.0.0.4"


def _reference_choice(replicas: list[ReplicaInstance]) -> ReplicaInstance | None:
    """An independent model of compareSlavesForPromotion (first minimal element)."""
    best: ReplicaInstance | None = None
    for r in replicas:
        if best is None:
            best = r
            continue
        key_r = (r.priority, -r.repl_offset, r.run_id is None, (r.run_id or "").lower())
        key_b = (best.priority, -best.repl_offset, best.run_id is None, (best.run_id or "").lower())
        if key_r < key_b:
            best = r
    return best


_replica_spec = st.fixed_dictionaries(
    {
        "priority": st.sampled_from([0, 1, 50, 100]),
        "offset": st.sampled_from([0, 10, 1000]),
        "run_id": st.sampled_from([None, "aa" * 20, "AB" * 20, "ab" * 20, "ff" * 20]),
        "sdown": st.booleans(),
        "connected": st.booleans(),
        "ping_age": st.sampled_from([0, 5000, 5001]),
        "info_age": st.sampled_from([None, 0, 5000, 5001, 30_000, 30_001]),
        "link_down": st.sampled_from([0, 50_000, 50_001, 60_000, 60_001]),
    }
)


@settings(max_examples=300, deadline=None)
@given(specs=st.lists(_replica_spec, max_size=5), master_sdown=st.booleans())
def test_select_replica_matches_reference_model(
    specs: list[dict[str, object]], master_sdown: bool
) -> None:
    s = FakeSentinel()
    m = s.add_master(now=T0)
    if master_sdown:
        m.sdown_since = Millis(T0 - 10_000)
    eligible: list[ReplicaInstance] = []
    for i, spec in enumerate(specs):
        run_id = spec["run_id"]
        assert run_id is None or isinstance(run_id, str)
        r = s.add_replica(
            m,
            f"10.0.0.{i}",
            6379,
            T0,
            run_id=run_id,
            priority=int(str(spec["priority"])),
            offset=int(str(spec["offset"])),
            connected=bool(spec["connected"]),
        )
        if spec["sdown"]:
            r.sdown_since = T0
        r.link.last_avail_time = Millis(T0 - int(str(spec["ping_age"])))
        info_age = spec["info_age"]
        r.info_refresh = NEVER if info_age is None else Millis(T0 - int(str(info_age)))
        r.master_link_down_time = int(str(spec["link_down"]))
        info_limit = 5000 if master_sdown else 30_000
        link_limit = 50_000 + (10_000 if master_sdown else 0)
        if (
            not spec["sdown"]
            and spec["connected"]
            and int(str(spec["ping_age"])) <= 5000
            and r.priority != 0
            and info_age is not None
            and int(str(info_age)) <= info_limit
            and r.master_link_down_time <= link_limit
        ):
            eligible.append(r)
    assert failover.select_replica(s, m, T0) is _reference_choice(eligible)


# --- the reconfiguration transaction (§8.4) -------------------------------------------


def test_send_slave_of_no_one_exact_pipeline() -> None:
    s, _, r1, _ = standard_setup()
    effects = failover.send_slave_of(s, r1, None)
    assert effects is not None
    assert _sends(effects) == _transaction(("NO", "ONE"))
    assert r1.link.pending_commands == 6
    assert all(p.kind.value == "discard" for p in r1.link.cmd_pending)


def test_send_slave_of_target_uses_rename_table_and_announce_form() -> None:
    s, m, r1, r2 = standard_setup()
    m.rename_commands.update({"SLAVEOF": "NEWSLAVEOF", "CONFIG": "NEWCONFIG"})
    effects = failover.send_slave_of(s, r2, r1)
    assert effects is not None
    assert _sends(effects)[1:3] == [
        (b"NEWSLAVEOF", b"127.0.0.1", b"16380"),
        (b"NEWCONFIG", b"REWRITE"),
    ]
    r1.hostname = "replica1.example"
    s.announce_hostnames = True
    effects = failover.send_slave_of(s, r2, r1)
    assert effects is not None
    assert _sends(effects)[1] == (b"NEWSLAVEOF", b"replica1.example", b"16380")


def test_send_slave_of_without_socket_sends_nothing() -> None:
    s, _, r1, _ = standard_setup()
    s.disconnect(r1)
    assert failover.send_slave_of(s, r1, None) is None
    assert r1.link.pending_commands == 0


# --- starting (§7.4, §8.6) -------------------------------------------------------------


def test_start_failover_if_needed_requires_odown() -> None:
    s, m, _, _ = standard_setup()
    m.sdown_since = T0
    assert failover.start_failover_if_needed(s, m, T0) == (False, [])


def test_start_failover_if_needed_starts() -> None:
    s, m, _, _ = standard_setup()
    s.current_epoch = Epoch(6)
    m.odown_since = m.sdown_since = T0
    started, effects = failover.start_failover_if_needed(s, m, T0)
    assert started
    assert _emits(effects) == [("+new-epoch", "7"), ("+try-failover", M)]
    assert [e.level for e in effects if isinstance(e, Emit)] == [LogLevel.WARNING] * 2
    assert not any(isinstance(e, PersistConfig) for e in effects)  # no flush of its own
    assert _state(m) is S.WAIT_START
    assert m.failover_epoch == s.current_epoch == 7
    assert m.failover_state_change_time == T0
    assert T0 <= m.failover_start_time < T0 + 1000
    # Already in progress: nothing.
    assert failover.start_failover_if_needed(s, m, T0) == (False, [])


def test_start_failover_if_needed_retry_delay_logged_once() -> None:
    s, m, _, _ = standard_setup()
    m.odown_since = m.sdown_since = T0
    m.failover_start_time = Millis(T0 - 1000)
    started, effects = failover.start_failover_if_needed(s, m, T0)
    assert not started
    assert effects == [
        Log(
            level=LogLevel.WARNING,
            text="Next failover delay: I will not start a failover before 359 seconds from now",
        )
    ]
    assert failover.start_failover_if_needed(s, m, Millis(T0 + 10)) == (False, [])
    # 2 x failover-timeout after the last start, we may try again.
    started, _ = failover.start_failover_if_needed(s, m, Millis(T0 - 1000 + 360_000))
    assert started


def test_start_failover_if_needed_start_time_zero_means_never() -> None:
    s = FakeSentinel()
    m = s.add_master(now=Millis(0))
    m.odown_since = m.sdown_since = Millis(0)
    started, _ = failover.start_failover_if_needed(s, m, Millis(100))
    assert started


def test_start_manual_failover_forces_and_logs() -> None:
    s, m, _, _ = standard_setup()
    effects = failover.start_manual_failover(s, m, T0)
    assert effects[0] == Log(
        level=LogLevel.WARNING, text="Executing user requested FAILOVER of 'mymaster'"
    )
    assert _emits(effects) == [("+new-epoch", "1"), ("+try-failover", M)]
    assert m.force_failover
    assert _state(m) is S.WAIT_START
    with pytest.raises(UsageError):
        failover.start_manual_failover(s, m, T0)


def test_manual_failover_skips_the_election_but_still_votes() -> None:
    s, m, _, _ = standard_setup()
    failover.start_manual_failover(s, m, T0)
    s.events.clear()
    effects = failover.failover_state_machine(s, m, T0)
    assert _emits(effects) == [
        ("+vote-for-leader", f"{MYID} 1"),
        ("+elected-leader", M),
        ("+failover-state-select-slave", M),
    ]
    assert _state(m) is S.SELECT_SLAVE


# --- wait_start (§7.5) -----------------------------------------------------------------


def _started(s: FakeSentinel, m: MasterInstance, now: Millis = T0) -> None:
    m.odown_since = m.sdown_since = Millis(now - 1)
    started, _ = failover.start_failover_if_needed(s, m, now)
    assert started
    s.events.clear()
    s.logs.clear()


def test_wait_start_waits_for_votes_then_times_out() -> None:
    s, m, _, _ = standard_setup()
    _started(s, m)
    effects = failover.failover_state_machine(s, m, T0)
    assert _emits(effects) == [("+vote-for-leader", f"{MYID} 1")]
    assert _state(m) is S.WAIT_START
    # Election timeout: min(10 s, failover-timeout) after the jittered start.
    at = Millis(m.failover_start_time + 10_000)
    assert _emits(failover.failover_state_machine(s, m, at)) == []
    effects = failover.failover_state_machine(s, m, Millis(at + 1))
    assert _emits(effects) == [("-failover-abort-not-elected", M)]
    assert _state(m) is S.NONE
    assert not m.force_failover
    assert m.failover_state_change_time == at + 1


def test_wait_start_election_timeout_capped_by_failover_timeout() -> None:
    s, m, _, _ = standard_setup()
    m.failover_timeout_ms = 3000
    _started(s, m)
    at = Millis(m.failover_start_time + 3001)
    effects = failover.failover_state_machine(s, m, at)
    assert ("-failover-abort-not-elected", M) in _emits(effects)
    assert _state(m) is S.NONE
    # The start time is kept: the next attempt waits 2 x failover-timeout (T21).
    assert failover.start_failover_if_needed(s, m, Millis(at + 1))[0] is False


def test_wait_start_elected_with_a_peer_vote() -> None:
    s, m, _, _ = standard_setup()
    _started(s, m)
    peer = m.sentinels[PEER1]
    peer.leader, peer.leader_epoch = MYID, Epoch(1)
    effects = failover.failover_state_machine(s, m, T0)
    assert _emits(effects) == [
        ("+vote-for-leader", f"{MYID} 1"),
        ("+elected-leader", M),
        ("+failover-state-select-slave", M),
    ]
    assert _state(m) is S.SELECT_SLAVE


def test_wait_start_someone_else_elected_we_wait() -> None:
    s, m, _, _ = standard_setup()
    _started(s, m)
    for runid in (PEER1, PEER2):
        m.sentinels[runid].leader, m.sentinels[runid].leader_epoch = PEER2, Epoch(1)
    effects = failover.failover_state_machine(s, m, T0)
    assert _emits(effects) == [("+vote-for-leader", f"{PEER2} 1")]
    assert _state(m) is S.WAIT_START


def test_wait_start_simulated_crash_after_election() -> None:
    s, m, _, _ = standard_setup()
    s.simfailure_crash_after_election = True
    _started(s, m)
    m.sentinels[PEER1].leader, m.sentinels[PEER1].leader_epoch = MYID, Epoch(1)
    effects = failover.failover_state_machine(s, m, T0)
    assert effects[-2:] == [
        Log(level=LogLevel.WARNING, text="Sentinel CRASH because of SENTINEL simulate-failure"),
        Exit(code=99),
    ]
    assert _emits(effects)[-1] == ("+elected-leader", M)
    assert _state(m) is S.WAIT_START


# --- select_slave, send_slaveof_noone, wait_promotion (§8.1, §8.3) --------------------


def _in_state(state: FailoverState) -> tuple[FakeSentinel, MasterInstance, ReplicaInstance]:
    """A standard setup with the failover moved to ``state`` the way it really gets there."""
    s, m, r1, _ = standard_setup()
    if state is S.NONE:
        return s, m, r1
    _started(s, m)
    m.sentinels[PEER1].leader, m.sentinels[PEER1].leader_epoch = MYID, Epoch(1)
    steps = [S.SELECT_SLAVE, S.SEND_SLAVEOF_NOONE, S.WAIT_PROMOTION]
    for step in steps:
        if m.failover_state is state:
            break
        failover.failover_state_machine(s, m, T0)
        assert _state(m) is step
    if state in (S.RECONF_SLAVES, S.UPDATE_CONFIG):
        r1.role_reported = Role.MASTER
        failover.on_promoted_replica_is_master(s, r1, T0)
        assert _state(m) is S.RECONF_SLAVES
    if state is S.UPDATE_CONFIG:
        for r in m.replicas.values():
            if not r.promoted:
                r.reconf = ReconfState.DONE
        failover.failover_state_machine(s, m, T0)
    assert _state(m) is state
    s.events.clear()
    s.logs.clear()
    s.sent.clear()
    s.flushes = 0
    return s, m, r1


def test_select_slave_selects_and_marks_promoted() -> None:
    s, m, r1 = _in_state(S.SELECT_SLAVE)
    effects = failover.failover_state_machine(s, m, T0)
    assert _emits(effects) == [
        ("+selected-slave", R1),
        ("+failover-state-send-slaveof-noone", R1),
    ]
    assert [e.level for e in effects if isinstance(e, Emit)] == [
        LogLevel.WARNING,
        LogLevel.NOTICE,
    ]
    assert r1.promoted and m.promoted_replica is r1
    assert _state(m) is S.SEND_SLAVEOF_NOONE


def test_select_slave_no_good_slave_aborts() -> None:
    s, m, _ = _in_state(S.SELECT_SLAVE)
    for r in m.replicas.values():
        r.priority = 0
    effects = failover.failover_state_machine(s, m, T0)
    assert _emits(effects) == [("-failover-abort-no-good-slave", M)]
    assert _state(m) is S.NONE


def test_send_slaveof_noone_sends_the_promotion() -> None:
    s, m, _r1 = _in_state(S.SEND_SLAVEOF_NOONE)
    effects = failover.failover_state_machine(s, m, Millis(T0 + 5))
    assert _sends(effects) == _transaction(("NO", "ONE"))
    assert _emits(effects) == [("+failover-state-wait-promotion", R1)]
    assert _state(m) is S.WAIT_PROMOTION
    assert m.failover_state_change_time == T0 + 5


def test_send_slaveof_noone_waits_for_link_then_times_out() -> None:
    s, m, r1 = _in_state(S.SEND_SLAVEOF_NOONE)
    s.disconnect(r1)
    assert failover.failover_state_machine(s, m, Millis(T0 + 180_000)) == []
    effects = failover.failover_state_machine(s, m, Millis(T0 + 180_001))
    assert _emits(effects) == [("-failover-abort-slave-timeout", M)]
    assert _state(m) is S.NONE
    assert not r1.promoted and m.promoted_replica is None


def test_send_slaveof_noone_flagged_connected_without_socket_retries() -> None:
    s, m, r1 = _in_state(S.SEND_SLAVEOF_NOONE)
    r1.link.cmd = None
    assert failover.failover_state_machine(s, m, T0) == []
    assert _state(m) is S.SEND_SLAVEOF_NOONE


def test_wait_promotion_times_out() -> None:
    s, m, r1 = _in_state(S.WAIT_PROMOTION)
    assert failover.failover_state_machine(s, m, Millis(T0 + 180_000)) == []
    effects = failover.failover_state_machine(s, m, Millis(T0 + 180_001))
    assert _emits(effects) == [("-failover-abort-slave-timeout", M)]
    assert _state(m) is S.NONE
    assert not r1.promoted


def test_promotion_observed() -> None:
    s, m, r1 = _in_state(S.WAIT_PROMOTION)
    m.client_reconfig_script = "/bin/reconf.sh"
    r1.role_reported = Role.MASTER
    assert failover.is_awaited_promotion(r1)
    effects = failover.on_promoted_replica_is_master(s, r1, Millis(T0 + 7))
    assert isinstance(effects[0], PersistConfig)
    assert _emits(effects) == [
        ("+promoted-slave", R1),
        ("+failover-state-reconf-slaves", M),
    ]
    assert m.config_epoch == m.failover_epoch == 1
    assert _state(m) is S.RECONF_SLAVES
    assert m.failover_state_change_time == T0 + 7
    assert s.forced_hellos == ["mymaster"]
    assert [j.argv for j in s.scripts.jobs] == [
        (
            "/bin/reconf.sh",
            "mymaster",
            "leader",
            "start",
            "127.0.0.1",
            "16379",
            "127.0.0.1",
            "16380",
        )
    ]


def test_promotion_simulated_crash_after_promotion() -> None:
    s, _m, r1 = _in_state(S.WAIT_PROMOTION)
    s.simfailure_crash_after_promotion = True
    effects = failover.on_promoted_replica_is_master(s, r1, T0)
    assert isinstance(effects[0], PersistConfig)
    assert _emits(effects) == [("+promoted-slave", R1)]
    assert effects[-1] == Exit(code=99)
    assert s.logs == ["Sentinel CRASH because of SENTINEL simulate-failure"]
    assert s.forced_hellos == []


def test_promotion_hook_ignores_other_replicas_and_states() -> None:
    s, m, r1 = _in_state(S.WAIT_PROMOTION)
    r2 = m.replicas["127.0.0.1:16381"]
    assert not failover.is_awaited_promotion(r2)
    assert failover.on_promoted_replica_is_master(s, r2, T0) == []
    s, m, r1 = _in_state(S.SEND_SLAVEOF_NOONE)
    assert not failover.is_awaited_promotion(r1)
    assert failover.on_promoted_replica_is_master(s, r1, T0) == []
    assert _state(m) is S.SEND_SLAVEOF_NOONE


# --- reconf_slaves (§8.5) ----------------------------------------------------------------


def test_reconf_slaves_sends_then_follows_progress() -> None:
    s, m, _r1 = _in_state(S.RECONF_SLAVES)
    r2 = m.replicas["127.0.0.1:16381"]
    effects = failover.failover_state_machine(s, m, T0)
    assert _sends(effects) == _transaction(("127.0.0.1", "16380"))
    assert _emits(effects) == [("+slave-reconf-sent", R2)]
    assert r2.reconf is ReconfState.SENT and r2.reconf_sent_time == T0
    # Nothing more to send while in progress.
    assert failover.failover_state_machine(s, m, T0) == []
    # INFO: now replicating from the promoted replica, link still down.
    r2.master_host, r2.master_port, r2.master_link_up = "127.0.0.1", 16380, False
    effects = failover.on_replica_reconf_progress(s, r2, T0)
    assert _emits(effects) == [("+slave-reconf-inprog", R2)]
    r2.master_link_up = True
    effects = failover.on_replica_reconf_progress(s, r2, T0)
    assert _emits(effects) == [("+slave-reconf-done", R2)]
    effects = failover.failover_state_machine(s, m, T0)
    assert _emits(effects) == [("+failover-end", M)]
    assert _state(m) is S.UPDATE_CONFIG


def test_reconf_progress_both_steps_on_one_info_and_exact_host_compare() -> None:
    s, m, _ = _in_state(S.RECONF_SLAVES)
    r2 = m.replicas["127.0.0.1:16381"]
    failover.failover_state_machine(s, m, T0)
    r2.master_host, r2.master_port, r2.master_link_up = "127.0.0.1", 16379, True
    assert failover.on_replica_reconf_progress(s, r2, T0) == []  # old master still
    r2.master_host, r2.master_port = "127.0.0.1", 16380
    effects = failover.on_replica_reconf_progress(s, r2, T0)
    assert _emits(effects) == [("+slave-reconf-inprog", R2), ("+slave-reconf-done", R2)]
    r2.role_reported = Role.MASTER
    assert failover.on_replica_reconf_progress(s, r2, T0) == []


@pytest.mark.parametrize(
    ("promoted_host", "hostname", "reported", "matches"),
    [
        ("127.0.0.1", None, "127.0.0.1", True),
        ("127.0.0.1", None, "127.0.0.2", False),
        ("::1", None, "0:0::1", True),
        ("127.0.0.1", "Replica.Example", "replica.example", True),
        ("db.example", None, "DB.example", True),
        ("db.example", None, "127.0.0.1", False),
    ],
)
def test_reconf_progress_host_comparison(
    promoted_host: str, hostname: str | None, reported: str, matches: bool
) -> None:
    s, m, r1 = _in_state(S.RECONF_SLAVES)
    r1.addr = Addr(promoted_host, 16380)
    r1.hostname = hostname
    r2 = m.replicas["127.0.0.1:16381"]
    r2.reconf = ReconfState.SENT
    r2.master_host, r2.master_port, r2.master_link_up = reported, 16380, False
    failover.on_replica_reconf_progress(s, r2, T0)
    assert (r2.reconf is ReconfState.INPROG) is matches


def test_reconf_progress_needs_role_slave() -> None:
    s, m, _ = _in_state(S.RECONF_SLAVES)
    r2 = m.replicas["127.0.0.1:16381"]
    failover.failover_state_machine(s, m, T0)
    r2.role_reported = Role.MASTER
    r2.master_host, r2.master_port, r2.master_link_up = "127.0.0.1", 16380, True
    assert failover.on_replica_reconf_progress(s, r2, T0) == []
    assert r2.reconf is ReconfState.SENT


def _reconf_setup(parallel_syncs: int, n: int = 4) -> tuple[FakeSentinel, MasterInstance]:
    """A forced failover of a master with ``n`` replicas, now in RECONF_SLAVES."""
    s = FakeSentinel()
    m = s.add_master(now=T0, parallel_syncs=parallel_syncs)
    for i in range(n):
        s.add_replica(m, "127.0.0.1", 16380 + i, T0, run_id=str(i) * 40, offset=100 - i)
    failover.start_manual_failover(s, m, T0)
    for _ in range(3):
        failover.failover_state_machine(s, m, T0)
    assert m.promoted_replica is m.replicas["127.0.0.1:16380"]
    failover.on_promoted_replica_is_master(s, m.promoted_replica, T0)
    assert _state(m) is S.RECONF_SLAVES
    s.events.clear()
    return s, m


_RS = "slave 127.0.0.1:{p} 127.0.0.1 {p} @ mymaster 127.0.0.1 16379"


def test_reconf_slaves_parallel_syncs_one_stuck_replica_holds_the_slot() -> None:
    s, m = _reconf_setup(1)
    reps = list(m.replicas.values())
    failover.failover_state_machine(s, m, T0)
    assert [r.reconf for r in reps[1:]] == [ReconfState.SENT, ReconfState.NONE, ReconfState.NONE]
    # The loop never runs while the slot is taken, so no sent-timeout either (as 7.0.15).
    assert failover.failover_state_machine(s, m, Millis(T0 + 60_000)) == []
    # Until the failover times out.
    effects = failover.failover_state_machine(s, m, Millis(T0 + 180_001))
    assert _emits(effects) == [
        ("+failover-end-for-timeout", M),
        ("+failover-end", M),
        ("+slave-reconf-sent-be", _RS.format(p=16382)),
        ("+slave-reconf-sent-be", _RS.format(p=16383)),
    ]


def test_reconf_slaves_sent_timeout_with_a_free_slot() -> None:
    s, m = _reconf_setup(2)
    reps = list(m.replicas.values())
    s.disconnect(reps[2])
    s.disconnect(reps[3])
    failover.failover_state_machine(s, m, T0)
    assert [r.reconf for r in reps[1:]] == [ReconfState.SENT, ReconfState.NONE, ReconfState.NONE]
    t = Millis(T0 + 10_001)
    s.connect(reps[2])
    effects = failover.failover_state_machine(s, m, t)
    assert _emits(effects) == [
        ("-slave-reconf-sent-timeout", _RS.format(p=16381)),
        ("+slave-reconf-sent", _RS.format(p=16382)),
    ]
    assert [e.level for e in effects if isinstance(e, Emit)] == [LogLevel.NOTICE] * 2
    assert reps[1].reconf is ReconfState.DONE
    # Disconnected replicas are skipped, and still block the end.
    reps[2].reconf = ReconfState.DONE
    assert _emits(failover.failover_state_machine(s, m, t)) == []
    # SDOWN replicas do not block the end.
    reps[3].sdown_since = t
    assert _emits(failover.failover_state_machine(s, m, t)) == [("+failover-end", M)]


def test_reconf_slaves_parallel_syncs_two() -> None:
    s, m = _reconf_setup(2)
    reps = list(m.replicas.values())
    effects = failover.failover_state_machine(s, m, T0)
    assert _emits(effects) == [
        ("+slave-reconf-sent", _RS.format(p=16381)),
        ("+slave-reconf-sent", _RS.format(p=16382)),
    ]
    # One finishes: its slot goes to the next replica; the other is still in progress.
    reps[1].reconf = ReconfState.DONE
    effects = failover.failover_state_machine(s, m, Millis(T0 + 100))
    assert _emits(effects) == [("+slave-reconf-sent", _RS.format(p=16383))]
    assert [r.reconf for r in reps[1:]] == [ReconfState.DONE, ReconfState.SENT, ReconfState.SENT]


def test_reconf_slaves_end_waits_while_promoted_is_sdown() -> None:
    s, m, r1 = _in_state(S.RECONF_SLAVES)
    r2 = m.replicas["127.0.0.1:16381"]
    r2.reconf = ReconfState.DONE
    r1.sdown_since = T0
    assert failover.failover_state_machine(s, m, Millis(T0 + 999_999)) == []
    assert _state(m) is S.RECONF_SLAVES


def test_reconf_slaves_failover_end_for_timeout_best_effort() -> None:
    s = FakeSentinel()
    m = s.add_master(now=T0, parallel_syncs=0)  # T14: nobody is ever reconfigured
    for i in range(3):
        s.add_replica(m, "127.0.0.1", 16380 + i, T0, run_id=str(i) * 40, offset=100 - i)
    failover.start_manual_failover(s, m, T0)
    for _ in range(3):
        failover.failover_state_machine(s, m, T0)
    promoted = m.promoted_replica
    assert promoted is not None
    failover.on_promoted_replica_is_master(s, promoted, T0)
    assert _emits(failover.failover_state_machine(s, m, Millis(T0 + 180_000))) == []
    s.disconnect(m.replicas["127.0.0.1:16382"])
    effects = failover.failover_state_machine(s, m, Millis(T0 + 180_001))
    assert _emits(effects) == [
        ("+failover-end-for-timeout", M),
        ("+failover-end", M),
        ("+slave-reconf-sent-be", R2),
    ]
    assert _sends(effects) == _transaction(("127.0.0.1", "16380"))
    assert m.replicas["127.0.0.1:16381"].reconf is ReconfState.SENT
    assert _state(m) is S.UPDATE_CONFIG


# --- the address switch (§8.5) -----------------------------------------------------------


def test_switch_to_promoted_replica() -> None:
    s, m, _ = _in_state(S.UPDATE_CONFIG)
    effects = failover.switch_to_promoted_replica(s, m, T0)
    assert _emits(effects) == [
        ("+switch-master", "mymaster 127.0.0.1 16379 127.0.0.1 16380"),
        ("+slave", "slave 127.0.0.1:16381 127.0.0.1 16381 @ mymaster 127.0.0.1 16380"),
        ("+slave", "slave 127.0.0.1:16379 127.0.0.1 16379 @ mymaster 127.0.0.1 16380"),
    ]
    assert isinstance(effects[-1], PersistConfig)
    assert m.addr == Addr("127.0.0.1", 16380)
    assert _state(m) is S.NONE
    assert m.config_epoch == 1


def test_switch_refused_outside_update_config() -> None:
    s, m, _, _ = standard_setup()
    with pytest.raises(UsageError):
        failover.switch_to_promoted_replica(s, m, T0)


# --- abort (§8.7) ---------------------------------------------------------------------


@pytest.mark.parametrize("state", [S.NONE, S.RECONF_SLAVES, S.UPDATE_CONFIG])
def test_abort_refused_outside_abortable_states(state: FailoverState) -> None:
    s, m, _ = _in_state(state)
    with pytest.raises(UsageError):
        failover.abort_failover(s, m, T0)
    assert _state(m) is state


def test_transition_table_shape() -> None:
    assert failover.TRANSITIONS is failover._TRANSITIONS
    # Every state is reachable from NONE and leads back to NONE.
    targets = {b for _, b in failover.TRANSITIONS}
    sources = {a for a, _ in failover.TRANSITIONS}
    assert targets == sources == set(FailoverState)
    assert {a for a, b in failover.TRANSITIONS if b is S.NONE} == set(failover.ABORTABLE_STATES) | {
        S.UPDATE_CONFIG
    }


def test_state_diagram_is_generated_from_the_table() -> None:
    diagram = failover.state_diagram()
    assert diagram.startswith("stateDiagram-v2\n    [*] --> none\n")
    edges = diagram.splitlines()[2:]
    assert len(edges) == len(failover.TRANSITIONS)
    assert "    wait_promotion --> none : abort" in edges
    assert "    update_config --> none : address switch" in edges
    assert "    reconf_slaves --> none : abort" not in edges


# --- every (state, input) pair (STYLE §14) ------------------------------------------------

INPUTS = [
    "tick",
    "tick_after_timeouts",
    "tick_with_peer_votes",
    "tick_no_replicas",
    "tick_disconnected",
    "promoted_reports_master",
    "replica_reports_progress",
    "abort",
    "manual_start",
    "start_if_needed",
    "switch",
]


def _apply(s: FakeSentinel, m: MasterInstance, r1: ReplicaInstance, what: str) -> list[Effect]:
    later = Millis(T0 + 1_000_000)
    match what:
        case "tick":
            return failover.failover_state_machine(s, m, T0)
        case "tick_after_timeouts":
            return failover.failover_state_machine(s, m, later)
        case "tick_with_peer_votes":
            for p in m.sentinels.values():
                p.leader, p.leader_epoch = MYID, s.current_epoch
            return failover.failover_state_machine(s, m, T0)
        case "tick_no_replicas":
            for r in m.replicas.values():
                r.priority = 0
            return failover.failover_state_machine(s, m, T0)
        case "tick_disconnected":
            for r in m.replicas.values():
                s.disconnect(r)
            return failover.failover_state_machine(s, m, T0)
        case "promoted_reports_master":
            r1.role_reported = Role.MASTER
            return failover.on_promoted_replica_is_master(s, r1, T0)
        case "replica_reports_progress":
            r2 = m.replicas["127.0.0.1:16381"]
            r2.master_host, r2.master_port, r2.master_link_up = "127.0.0.1", 16380, True
            return failover.on_replica_reconf_progress(s, r2, T0)
        case "abort":
            return failover.abort_failover(s, m, T0)
        case "manual_start":
            return failover.start_manual_failover(s, m, T0)
        case "start_if_needed":
            m.odown_since = m.sdown_since = T0
            return failover.start_failover_if_needed(s, m, later)[1]
        case "switch":
            return failover.switch_to_promoted_replica(s, m, T0)
    raise AssertionError(what)


#: (state, input) pairs that are refused with UsageError: misuse by the rest of the core.
_REFUSED = {
    (state, "abort") for state in FailoverState if state not in failover.ABORTABLE_STATES
} | {(state, "manual_start") for state in FailoverState if state is not S.NONE}
_REFUSED |= {(state, "switch") for state in FailoverState if state is not S.UPDATE_CONFIG}


@settings(max_examples=200, deadline=None)
@given(state=st.sampled_from(list(FailoverState)), what=st.sampled_from(INPUTS))
def test_every_state_input_pair(state: FailoverState, what: str) -> None:
    s, m, r1 = _in_state(state)
    epoch_before = s.current_epoch
    if (state, what) in _REFUSED:
        with pytest.raises(UsageError):
            _apply(s, m, r1, what)
        assert _state(m) is state
        return
    effects = _apply(s, m, r1, what)
    after = m.failover_state
    # Either nothing moved, or the move is in the table.
    assert after is state or (state, after) in failover.TRANSITIONS, (state, what, after)
    # Epochs never go back; the promoted replica exists exactly from selection on.
    assert s.current_epoch >= epoch_before
    if after in (S.SEND_SLAVEOF_NOONE, S.WAIT_PROMOTION, S.RECONF_SLAVES, S.UPDATE_CONFIG):
        assert m.promoted_replica is not None and m.promoted_replica.promoted
    if after in (S.NONE, S.WAIT_START, S.SELECT_SLAVE):
        assert m.promoted_replica is None
        assert not any(r.promoted for r in m.replicas.values())
    assert m.failover_in_progress is (after is not S.NONE)
    # After promotion was observed a failover never goes back to NONE except by switching.
    if state in (S.RECONF_SLAVES, S.UPDATE_CONFIG) and after is S.NONE:
        assert what == "switch"
    # Every event is a known one with its catalogue level.
    for e in effects:
        if isinstance(e, Emit):
            assert e.level is next(t for t in EventType if t.value == e.type).level


# --- a whole failover with the fake (spec §4.2 leader sequence, our part) ---------------


def test_full_failover_event_sequence() -> None:
    s, m, r1, r2 = standard_setup()
    now = T0
    m.sdown_since = now
    m.odown_since = now
    started, effects = failover.start_failover_if_needed(s, m, now)
    assert started
    for p in m.sentinels.values():
        p.leader, p.leader_epoch = MYID, Epoch(1)
    now = Millis(now + 100)
    for _ in range(4):
        effects += failover.failover_state_machine(s, m, now)
    assert _state(m) is S.WAIT_PROMOTION
    r1.role_reported = Role.MASTER
    effects += failover.on_promoted_replica_is_master(s, r1, now)
    effects += failover.failover_state_machine(s, m, now)
    r2.master_host, r2.master_port, r2.master_link_up = "127.0.0.1", 16380, True
    effects += failover.on_replica_reconf_progress(s, r2, now)
    effects += failover.failover_state_machine(s, m, now)
    assert _state(m) is S.UPDATE_CONFIG
    effects += failover.switch_to_promoted_replica(s, m, now)
    assert [f"{t} {p}" for t, p in _emits(effects)] == [
        "+new-epoch 1",
        f"+try-failover {M}",
        f"+vote-for-leader {MYID} 1",
        f"+elected-leader {M}",
        f"+failover-state-select-slave {M}",
        f"+selected-slave {R1}",
        f"+failover-state-send-slaveof-noone {R1}",
        f"+failover-state-wait-promotion {R1}",
        f"+promoted-slave {R1}",
        f"+failover-state-reconf-slaves {M}",
        f"+slave-reconf-sent {R2}",
        f"+slave-reconf-inprog {R2}",
        f"+slave-reconf-done {R2}",
        f"+failover-end {M}",
        "+switch-master mymaster 127.0.0.1 16379 127.0.0.1 16380",
        "+slave slave 127.0.0.1:16381 127.0.0.1 16381 @ mymaster 127.0.0.1 16380",
        "+slave slave 127.0.0.1:16379 127.0.0.1 16379 @ mymaster 127.0.0.1 16380",
    ]
    # The address switch forgets whom we voted for, not the epoch (§8.5).
    assert (m.leader, m.leader_epoch, m.config_epoch) == (None, 1, 1)
    assert RunId(PEER1) in m.sentinels
