"""``pysentinel-sim analyze TOPOLOGY``: what every single and double box crash and every
two-way split does to a topology.

For each fault we run the real core in the simulator: 15 s of calm, the fault, a
fault window of ``down-after + 2 x failover-timeout + 20 s``, then everything heals
and settles. We report:

* failover: did a replica get promoted during the window, and how long after the
  fault did the first ``+switch-master`` come;
* split brain: were two redis servers of one master group masters at the same time
  *and both able to accept writes* (``min-replicas-to-write`` satisfied), sampled
  every 500 ms;
* writable: did some live client get a write acknowledged in the last 10 s of the
  window (availability);
* lost writes: acknowledged writes missing from the final master after the heal,
  and the span of time over which they were acknowledged.

If the topology declares no clients, one client is placed on every box (the worst
case needs a client that stays with the old master). The exit status is 1 when a
fault loses availability or allows split brain, unless the file says
``accept availability`` / ``accept split-brain``. Lost writes are reported only:
with asynchronous replication some loss is expected; the table says how much.
"""

from __future__ import annotations

import itertools
from typing import TextIO

import attrs

from sim.faults import apply_fault
from sim.invariants import SafetyChecker, lost_writes
from sim.runner import heal_everything
from sim.scenario import ClientSpec, ScenarioError, Topology, parse_scenario
from sim.world import World

__all__ = ["FaultReport", "analyze", "analyze_file", "faults_of"]

CALM_MS = 15_000


@attrs.frozen
class FaultReport:
    """The outcome of one fault."""

    fault: str
    failover: bool
    failover_after_ms: int | None
    split_brain: bool
    writable: bool
    lost: int
    lost_window_ms: int
    violations: tuple[str, ...]


def faults_of(topology: Topology) -> list[tuple[str, list[tuple[str, ...]]]]:
    """Every single and double box crash and every two-way split, as fault lists."""
    boxes = [b.name for b in topology.boxes]
    out: list[tuple[str, list[tuple[str, ...]]]] = []
    for b in boxes:
        out.append((f"crash box {b}", [("crash-box", b)]))
    for a, b in itertools.combinations(boxes, 2):
        out.append((f"crash boxes {a} {b}", [("crash-box", a), ("crash-box", b)]))
    first, rest = boxes[0], boxes[1:]
    for size in range(len(rest) + 1):
        for combo in itertools.combinations(rest, size):
            left = [first, *combo]
            right = [b for b in boxes if b not in left]
            if right:
                label = f"split {' '.join(left)} | {' '.join(right)}"
                out.append((label, [("partition", *left, "|", *right)]))
    return out


def _with_clients(topology: Topology) -> Topology:
    if topology.clients:
        return topology
    clients = tuple(
        ClientSpec(name=f"c{b.name}{i}", box=b.name, master=name)
        for b in topology.boxes
        for i, (name, _, _) in enumerate(topology.monitors)
    )
    return attrs.evolve(topology, clients=clients)


def run_fault(
    topology: Topology, label: str, faults: list[tuple[str, ...]], seed: int
) -> FaultReport:
    """Play one fault and measure it."""
    world = World(topology, seed)
    checker = SafetyChecker(world)
    world.run_until(CALM_MS)
    for words in faults:
        apply_fault(world, words)
    switches_before = checker.counters["+switch-master"]
    window = topology.down_after_ms + 2 * topology.failover_timeout_ms + 20_000
    end = CALM_MS + window
    split_brain = False
    first_switch: int | None = None
    t = CALM_MS
    while t < end:
        t += 500
        world.run_until(t)
        if first_switch is None and checker.counters["+switch-master"] > switches_before:
            first_switch = t - CALM_MS
        for name, _, _ in topology.monitors:
            writable_masters = [
                r
                for r in world.redis.values()
                if r.up
                and r.role == "master"
                and r.good_replicas() >= r.settings.min_replicas_to_write
                and topology.group_of(r.name) == name
            ]
            if len(writable_masters) > 1:
                split_brain = True
    recent = end - 10_000
    writable = any(
        w.acked_at is not None and w.acked_at >= recent
        for c in world.clients.values()
        if c.up
        for w in c.writes
    )
    heal_everything(world)
    world.run_until(end + 2 * topology.failover_timeout_ms + 30_000)
    lost = lost_writes(world)
    return FaultReport(
        fault=label,
        failover=first_switch is not None,
        failover_after_ms=first_switch,
        split_brain=split_brain,
        writable=writable,
        lost=lost.lost,
        lost_window_ms=lost.window_ms,
        violations=tuple(str(v) for v in checker.violations),
    )


def analyze(topology: Topology, seed: int = 1) -> list[FaultReport]:
    """Reports for every fault of ``faults_of(topology)``."""
    topology = _with_clients(topology)
    return [run_fault(topology, label, faults, seed) for label, faults in faults_of(topology)]


def analyze_file(path: str, *, seed: int, out: TextIO) -> int:
    """The CLI: print the table; the exit status says whether the topology is acceptable."""
    try:
        with open(path, encoding="utf-8") as f:
            topology = parse_scenario(f.read()).topology
    except (OSError, ScenarioError) as exc:
        out.write(f"{path}: {exc}\n")
        return 2
    reports = analyze(topology, seed)
    width = max(len(r.fault) for r in reports) if reports else 10
    out.write(f"{'fault':<{width}}  failover  after    split-brain  writable  lost writes\n")
    bad = False
    for r in reports:
        after = f"{r.failover_after_ms / 1000:.1f}s" if r.failover_after_ms is not None else "-"
        lost = f"{r.lost} ({r.lost_window_ms / 1000:.1f}s)" if r.lost else "0"
        out.write(
            f"{r.fault:<{width}}  {'yes' if r.failover else 'no':<8}  {after:<7}  "
            f"{'YES' if r.split_brain else 'no':<11}  {'yes' if r.writable else 'NO':<8}  {lost}\n"
        )
        for v in r.violations:
            out.write(f"  SAFETY VIOLATION: {v}\n")
        if r.split_brain and "split-brain" not in topology.accept:
            bad = True
        if not r.writable and "availability" not in topology.accept:
            bad = True
        if r.violations:
            bad = True
    out.write("verdict: " + ("FAIL" if bad else "ok") + "\n")
    return 1 if bad else 0
