"""Random fault schedules against the real core, each determined by one seed.

A failing case names its seed; ``pysentinel-sim replay SEED`` replays it and prints
the scenario, the trace and the problems.
"""

from __future__ import annotations

import collections

from hypothesis import given
from hypothesis import strategies as st
from sim_strategies import TIMEOUT, budget

from sim.random_cases import random_case, run_case

SEEDS = st.integers(min_value=0, max_value=2**31 - 1)


def check_safety(seed: int) -> None:
    """Chaos phase only: safety after every step, no exception from the core."""
    outcome = run_case(random_case(seed), seed, heal=False, kill=False)
    if outcome.problems:
        raise AssertionError(
            f"seed {seed} (replay: pysentinel-sim replay {seed}):\n" + "\n".join(outcome.problems)
        )


def check_liveness(seed: int) -> None:
    """Chaos, heal, convergence, then kill the master: a failover must happen."""
    outcome = run_case(random_case(seed), seed)
    if outcome.problems:
        raise AssertionError(
            f"seed {seed} (replay: pysentinel-sim replay {seed}):\n" + "\n".join(outcome.problems)
        )


@TIMEOUT
@budget(ci=500, long=100_000)
@given(seed=SEEDS)
def test_sim_schedules_are_safe(seed: int) -> None:
    check_safety(seed)


@TIMEOUT
@budget(ci=40, long=10_000)
@given(seed=SEEDS)
def test_sim_schedules_converge_after_heal_and_fail_over_after_kill(seed: int) -> None:
    check_liveness(seed)


def test_sim_schedules_reach_the_interesting_states() -> None:
    """Coverage: a green run means something only if these happen at all."""
    counters: collections.Counter[str] = collections.Counter()
    for seed in range(60):
        counters.update(run_case(random_case(seed), seed, kill=False).result.counters)
    for event in (
        "+tilt",
        "+elected-leader",
        "-failover-abort-not-elected",
        "-failover-abort-no-good-slave",
        "+switch-master",
        "+convert-to-slave",
    ):
        assert counters[event] > 0, (event, counters)


def test_sim_schedules_same_seed_same_trace() -> None:
    a = run_case(random_case(12345), 12345)
    b = run_case(random_case(12345), 12345)
    assert a.result.trace == b.result.trace
    assert random_case(12345) == random_case(12345)


@TIMEOUT
@budget(ci=30, long=5_000)
@given(seed=SEEDS)
def test_sim_schedules_without_faults_never_fail_over(seed: int) -> None:
    """No spurious failover: a calm network (latency, some loss) and nobody fails."""
    outcome = run_case(random_case(seed, faults=False), seed, heal=False, kill=False)
    counters = outcome.result.counters
    assert not outcome.problems, outcome.problems
    assert counters.get("+try-failover", 0) == 0, (seed, counters)
    assert counters.get("+odown", 0) == 0, (seed, counters)
