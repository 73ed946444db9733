"""Hypothesis strategies and budgets for the simulator's property tests.

Budgets: ``HYPOTHESIS_PROFILE=long`` runs the long budget by hand (100k schedules);
anything else is the CI budget. We set ``settings`` per test instead of loading a
global profile, so the other test folders keep their own settings.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from sim.scenario import BoxSpec, ClientSpec, RedisSpec, SentinelSpec, Topology

LONG = os.environ.get("HYPOTHESIS_PROFILE", "") == "long"


#: pytest-timeout for one property test (the project default of 300 s is per test).
TIMEOUT = pytest.mark.timeout(0 if LONG else 900)


def budget(ci: int, long: int) -> settings:
    """Settings for one property test: ``ci`` examples in CI, ``long`` by hand."""
    return settings(
        max_examples=long if LONG else ci,
        deadline=None,
        derandomize=not LONG,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


@st.composite
def topologies(draw: st.DrawFn) -> Topology:
    """1-5 boxes, 1-7 sentinels, 1-4 redis (r1 the master), quorum 1..n, 0-2 clients."""
    n_boxes = draw(st.integers(1, 5))
    boxes = tuple(BoxSpec(chr(ord("A") + i), f"10.0.0.{i + 1}") for i in range(n_boxes))
    names = [b.name for b in boxes]
    used: dict[tuple[str, int], bool] = {}

    def port_on(box: str, base: int) -> int:
        port = base
        while (box, port) in used:
            port += 1
        used[(box, port)] = True
        return port

    redis = []
    for i in range(draw(st.integers(1, 4))):
        box = draw(st.sampled_from(names))
        redis.append(
            RedisSpec(
                name=f"r{i + 1}",
                box=box,
                port=port_on(box, 6379),
                replicaof=None if i == 0 else "r1",
                priority=draw(st.sampled_from([100, 100, 100, 0])) if i else 100,
            )
        )
    sentinels = []
    for i in range(draw(st.integers(1, 7))):
        box = draw(st.sampled_from(names))
        sentinels.append(SentinelSpec(name=f"s{i + 1}", box=box, port=port_on(box, 26379)))
    clients = tuple(
        ClientSpec(name=f"c{i + 1}", box=draw(st.sampled_from(names)), interval_ms=250)
        for i in range(draw(st.integers(0, 2)))
    )
    return Topology(
        boxes=boxes,
        redis=tuple(redis),
        sentinels=tuple(sentinels),
        clients=clients,
        monitor="r1",
        quorum=draw(st.integers(1, len(sentinels))),
        down_after_ms=draw(st.sampled_from([1000, 2000, 3000])),
        failover_timeout_ms=draw(st.sampled_from([4000, 6000, 10000])),
        sentinel_debug=(("tilt-period", 5000),),
        latency_max_ms=draw(st.sampled_from([2, 5, 20])),
    )


def topology_text(t: Topology) -> str:
    """A topology as scenario-file text (so a failing case can be saved and replayed)."""
    lines = [f"box {b.name} {b.ip}" for b in t.boxes]
    for r in t.redis:
        extra = f" replicaof {r.replicaof}" if r.replicaof else ""
        lines.append(f"redis {r.name} {r.box} port {r.port} priority {r.priority}{extra}")
    lines += [f"sentinel {s.name} {s.box} port {s.port}" for s in t.sentinels]
    lines += [f"client {c.name} {c.box} interval {c.interval_ms}" for c in t.clients]
    lines += [
        f"monitor {t.master_name} {t.monitor} {t.quorum}",
        f"set down-after-milliseconds {t.down_after_ms}",
        f"set failover-timeout {t.failover_timeout_ms}",
        f"set latency {t.latency_min_ms} {t.latency_max_ms}",
    ]
    lines += [f"set sentinel-debug {k} {v}" for k, v in t.sentinel_debug]
    return "\n".join(lines) + "\n"
