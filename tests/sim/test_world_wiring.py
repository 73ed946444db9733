"""World wiring, tested with a tiny fake core (the real one is tested in test_scenarios)."""

from __future__ import annotations

import random

from sim_fake_core import FakeCore

from pysentinel.config import SentinelConfig
from sim.faults import apply_fault
from sim.invariants import SafetyChecker, lost_writes
from sim.runner import run_scenario
from sim.scenario import parse_scenario
from sim.world import Core, World

TOPOLOGY = """
box A 10.0.0.1
box B 10.0.0.2
box C 10.0.0.3
redis r1 A
redis r2 B replicaof r1
sentinel s1 A
sentinel s2 B
sentinel s3 C
client c1 C
monitor mymaster r1 2
set down-after-milliseconds 2000
"""


def fake(config: SentinelConfig, rng: random.Random) -> Core:
    core: Core = FakeCore(config, rng)  # type: ignore[assignment]
    return core


def _world(seed: int = 1) -> World:
    return World(parse_scenario(TOPOLOGY).topology, seed, core_factory=fake)


def test_world_sentinel_monitors_and_detects_a_crash() -> None:
    w = _world()
    w.run_until(5_000)
    assert "+sdown" not in w.trace.text()
    apply_fault(w, ("crash", "r1"))
    w.run_until(10_000)
    assert w.trace.text().count("+sdown master x") == 3
    apply_fault(w, ("restart", "r1"))
    w.run_until(20_000)
    assert w.trace.text().count("-sdown master x") == 3


def test_world_partition_makes_only_the_cut_sentinel_see_sdown() -> None:
    w = _world()
    w.run_until(3_000)
    apply_fault(w, ("partition", "A", "B", "|", "C"))
    w.run_until(40_000)
    lines = [line for line in w.trace.lines if "+sdown" in line]
    assert len(lines) == 1
    assert lines[0].startswith(f"{w.sentinels['s3'].pid}:X ")


def test_world_client_discovers_and_writes_and_nothing_is_lost() -> None:
    w = _world()
    w.run_until(10_000)
    c = w.clients["c1"]
    assert c.current == "10.0.0.1:6379"
    assert len(c.acknowledged()) > 50
    assert w.redis["r2"].data == w.redis["r1"].data
    assert lost_writes(w).lost == 0


def test_world_persisted_config_survives_a_restart() -> None:
    w = _world()
    w.run_until(1_000)
    s = w.sentinels["s1"]
    assert s.core is not None
    myid = s.core.myid
    assert f"sentinel myid {myid}" in s.config_text
    apply_fault(w, ("crash", "s1"))
    w.run_until(2_000)
    assert s.core is None
    apply_fault(w, ("restart", "s1"))
    w.run_until(3_000)
    assert s.core is not None and s.core.myid == myid


def test_world_pause_and_clock_jump_cause_tilt() -> None:
    w = _world()
    w.run_until(1_000)
    apply_fault(w, ("pause", "s1", "5s"))
    apply_fault(w, ("clock-jump", "s2", "10s"))
    w.run_until(8_000)
    tilts = [line.split(":")[0] for line in w.trace.lines if "+tilt" in line]
    assert sorted(tilts) == sorted([str(w.sentinels["s1"].pid), str(w.sentinels["s2"].pid)])


def test_world_admin_failover_reply_and_flush() -> None:
    w = _world()
    w.run_until(1_000)
    apply_fault(w, ("failover", "s1"))
    assert "s1 SENTINEL FAILOVER -> b'OK'" in w.trace.text()
    assert "sentinel current-epoch 1" in w.sentinels["s1"].config_text


def test_world_same_seed_same_trace_other_seed_other_trace() -> None:
    scenario = parse_scenario(TOPOLOGY + "at 3s crash r1\nat 9s restart r1\nrun 15s\n")
    a = run_scenario(scenario, 7, core_factory=fake)
    b = run_scenario(scenario, 7, core_factory=fake)
    c = run_scenario(scenario, 8, core_factory=fake)
    assert a.trace == b.trace
    assert a.summary == b.summary
    assert a.trace != c.trace


def test_world_safety_checker_catches_double_votes() -> None:
    w = _world()
    checker = SafetyChecker(w)
    w.run_until(1_000)
    assert checker.violations == []
    core = w.sentinels["s1"].core
    assert isinstance(core, FakeCore)
    core.vote_randomly = True
    w.run_until(1_500)
    assert checker.violations
    assert checker.violations[0].rule == "voted-twice"


def test_world_core_exception_is_recorded_and_the_sentinel_dies() -> None:
    w = _world()
    w.run_until(500)
    core = w.sentinels["s2"].core
    assert core is not None

    def boom(now: int) -> list[object]:
        raise RuntimeError("planted")

    core.tick = boom  # type: ignore[method-assign,assignment]
    w.run_until(1_000)
    assert not w.sentinels["s2"].up
    assert w.core_errors and w.core_errors[0][0] == "s2"
    assert "RuntimeError: planted" in w.core_errors[0][2]


def test_world_client_reconnects_after_client_kill_while_idle() -> None:
    w = _world()
    w.run_until(5_000)
    client = w.clients["c1"]
    before = len(client.acknowledged())
    r1 = w.redis["r1"]
    victims = [c for c in r1.clients.values() if c.kind == "normal"]
    assert victims
    for v in victims:
        r1._kill_client(v)
    w.run_until(10_000)
    assert len(client.acknowledged()) > before + 30


def test_world_clog_cuts_boxes_one_by_one_and_restores_them_all() -> None:
    w = _world()
    w.run_until(1_000)
    apply_fault(w, ("clog", "6s"))
    cut_counts = []
    for t in range(1_500, 8_000, 500):
        w.run_until(t)
        cut_counts.append(len(w.net.cuts()))
    assert max(cut_counts) == 6  # every box isolated: all 6 directed paths cut
    assert w.net.cuts() == []


def test_world_values_become_what_hiredis_would_decode() -> None:
    from pysentinel.core.values import (
        NULL,
        Array,
        Bool,
        Bulk,
        Error,
        ErrorReply,
        Int,
        Map,
        Push,
        Simple,
    )
    from sim.world import to_in_reply

    assert to_in_reply(Simple("OK")) == b"OK"
    assert to_in_reply(Error("ERR x")) == ErrorReply("ERR x")
    assert to_in_reply(Int(3)) == 3
    assert to_in_reply(NULL) is None
    assert to_in_reply(Array((Bulk(b"a"), Int(1)))) == (b"a", 1)
    assert to_in_reply(Map(((Bulk(b"k"), Bulk(b"v")),))) == (b"k", b"v")
    assert to_in_reply(Push((Bulk(b"message"),))) == (b"message",)
    assert to_in_reply(Bool(True)) == 1
