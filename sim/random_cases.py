"""Random topologies and fault schedules, each fully determined by one integer seed.

``random_case(seed)`` writes a scenario (as scenario text, so a failing case can be
printed, saved and replayed with ``pysentinel-sim replay SEED``); ``run_case`` plays
it in three phases and lists every problem:

1. chaos: the random faults, with safety checked after every sentinel step;
2. heal: network whole, everything restarted; after ``settle`` the world must have
   converged (``invariants.check_converged``);
3. kill: the converged master crashes for good; a replica must be promoted and the
   world must converge again. In half of the cases the network is also split in two
   at that moment: then a failover must happen when one side holds a majority (and
   the quorum) of the sentinels and a usable replica (liveness: they can talk).

Timings are shortened so that hundreds of cases fit in CI: ``down-after`` 1-3 s,
``failover-timeout`` 4-10 s, ``SENTINEL DEBUG tilt-period 5000`` at every start.
"""

from __future__ import annotations

import random
import time
from typing import TextIO

import attrs

from sim.faults import schedule_faults
from sim.invariants import (
    HAZARD_CONSEQUENCES,
    KNOWN_HAZARDS,
    SafetyChecker,
    check_converged,
    lost_writes,
)
from sim.runner import RunResult, heal_everything, summarize
from sim.scenario import Scenario, parse_scenario
from sim.world import CoreFactory, World

__all__ = ["CaseOutcome", "bench", "random_case", "run_case"]

#: Where the chaos phase ends (virtual ms).
CHAOS_MS = 30_000


def random_case(seed: int, *, faults: bool = True) -> Scenario:
    """The scenario for ``seed`` (a pure function of it)."""
    rng = random.Random(f"case/{seed}")
    n_boxes = rng.randint(1, 5)
    boxes = [chr(ord("A") + i) for i in range(n_boxes)]
    n_sentinels = rng.randint(1, 7)
    n_redis = rng.randint(1, 4)
    quorum = rng.randint(1, n_sentinels)
    lines = [f"# random case {seed}"]
    lines += [f"box {b} 10.0.0.{i + 1}" for i, b in enumerate(boxes)]
    ports: dict[str, int] = {}
    # Sometimes a second master group (the last redis, and r3 under it when there are
    # four): peer links are then shared between the two masters.
    second = n_redis >= 2 and rng.random() < 0.25
    for i in range(n_redis):
        box = rng.choice(boxes)
        port = 6379 + sum(1 for b in ports.values() if b == ord(box))
        ports[f"r{i + 1}"] = ord(box)
        if i == 0 or (second and i == n_redis - 1):
            extra = ""
        elif second and n_redis == 4 and i == 2:
            extra = " replicaof r4"
        else:
            extra = " replicaof r1"
        lines.append(f"redis r{i + 1} {box} port {port}{extra}")
    sentinel_ports: dict[str, int] = {}
    for i in range(n_sentinels):
        box = rng.choice(boxes)
        port = 26379 + sentinel_ports.get(box, 0)
        sentinel_ports[box] = sentinel_ports.get(box, 0) + 1
        lines.append(f"sentinel s{i + 1} {box} port {port}")
    for i in range(rng.randint(0, 2)):
        group = " master other" if second and i == 1 else ""
        lines.append(f"client c{i + 1} {rng.choice(boxes)} interval 250{group}")
    down_after = rng.choice([1000, 2000, 3000])
    failover_timeout = rng.choice([4000, 6000, 10000])
    lines.append(f"monitor mymaster r1 {quorum}")
    if second:
        lines.append(f"monitor other r{n_redis} {rng.randint(1, n_sentinels)}")
    lines += [
        f"set down-after-milliseconds {down_after}",
        f"set failover-timeout {failover_timeout}",
        "set sentinel-debug tilt-period 5000",
        f"set latency 1 {rng.choice([2, 5, 20])}",
    ]
    if rng.random() < 0.2:
        lines.append("set loss 0.05")
    if rng.random() < 0.2:
        lines.append("set requirepass s3cret")
    if rng.random() < 0.2:
        lines += ["set rename-command CONFIG GUESSME", "set rename-command SLAVEOF REPLX"]
    procs = [f"r{i + 1}" for i in range(n_redis)] + [f"s{i + 1}" for i in range(n_sentinels)]
    n_faults = rng.randint(1, 8) if faults else 0
    # Faults start once the sentinels had time to find each other (hellos every 2 s):
    # sentinels that don't know each other each elect themselves, as in redis.
    first = 6_000
    if faults and n_redis > 1 and rng.random() < 0.15:
        # SENTINEL FAILOVER skips the election: on a partitioned sentinel it reuses an
        # epoch another sentinel may have used (two configs with one config epoch, which
        # never converge: redis-sentinel's own behaviour). So only while all is well.
        lines.append(f"at 5000ms failover s{rng.randint(1, n_sentinels)}")
        first = 8_000
    times = sorted(rng.randint(first, CHAOS_MS - 2_000) for _ in range(n_faults))
    for t in times:
        lines.append(f"at {t}ms {_random_fault(rng, boxes, procs)}")
    settle = 2 * failover_timeout + 25_000
    lines.append(f"run {CHAOS_MS + settle}ms")
    return parse_scenario("\n".join(lines) + "\n")


def _random_fault(rng: random.Random, boxes: list[str], procs: list[str]) -> str:
    kind = rng.choice(
        [
            "crash",
            "crash",
            "restart",
            "crash-box",
            "restart-box",
            "pause",
            "partition",
            "partition",
            "cut",
            "isolate",
            "heal",
            "clog",
            "clock-jump",
            "priority",
        ]
    )
    if kind in ("crash", "restart"):
        proc = rng.choice(procs)
        lose = " lose-data" if kind == "crash" and rng.random() < 0.25 else ""
        n_sentinels = sum(1 for p in procs if p.startswith("s"))
        if lose and proc.startswith("s") and n_sentinels < 3:
            # A reinstalled sentinel learns the current config only from its peers; a
            # lone one would monitor the old master forever (operator error, not a bug).
            lose = ""
        return f"{kind} {proc}{lose}"
    if kind in ("crash-box", "restart-box", "isolate"):
        return f"{kind} {rng.choice(boxes)}"
    if kind == "pause":
        return f"pause {rng.choice(procs)} {rng.choice([1, 3, 8, 40])}s"
    if kind == "partition" and len(boxes) > 1:
        shuffled = list(boxes)
        rng.shuffle(shuffled)
        cut = rng.randint(1, len(boxes) - 1)
        return f"partition {' '.join(shuffled[:cut])} | {' '.join(shuffled[cut:])}"
    if kind == "cut" and len(boxes) > 1:
        a, b = rng.sample(boxes, 2)
        return f"cut {a} {b}"
    if kind == "clog":
        return f"clog {rng.randint(2, 10)}s"
    if kind == "clock-jump":
        sentinels = [p for p in procs if p.startswith("s")]
        # Backwards only a little: a step back of X blinds a sentinel for X (its stored
        # times are in the future), as in redis; the runtime's clock is monotonic anyway.
        sign = rng.choice(["", "-"])
        size = rng.choice([3, 10] if sign else [3, 10, 120])
        return f"clock-jump {rng.choice(sentinels)} {sign}{size}s"
    redis = [p for p in procs if p.startswith("r")]
    if kind == "priority" and len(redis) > 1:
        return f"priority {rng.choice(redis[1:])} {rng.choice([0, 1, 100])}"
    return "heal"


@attrs.frozen
class CaseOutcome:
    """A played case and what went wrong in it (empty ``problems``: all good)."""

    result: RunResult
    problems: tuple[str, ...]


def run_case(
    scenario: Scenario,
    seed: int,
    *,
    core_factory: CoreFactory | None = None,
    heal: bool = True,
    kill: bool = True,
) -> CaseOutcome:
    """Chaos; then (``heal``) heal, settle, check convergence; then (``kill``) kill the
    master and check that a failover happens and the world converges again.
    """
    started = time.perf_counter()
    world = World(scenario.topology, seed, core_factory=core_factory)
    checker = SafetyChecker(world)
    world.note(world.pid_legend())
    schedule_faults(world, scenario.timeline)
    world.run_until(CHAOS_MS)
    problems: list[str] = []
    unconverged: list[str] = []
    if heal:
        heal_everything(world)
        world.run_until(scenario.duration_ms)
        unconverged = check_converged(world)
        problems += [f"after heal: {p}" for p in unconverged]
    t = scenario.topology
    if heal and kill and not unconverged and not checker.violations and len(world.redis) > 1:
        name = t.master_name
        view = next(s.master_view(name) for s in world.sentinels.values() if s.up)
        victim = world.redis_by_addr(*view) if view else None
        usable = [
            r
            for r in world.redis.values()
            if r.up
            and r is not victim
            and r.settings.replica_priority > 0
            and t.group_of(r.name) == name
        ]
        if victim is not None and usable:
            world.note(f"kill the master {victim.name} for good")
            victim.crash()
            split = _kill_split(world, seed)
            before = checker.counters["+switch-master"]
            world.run_until(
                world.scheduler.now + t.down_after_ms + 3 * t.failover_timeout_ms + 15_000
            )
            switched = checker.counters["+switch-master"] > before
            if split is None and not switched:
                problems.append(f"no failover after the master {victim.name} was killed")
            elif split is None:
                problems += [f"after kill: {p}" for p in check_converged(world)]
            elif _side_can_fail_over(world, split, victim) and not switched:
                # A majority of the sentinels and a usable replica can talk: must fail over.
                problems.append(
                    f"no failover after the master {victim.name} was killed and the "
                    f"network split {' '.join(split[0])} | {' '.join(split[1])}"
                )
    hazards = [v for v in checker.violations if v.rule in KNOWN_HAZARDS]
    tolerated = KNOWN_HAZARDS + HAZARD_CONSEQUENCES if hazards else ()
    if hazards:
        # A known hazard of the protocol; its consequences (disagreeing views) too.
        problems = [
            p for p in problems if not p.startswith(("after heal", "after kill", "no failover"))
        ]
    problems += [f"safety: {v}" for v in checker.violations if v.rule not in tolerated]
    problems += [
        f"core raised in {n} ({what}): {text.strip().splitlines()[-1]}"
        for n, what, text in world.core_errors
    ]
    lost = lost_writes(world)
    result = RunResult(
        seed=seed,
        trace=world.trace.text(),
        violations=tuple(checker.violations),
        core_errors=tuple(world.core_errors),
        lost=lost,
        unconverged=tuple(unconverged),
        counters=dict(checker.counters),
        summary=summarize(world, lost, unconverged),
        sim_ms=world.scheduler.now,
        wall_s=time.perf_counter() - started,
        steps=world.scheduler.steps,
    )
    return CaseOutcome(result=result, problems=tuple(problems))


def _kill_split(world: World, seed: int) -> tuple[list[str], list[str]] | None:
    """Half of the time, split the boxes in two at random along with the kill."""
    rng = random.Random(f"kill-split/{seed}")
    boxes = list(world.net.boxes)
    if len(boxes) < 2 or rng.random() < 0.5:
        return None
    rng.shuffle(boxes)
    cut = rng.randint(1, len(boxes) - 1)
    left, right = boxes[:cut], boxes[cut:]
    world.note(f"split {' '.join(left)} | {' '.join(right)}")
    world.net.partition([left, right])
    return left, right


def _side_can_fail_over(world: World, split: tuple[list[str], list[str]], victim: object) -> bool:
    """Is there a side with a majority (and quorum) of sentinels and a usable replica?"""
    t = world.topology
    total = len(world.sentinels)
    need = max(t.quorum, total // 2 + 1)
    for side in split:
        sentinels = [s for s in world.sentinels.values() if s.up and s.box in side]
        replicas = [
            r
            for r in world.redis.values()
            if r.up
            and r is not victim
            and r.box in side
            and r.settings.replica_priority > 0
            and t.group_of(r.name) == t.master_name
        ]
        if len(sentinels) >= need and replicas:
            return True
    return False


BENCH_TOPOLOGY = """
box A 10.0.0.1
box B 10.0.0.2
box C 10.0.0.3
box D 10.0.0.4
box E 10.0.0.5
redis r1 A
redis r2 B replicaof r1
redis r3 C replicaof r1
sentinel s1 A
sentinel s2 B
sentinel s3 C
sentinel s4 D
sentinel s5 E
monitor mymaster r1 3
set down-after-milliseconds 5000
set failover-timeout 30000
"""


def bench(wall_seconds: float, out: TextIO) -> None:
    """Measure simulated seconds per wall second (5 sentinels, 3 redis) and cases per second."""
    world = World(parse_scenario(BENCH_TOPOLOGY).topology, 1)
    SafetyChecker(world)
    started = time.perf_counter()
    sim_ms = 0
    while time.perf_counter() - started < wall_seconds:
        sim_ms += 10_000
        world.run_until(sim_ms)
    wall = time.perf_counter() - started
    out.write(
        f"steady state, 5 sentinels + 3 redis, no clients: {sim_ms / 1000:.0f} simulated s "
        f"in {wall:.2f} wall s = {sim_ms / 1000 / wall:.0f} simulated s per wall s "
        f"({world.scheduler.steps / wall:.0f} events/s)\n"
    )
    started = time.perf_counter()
    cases = 0
    while time.perf_counter() - started < wall_seconds:
        run_case(random_case(cases), cases)
        cases += 1
    wall = time.perf_counter() - started
    out.write(
        f"random cases (chaos + heal + kill): {cases} in {wall:.2f} s = {cases / wall:.2f}/s\n"
    )
