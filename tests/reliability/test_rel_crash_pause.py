"""SIGKILL and SIGSTOP/SIGCONT of sentinels at seeded random moments during failovers
(issue 8 item 2), with real processes on loopback.

Three sentinels (quorum 2) watch a master and two replicas, sped up with ``SENTINEL
DEBUG`` (:data:`rel_faults.FAST_TUNABLES`). Each run:

1. SIGKILLs (even runs) or SIGSTOPs (odd runs) the current master's redis-server: a
   failover must follow;
2. meanwhile, at seeded random moments in the first 2.5 s, hits one or two sentinels
   with SIGKILL (restarted from its own config after a random delay) or SIGSTOP
   (SIGCONT after a random 0.1-2.5 s: long pauses push it into TILT);
3. waits until the group settles on a new master, restarts the old master's
   redis-server empty or SIGCONTs it (either way it comes back as a master) and waits
   until the sentinels have converted it into a replica and the group settles again.

At every settled point exactly one redis-server accepts writes, every config file
loads, and per sentinel the current epoch (file) and the master's config epoch never
went back, including across restarts. ``PYSENTINEL_FAULT_RUNS`` (default 20) and
``PYSENTINEL_FAULT_SEED`` set the runs; the failing run's seed is in the message.
"""

from __future__ import annotations

import os
import random
import signal
import time

import pytest
from harness import Interop, RedisNode, SentinelNode, monitor_lines
from rel_faults import EpochLedger, check_single_writer, make_fast, settled_master

pytestmark = pytest.mark.interop

RUNS = int(os.environ.get("PYSENTINEL_FAULT_RUNS", "20"))
SEED = int(os.environ.get("PYSENTINEL_FAULT_SEED", "1125"))
SETTLE_TIMEOUT_S = 45.0
FAULT_WINDOW_S = 2.5


#: redis-servers currently SIGSTOPped (by port): alive, but nobody can talk to them.
_PAUSED: set[int] = set()


def _running(node: RedisNode) -> bool:
    return node.proc is not None and node.proc.poll() is None and node.port not in _PAUSED


def _restart_sentinel(env: Interop, s: SentinelNode, ledger: EpochLedger) -> None:
    ledger.check(s, running=False)  # what it will load must parse and not go back
    s.start()
    make_fast(s)
    ledger.check(s, running=True)


def test_crash_pause_sentinels_during_failovers(procs_env: Interop) -> None:
    env = procs_env
    master = env.redis()
    nodes = [master, env.redis(replicaof=master), env.redis(replicaof=master)]
    lines = monitor_lines(master, quorum=2, down_after_ms=500, failover_timeout_ms=2000)
    sentinels = env.group(lines, 3)
    for s in sentinels:
        make_fast(s)
    env.wait_discovery(sentinels, replicas=2)
    ledger = EpochLedger()
    stats = {"kill": 0, "stop": 0, "tilt": 0}
    durations = []
    current = master
    try:
        for run in range(RUNS):
            rng = random.Random(SEED * 1000 + run)
            what = f"run {run} (seed {SEED * 1000 + run})"
            started = time.monotonic()
            # Even runs crash the master's redis-server, odd runs pause it (it comes back
            # later with its data, still claiming to be the master).
            master_paused = run % 2 == 1
            if master_paused:
                assert current.proc is not None
                os.kill(current.proc.pid, signal.SIGSTOP)
                _PAUSED.add(current.port)
            else:
                current.kill(signal.SIGKILL)
            t0 = time.monotonic()
            faults = []
            for _ in range(rng.randint(1, 2)):
                s = rng.choice(sentinels)
                if any(f[1] is s for f in faults):
                    continue
                kind = rng.choice(["kill", "stop"])
                at = rng.uniform(0, FAULT_WINDOW_S)
                faults.append((at, s, kind, at + rng.uniform(0.1, 2.5)))
            timeline = sorted(
                [(at, s, kind) for at, s, kind, _ in faults]
                + [(end, s, "restart" if kind == "kill" else "cont") for _, s, kind, end in faults],
                key=lambda e: e[0],
            )
            for at, s, action in timeline:
                delay = t0 + at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # the fault schedule itself, not a wait for a condition
                assert s.proc is not None
                if action == "kill":
                    s.kill()
                    stats["kill"] += 1
                elif action == "stop":
                    os.kill(s.proc.pid, signal.SIGSTOP)
                    stats["stop"] += 1
                elif action == "cont":
                    os.kill(s.proc.pid, signal.SIGCONT)
                else:
                    _restart_sentinel(env, s, ledger)
            new = env.wait_until(
                lambda old=current: (
                    (m := settled_master(sentinels, nodes, _running)) is not None
                    and m is not old
                    and m
                ),
                SETTLE_TIMEOUT_S,
                f"{what}: a failover away from :{current.port}",
            )
            assert check_single_writer(env, nodes, _running, f"k{run}a") is new
            for s in sentinels:
                ledger.check(s, running=True)
            # The old master comes back (empty after a crash, with its data after a
            # pause), as a master: it must be converted.
            if master_paused:
                assert current.proc is not None
                os.kill(current.proc.pid, signal.SIGCONT)
                _PAUSED.discard(current.port)
            else:
                current.args = _drop_replicaof(current.args)
                current.start()
            env.wait_until(
                lambda old=current, new=new: (
                    settled_master(sentinels, nodes, _running) is new and old.replicates(new)
                ),
                SETTLE_TIMEOUT_S,
                f"{what}: the old master :{current.port} converted to a replica of :{new.port}",
            )
            assert check_single_writer(env, nodes, _running, f"k{run}b") is new
            for s in sentinels:
                ledger.check(s, running=True)
            current = new
            durations.append(time.monotonic() - started)
    finally:
        # Never leave a process stopped: teardown's SIGTERM would wait on it in vain.
        for s in sentinels:
            if s.running:
                assert s.proc is not None
                os.kill(s.proc.pid, signal.SIGCONT)
        for node in nodes:
            if node.proc is not None and node.proc.poll() is None:
                os.kill(node.proc.pid, signal.SIGCONT)
        _PAUSED.clear()
    stats["tilt"] = sum(len(s.events("+tilt")) for s in sentinels)
    switches = max(len(s.events("+switch-master")) for s in sentinels)
    print(
        f"crash-pause: {RUNS} runs, {stats['kill']} sentinel SIGKILLs, {stats['stop']} SIGSTOPs, "
        f"{stats['tilt']} +tilt seen in the current logs, >= {switches} switches per log; "
        f"run time median {sorted(durations)[len(durations) // 2]:.1f} s, "
        f"max {max(durations):.1f} s; "
        f"{ledger.samples} epoch checks; final epochs {ledger.current}"
    )


def _drop_replicaof(args: list[str]) -> list[str]:
    """redis-server arguments without ``--replicaof HOST PORT``."""
    out: list[str] = []
    skip = 0
    for a in args:
        if skip:
            skip -= 1
            continue
        if a == "--replicaof":
            skip = 2
            continue
        out.append(a)
    return out
