"""The failover state machine, replica selection and the address switch (spec §7.4, §8).

Rules of this module:

* A master's failover is in exactly one :class:`FailoverState` (``master.failover_state``;
  ``NONE`` means no failover, i.e. no ``failover_in_progress`` flag). The legal moves are
  the pairs in :data:`_TRANSITIONS` and nothing else: every change of state goes through
  :func:`_enter`, which checks the table, stamps ``failover_state_change_time`` and
  emits the state's ``+failover-state-*`` event where sentinel.c has one (STYLE §5).
  The exception is a reset of the master (sentinelResetMaster clears the failover
  state): ``Sentinel.reset_master_and_change_address`` at the end of our failover
  (``UPDATE_CONFIG -> NONE``, which the table lists), and outside this module
  ``SENTINEL RESET`` and a newer config learnt from a hello, which return any state to
  ``NONE`` at once, as in sentinel.c.
* The machine advances one state per tick (:func:`failover_state_machine`), except
  where INFO processing drives it: the promoted replica reporting ``role:master``
  (:func:`on_promoted_replica_is_master`) and replicas reporting progress of their
  reconfiguration (:func:`on_replica_reconf_progress`). ``UPDATE_CONFIG`` is acted on
  after the tick's walk over all instances (:func:`switch_to_promoted_replica`).
* The caller keeps TILT out: the tick runs none of this while in TILT, and INFO
  processing does not call the hooks then (spec §9.1).
* Effects are returned in sentinel.c's order: the text of every event, when it
  happens relative to flushes, sends and the simulated crash, is part of the contract.
* A failover can be aborted (:func:`abort_failover`) only up to ``WAIT_PROMOTION``.
  Once the promoted replica has been seen as a master, the failover can only end,
  possibly by timeout.
* Misuse of this module's public functions by the rest of the core (aborting after
  promotion, starting a failover while one is in progress) raises :class:`UsageError`;
  data from instances and peers never raises.

Mirrors the "SENTINEL failover" section of sentinel.c (sentinelStartFailover() to
sentinelFailoverSwitchToPromotedSlave()).
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Final, assert_never

from pysentinel.core import election
from pysentinel.core.effects import Effect, Exit
from pysentinel.core.election import SentinelLike
from pysentinel.core.events import EventType, announce_host
from pysentinel.core.instance import (
    NEVER,
    FailoverState,
    Instance,
    MasterInstance,
    ReconfState,
    ReplicaInstance,
    ReplyKind,
)
from pysentinel.core.types import Epoch, LogLevel, Millis, Role
from pysentinel.errors import UsageError

__all__ = [
    "ABORTABLE_STATES",
    "SIMULATED_CRASH_EXIT_CODE",
    "TRANSITIONS",
    "abort_failover",
    "failover_state_machine",
    "is_awaited_promotion",
    "on_promoted_replica_is_master",
    "on_replica_reconf_progress",
    "select_replica",
    "send_slave_of",
    "start_failover",
    "start_failover_if_needed",
    "start_manual_failover",
    "state_diagram",
    "switch_to_promoted_replica",
]

_S = FailoverState

#: Every legal ``(from, to)`` move of a master's failover state (spec §8).
_TRANSITIONS: Final[frozenset[tuple[FailoverState, FailoverState]]] = frozenset(
    {
        # The happy path, one step at a time.
        (_S.NONE, _S.WAIT_START),
        (_S.WAIT_START, _S.SELECT_SLAVE),
        (_S.SELECT_SLAVE, _S.SEND_SLAVEOF_NOONE),
        (_S.SEND_SLAVEOF_NOONE, _S.WAIT_PROMOTION),
        (_S.WAIT_PROMOTION, _S.RECONF_SLAVES),
        (_S.RECONF_SLAVES, _S.UPDATE_CONFIG),
        # The address switch resets the master (sentinelResetMasterAndChangeAddress).
        (_S.UPDATE_CONFIG, _S.NONE),
        # Aborts (§8.7): not elected, no good replica, promotion timed out.
        (_S.WAIT_START, _S.NONE),
        (_S.SELECT_SLAVE, _S.NONE),
        (_S.SEND_SLAVEOF_NOONE, _S.NONE),
        (_S.WAIT_PROMOTION, _S.NONE),
    }
)
#: The same table, public, for the generated state diagram in the docs.
TRANSITIONS: Final = _TRANSITIONS


def state_diagram() -> str:
    """The transition table as a Mermaid ``stateDiagram-v2``, for the docs.

    Generated from :data:`TRANSITIONS` (in enum order, so the text is stable), the way
    h11's ``make-state-diagrams.py`` draws its tables.
    """
    order = list(FailoverState)
    lines = ["stateDiagram-v2", f"    [*] --> {_S.NONE.value}"]
    for a, b in sorted(TRANSITIONS, key=lambda t: (order.index(t[0]), order.index(t[1]))):
        label = ""
        if b is _S.NONE:
            label = " : abort" if a in ABORTABLE_STATES else " : address switch"
        lines.append(f"    {a.value} --> {b.value}{label}")
    return "\n".join(lines) + "\n"


#: States a failover may be aborted in (sentinelAbortFailover asserts ``<= WAIT_PROMOTION``).
ABORTABLE_STATES: Final = frozenset(
    {_S.WAIT_START, _S.SELECT_SLAVE, _S.SEND_SLAVEOF_NOONE, _S.WAIT_PROMOTION}
)

#: ``SENTINEL SIMULATE-FAILURE`` crashes exit with this status (spec T31).
SIMULATED_CRASH_EXIT_CODE: Final = 99

#: The log line written just before a simulated crash.
_CRASH_LOG: Final = "Sentinel CRASH because of SENTINEL simulate-failure"

#: The event announcing each state, when sentinel.c has one, and whether it is about the
#: master (``False``) or the promoted replica (``True``). ``WAIT_START`` is announced by
#: ``+try-failover``; ``UPDATE_CONFIG`` by ``+failover-end``; ``NONE`` by the abort event.
_STATE_EVENTS: Final[dict[FailoverState, tuple[EventType, bool]]] = {
    _S.SELECT_SLAVE: (EventType.FAILOVER_STATE_SELECT_SLAVE, False),
    _S.SEND_SLAVEOF_NOONE: (EventType.FAILOVER_STATE_SEND_SLAVEOF_NOONE, True),
    _S.WAIT_PROMOTION: (EventType.FAILOVER_STATE_WAIT_PROMOTION, True),
    _S.RECONF_SLAVES: (EventType.FAILOVER_STATE_RECONF_SLAVES, False),
}


#: sentinel.c's epochs are ``uint64_t``.
EPOCH_MODULUS: Final = 2**64


# --- state changes ------------------------------------------------------------------


def _state_event(sentinel: SentinelLike, master: MasterInstance, now: Millis) -> list[Effect]:
    """The ``+failover-state-*`` event of the state ``master`` is in, if it has one."""
    entry = _STATE_EVENTS.get(master.failover_state)
    if entry is None:
        return []
    event_type, about_replica = entry
    instance: Instance = master
    if about_replica:
        assert master.promoted_replica is not None
        instance = master.promoted_replica
    return sentinel.event(event_type, instance, now=now)


def _enter(
    sentinel: SentinelLike,
    master: MasterInstance,
    new: FailoverState,
    now: Millis,
    *,
    announce: bool = True,
) -> list[Effect]:
    """Move ``master``'s failover to ``new``: check the table, stamp the time, announce.

    ``announce=False`` leaves the ``+failover-state-*`` event to the caller: entering
    ``RECONF_SLAVES`` happens before the flush and ``+promoted-slave`` (the flushed
    config must already show the promoted address, trap T30), but sentinel.c emits
    ``+failover-state-reconf-slaves`` only after those and after the simulated crash.
    """
    old = master.failover_state
    assert (old, new) in _TRANSITIONS, f"illegal failover transition {old} -> {new}"
    master.failover_state = new
    master.failover_state_change_time = now
    if not announce:
        return []
    return _state_event(sentinel, master, now)


def _crash(sentinel: SentinelLike) -> list[Effect]:
    """``SENTINEL SIMULATE-FAILURE``: log and exit 99 (sentinelSimFailureCrash()).

    The driver stops after the ``Exit`` effect; the caller returns right away so that
    nothing after the crash point happens.
    """
    return [sentinel.log(LogLevel.WARNING, _CRASH_LOG), Exit(code=SIMULATED_CRASH_EXIT_CODE)]


# --- starting -------------------------------------------------------------------------


def start_failover(sentinel: SentinelLike, master: MasterInstance, now: Millis) -> list[Effect]:
    """Start a failover attempt of ``master`` (spec §7.4, "Start").

    State ``WAIT_START``; ``failover_epoch = ++current_epoch`` with ``+new-epoch``
    (no flush of its own: the vote that follows flushes); ``+try-failover``; the start
    time gets the 0..999 ms jitter. The caller then asks the peers, forced.

    Raises:
        UsageError: a failover of ``master`` is already in progress.

    Mirrors sentinelStartFailover().
    """
    if master.failover_in_progress:
        raise UsageError(f"failover of {master.name!r} already in progress")
    effects = _enter(sentinel, master, _S.WAIT_START, now)
    # current_epoch is a uint64_t in sentinel.c: it wraps to 0 after 2**64 - 1 (a peer
    # can push us there with a hello). A value of 2**64 would reload as 2**64 - 1 and
    # so go backwards across a restart.
    sentinel.current_epoch = Epoch((sentinel.current_epoch + 1) % EPOCH_MODULUS)
    master.failover_epoch = sentinel.current_epoch
    effects += sentinel.event(
        EventType.NEW_EPOCH, master, str(sentinel.current_epoch), details=False, now=now
    )
    effects += sentinel.event(EventType.TRY_FAILOVER, master, now=now)
    master.failover_start_time = Millis(now + sentinel.rng.randrange(election.MAX_DESYNC_MS))
    master.failover_delay_logged = False
    return effects


def start_failover_if_needed(
    sentinel: SentinelLike, master: MasterInstance, now: Millis
) -> tuple[bool, list[Effect]]:
    """Start a failover if ``master`` is ODOWN, none is in progress and we may retry.

    We may retry once 2 x failover-timeout have passed since the last attempt's start
    (or since we voted for somebody else). While that is what stops us, log once per
    attempt window ``Next failover delay: ...``.

    sentinel.c keeps ``failover_start_time = 0`` for "never" and compares against the
    wall clock, where 0 is 1970; our clock is the driver's monotonic one and may start
    near 0 (the simulator starts at 0), so 0 is treated as "never" explicitly.

    Returns:
        ``(started, effects)``; when started, the caller asks the peers (forced).

    Mirrors sentinelStartFailoverIfNeeded().
    """
    if master.odown_since is None:
        return False, []
    if master.failover_in_progress:
        return False, []
    retry_after = 2 * master.failover_timeout_ms
    if master.failover_start_time != NEVER and now - master.failover_start_time < retry_after:
        if master.failover_delay_logged:
            return False, []
        master.failover_delay_logged = True
        not_before = master.failover_start_time + retry_after
        return False, [sentinel.log(LogLevel.WARNING, _failover_delay_text(now, not_before))]
    return True, start_failover(sentinel, master, now)


def _failover_delay_text(now: Millis, not_before: int) -> str:
    """The "Next failover delay" log line.

    sentinel.c prints the ``ctime`` of the moment the delay ends. The core never sees
    the wall clock (DESIGN §2), so we print how long from now instead, rounded up to
    whole seconds (docs/deviations.md).
    """
    seconds = -(-(not_before - now) // 1000)
    return f"Next failover delay: I will not start a failover before {seconds} seconds from now"


def start_manual_failover(
    sentinel: SentinelLike, master: MasterInstance, now: Millis
) -> list[Effect]:
    """``SENTINEL FAILOVER <name>`` after its checks passed (spec §8.6).

    Logs ``Executing user requested FAILOVER of '<name>'``, starts a failover exactly as
    :func:`start_failover` does (without requiring ODOWN or the retry delay) and sets
    ``force_failover``, which makes ``WAIT_START`` go on whatever the vote count says
    (we still cast and record our vote). ``commands.py`` answers ``-INPROG`` and
    ``-NOGOODSLAVE`` before calling this, and ``+OK`` after.

    Raises:
        UsageError: a failover of ``master`` is already in progress (the ``-INPROG``
            check was skipped).
    """
    if master.failover_in_progress:
        raise UsageError(f"failover of {master.name!r} already in progress")
    effects: list[Effect] = [
        sentinel.log(LogLevel.WARNING, f"Executing user requested FAILOVER of '{master.name}'")
    ]
    effects += start_failover(sentinel, master, now)
    master.force_failover = True
    return effects


# --- aborting -------------------------------------------------------------------------


def abort_failover(sentinel: SentinelLike, master: MasterInstance, now: Millis) -> list[Effect]:
    """Give up the failover of ``master`` (spec §8.7).

    State ``NONE``, clears ``force_failover``, un-marks the promoted replica. The start
    time is kept, so the next attempt waits 2 x failover-timeout from this one's start
    (trap T21). The abort event (``-failover-abort-*``) is the caller's: it says why.

    Returns:
        No effects today (the list keeps the signature uniform).

    Raises:
        UsageError: no failover in progress, or it is past ``WAIT_PROMOTION``.

    Mirrors sentinelAbortFailover().
    """
    if master.failover_state not in ABORTABLE_STATES:
        raise UsageError(
            f"cannot abort the failover of {master.name!r} in state {master.failover_state.value}"
        )
    effects = _enter(sentinel, master, _S.NONE, now)
    master.force_failover = False
    if master.promoted_replica is not None:
        master.promoted_replica.promoted = False
        master.promoted_replica = None
    return effects


# --- replica selection ------------------------------------------------------------


def _strcasecmp_key(run_id: str) -> bytes:
    """Sort key equal to ``strcasecmp`` order: ASCII-lower-cased bytes, unsigned."""
    return run_id.encode("utf-8", "surrogateescape").lower()


def _compare_for_promotion(a: ReplicaInstance, b: ReplicaInstance) -> int:
    """Lower priority, then larger offset, then smaller run id (none sorts last).

    Mirrors compareSlavesForPromotion().
    """
    if a.priority != b.priority:
        return -1 if a.priority < b.priority else 1
    if a.repl_offset != b.repl_offset:
        return -1 if a.repl_offset > b.repl_offset else 1
    if a.run_id is None or b.run_id is None:
        if a.run_id is None and b.run_id is None:
            return 0
        return 1 if a.run_id is None else -1
    ka, kb = _strcasecmp_key(a.run_id), _strcasecmp_key(b.run_id)
    return (ka > kb) - (ka < kb)


def _eligible(
    sentinel: SentinelLike, master: MasterInstance, replica: ReplicaInstance, now: Millis
) -> bool:
    """Whether ``replica`` may be promoted at all (the exclusions of spec §8.2)."""
    tunables = sentinel.tunables
    max_master_down = 10 * master.down_after_ms
    if master.sdown_since is not None:
        max_master_down += now - master.sdown_since
    if master.sdown_since is not None:
        # With the master SDOWN, replicas get INFO every second.
        info_validity = 5 * tunables.ping_period_ms
    else:
        info_validity = 3 * tunables.info_period_ms
    return not (
        # Replicas have no ODOWN state; SDOWN is all there is to check.
        replica.sdown_since is not None
        or replica.link.disconnected
        or now - replica.link.last_avail_time > 5 * tunables.ping_period_ms
        or replica.priority == 0
        # sentinel.c's info_refresh of 0 is 1970 and always too old; our clock may start
        # near 0, so "never" is excluded explicitly.
        or replica.info_refresh == NEVER
        or now - replica.info_refresh > info_validity
        or replica.master_link_down_time > max_master_down
    )


def select_replica(
    sentinel: SentinelLike, master: MasterInstance, now: Millis
) -> ReplicaInstance | None:
    """The replica to promote, or ``None`` if no replica qualifies (spec §8.2).

    Excluded: SDOWN replicas; disconnected links; last acceptable PING reply older than
    5 x ping period; priority 0; last INFO older than 5 x ping period (master SDOWN) or
    3 x INFO period (otherwise), or never received; ``master_link_down_time`` above
    (time the master has been SDOWN) + 10 x down-after. ``replica-announced`` does not
    matter (trap T22). Among the rest, the first by lower priority, then higher
    replication offset, then ASCII-case-insensitively smaller run id, a replica without
    run id after all with one. Equal replicas keep their table order (sentinel.c's
    ``qsort`` leaves that unspecified).

    Also used by ``SENTINEL FAILOVER`` for its ``-NOGOODSLAVE`` check.

    Mirrors sentinelSelectSlave().
    """
    candidates = [r for r in master.replicas.values() if _eligible(sentinel, master, r, now)]
    if not candidates:
        return None
    candidates.sort(key=functools.cmp_to_key(_compare_for_promotion))
    return candidates[0]


# --- the reconfiguration transaction ---------------------------------------------------


def send_slave_of(
    sentinel: SentinelLike, instance: Instance, to: Instance | None
) -> list[Effect] | None:
    """Send the reconfiguration transaction of spec §8.4 to ``instance``.

    ``MULTI``, ``SLAVEOF <host> <port>`` (``SLAVEOF NO ONE`` when ``to`` is ``None``),
    ``CONFIG REWRITE``, ``CLIENT KILL TYPE normal``, ``CLIENT KILL TYPE pubsub``,
    ``EXEC``, pipelined on the command link with every command name mapped through the
    group's rename table (``sentinel.send``), replies discarded: success shows up in
    later INFO. ``<host>`` is the announce form of ``to``'s address.

    Used for promotion, re-pointing replicas during a failover, and by INFO processing
    for ``+convert-to-slave`` and ``+fix-slave-config``.

    Returns:
        The ``Send`` effects, or ``None`` when the command link has no socket (nothing
        was sent; sentinel.c's ``redisAsyncCommand`` returning ``C_ERR``).

    Mirrors sentinelSendSlaveOf().
    """
    if to is None:
        host, port = "NO", "ONE"
    else:
        host, port = announce_host(to, sentinel.announce_hostnames), str(to.addr.port)
    commands: tuple[tuple[str, ...], ...] = (
        ("MULTI",),
        ("SLAVEOF", host, port),
        ("CONFIG", "REWRITE"),
        ("CLIENT", "KILL", "TYPE", "normal"),
        ("CLIENT", "KILL", "TYPE", "pubsub"),
        ("EXEC",),
    )
    effects: list[Effect] = []
    for argv in commands:
        send = sentinel.send(instance, *argv, kind=ReplyKind.DISCARD)
        if send is None:
            # Only the first can fail: all six go on the same socket.
            return None
        effects.append(send)
    return effects


# --- the per-tick state machine ------------------------------------------------------


def failover_state_machine(
    sentinel: SentinelLike, master: MasterInstance, now: Millis
) -> list[Effect]:
    """Advance ``master``'s failover by at most one state (called every tick).

    ``UPDATE_CONFIG`` has nothing to do here: the tick calls
    :func:`switch_to_promoted_replica` after its walk over all instances.

    Mirrors sentinelFailoverStateMachine().
    """
    state = master.failover_state
    match state:
        case _S.NONE | _S.UPDATE_CONFIG:
            return []
        case _S.WAIT_START:
            return _wait_start(sentinel, master, now)
        case _S.SELECT_SLAVE:
            return _select_slave(sentinel, master, now)
        case _S.SEND_SLAVEOF_NOONE:
            return _send_slaveof_noone(sentinel, master, now)
        case _S.WAIT_PROMOTION:
            return _wait_promotion(sentinel, master, now)
        case _S.RECONF_SLAVES:
            return _reconf_next_replica(sentinel, master, now)
        case _:
            assert_never(state)


def _wait_start(sentinel: SentinelLike, master: MasterInstance, now: Millis) -> list[Effect]:
    """Count the votes; go on if we won (or the failover is forced), else maybe give up.

    The election times out after min(election-timeout, failover-timeout) from the
    (jittered) start: ``-failover-abort-not-elected`` and abort. Winning emits
    ``+elected-leader``; with ``SIMULATE-FAILURE crash-after-election`` we crash right
    there. Spec §7.5.

    Mirrors sentinelFailoverWaitStart().
    """
    leader, effects = election.get_leader(sentinel, master, master.failover_epoch, now)
    is_leader = leader is not None and election.same_run_id(leader, sentinel.myid)
    if not is_leader and not master.force_failover:
        election_timeout = min(sentinel.tunables.election_timeout_ms, master.failover_timeout_ms)
        if now - master.failover_start_time > election_timeout:
            effects += sentinel.event(EventType.FAILOVER_ABORT_NOT_ELECTED, master, now=now)
            effects += abort_failover(sentinel, master, now)
        return effects
    effects += sentinel.event(EventType.ELECTED_LEADER, master, now=now)
    if sentinel.simfailure_crash_after_election:
        return effects + _crash(sentinel)
    effects += _enter(sentinel, master, _S.SELECT_SLAVE, now)
    return effects


def _select_slave(sentinel: SentinelLike, master: MasterInstance, now: Millis) -> list[Effect]:
    """Pick the replica to promote, or abort with ``-failover-abort-no-good-slave``.

    Mirrors sentinelFailoverSelectSlave().
    """
    replica = select_replica(sentinel, master, now)
    if replica is None:
        effects = sentinel.event(EventType.FAILOVER_ABORT_NO_GOOD_SLAVE, master, now=now)
        return effects + abort_failover(sentinel, master, now)
    effects = sentinel.event(EventType.SELECTED_SLAVE, replica, now=now)
    replica.promoted = True
    master.promoted_replica = replica
    effects += _enter(sentinel, master, _S.SEND_SLAVEOF_NOONE, now)
    return effects


def _abort_if_timed_out(
    sentinel: SentinelLike, master: MasterInstance, now: Millis
) -> list[Effect]:
    """``-failover-abort-slave-timeout`` and abort once this state lasted too long."""
    if now - master.failover_state_change_time > master.failover_timeout_ms:
        effects = sentinel.event(EventType.FAILOVER_ABORT_SLAVE_TIMEOUT, master, now=now)
        return effects + abort_failover(sentinel, master, now)
    return []


def _send_slaveof_noone(
    sentinel: SentinelLike, master: MasterInstance, now: Millis
) -> list[Effect]:
    """Send ``SLAVEOF NO ONE`` (in the transaction) to the selected replica.

    While its link is down we wait, up to failover-timeout in this state. Once the
    transaction could be queued: ``+failover-state-wait-promotion``.

    Mirrors sentinelFailoverSendSlaveOfNoOne().
    """
    replica = master.promoted_replica
    assert replica is not None, "send_slaveof_noone without a promoted replica"
    if replica.link.disconnected:
        return _abort_if_timed_out(sentinel, master, now)
    sent = send_slave_of(sentinel, replica, None)
    if sent is None:
        return []
    return sent + _enter(sentinel, master, _S.WAIT_PROMOTION, now)


def _wait_promotion(sentinel: SentinelLike, master: MasterInstance, now: Millis) -> list[Effect]:
    """Only the timeout: INFO processing sees the promotion (on_promoted_replica_is_master).

    Mirrors sentinelFailoverWaitPromotion().
    """
    return _abort_if_timed_out(sentinel, master, now)


def _reconf_next_replica(
    sentinel: SentinelLike, master: MasterInstance, now: Millis
) -> list[Effect]:
    """Point up to parallel-syncs replicas at a time at the promoted replica.

    Spec §8.5 steps 1-2, then end detection (:func:`_detect_end`). A replica that sat
    in ``reconf_sent`` longer than slave-reconf-timeout is considered done
    (``-slave-reconf-sent-timeout``). As in sentinel.c, that check is only reached
    while fewer than parallel-syncs replicas are in progress: with parallel-syncs 1, a
    replica that never reports progress holds the only slot until the failover times
    out.

    Difference from sentinel.c (docs/deviations.md): sentinel.c falls through after the
    timeout and, if the replica is connected, sends it the transaction again in the same
    tick (a second ``+slave-reconf-sent``), leaving both its SENT and DONE bits set, so
    it keeps a parallel-syncs slot for the rest of the failover. Our ``ReconfState``
    holds one state: a timed-out replica stays ``reconf_done``, is not sent to again,
    and its slot is free from the next tick on.

    Mirrors sentinelFailoverReconfNextSlave().
    """
    promoted = master.promoted_replica
    assert promoted is not None, "reconf_slaves without a promoted replica"
    in_progress = sum(
        1 for r in master.replicas.values() if r.reconf in (ReconfState.SENT, ReconfState.INPROG)
    )
    effects: list[Effect] = []
    for replica in master.replicas.values():
        if in_progress >= master.parallel_syncs:
            break
        if replica.promoted or replica.reconf is ReconfState.DONE:
            continue
        if (
            replica.reconf is ReconfState.SENT
            and now - replica.reconf_sent_time > sentinel.tunables.slave_reconf_timeout_ms
        ):
            effects += sentinel.event(EventType.SLAVE_RECONF_SENT_TIMEOUT, replica, now=now)
            replica.reconf = ReconfState.DONE
            # sentinel.c does not give the slot back in this tick either.
            continue
        if replica.reconf in (ReconfState.SENT, ReconfState.INPROG):
            continue
        if replica.link.disconnected:
            continue
        sent = send_slave_of(sentinel, replica, promoted)
        if sent is not None:
            effects += sent
            replica.reconf = ReconfState.SENT
            replica.reconf_sent_time = now
            effects += sentinel.event(EventType.SLAVE_RECONF_SENT, replica, now=now)
            in_progress += 1
    effects += _detect_end(sentinel, master, now)
    return effects


def _detect_end(sentinel: SentinelLike, master: MasterInstance, now: Millis) -> list[Effect]:
    """End the failover when every reachable replica is reconfigured, or on timeout.

    Skipped while the promoted replica is SDOWN. On timeout (this state lasted more
    than failover-timeout): ``+failover-end-for-timeout``, end anyway, and send a
    best-effort transaction (``+slave-reconf-sent-be``) to every connected replica not
    yet promoted, done or sent to. Ending: ``+failover-end``, state ``UPDATE_CONFIG``.

    Mirrors sentinelFailoverDetectEnd().
    """
    promoted = master.promoted_replica
    if promoted is None or promoted.sdown_since is not None:
        return []
    not_reconfigured = sum(
        1
        for r in master.replicas.values()
        if not (r.promoted or r.reconf is ReconfState.DONE or r.sdown_since is not None)
    )
    effects: list[Effect] = []
    timeout = now - master.failover_state_change_time > master.failover_timeout_ms
    if timeout:
        not_reconfigured = 0
        effects += sentinel.event(EventType.FAILOVER_END_FOR_TIMEOUT, master, now=now)
    if not_reconfigured == 0:
        effects += sentinel.event(EventType.FAILOVER_END, master, now=now)
        effects += _enter(sentinel, master, _S.UPDATE_CONFIG, now)
    if timeout:
        for replica in master.replicas.values():
            if replica.promoted or replica.reconf in (ReconfState.DONE, ReconfState.SENT):
                continue
            if replica.link.disconnected:
                continue
            sent = send_slave_of(sentinel, replica, promoted)
            if sent is not None:
                effects += sent
                effects += sentinel.event(EventType.SLAVE_RECONF_SENT_BE, replica, now=now)
                replica.reconf = ReconfState.SENT
    return effects


# --- hooks called by INFO processing ------------------------------------------------


def is_awaited_promotion(replica: ReplicaInstance) -> bool:
    """Whether ``replica`` is the promoted replica of a failover in ``WAIT_PROMOTION``.

    INFO processing asks this when a replica reports ``role:master``: if true it calls
    :func:`on_promoted_replica_is_master`, otherwise the convert-to-replica rule applies
    (spec §5.6 step 4).
    """
    master = replica.master
    return (
        master is not None
        and replica.promoted
        and master.promoted_replica is replica
        and master.failover_state is _S.WAIT_PROMOTION
    )


def on_promoted_replica_is_master(
    sentinel: SentinelLike, replica: ReplicaInstance, now: Millis
) -> list[Effect]:
    """The promoted replica reported ``role:master``: the promotion happened (spec §8.3).

    Set the master's config epoch to the failover epoch, state ``RECONF_SLAVES``,
    flush, ``+promoted-slave``; crash here with ``SIMULATE-FAILURE
    crash-after-promotion``; ``+failover-state-reconf-slaves``; queue the
    client-reconfig script (``leader start <old> <promoted>``); force hellos to the
    master, its replicas and its peers on the next tick, so the new config epoch
    spreads at once.

    Does nothing unless :func:`is_awaited_promotion` holds.

    Mirrors the promotion branch of sentinelRefreshInstanceInfo().
    """
    if not is_awaited_promotion(replica):
        return []
    master = replica.master
    assert master is not None
    master.config_epoch = master.failover_epoch
    effects = _enter(sentinel, master, _S.RECONF_SLAVES, now, announce=False)
    effects += sentinel.flush_config()
    effects += sentinel.event(EventType.PROMOTED_SLAVE, replica, now=now)
    if sentinel.simfailure_crash_after_promotion:
        return effects + _crash(sentinel)
    effects += _state_event(sentinel, master, now)
    if master.client_reconfig_script is not None:
        announce = sentinel.announce_hostnames
        sentinel.scripts.schedule(
            (
                master.client_reconfig_script,
                master.name,
                "leader",
                "start",
                announce_host(master, announce),
                str(master.addr.port),
                announce_host(replica, announce),
                str(replica.addr.port),
            ),
            now,
        )
    sentinel.force_hello(master)
    return effects


def _names_address(instance: Instance, host: str) -> bool:
    """Does ``host``, as a replica reports it in INFO, name ``instance``'s address?

    sentinel.c resolves ``host`` and compares IPs, falling back to a case-insensitive
    compare of names. The core does no DNS: IP literals compare as addresses (``::1``
    equals ``0:0::1``), anything else case-insensitively, against the address we
    connect to and the hostname as given. The same rule as ``info.addr_equals_host``,
    which INFO processing uses to decide to call us. Mirrors
    sentinelAddrEqualsHostname().
    """
    for known in (instance.addr.host, instance.hostname):
        if known is None:
            continue
        try:
            if ipaddress.ip_address(known) == ipaddress.ip_address(host):
                return True
        except ValueError:
            if known.lower() == host.lower():
                return True
    return False


def on_replica_reconf_progress(
    sentinel: SentinelLike, replica: ReplicaInstance, now: Millis
) -> list[Effect]:
    """A replica being re-pointed reported its replication state (spec §5.6 step 6).

    ``reconf_sent`` -> ``reconf_inprog`` (``+slave-reconf-inprog``) when it reports the
    promoted replica's address as its master (:func:`_names_address`); then
    ``reconf_inprog`` -> ``reconf_done`` (``+slave-reconf-done``) when its link to it is
    up. Both can happen on the same INFO. Does nothing unless the replica reports role
    slave and is in ``reconf_sent``/``reconf_inprog``.

    Mirrors the reconfiguration branch of sentinelRefreshInstanceInfo().
    """
    master = replica.master
    if (
        master is None
        or replica.role_reported is not Role.SLAVE
        or replica.reconf not in (ReconfState.SENT, ReconfState.INPROG)
    ):
        return []
    promoted = master.promoted_replica
    if promoted is None:
        # sentinel.c would dereference NULL here; the flags cannot outlive the failover
        # (the address switch re-creates every replica), so this is only defensive.
        return []
    effects: list[Effect] = []
    if (
        replica.reconf is ReconfState.SENT
        and replica.master_host is not None
        and _names_address(promoted, replica.master_host)
        and replica.master_port == promoted.addr.port
    ):
        replica.reconf = ReconfState.INPROG
        effects += sentinel.event(EventType.SLAVE_RECONF_INPROG, replica, now=now)
    if replica.reconf is ReconfState.INPROG and replica.master_link_up:
        replica.reconf = ReconfState.DONE
        effects += sentinel.event(EventType.SLAVE_RECONF_DONE, replica, now=now)
    return effects


# --- the end: switching the master's address -----------------------------------------


def switch_to_promoted_replica(
    sentinel: SentinelLike, master: MasterInstance, now: Millis
) -> list[Effect]:
    """``+switch-master`` and the address switch at the end of our failover (spec §8.5).

    ``+switch-master <name> <old-ip> <old-port> <new-ip> <new-port>`` (announce forms),
    then ``Sentinel.reset_master_and_change_address``: the master gets the promoted
    replica's address, the old master and the other replicas become its replicas
    (``+slave`` each), the failover state is cleared (``failover_start_time = 0``, so
    a new failover may start at once, trap T21), and the config is flushed. The leader
    does not run the client-reconfig script again here (spec §9.8).

    Raises:
        UsageError: the failover of ``master`` is not in ``UPDATE_CONFIG`` (the tick
            calls this only for a master that reached it).

    Mirrors sentinelFailoverSwitchToPromotedSlave().
    """
    if master.failover_state is not _S.UPDATE_CONFIG:
        raise UsageError(
            f"address switch of {master.name!r} in state {master.failover_state.value}"
        )
    # sentinel.c falls back to the master itself when there is no promoted replica;
    # in UPDATE_CONFIG there always is one, but we keep the fallback.
    ref: Instance = master.promoted_replica if master.promoted_replica is not None else master
    announce = sentinel.announce_hostnames
    payload = (
        f"{master.name} {announce_host(master, announce)} {master.addr.port}"
        f" {announce_host(ref, announce)} {ref.addr.port}"
    )
    effects = sentinel.event(EventType.SWITCH_MASTER, master, payload, details=False, now=now)
    effects += sentinel.reset_master_and_change_address(master, ref.addr, now)
    return effects
