"""Epochs, votes, vote counting and the asking side of is-master-down-by-addr (spec §5.9, §7)."""

from __future__ import annotations

from collections.abc import Sequence

from failover_fakes import MYID, PEER1, PEER2, FakeSentinel, standard_setup
from hypothesis import given, settings
from hypothesis import strategies as st

from pysentinel.core import election
from pysentinel.core.effects import Effect, Emit, Log, PersistConfig, Send
from pysentinel.core.instance import NEVER, FailoverState, ReplyKind, SentinelPeer
from pysentinel.core.types import Epoch, LogLevel, Millis, RunId
from pysentinel.core.values import ErrorReply, InReply

NOW = Millis(1_000_000)


# --- vote_leader (§7.2) ---------------------------------------------------------------


def test_vote_leader_raises_epoch_then_votes_for_other_with_jitter() -> None:
    s, m, _, _ = standard_setup()
    s.current_epoch = Epoch(3)
    leader, epoch, effects = election.vote_leader(s, m, Epoch(5), PEER1, NOW)
    assert (leader, epoch) == (PEER1, 5)
    assert s.current_epoch == 5
    assert (m.leader, m.leader_epoch) == (PEER1, 5)
    # Flush, +new-epoch, flush, +vote-for-leader: sentinel.c's order.
    assert [type(e) for e in effects] == [PersistConfig, Emit, PersistConfig, Emit]
    emits = [e for e in effects if isinstance(e, Emit)]
    assert [(e.level, e.type, e.payload) for e in emits] == [
        (LogLevel.WARNING, "+new-epoch", "5"),
        (LogLevel.WARNING, "+vote-for-leader", f"{PEER1} 5"),
    ]
    assert NOW <= m.failover_start_time < NOW + 1000


def test_vote_leader_for_ourselves_keeps_failover_start_time() -> None:
    s, m, _, _ = standard_setup()
    m.failover_start_time = Millis(5)
    leader, epoch, _ = election.vote_leader(s, m, Epoch(1), MYID, NOW)
    assert (leader, epoch) == (MYID, 1)
    assert m.failover_start_time == 5


def test_vote_leader_compares_myid_ascii_case_insensitively() -> None:
    s, m, _, _ = standard_setup()
    m.failover_start_time = Millis(5)
    election.vote_leader(s, m, Epoch(1), RunId(MYID.upper()), NOW)
    assert m.leader == MYID.upper()
    assert m.failover_start_time == 5


def test_vote_leader_first_come_first_served_per_epoch() -> None:
    s, m, _, _ = standard_setup()
    election.vote_leader(s, m, Epoch(2), PEER1, NOW)
    s.events.clear()
    leader, epoch, effects = election.vote_leader(s, m, Epoch(2), PEER2, NOW)
    assert (leader, epoch) == (PEER1, 2)
    assert effects == []
    assert s.events == []


def test_vote_leader_refuses_an_epoch_older_than_current() -> None:
    s, m, _, _ = standard_setup()
    s.current_epoch = Epoch(7)
    leader, epoch, effects = election.vote_leader(s, m, Epoch(6), PEER1, NOW)
    assert (leader, epoch) == (None, 0)
    assert effects == []
    assert s.current_epoch == 7


def test_vote_leader_equal_epoch_votes_without_new_epoch() -> None:
    s, m, _, _ = standard_setup()
    s.current_epoch = Epoch(4)
    _, epoch, _ = election.vote_leader(s, m, Epoch(4), PEER2, NOW)
    assert epoch == 4
    assert s.event_types() == ["+vote-for-leader"]
    assert s.flushes == 1


def test_vote_leader_returns_older_vote_when_asked_in_an_old_epoch() -> None:
    s, m, _, _ = standard_setup()
    election.vote_leader(s, m, Epoch(3), PEER1, NOW)
    leader, epoch, effects = election.vote_leader(s, m, Epoch(2), PEER2, NOW)
    assert (leader, epoch, effects) == (PEER1, 3, [])


def test_same_run_id_folds_ascii_only() -> None:
    assert election.same_run_id("ABCdef", "abcDEF")
    assert not election.same_run_id("é", "É")
    assert not election.same_run_id("a", "b")


# --- get_leader (§7.3) -----------------------------------------------------------------


def _set_votes(s: FakeSentinel, votes: dict[str, tuple[str | None, int]]) -> None:
    m = s.masters["mymaster"]
    for runid, (leader, epoch) in votes.items():
        peer = m.sentinels[runid]
        peer.leader = RunId(leader) if leader is not None else None
        peer.leader_epoch = Epoch(epoch)


def test_get_leader_alone_without_peer_votes_needs_majority() -> None:
    s, m, _, _ = standard_setup()
    s.current_epoch = Epoch(1)
    winner, _ = election.get_leader(s, m, Epoch(1), NOW)
    # 3 voters: our self-vote alone is 1 < 2.
    assert winner is None
    assert (m.leader, m.leader_epoch) == (MYID, 1)
    assert s.events == [("+vote-for-leader", f"{MYID} 1")]


def test_get_leader_wins_with_one_peer_vote() -> None:
    s, m, _, _ = standard_setup()
    s.current_epoch = Epoch(1)
    _set_votes(s, {PEER1: (MYID, 1)})
    winner, _ = election.get_leader(s, m, Epoch(1), NOW)
    assert winner == MYID


def test_get_leader_votes_for_the_peers_favourite() -> None:
    s, m, _, _ = standard_setup()
    s.current_epoch = Epoch(1)
    _set_votes(s, {PEER1: (PEER2, 1), PEER2: (PEER2, 1)})
    winner, _ = election.get_leader(s, m, Epoch(1), NOW)
    assert winner == PEER2
    assert m.leader == PEER2
    # We voted for somebody else: our own attempt is held back.
    assert m.failover_start_time >= NOW


def test_get_leader_counts_only_votes_of_the_current_epoch_t7() -> None:
    s, m, _, _ = standard_setup()
    s.current_epoch = Epoch(2)
    # Votes for our failover epoch 1 no longer count once the current epoch is 2.
    _set_votes(s, {PEER1: (MYID, 1), PEER2: (MYID, 1)})
    winner, _ = election.get_leader(s, m, Epoch(1), NOW)
    assert winner is None
    # And we cannot vote in epoch 1 any more either.
    assert m.leader is None


def test_get_leader_quorum_above_majority() -> None:
    s, m, _, _ = standard_setup()
    m.quorum = 3
    s.current_epoch = Epoch(1)
    _set_votes(s, {PEER1: (MYID, 1)})
    winner, _ = election.get_leader(s, m, Epoch(1), NOW)
    assert winner is None  # 2 votes: majority of 3, but quorum is 3
    _set_votes(s, {PEER2: (MYID, 1)})
    winner, _ = election.get_leader(s, m, Epoch(1), NOW)
    assert winner == MYID


def test_get_leader_majority_counts_unreachable_peers_t15() -> None:
    s, m, _, _ = standard_setup()
    m.quorum = 1
    for i in range(3, 6):
        s.add_peer(m, str(i) * 40, "127.0.0.1", 26380 + i, NOW, connected=False)
    s.current_epoch = Epoch(1)
    _set_votes(s, {PEER1: (MYID, 1), PEER2: (MYID, 1)})
    # 6 voters: 3 votes < 4.
    winner, _ = election.get_leader(s, m, Epoch(1), NOW)
    assert winner is None


def test_get_leader_tie_goes_to_first_counted() -> None:
    s, m, _, _ = standard_setup()
    m.quorum = 1
    p3 = "3" * 40
    s.add_peer(m, p3, "127.0.0.1", 26383, NOW)
    s.current_epoch = Epoch(1)
    # PEER1 votes PEER2, PEER2 votes p3: a tie at 1, PEER2 counted first.
    _set_votes(s, {PEER1: (PEER2, 1), PEER2: (p3, 1)})
    winner, _ = election.get_leader(s, m, Epoch(1), NOW)
    # We join PEER2's side: 2 votes of 4 voters < 3 needed.
    assert m.leader == PEER2
    assert winner is None


def test_get_leader_tallies_in_the_epoch_before_our_vote_raises_it() -> None:
    s, m, _, _ = standard_setup()
    s.current_epoch = Epoch(2)
    m.leader, m.leader_epoch = PEER1, Epoch(2)
    _set_votes(s, {PEER2: (MYID, 2)})
    # Counting for epoch 3 while current is 2 raises the epoch and we vote again.
    winner, _ = election.get_leader(s, m, Epoch(3), NOW)
    assert s.current_epoch == 3
    assert (m.leader, m.leader_epoch) == (MYID, 3)
    # PEER2's vote was in epoch 2, the counting used epoch 2 before the raise.
    assert winner == MYID


@settings(max_examples=150, deadline=None)
@given(
    n_peers=st.integers(min_value=0, max_value=6),
    quorum=st.integers(min_value=1, max_value=7),
    votes=st.lists(
        st.tuples(st.sampled_from([None, 0, 1, 2, 3, 4, 5, 6]), st.sampled_from([1, 2])),
        min_size=6,
        max_size=6,
    ),
)
def test_get_leader_winner_always_has_majority_and_quorum(
    n_peers: int, quorum: int, votes: list[tuple[int | None, int]]
) -> None:
    s = FakeSentinel()
    m = s.add_master(quorum=quorum, now=NOW)
    ids = [MYID] + [RunId(str(i + 1) * 40) for i in range(n_peers)]
    for i in range(n_peers):
        peer = s.add_peer(m, ids[i + 1], "127.0.0.1", 26380 + i, NOW)
        who, epoch = votes[i]
        if who is not None and who < len(ids):
            peer.leader = ids[who]
            peer.leader_epoch = Epoch(epoch)
    s.current_epoch = Epoch(2)
    winner, _ = election.get_leader(s, m, Epoch(2), NOW)
    tally = [p.leader for p in m.sentinels.values() if p.leader_epoch == 2 and p.leader]
    assert m.leader is not None
    assert m.leader_epoch == 2  # at most one vote per epoch, in the current epoch
    tally.append(m.leader)
    needed = max((n_peers + 1) // 2 + 1, quorum)
    strong = [c for c in dict.fromkeys(tally) if tally.count(c) >= needed]
    assert len(strong) <= 1
    assert winner == (strong[0] if strong else None)


# --- asking peers (§5.9) ---------------------------------------------------------------


def _asks(effects: Sequence[Effect]) -> list[tuple[bytes, ...]]:
    return [e.argv for e in effects if isinstance(e, Send)]


def test_ask_requires_master_sdown() -> None:
    s, m, _, _ = standard_setup()
    assert election.ask_master_state_to_other_sentinels(s, m, forced=True, now=NOW) == []


def test_ask_just_asking_uses_star_and_current_epoch() -> None:
    s, m, _, _ = standard_setup()
    m.sdown_since = Millis(NOW - 10_000)
    s.current_epoch = Epoch(4)
    later = Millis(NOW + 1000)
    effects = election.ask_master_state_to_other_sentinels(s, m, forced=False, now=later)
    expected = (b"SENTINEL", b"is-master-down-by-addr", b"127.0.0.1", b"16379", b"4", b"*")
    assert _asks(effects) == [expected, expected]
    for peer in m.sentinels.values():
        assert peer.link.pending_commands == 1
        assert peer.link.cmd_pending[-1].kind is ReplyKind.IS_MASTER_DOWN
        assert peer.link.cmd_pending[-1].target is peer


def test_ask_requests_a_vote_during_failover() -> None:
    s, m, _, _ = standard_setup()
    m.sdown_since = Millis(NOW - 10_000)
    m.failover_state = FailoverState.WAIT_START
    effects = election.ask_master_state_to_other_sentinels(s, m, forced=True, now=NOW)
    assert {a[-1] for a in _asks(effects)} == {MYID.encode()}


def test_ask_not_forced_waits_one_ask_period() -> None:
    s, m, _, _ = standard_setup()
    m.sdown_since = Millis(NOW - 10_000)
    m.sentinels[PEER1].last_master_down_reply_time = Millis(NOW - 999)
    m.sentinels[PEER2].last_master_down_reply_time = Millis(NOW - 2000)
    effects = election.ask_master_state_to_other_sentinels(s, m, forced=False, now=NOW)
    assert [name for name, _ in s.sent] == [PEER2]
    assert len(effects) == 1
    m.sentinels[PEER1].last_master_down_reply_time = Millis(NOW - 1000)
    # No answer from PEER2 yet: it is asked again (no cap on asks, trap T17).
    effects = election.ask_master_state_to_other_sentinels(s, m, forced=False, now=NOW)
    assert len(effects) == 2
    m.sentinels[PEER1].last_master_down_reply_time = NOW
    effects = election.ask_master_state_to_other_sentinels(s, m, forced=True, now=NOW)
    assert len(effects) == 2


def test_ask_skips_disconnected_peers() -> None:
    s, m, _, _ = standard_setup()
    m.sdown_since = Millis(NOW - 10_000)
    s.disconnect(m.sentinels[PEER1])
    effects = election.ask_master_state_to_other_sentinels(s, m, forced=True, now=NOW)
    assert [name for name, _ in s.sent] == [PEER2]
    assert len(effects) == 1


def _answer(peer: SentinelPeer) -> tuple[bool, str | None]:
    return peer.master_down, peer.leader


def test_ask_forgets_stale_answers_and_votes_but_keeps_their_epoch() -> None:
    s, m, _, _ = standard_setup()
    peer = m.sentinels[PEER1]
    peer.master_down = True
    peer.leader, peer.leader_epoch = PEER1, Epoch(3)
    peer.last_master_down_reply_time = Millis(NOW - 5000)
    election.ask_master_state_to_other_sentinels(s, m, forced=False, now=NOW)
    # Exactly 5 x ask period old: still trusted.
    assert _answer(peer) == (True, PEER1)
    election.ask_master_state_to_other_sentinels(s, m, forced=False, now=Millis(NOW + 1))
    assert _answer(peer) == (False, None)
    assert peer.leader_epoch == 3


def test_ask_uses_rename_table_and_announce_hostname() -> None:
    s, m, _, _ = standard_setup()
    m.rename_commands["SENTINEL"] = "MYSENTINEL"
    m.hostname = "db.example"
    s.announce_hostnames = True
    m.sdown_since = Millis(NOW - 10_000)
    effects = election.ask_master_state_to_other_sentinels(s, m, forced=True, now=NOW)
    assert _asks(effects)[0][:3] == (b"MYSENTINEL", b"is-master-down-by-addr", b"db.example")


def test_ask_link_without_socket_sends_nothing() -> None:
    s, m, _, _ = standard_setup()
    m.sdown_since = Millis(NOW - 10_000)
    peer = m.sentinels[PEER1]
    peer.link.cmd = None  # flagged connected but the socket is gone
    effects = election.ask_master_state_to_other_sentinels(s, m, forced=True, now=NOW)
    assert len(effects) == 1
    assert peer.link.pending_commands == 0


# --- replies (§5.9) --------------------------------------------------------------------


def test_reply_down_and_vote_recorded_with_log() -> None:
    s, m, _, _ = standard_setup()
    peer = m.sentinels[PEER1]
    t = Millis(NOW + 50)
    effects = election.receive_is_master_down_reply(s, peer, (1, MYID.encode(), 1), t)
    assert peer.master_down
    assert peer.last_master_down_reply_time == t
    assert (peer.leader, peer.leader_epoch) == (MYID, 1)
    assert effects == [Log(level=LogLevel.WARNING, text=f"{PEER1} voted for {MYID} 1")]
    # Same epoch again: no log line.
    effects = election.receive_is_master_down_reply(s, peer, (1, PEER2.encode(), 1), t)
    assert effects == []
    assert peer.leader == PEER2


def test_reply_not_down_star_keeps_previous_vote() -> None:
    s, m, _, _ = standard_setup()
    peer = m.sentinels[PEER1]
    peer.master_down = True
    peer.leader, peer.leader_epoch = PEER2, Epoch(2)
    effects = election.receive_is_master_down_reply(s, peer, (0, b"*", 0), NOW)
    assert effects == []
    assert not peer.master_down
    assert (peer.leader, peer.leader_epoch) == (PEER2, 2)


def test_reply_down_flag_needs_exactly_one() -> None:
    s, m, _, _ = standard_setup()
    peer = m.sentinels[PEER1]
    election.receive_is_master_down_reply(s, peer, (2, b"*", 0), NOW)
    assert not peer.master_down


def test_reply_epoch_wraps_like_uint64_and_run_id_stops_at_nul() -> None:
    s, m, _, _ = standard_setup()
    peer = m.sentinels[PEER1]
    effects = election.receive_is_master_down_reply(s, peer, (1, b"abc\0def", -1), NOW)
    assert peer.leader == "abc"
    assert peer.leader_epoch == 2**64 - 1
    assert effects == [
        Log(level=LogLevel.WARNING, text=f"{PEER1} voted for abc {2**64 - 1}"),
    ]


MALFORMED: list[InReply] = [
    None,
    b"OK",
    7,
    ErrorReply("ERR unknown command"),
    (),
    (1, b"*"),
    (1, b"*", 0, 0),
    (b"1", b"*", 0),
    (1, 2, 0),
    (1, b"*", b"0"),
    (1, None, 0),
    (ErrorReply("x"), b"*", 0),
    ((1,), b"*", 0),
]


def test_reply_malformed_shapes_are_ignored() -> None:
    s, m, _, _ = standard_setup()
    peer = m.sentinels[PEER1]
    peer.master_down = True
    peer.last_master_down_reply_time = NEVER
    for reply in MALFORMED:
        assert election.receive_is_master_down_reply(s, peer, reply, NOW) == []
    assert peer.master_down
    assert peer.last_master_down_reply_time == NEVER
    assert peer.leader is None


_leaf = st.one_of(
    st.none(),
    st.binary(max_size=8),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.builds(ErrorReply, st.text(max_size=8)),
)
_replies = st.recursive(_leaf, lambda inner: st.lists(inner, max_size=4).map(tuple), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(reply=_replies)
def test_reply_any_shape_never_raises(reply: InReply) -> None:
    s, m, _, _ = standard_setup()
    peer = m.sentinels[PEER1]
    later = Millis(NOW + 1)
    effects = election.receive_is_master_down_reply(s, peer, reply, later)
    valid = (
        isinstance(reply, tuple)
        and len(reply) == 3
        and isinstance(reply[0], int)
        and isinstance(reply[1], bytes)
        and isinstance(reply[2], int)
    )
    assert (peer.last_master_down_reply_time == later) is valid
    assert all(isinstance(e, Log) for e in effects)
    if peer.leader is not None:
        assert 0 <= peer.leader_epoch < 2**64
