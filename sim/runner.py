"""Run a scenario with one seed: faults, safety after every step, a report at the end.

``run_scenario`` is what ``python -m sim run`` and the golden tests use;
``heal_everything`` is the final phase of the property tests (after it the world
must converge, see ``invariants.check_converged``).
"""

from __future__ import annotations

import time

import attrs

from sim.faults import schedule_faults
from sim.invariants import LostWrites, SafetyChecker, Violation, check_converged, lost_writes
from sim.scenario import Scenario
from sim.world import CoreFactory, World

__all__ = ["RunResult", "heal_everything", "run_scenario"]


@attrs.frozen(kw_only=True)
class RunResult:
    """What one run produced."""

    seed: int
    trace: str
    violations: tuple[Violation, ...]
    core_errors: tuple[tuple[str, str, str], ...]
    lost: LostWrites
    #: Problems keeping the end state from being converged (informational for scenarios).
    unconverged: tuple[str, ...]
    counters: dict[str, int]
    summary: str
    sim_ms: int
    wall_s: float
    steps: int


def heal_everything(world: World) -> None:
    """The final heal: network whole, every box and process up and running, clocks kept."""
    world.note("final heal")
    world.net.heal()
    for box in world.net.boxes.values():
        box.up = True
    for proc in (*world.redis.values(), *world.sentinels.values(), *world.clients.values()):
        if not proc.up:
            proc.restart()


def run_scenario(
    scenario: Scenario, seed: int, *, core_factory: CoreFactory | None = None
) -> RunResult:
    """Build the world, play the timeline, and report."""
    started = time.perf_counter()
    world = World(scenario.topology, seed, core_factory=core_factory)
    checker = SafetyChecker(world)
    world.note(world.pid_legend())
    schedule_faults(world, scenario.timeline)
    world.run_until(scenario.duration_ms)
    wall = time.perf_counter() - started
    lost = lost_writes(world)
    unconverged = check_converged(world)
    summary = _summary(world, lost, unconverged)
    return RunResult(
        seed=seed,
        trace=world.trace.text(),
        violations=tuple(checker.violations),
        core_errors=tuple(world.core_errors),
        lost=lost,
        unconverged=tuple(unconverged),
        counters=dict(checker.counters),
        summary=summary,
        sim_ms=scenario.duration_ms,
        wall_s=wall,
        steps=world.scheduler.steps,
    )


def _summary(world: World, lost: LostWrites, unconverged: list[str]) -> str:
    """The end state, as text (deterministic: no wall-clock numbers)."""
    name = world.topology.master_name
    lines = [f"end of run at t={world.scheduler.now}ms"]
    for s in world.sentinels.values():
        view = s.master_view(name)
        where = f"{view[0]}:{view[1]}" if view else "-"
        epoch = s.core.current_epoch if s.core is not None else "-"
        state = "up" if s.up else "down"
        lines.append(f"sentinel {s.name} ({state}): master {where} epoch {epoch}")
    for r in world.redis.values():
        state = "up" if r.up else "down"
        role = r.role if r.master is None else f"slave of {r.master[0]}:{r.master[1]}"
        lines.append(f"redis {r.name} {r.ip}:{r.port} ({state}): {role} offset {r.offset}")
    lines.append(str(lost))
    lines.append("converged" if not unconverged else "not converged: " + "; ".join(unconverged))
    return "\n".join(lines) + "\n"
