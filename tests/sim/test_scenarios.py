"""Golden scenarios: each runs twice with the real core; both traces must be
byte-identical and equal to the golden trace stored in the scenario file.

After an intended change of behaviour, regenerate a golden with
``pysentinel-sim run sim/scenarios/<file> --seed 1 --update`` and review the diff.
"""

from __future__ import annotations

import pathlib

import pytest

from sim.runner import run_scenario
from sim.scenario import parse_scenario

SCENARIOS = sorted((pathlib.Path(__file__).parents[2] / "sim" / "scenarios").glob("*.txt"))


def test_scenarios_are_present() -> None:
    names = {p.stem for p in SCENARIOS}
    assert {
        "example1_two_sentinels",
        "example2_three_boxes",
        "example2_min_replicas",
        "example3_sentinels_on_clients",
        "example4_fewer_clients",
        "jepsen2013",
        "migration",
        "leader_crash_mid_failover",
        "manual_failover_in_partition",
        "two_masters",
        "leader_crash_after_election",
        "auth_and_renamed_commands",
        "two_leaders_one_epoch",
        "sentinel_adds_itself",
    } <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_golden_trace_is_reproduced_twice(path: pathlib.Path) -> None:
    scenario = parse_scenario(path.read_text(encoding="utf-8"))
    first = run_scenario(scenario, scenario.seed)
    second = run_scenario(scenario, scenario.seed)
    assert first.trace == second.trace, "same seed, different trace: nondeterminism"
    assert first.summary == second.summary
    broken = sorted({v.rule for v in first.violations})
    assert broken == sorted(set(scenario.expect)), [str(v) for v in first.violations]
    assert not first.core_errors, first.core_errors
    assert scenario.expected is not None, f"{path.name} has no golden trace"
    assert first.trace + "\n" + first.summary == scenario.expected, (
        f"golden trace of {path.name} changed; if intended, run "
        f"pysentinel-sim run {path} --seed 1 --update and review the diff"
    )


def _run(name: str) -> str:
    path = next(p for p in SCENARIOS if p.stem == name)
    return run_scenario(parse_scenario(path.read_text(encoding="utf-8")), 1).summary


def test_scenario_example2_partitioned_client_loses_writes_for_the_partition() -> None:
    summary = _run("example2_three_boxes")
    assert "lost: 0" not in summary
    assert "\nconverged\n" in summary


def test_scenario_example2_min_replicas_bounds_the_loss_window_to_about_10s() -> None:
    summary = _run("example2_min_replicas")
    window = int(summary.split("(longest run ")[1].split(" ms")[0])
    assert 0 < window <= 12_000


def test_scenario_example1_two_sentinels_never_fail_over() -> None:
    summary = _run("example1_two_sentinels")
    assert "sentinel s2 (up): master 10.0.0.1:6379" in summary


def test_scenario_migration_ends_on_the_new_server() -> None:
    summary = _run("migration")
    assert "redis new1 10.0.1.1:6379 (up): master" in summary
    assert "redis new2 10.0.1.2:6379 (up): slave of 10.0.1.1:6379" in summary


def test_scenario_manual_failover_in_a_partition_breaks_the_epoch_rules() -> None:
    path = next(p for p in SCENARIOS if p.stem == "manual_failover_in_partition")
    result = run_scenario(parse_scenario(path.read_text(encoding="utf-8")), 1)
    rules = {v.rule for v in result.violations}
    assert rules == {"two-leaders", "two-promotions", "config-epoch-two-masters"}
    assert "  -             " in result.summary  # a stretch with no master at all


def test_scenario_leader_and_observer_event_sequences_match_the_spec() -> None:
    """Spec §4.2: the observed event sequence of an automatic failover (quorum 2, three
    sentinels), on the leader and on a non-leader."""
    path = next(p for p in SCENARIOS if p.stem == "example2_three_boxes")
    source = parse_scenario(path.read_text(encoding="utf-8")).source
    topology_only = [
        line for line in source.splitlines() if not line.startswith(("at ", "run ", "client "))
    ]
    scenario = parse_scenario("\n".join(topology_only) + "\nat 20s crash m1\nrun 60s\n")
    result = run_scenario(scenario, 1)
    # Each sentinel's event names, in order: "<pid>:X <DD Mon YYYY HH:MM:SS.mmm> <c> <text>".
    by_pid: dict[str, list[str]] = {}
    for line in result.trace.splitlines():
        head, _day, _month, _year, _time, _level, text = line.split(" ", 6)
        if head.endswith(":X"):
            by_pid.setdefault(head, []).append(text.split(" ", 1)[0])
    leader = next(p for p, evs in by_pid.items() if "+elected-leader" in evs)
    events = [
        e for e in by_pid[leader] if e.startswith(("+", "-")) and e not in ("+monitor", "+sentinel")
    ]
    start = events.index("+sdown")
    sequence = events[start : start + 21]
    assert sequence == [
        "+sdown",
        "+odown",
        "+new-epoch",
        "+try-failover",
        "+vote-for-leader",
        "+elected-leader",
        "+failover-state-select-slave",
        "+selected-slave",
        "+failover-state-send-slaveof-noone",
        "+failover-state-wait-promotion",
        "+promoted-slave",
        "+failover-state-reconf-slaves",
        "+slave-reconf-sent",
        "-odown",
        "+slave-reconf-inprog",
        "+slave-reconf-done",
        "+failover-end",
        "+switch-master",
        "+slave",
        "+slave",
        "+sdown",
    ]
    observer = next(p for p in by_pid if p != leader)
    seen = [e for e in by_pid[observer] if e.startswith(("+", "-")) and e != "+slave"]
    for expected in (
        "+sdown",
        "+new-epoch",
        "+vote-for-leader",
        "+config-update-from",
        "+switch-master",
    ):
        assert expected in seen, (expected, seen)
    assert seen.index("+config-update-from") + 1 == seen.index("+switch-master")
