"""``python -m sim`` / ``pysentinel-sim``: run a scenario, replay a seed, analyze a topology.

Usage::

    pysentinel-sim run SCENARIO [--seed N] [--update] [--quiet]
    pysentinel-sim SCENARIO [--seed N]            (same as run)
    pysentinel-sim replay SEED                    (a property-test case, by its seed)
    pysentinel-sim analyze TOPOLOGY [--seed N]
    pysentinel-sim bench [--seconds S]

``run`` prints the trace (redis log format), then the end state, the lost-write
accounting and any safety violation; the exit status is 1 when a safety property
broke or the core raised. ``--update`` writes the trace back into the scenario file
as its golden trace (after ``----``).
"""

from __future__ import annotations

import argparse
import sys

from sim.runner import RunResult, run_scenario
from sim.scenario import SEPARATOR, ScenarioError, parse_scenario

__all__ = ["main"]


def _print_result(result: RunResult, *, quiet: bool) -> None:
    if not quiet:
        sys.stdout.write(result.trace)
        sys.stdout.write("\n")
    sys.stdout.write(result.summary)
    for v in result.violations:
        sys.stdout.write(f"SAFETY VIOLATION: {v}\n")
    for name, what, text in result.core_errors:
        sys.stdout.write(f"CORE EXCEPTION in {name} ({what}):\n{text}\n")


def _run(args: argparse.Namespace) -> int:
    try:
        with open(args.scenario, encoding="utf-8") as f:
            text = f.read()
        scenario = parse_scenario(text)
    except (OSError, ScenarioError) as exc:
        sys.stderr.write(f"{args.scenario}: {exc}\n")
        return 2
    result = run_scenario(scenario, scenario.seed if args.seed is None else args.seed)
    _print_result(result, quiet=args.quiet)
    if args.update:
        golden = result.trace + "\n" + result.summary
        with open(args.scenario, "w", encoding="utf-8") as f:
            f.write(scenario.source.rstrip("\n") + "\n" + SEPARATOR + "\n" + golden)
    broken = sorted({v.rule for v in result.violations})
    if broken != sorted(set(scenario.expect)) or result.core_errors:
        return 1
    return 0


def _replay(args: argparse.Namespace) -> int:
    from sim.random_cases import random_case, run_case

    scenario = random_case(args.seed)
    sys.stdout.write(scenario.source)
    sys.stdout.write(SEPARATOR + "\n")
    outcome = run_case(scenario, args.seed)
    _print_result(outcome.result, quiet=args.quiet)
    for problem in outcome.problems:
        sys.stdout.write(f"PROBLEM: {problem}\n")
    return 1 if outcome.problems else 0


def _analyze(args: argparse.Namespace) -> int:
    from sim.analyze import analyze_file

    return analyze_file(args.topology, seed=args.seed, out=sys.stdout)


def _bench(args: argparse.Namespace) -> int:
    from sim.random_cases import bench

    bench(args.seconds, out=sys.stdout)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``pysentinel-sim`` and ``python -m sim``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = ("run", "replay", "analyze", "bench")
    if argv and argv[0] not in commands and not argv[0].startswith("-"):
        argv.insert(0, "run")
    parser = argparse.ArgumentParser(prog="pysentinel-sim")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario file and print its trace")
    run.add_argument("scenario")
    run.add_argument("--seed", type=int, default=None, help="default: the file's seed, or 1")
    run.add_argument("--update", action="store_true", help="rewrite the golden trace")
    run.add_argument("--quiet", action="store_true", help="only the summary")
    run.set_defaults(func=_run)
    replay = sub.add_parser("replay", help="replay a property-test case by its seed")
    replay.add_argument("seed", type=int)
    replay.add_argument("--quiet", action="store_true")
    replay.set_defaults(func=_replay)
    analyze = sub.add_parser("analyze", help="failover, split brain and write loss per fault")
    analyze.add_argument("topology")
    analyze.add_argument("--seed", type=int, default=1)
    analyze.set_defaults(func=_analyze)
    bench = sub.add_parser("bench", help="simulated seconds per wall second")
    bench.add_argument("--seconds", type=float, default=10.0)
    bench.set_defaults(func=_bench)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
