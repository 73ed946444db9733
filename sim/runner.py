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

__all__ = ["RunResult", "Timeline", "heal_everything", "run_scenario", "summarize"]


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
    """The final heal: network whole, every box and process up and running (paused ones
    get SIGCONT), clocks kept."""
    world.note("final heal")
    world.net.heal()
    for box in world.net.boxes.values():
        box.up = True
    for proc in (*world.redis.values(), *world.sentinels.values(), *world.clients.values()):
        if not proc.up:
            proc.restart()
        elif proc.paused:
            proc.resume_now()


def run_scenario(
    scenario: Scenario, seed: int, *, core_factory: CoreFactory | None = None
) -> RunResult:
    """Build the world, play the timeline, and report."""
    started = time.perf_counter()
    world = World(scenario.topology, seed, core_factory=core_factory)
    checker = SafetyChecker(world)
    world.note(world.pid_legend())
    schedule_faults(world, scenario.timeline)
    timeline = Timeline(world)
    world.run_until(scenario.duration_ms)
    wall = time.perf_counter() - started
    lost = lost_writes(world)
    unconverged = check_converged(world)
    summary = summarize(world, lost, unconverged) + timeline.text()
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


class Timeline:
    """Samples every ``every_ms``: who is master, what the sentinels say, writes ok/failed."""

    def __init__(self, world: World, every_ms: int = 5_000) -> None:
        self.world = world
        self.every_ms = every_ms
        self.rows: list[str] = []
        self._seen: dict[str, int] = {}
        world.scheduler.after(every_ms, self._sample)

    def _name(self, addr: tuple[str, int] | None) -> str:
        if addr is None:
            return "-"
        model = self.world.redis_by_addr(*addr)
        return model.name if model is not None else f"{addr[0]}:{addr[1]}"

    def _sample(self) -> None:
        w = self.world
        masters = ",".join(r.name for r in w.redis.values() if r.up and r.role == "master")
        views = [
            self._name(s.master_view(w.topology.master_name)) if s.up else "down"
            for s in w.sentinels.values()
        ]
        ok = failed = 0
        for c in w.clients.values():
            start = self._seen.get(c.name, 0)
            done = [x for x in c.writes[start:] if x.outcome]
            self._seen[c.name] = start + len(done)
            ok += sum(1 for x in done if x.outcome == "ok")
            failed += sum(1 for x in done if x.outcome != "ok")
        self.rows.append(
            f"{w.scheduler.now // 1000:>6}s  {masters or '-':<12}  {' '.join(views):<24}  "
            f"{ok}/{failed}"
        )
        w.scheduler.after(self.every_ms, self._sample)

    def text(self) -> str:
        """The table."""
        head = "timeline:  time  masters       sentinels say             writes ok/failed\n"
        return head + "".join(f"  {row}\n" for row in self.rows)


def summarize(world: World, lost: LostWrites, unconverged: list[str]) -> str:
    """The end state, as text (deterministic: no wall-clock numbers)."""
    name = world.topology.master_name
    lines = [f"end of run at t={world.scheduler.now}ms"]
    for s in world.sentinels.values():
        view = s.master_view(name)
        where = f"{view[0]}:{view[1]}" if view else "-"
        epoch = s.core.current_epoch if s.core is not None else "-"
        state = "up" if s.up else "down"
        more = ""
        for other, _, _ in world.topology.more_monitors:
            v = s.master_view(other)
            more += f", {other} {v[0]}:{v[1]}" if v else f", {other} -"
        lines.append(f"sentinel {s.name} ({state}): master {where}{more} epoch {epoch}")
    for r in world.redis.values():
        state = "up" if r.up else "down"
        role = r.role if r.master is None else f"slave of {r.master[0]}:{r.master[1]}"
        lines.append(f"redis {r.name} {r.ip}:{r.port} ({state}): {role} offset {r.offset}")
    lines.append(str(lost))
    lines.append("converged" if not unconverged else "not converged: " + "; ".join(unconverged))
    return "\n".join(lines) + "\n"
