"""pysentinel-sim: run, replay, analyze; the scenario parser's errors."""

from __future__ import annotations

import io
import pathlib

import pytest

from sim.__main__ import main
from sim.analyze import analyze_file, faults_of
from sim.scenario import ScenarioError, parse_scenario, parse_time

THREE_BOXES = """
box A 10.0.0.1
box B 10.0.0.2
box C 10.0.0.3
redis r1 A
redis r2 B replicaof r1
redis r3 C replicaof r1
sentinel s1 A
sentinel s2 B
sentinel s3 C
monitor mymaster r1 2
"""


def test_scenario_parse_times_and_errors() -> None:
    assert parse_time("500ms") == 500
    assert parse_time("20s") == 20_000
    assert parse_time("2m") == 120_000
    assert parse_time("1.5s") == 1500
    with pytest.raises(ScenarioError, match="line 2: unknown option bogus"):
        parse_scenario("box A 10.0.0.1\nredis r1 A bogus 1\n")
    with pytest.raises(ScenarioError, match="unknown box"):
        parse_scenario("box A 10.0.0.1\nredis r1 Z\nmonitor m r1 1\n")
    with pytest.raises(ScenarioError, match="unknown setting"):
        parse_scenario("set nonsense 1\n")


def test_scenario_golden_part_is_split_off() -> None:
    s = parse_scenario(THREE_BOXES + "at 1s heal\nrun 5s\n----\nexpected\n")
    assert s.expected == "expected\n"
    assert s.timeline == ((1000, ("heal",)),)
    assert s.duration_ms == 5000


def test_cli_run_prints_summary_and_succeeds(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.txt"
    path.write_text(THREE_BOXES + "at 5s crash r1\nrun 30s\n")
    assert main([str(path), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "# +switch-master mymaster 10.0.0.1 6379" in out
    assert "end of run at t=30000ms" in out


def test_cli_run_update_writes_a_golden_that_then_matches(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.txt"
    path.write_text(THREE_BOXES + "run 5s\n")
    assert main(["run", str(path), "--update", "--quiet"]) == 0
    scenario = parse_scenario(path.read_text())
    assert scenario.expected is not None
    assert "+monitor master mymaster 10.0.0.1 6379 quorum 2" in scenario.expected


def test_cli_replay_prints_the_case(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "7", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# random case 7\n")
    assert "end of run" in out


def test_analyze_lists_every_single_double_crash_and_split() -> None:
    labels = [label for label, _ in faults_of(parse_scenario(THREE_BOXES).topology)]
    assert labels == [
        "crash box A",
        "crash box B",
        "crash box C",
        "crash boxes A B",
        "crash boxes A C",
        "crash boxes B C",
        "split A | B C",
        "split A B | C",
        "split A C | B",
    ]


def test_analyze_three_boxes_finds_split_brain_and_unavailability(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "topo.txt"
    path.write_text(THREE_BOXES)
    out = io.StringIO()
    assert analyze_file(str(path), seed=1, out=out) == 1
    table = {line[:16].strip(): line for line in out.getvalue().splitlines()}
    assert "YES" in table["split A | B C"]
    assert table["crash box A"].split()[3] == "yes"  # failover happens
    assert "NO" in table["crash boxes A B"]  # no majority left: not writable
    path.write_text(THREE_BOXES + "accept split-brain availability\n")
    assert analyze_file(str(path), seed=1, out=io.StringIO()) == 0
