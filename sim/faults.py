"""The fault vocabulary: what a scenario's ``at <time> ...`` lines can do to a world.

Faults (words as written in a scenario):

* ``crash <proc> [lose-data]`` — the process dies; the kernel closes its sockets.
  A redis keeps its data set unless ``lose-data``; a sentinel with ``lose-data``
  restarts from its first config file (a reinstall: new myid, epochs from 0).
  ``restart <proc>`` brings it back (a sentinel re-reads its persisted config).
* ``crash-box <box>`` / ``restart-box <box>`` — the machine goes down with everything
  on it (no FIN: peers find out by timeouts) and comes back.
* ``pause <proc> <time>`` — SIGSTOP for that long (a sentinel comes back in TILT).
* ``partition <boxes> | <boxes> [| ...]`` — cut every path between the groups, both
  ways; ``cut <a> <b>`` cuts one way (a -> b); ``isolate <box>``; ``heal`` removes
  every cut.
* ``clog <time>`` — FoundationDB's swizzle: cut boxes off one by one, one step
  apart, then restore them in random order; ``<time>`` is the whole duration.
* ``clock-jump <sentinel> <time>`` / ``clock-jump <sentinel> -<time>`` — the
  sentinel's wall clock steps (TILT).
* ``failover <sentinel>`` — ``SENTINEL FAILOVER <master>`` sent to that sentinel.
* ``sentinel <sentinel> <args...>`` — ``SENTINEL <args...>`` to that sentinel (e.g.
  ``SIMULATE-FAILURE crash-after-promotion``; the reply goes to the trace).
* ``priority <redis> <n>`` — ``CONFIG SET replica-priority n`` on that redis.
* ``note <text...>`` — just a line in the trace.
"""

from __future__ import annotations

import functools

import attrs

from pysentinel.core.values import InReply
from sim.process import Process
from sim.redis_model import RedisModel
from sim.scenario import parse_time
from sim.world import SimSentinel, World

__all__ = ["apply_fault", "schedule_faults"]


def schedule_faults(world: World, timeline: tuple[tuple[int, tuple[str, ...]], ...]) -> None:
    """Put every fault of a timeline on the world's scheduler."""
    for when, words in timeline:
        world.scheduler.at(when, functools.partial(apply_fault, world, words))


def apply_fault(world: World, words: tuple[str, ...]) -> None:
    """Carry out one fault now.

    Raises:
        ValueError: unknown fault or bad arguments.
    """
    kind, args = words[0], words[1:]
    net = world.net
    if kind == "note":
        world.note(" ".join(args))
        return
    world.note(" ".join(words))
    if kind == "crash" and args:
        proc = world.process(args[0])
        if isinstance(proc, RedisModel):
            proc.lose_data_on_crash = "lose-data" in args[1:]
        if isinstance(proc, SimSentinel):
            proc.lose_config_on_crash = "lose-data" in args[1:]
        proc.crash()
    elif kind == "restart" and len(args) == 1:
        world.process(args[0]).restart()
    elif kind == "crash-box" and len(args) == 1:
        net.boxes[args[0]].up = False
        for proc in _on_box(world, args[0]):
            proc.crash(box_down=True)
    elif kind == "restart-box" and len(args) == 1:
        net.boxes[args[0]].up = True
        for proc in _on_box(world, args[0]):
            proc.restart()
    elif kind == "pause" and len(args) == 2:
        world.process(args[0]).pause(parse_time(args[1]))
    elif kind == "partition" and "|" in args:
        groups: list[list[str]] = [[]]
        for word in args:
            if word == "|":
                groups.append([])
            else:
                groups[-1].append(word)
        net.partition(groups)
    elif kind == "cut" and len(args) == 2:
        net.cut(args[0], args[1])
    elif kind == "isolate" and len(args) == 1:
        net.isolate(args[0])
    elif kind == "heal" and not args:
        net.heal()
    elif kind == "clog" and len(args) == 1:
        _clog(world, parse_time(args[0]))
    elif kind == "clock-jump" and len(args) == 2:
        sentinel = world.sentinels[args[0]]
        sign = -1 if args[1].startswith("-") else 1
        sentinel.jump_clock(sign * parse_time(args[1].lstrip("-")))
    elif kind == "failover" and len(args) == 1:
        _manual_failover(world, world.sentinels[args[0]])
    elif kind == "sentinel" and len(args) >= 2:
        _admin(world, world.sentinels[args[0]], tuple(a.encode() for a in args[1:]))
    elif kind == "priority" and len(args) == 2:
        model = world.redis[args[0]]
        model.settings = attrs.evolve(model.settings, replica_priority=int(args[1]))
    else:
        raise ValueError(f"unknown fault {' '.join(words)!r}")


def _on_box(world: World, box: str) -> list[Process]:
    procs: list[Process] = [r for r in world.redis.values() if r.box == box]
    procs += [s for s in world.sentinels.values() if s.box == box]
    procs += [c for c in world.clients.values() if c.box == box]
    return procs


def _clog(world: World, duration: int) -> None:
    """Cut boxes off one at a time, then restore them in random order (swizzle)."""
    rng = world.rng(f"clog/{world.scheduler.now}")
    boxes = list(world.net.boxes)
    rng.shuffle(boxes)
    step = max(1, duration // (2 * max(1, len(boxes))))
    for i, box in enumerate(boxes):
        world.scheduler.after(i * step, functools.partial(world.net.isolate, box))
    order = list(boxes)
    rng.shuffle(order)
    base = len(boxes) * step
    for i, box in enumerate(order):

        def restore(b: str = box) -> None:
            for other in world.net.boxes:
                world.net.restore(b, other)
                world.net.restore(other, b)

        world.scheduler.after(base + i * step, restore)


def _admin(world: World, sentinel: SimSentinel, args: tuple[bytes, ...]) -> None:
    """``SENTINEL <args>`` from a local admin (the reply goes to the trace)."""

    def answered(reply: InReply) -> None:
        world.note(f"{sentinel.name} SENTINEL {b' '.join(args).decode()} -> {reply!r}")

    sentinel.admin((b"SENTINEL", *args), answered)


def _manual_failover(world: World, sentinel: SimSentinel) -> None:
    """``SENTINEL FAILOVER <master>`` from a local admin (the reply goes to the trace)."""
    master = world.topology.master_name.encode()

    def answered(reply: InReply) -> None:
        world.note(f"{sentinel.name} SENTINEL FAILOVER -> {reply!r}")

    sentinel.admin((b"SENTINEL", b"FAILOVER", master), answered)
