"""A Hypothesis state machine over the simulator (STYLE §14): rules crash, restart,
partition, heal, pause, clock jump and advance; safety is an invariant after every
rule; the teardown heals everything and requires convergence.

On failure the message holds a scenario file (topology + the faults at the times
they happened) and the seed: save it and ``pysentinel-sim run FILE --seed N``
replays the exact run.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sim_strategies import TIMEOUT, budget, topologies, topology_text

from sim.faults import apply_fault
from sim.invariants import HAZARD_CONSEQUENCES, KNOWN_HAZARDS, SafetyChecker, check_converged
from sim.runner import heal_everything
from sim.scenario import Topology
from sim.world import World


class ClusterMachine(RuleBasedStateMachine):
    """One simulated cluster; Hypothesis picks the faults and when they happen."""

    world: World
    checker: SafetyChecker
    topology: Topology

    def __init__(self) -> None:
        super().__init__()
        self.timeline: list[str] = []
        self.seed = 0

    @initialize(topology=topologies(), seed=st.integers(0, 2**31 - 1))
    def build(self, topology: Topology, seed: int) -> None:
        self.topology = topology
        self.seed = seed
        self.world = World(topology, seed)
        self.checker = SafetyChecker(self.world)
        # Let the sentinels meet first: before their first hellos each one counts only
        # itself as a voter (a known start-up race, not what we test here).
        self.world.run_until(8_000)

    def _fault(self, *words: str) -> None:
        self.timeline.append(f"at {self.world.scheduler.now}ms {' '.join(words)}")
        apply_fault(self.world, words)

    def _replay_text(self) -> str:
        return (
            f"seed {self.seed}; save the text below and run it with --seed {self.seed}:\n"
            + topology_text(self.topology)
            + "\n".join(self.timeline)
            + f"\nrun {self.world.scheduler.now}ms\n"
        )

    @rule(data=st.data())
    def crash(self, data: st.DataObject) -> None:
        names = [*self.world.redis, *self.world.sentinels]
        self._fault("crash", data.draw(st.sampled_from(names)))

    @rule(data=st.data())
    def restart(self, data: st.DataObject) -> None:
        names = [*self.world.redis, *self.world.sentinels]
        self._fault("restart", data.draw(st.sampled_from(names)))

    @precondition(lambda self: len(self.topology.boxes) > 1)
    @rule(data=st.data())
    def partition(self, data: st.DataObject) -> None:
        boxes = [b.name for b in self.topology.boxes]
        left = data.draw(
            st.lists(st.sampled_from(boxes), min_size=1, max_size=len(boxes) - 1, unique=True)
        )
        right = [b for b in boxes if b not in left]
        self._fault("partition", *left, "|", *right)

    @rule()
    def heal(self) -> None:
        self._fault("heal")

    @rule(data=st.data(), ms=st.integers(500, 8_000))
    def pause(self, data: st.DataObject, ms: int) -> None:
        names = [*self.world.redis, *self.world.sentinels]
        self._fault("pause", data.draw(st.sampled_from(names)), f"{ms}ms")

    @rule(data=st.data(), ms=st.integers(-10_000, 10_000))
    def clock_jump(self, data: st.DataObject, ms: int) -> None:
        name = data.draw(st.sampled_from(list(self.world.sentinels)))
        self._fault("clock-jump", name, f"{ms}ms" if ms >= 0 else f"-{-ms}ms")

    @rule(ms=st.integers(100, 20_000))
    def advance(self, ms: int) -> None:
        self.world.run_until(self.world.scheduler.now + ms)

    def _violations(self) -> list[str]:
        """Broken rules, leaving out known hazards of the protocol and what follows."""
        rules = [v.rule for v in self.checker.violations]
        hazard = any(r in KNOWN_HAZARDS for r in rules)
        tolerated = KNOWN_HAZARDS + HAZARD_CONSEQUENCES if hazard else ()
        return [str(v) for v in self.checker.violations if v.rule not in tolerated]

    @invariant()
    def safe(self) -> None:
        if not hasattr(self, "world"):
            return
        problems = self._violations()
        problems += [f"core raised in {n} ({w}): {t}" for n, w, t in self.world.core_errors]
        assert not problems, self._replay_text() + "\n".join(problems)

    def teardown(self) -> None:
        if not hasattr(self, "world"):
            return
        self.timeline.append(f"at {self.world.scheduler.now}ms note final heal")
        heal_everything(self.world)
        t = self.topology
        self.world.run_until(self.world.scheduler.now + 2 * t.failover_timeout_ms + 25_000)
        hazard = any(v.rule in KNOWN_HAZARDS for v in self.checker.violations)
        problems = [] if hazard else check_converged(self.world)
        problems += self._violations()
        assert not problems, self._replay_text() + "\n".join(problems)


TestClusterMachine = TIMEOUT(ClusterMachine.TestCase)
TestClusterMachine.settings = budget(ci=40, long=5_000)
