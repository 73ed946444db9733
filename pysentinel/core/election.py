"""Epochs and leader election: voting, counting votes, asking peers (spec §5.9, §7).

Rules of this module:

* Everything here is a module-level function over the ``Sentinel`` aggregate and one of
  its :class:`MasterInstance` entries. The functions mutate that state and return the
  effects (events, flushes, sends) in the order sentinel.c produces them.
* A sentinel votes at most once per epoch and per master: ``master.leader`` and
  ``master.leader_epoch`` are our vote. A request for an epoch we already voted in gets
  the stored vote back (first come, first served), spec §7.2.
* Peers' votes live on their :class:`SentinelPeer` entries (``leader``,
  ``leader_epoch``) and are learnt only from their replies to our
  ``SENTINEL is-master-down-by-addr``. Those replies are untrusted: anything that is not
  exactly ``[integer, string, integer]`` is ignored, and nothing a peer sends can raise
  (STYLE §9, "Ignore every error or unexpected reply").
* Run ids are compared with ``myid`` the way sentinel.c's ``strcasecmp`` does: ASCII
  case-insensitively, byte by byte (:func:`same_run_id`).
* The only randomness is the failover start jitter, drawn from ``sentinel.rng``.
* TILT is the caller's business: the tick does not run the acting half (failover
  start, state machine, asking peers) while in TILT, so nothing here checks it. Votes
  requested by peers are granted in TILT too (spec §9.1), which is why
  :func:`vote_leader` does not look at it either.

Mirrors the "SENTINEL failover" election part of sentinel.c: sentinelVoteLeader(),
sentinelGetLeader(), sentinelAskMasterStateToOtherSentinels() and
sentinelReceiveIsMasterDownReply().
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Protocol

from pysentinel.core.effects import Effect, Log, Send
from pysentinel.core.events import EventType, announce_host
from pysentinel.core.instance import (
    Instance,
    MasterInstance,
    ReplyKind,
    SentinelPeer,
    Tunables,
)
from pysentinel.core.scripts import ScriptQueue
from pysentinel.core.types import Addr, ClientId, Epoch, LogLevel, Millis, RunId
from pysentinel.core.values import InReply

if TYPE_CHECKING:
    import random  # the injected rng's type only; the core never draws from the module

__all__ = [
    "MAX_DESYNC_MS",
    "SentinelLike",
    "ask_master_state_to_other_sentinels",
    "get_leader",
    "receive_is_master_down_reply",
    "same_run_id",
    "vote_leader",
]

#: SENTINEL_MAX_DESYNC: the failover start time gets a random 0..999 ms on top, both when
#: we start a failover and when we vote for somebody else, so that sentinels that saw the
#: master fail at the same moment do not all ask for votes at the same moment.
MAX_DESYNC_MS: Final = 1000

#: The run id argument of an ask that does not request a vote (spec Appendix B).
NO_VOTE_REQUEST: Final = "*"

#: Epochs travel as C ``uint64_t``; a peer's negative or oversized integer wraps.
_UINT64_MASK: Final = (1 << 64) - 1


class SentinelLike(Protocol):
    """The part of ``core.sentinel.Sentinel`` that elections and failovers use.

    The names are the ones the core contract fixes for the aggregate. Typing against
    this protocol instead of importing the class keeps ``sentinel.py`` (which imports
    us) out of an import cycle, and lets the unit tests drive these functions with a
    small fake that has real behaviour (tests/core/failover_fakes.py).
    """

    myid: RunId
    current_epoch: Epoch
    rng: random.Random
    tunables: Tunables
    announce_hostnames: bool
    simfailure_crash_after_election: bool
    simfailure_crash_after_promotion: bool
    scripts: ScriptQueue

    def event(
        self,
        type: EventType,
        instance: Instance | None,
        extra: str = "",
        *,
        details: bool = True,
        now: Millis,
    ) -> list[Effect]: ...

    def log(self, level: LogLevel, text: str) -> Log: ...

    def send(
        self,
        instance: Instance,
        *argv: str | bytes,
        kind: ReplyKind,
        target: Instance | None = None,
    ) -> Send | None: ...

    def flush_config(self, *, reply_to: ClientId | None = None, proto: int = 2) -> list[Effect]: ...

    def reset_master_and_change_address(
        self, master: MasterInstance, addr: Addr, now: Millis
    ) -> list[Effect]: ...

    def force_hello(self, master: MasterInstance) -> None: ...


def same_run_id(a: str, b: str) -> bool:
    """Whether two run ids are equal the way ``strcasecmp`` sees them (ASCII only).

    ``str.lower`` would also fold non-ASCII letters; ``bytes.lower`` folds only A-Z,
    like the C library in the "C" locale redis runs in.
    """
    return (
        a.encode("utf-8", "surrogateescape").lower() == b.encode("utf-8", "surrogateescape").lower()
    )


def vote_leader(
    sentinel: SentinelLike, master: MasterInstance, req_epoch: Epoch, req_runid: RunId, now: Millis
) -> tuple[RunId | None, Epoch, list[Effect]]:
    """Vote for ``req_runid`` as the leader of ``req_epoch`` unless we already voted then.

    Spec §7.2. Used both when a peer asks for our vote (``SENTINEL
    is-master-down-by-addr`` with a run id, answered in ``commands.py``) and when we
    count votes in our own failover (:func:`get_leader`).

    1. A request from the future raises our current epoch: flush, ``+new-epoch``.
    2. If our vote for this master is older than ``req_epoch`` and our current epoch is
       not newer than ``req_epoch``, vote: remember ``req_runid`` in the current epoch,
       flush, ``+vote-for-leader <runid> <epoch>``. A vote for somebody else also sets
       ``failover_start_time = now + jitter``, which keeps us from starting our own
       failover of this master for 2 x failover-timeout (spec §7.4).
    3. Return our (possibly older) vote.

    Args:
        sentinel: the aggregate (``current_epoch``, ``myid``, ``rng``, ``event`` ...).
        master: the master the vote is about.
        req_epoch: the epoch the candidate asks a vote for.
        req_runid: the candidate's run id.
        now: the current time.

    Returns:
        ``(leader, leader_epoch, effects)``: our stored vote (``None`` if we never voted
        for this master) and its epoch, plus the flushes and events in order.

    Mirrors sentinelVoteLeader().
    """
    effects: list[Effect] = []
    if req_epoch > sentinel.current_epoch:
        sentinel.current_epoch = req_epoch
        effects += sentinel.flush_config()
        effects += sentinel.event(
            EventType.NEW_EPOCH, master, str(sentinel.current_epoch), details=False, now=now
        )
    if master.leader_epoch < req_epoch and sentinel.current_epoch <= req_epoch:
        master.leader = req_runid
        master.leader_epoch = sentinel.current_epoch
        effects += sentinel.flush_config()
        effects += sentinel.event(
            EventType.VOTE_FOR_LEADER,
            master,
            f"{master.leader} {master.leader_epoch}",
            details=False,
            now=now,
        )
        # We voted for somebody else: hold our own attempt back for a while, so that
        # the candidate we voted for gets its chance first.
        if not same_run_id(master.leader, sentinel.myid):
            master.failover_start_time = Millis(now + sentinel.rng.randrange(MAX_DESYNC_MS))
            master.failover_delay_logged = False
    return master.leader, master.leader_epoch, effects


def get_leader(
    sentinel: SentinelLike, master: MasterInstance, epoch: Epoch, now: Millis
) -> tuple[RunId | None, list[Effect]]:
    """Count the votes for the leader of ``epoch``; cast our own vote on the way.

    Spec §7.3:

    1. ``voters`` = known peers + 1 (peers are never forgotten automatically, so this
       is everybody seen since the last RESET, reachable or not).
    2. Tally the peers' votes whose epoch equals our **current** epoch, not ``epoch``
       (trap T7: if the current epoch moved on, older votes for our failover epoch no
       longer count). The winner is the run id with most votes; on a tie, the first one
       counted (peer order).
    3. Vote (:func:`vote_leader` with ``req_epoch = epoch``) for that winner, or for
       ourselves when nobody has a vote yet. If our resulting vote is in ``epoch``, it
       counts too and may change the winner (only when it gets strictly more votes).
    4. The winner needs ``voters // 2 + 1`` votes **and** at least the quorum.

    The contract names this ``get_leader(sentinel, master, epoch) -> RunId | None``;
    because counting casts our own vote (events, a flush, maybe the start jitter), it
    also needs ``now`` and returns the effects alongside the winner.

    Returns:
        ``(winner, effects)``: the run id that won (``None`` if nobody has enough
        votes) and the effects of our own vote.

    Mirrors sentinelGetLeader().
    """
    voters = len(master.sentinels) + 1
    counters: dict[str, int] = {}
    for peer in master.sentinels.values():
        if peer.leader is not None and peer.leader_epoch == sentinel.current_epoch:
            counters[peer.leader] = counters.get(peer.leader, 0) + 1

    winner: str | None = None
    max_votes = 0
    for runid, votes in counters.items():
        if votes > max_votes:
            max_votes = votes
            winner = runid

    my_vote, my_vote_epoch, effects = vote_leader(
        sentinel, master, epoch, RunId(winner) if winner is not None else sentinel.myid, now
    )
    if my_vote is not None and my_vote_epoch == epoch:
        votes = counters.get(my_vote, 0) + 1
        counters[my_vote] = votes
        if votes > max_votes:
            max_votes = votes
            winner = my_vote

    voters_quorum = voters // 2 + 1
    if winner is not None and (max_votes < voters_quorum or max_votes < master.quorum):
        winner = None
    return (RunId(winner) if winner is not None else None), effects


def ask_master_state_to_other_sentinels(
    sentinel: SentinelLike, master: MasterInstance, *, forced: bool, now: Millis
) -> list[Effect]:
    """Ask every peer of ``master`` whether it thinks the master is down (spec §5.9).

    For each peer, first forget its answer and vote if its last valid reply is older
    than 5 x ask period. Then ask only if the master is SDOWN for us, the peer's link
    is connected, and either ``forced`` (right after we started a failover) or the
    last valid reply is at least one ask period old. There is no cap on outstanding
    asks: a peer that never answers is asked on every tick (trap T17).

    The request is ``SENTINEL is-master-down-by-addr <ip> <port> <current_epoch>
    <runid>``: ``<ip>`` is the announce form of the master's configured address,
    ``<runid>`` our ``myid`` while a failover of this master is in progress (a vote
    request) and ``*`` otherwise (just asking). ``SENTINEL`` goes through the master
    group's rename table (``sentinel.send`` does that, trap T6).

    Mirrors sentinelAskMasterStateToOtherSentinels().
    """
    effects: list[Effect] = []
    validity = sentinel.tunables.master_down_reply_validity_ms
    for peer in master.sentinels.values():
        elapsed = now - peer.last_master_down_reply_time
        if elapsed > validity:
            # Too old to trust. sentinel.c keeps leader_epoch: only the run id goes.
            peer.master_down = False
            peer.leader = None

        if master.sdown_since is None:
            continue
        if peer.link.disconnected:
            continue
        if not forced and elapsed < sentinel.tunables.ask_period_ms:
            continue

        runid = sentinel.myid if master.failover_in_progress else NO_VOTE_REQUEST
        send = sentinel.send(
            peer,
            "SENTINEL",
            "is-master-down-by-addr",
            announce_host(master, sentinel.announce_hostnames),
            str(master.addr.port),
            str(sentinel.current_epoch),
            runid,
            kind=ReplyKind.IS_MASTER_DOWN,
        )
        if send is not None:
            effects.append(send)
    return effects


def _c_string(data: bytes) -> str:
    """A reply string as sentinel.c sees it: up to the first NUL (``sdsnew(str)``).

    Bytes that are not UTF-8 become U+FFFD: a run id is 40 hex digits, so anything
    else is a misbehaving peer, and the text must stay encodable for logs and replies.
    """
    return data.split(b"\0", 1)[0].decode("utf-8", "replace")


def receive_is_master_down_reply(
    sentinel: SentinelLike, peer: SentinelPeer, reply: InReply, now: Millis
) -> list[Effect]:
    """Record a peer's answer to our ``SENTINEL is-master-down-by-addr``.

    Only a 3-element array ``[integer, string, integer]`` is used; errors and every
    other shape are ignored (the peer's "down" flag then expires after 5 x ask period).
    A valid reply stamps ``last_master_down_reply_time``, sets ``master_down`` iff the
    first element is exactly 1, and, unless the second element is ``*``, records the
    peer's vote (run id and epoch), logging ``<peer> voted for <runid> <epoch>`` when
    the vote's epoch differs from the one we had.

    The reply decoder (hiredis) does not tell status strings from bulk strings, so a
    status in the middle is accepted too; 7.0.15 would ignore it. Peers only ever send
    bulk strings there.

    The pending-reply counter of the link is the caller's (``Sentinel.handle``) to
    decrement, as it is for every other reply kind.

    Mirrors sentinelReceiveIsMasterDownReply().
    """
    if not isinstance(reply, tuple) or len(reply) != 3:
        return []
    down, leader, leader_epoch = reply
    if not (
        isinstance(down, int)
        and not isinstance(down, bool)
        and isinstance(leader, bytes)
        and isinstance(leader_epoch, int)
        and not isinstance(leader_epoch, bool)
    ):
        return []

    effects: list[Effect] = []
    peer.last_master_down_reply_time = now
    peer.master_down = down == 1
    runid = _c_string(leader)
    if runid != NO_VOTE_REQUEST:
        epoch = Epoch(leader_epoch & _UINT64_MASK)
        if peer.leader_epoch != epoch:
            effects.append(sentinel.log(LogLevel.WARNING, f"{peer.name} voted for {runid} {epoch}"))
        peer.leader = RunId(runid)
        peer.leader_epoch = epoch
    return effects
