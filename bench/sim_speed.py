"""Simulator speed: simulated seconds per wall second, and Hypothesis examples per second.

Only pysentinel's simulator is measured here (redis-sentinel has none), so the
tables have no ratio column. Figures:

* ``sim_s_per_wall_s``: a one-hour scenario (five boxes, one sentinel on each,
  three redis servers, quorum 3, ``down-after-milliseconds`` 5000,
  ``failover-timeout`` 30000) with a fault every 150 simulated seconds, cycling
  through master crash and restart, a sentinel crash and restart, a minority and a
  majority partition and their heal, a 10 s pause of a redis and a sentinel clock
  jump; played through ``sim.runner.run_scenario`` (the engine of ``pysentinel-sim
  run``, safety checked after every step), with and without one client writing
  every 100 ms. Also ``events_per_s`` (scheduler steps per wall second).
* ``examples_per_s``: Hypothesis ``@given`` over seeds of ``sim.random_cases``
  (the engine of the property tests), for the chaos-only safety property and for
  the full chaos/heal/kill liveness property; examples divided by wall time.

Usage: ``python3 bench/sim_speed.py [--reps 3] [--examples 40] [--out DIR]``;
about two minutes by default.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, emit, machine, summarize, table, write_results

from sim.random_cases import BENCH_TOPOLOGY, random_case, run_case
from sim.runner import run_scenario
from sim.scenario import parse_scenario

#: The simulator's own benchmark topology (5 sentinels on 5 boxes, 3 Redis servers).
TOPOLOGY = BENCH_TOPOLOGY.lstrip("\n")
#: One fault every FAULT_EVERY_S simulated seconds, cycling through these.
FAULTS = (
    "crash r1",
    "restart r1",
    "crash s2",
    "restart s2",
    "partition A B | C D E",
    "heal",
    "pause r2 10s",
    "partition A | B C D E",
    "heal",
    "clock-jump s3 5s",
    "crash r2",
    "restart r2",
)
FAULT_EVERY_S = 150
HOUR_S = 3600


def hour_scenario(clients: int) -> str:
    """The one-hour scenario text."""
    lines = [TOPOLOGY.rstrip("\n")]
    lines += [f"client c{i + 1} {'ABCDE'[i % 5]} interval 100" for i in range(clients)]
    for k, t in enumerate(range(FAULT_EVERY_S, HOUR_S, FAULT_EVERY_S)):
        lines.append(f"at {t}s {FAULTS[k % len(FAULTS)]}")
    lines.append(f"run {HOUR_S}s")
    return "\n".join(lines) + "\n"


def hour_run(clients: int, seed: int) -> dict[str, object]:
    scenario = parse_scenario(hour_scenario(clients))
    started = time.perf_counter()
    result = run_scenario(scenario, seed)
    wall = time.perf_counter() - started
    return {
        "kind": "pysentinel",
        "what": f"1 h scenario, 5 sentinels, 3 redis, {clients} client(s)",
        "seed": seed,
        "wall_s": wall,
        "sim_s_per_wall_s": result.sim_ms / 1000 / wall,
        "events_per_s": result.steps / wall,
        "violations": len(result.violations),
        "core_errors": len(result.core_errors),
        "switch_master": result.counters.get("+switch-master", 0),
    }


def examples_rate(prop: str, examples: int) -> dict[str, object]:
    """Run a Hypothesis property over ``examples`` seeds; examples per wall second."""
    count = [0]

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
    )
    @given(seed=st.integers(min_value=0, max_value=2**31 - 1))
    def check(seed: int) -> None:
        count[0] += 1
        if prop == "safety":
            outcome = run_case(random_case(seed), seed, heal=False, kill=False)
        else:
            outcome = run_case(random_case(seed), seed)
        assert not outcome.problems, (seed, outcome.problems)

    started = time.perf_counter()
    check()
    wall = time.perf_counter() - started
    return {
        "kind": "pysentinel",
        "what": f"hypothesis, {prop} property",
        "examples": count[0],
        "wall_s": wall,
        "examples_per_s": count[0] / wall,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3, help="runs of the one-hour scenario")
    parser.add_argument("--examples", type=int, default=40, help="Hypothesis examples per run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    info = machine()
    records: list[dict[str, object]] = []
    for rep in range(args.reps):
        for clients in (0, 1):
            rec = hour_run(clients, seed=rep + 1)
            emit(rec)
            records.append(rec)
    for prop in ("safety", "liveness"):
        rec = examples_rate(prop, args.examples)
        emit(rec)
        records.append(rec)
    keys = ("what",)
    rows = summarize(records, keys, ("sim_s_per_wall_s", "events_per_s", "examples_per_s"))
    text = table(
        rows,
        keys,
        {"sim_s_per_wall_s": "sim s / wall s", "events_per_s": "1/s", "examples_per_s": "1/s"},
    )
    print(text)
    params = {
        "reps": args.reps,
        "examples": args.examples,
        "fault_every_s": FAULT_EVERY_S,
        "faults": FAULTS,
    }
    path = write_results(
        "sim_speed", args.out, info=info, params=params, records=records, rows=rows, text_table=text
    )
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
