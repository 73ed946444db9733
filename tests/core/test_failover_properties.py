"""Random fault schedules through the real ``Sentinel``: the failover invariants hold.

A Hypothesis ``RuleBasedStateMachine`` (STYLE §14) over the small world of
failover_world.py: servers crash and come back, peers change their minds about the
master and their votes, replicas refuse SLAVEOF, time passes. After every input and
every tick we check the safety properties of our part of the core.
"""

from __future__ import annotations

from failover_world import World
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from pysentinel.core import failover
from pysentinel.core.instance import FailoverState, MasterInstance
from pysentinel.core.types import Millis

S = FailoverState
PROMOTED_STATES = {S.SEND_SLAVEOF_NOONE, S.WAIT_PROMOTION, S.RECONF_SLAVES, S.UPDATE_CONFIG}
OTHER = "f" * 40


class FailoverMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.world = World.build()
        self.master: MasterInstance = self.world.sentinel.masters["mymaster"]
        self.epoch = self.world.sentinel.current_epoch
        self.state = self.master.failover_state
        self.votes: dict[str, str] = {}
        self.checked_events = 0
        self.world.observer = self.check

    # --- what the world does --------------------------------------------------------

    @initialize(crash_master=st.booleans(), peers_agree=st.integers(0, 2))
    def warm_up(self, crash_master: bool, peers_agree: int) -> None:
        """Monitoring settles; then, mostly, the master dies and some peers notice."""
        self.world.advance(Millis(self.world.now + 3000))
        for port in list(self.world.peers)[:peers_agree]:
            self.world.peers[port].says_down[16379] = True
        if crash_master:
            self.world.crash(16379)

    @rule(ms=st.integers(min_value=10, max_value=8000))
    def advance(self, ms: int) -> None:
        self.world.advance(Millis(self.world.now + ms))

    @rule(port=st.sampled_from([16379, 16380, 16381]))
    def crash(self, port: int) -> None:
        if self.world.servers[port].up:
            self.world.crash(port)

    @rule(port=st.sampled_from([16379, 16380, 16381]), n=st.integers(0, 9))
    def restart(self, port: int, n: int) -> None:
        if not self.world.servers[port].up:
            self.world.restart(port, str(n) * 40)

    @rule(
        peer=st.sampled_from([26380, 26381]),
        port=st.sampled_from([16379, 16380]),
        down=st.booleans(),
    )
    def peer_view(self, peer: int, port: int, down: bool) -> None:
        self.world.peers[peer].says_down[port] = down

    @rule(peer=st.sampled_from([26380, 26381]), ahead=st.integers(0, 2))
    def peer_votes_elsewhere(self, peer: int, ahead: int) -> None:
        p = self.world.peers[peer]
        p.vote, p.vote_epoch = OTHER, self.world.sentinel.current_epoch + ahead

    @rule(port=st.sampled_from([16380, 16381]), refuse=st.booleans())
    def refuse_slaveof(self, port: int, refuse: bool) -> None:
        self.world.servers[port].refuse_slaveof = refuse

    # --- what must always hold ---------------------------------------------------------

    def check(self) -> None:
        sentinel = self.world.sentinel
        m = self.master
        # Epochs never go back; our vote and failover epoch are never in the future.
        assert sentinel.current_epoch >= self.epoch
        self.epoch = sentinel.current_epoch
        assert m.leader_epoch <= sentinel.current_epoch
        assert m.failover_epoch <= sentinel.current_epoch
        # Every state change is in the table (nothing else resets this master here). One
        # tick may end a failover and switch the address: RECONF_SLAVES -> UPDATE_CONFIG
        # -> NONE between two observations.
        new = m.failover_state
        assert (
            new is self.state
            or (self.state, new) in failover.TRANSITIONS
            or (self.state, new) == (S.RECONF_SLAVES, S.NONE)
        ), (self.state, new)
        self.state = new
        # A promoted replica exactly from selection on, and only one.
        promoted = [r for r in m.replicas.values() if r.promoted]
        if new in PROMOTED_STATES:
            assert m.promoted_replica is not None and promoted == [m.promoted_replica]
        else:
            assert m.promoted_replica is None and promoted == []
        assert m.force_failover is False
        # We vote at most once per epoch.
        for _, text in self.world.events[self.checked_events :]:
            if text.startswith("+vote-for-leader "):
                runid, epoch = text.split()[1:]
                assert self.votes.setdefault(epoch, runid) == runid, text
        self.checked_events = len(self.world.events)

    @invariant()
    def no_crash(self) -> None:
        assert self.world.exit_code is None


TestFailoverMachine = FailoverMachine.TestCase
TestFailoverMachine.settings = settings(max_examples=100, stateful_step_count=30, deadline=None)
