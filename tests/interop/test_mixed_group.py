"""pysentinel and redis-sentinel 7.0.15 in one sentinel group (the drop-in claim).

Two pysentinels and one real ``redis-sentinel`` watch the same master. Who leads a
failover is steered with per-sentinel settings: a sentinel with ``quorum 1`` and
a short ``down-after-milliseconds`` reaches ODOWN alone and asks for votes, while the others
(``down-after`` 60 s) never start a failover of their own during the test but grant
their vote when asked (spec §5.9, §7.2). Round one: a pysentinel leads and the real
sentinel votes for it and follows its hello. Round two, after ``SENTINEL SET`` swaps the
settings at runtime: the real sentinel leads and both pysentinels vote and follow.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence

import pytest
from harness import (
    HOST,
    REDIS_SENTINEL,
    SWITCH_SAFE_DOWN_AFTER_MS,
    Interop,
    RedisNode,
    SentinelNode,
    monitor_lines,
)

pytestmark = pytest.mark.interop

FAST = SWITCH_SAFE_DOWN_AFTER_MS
SLOW = 60_000


def group_lines(master: RedisNode, *, quorum: int, down_after_ms: int) -> list[str]:
    return monitor_lines(
        master, quorum=quorum, down_after_ms=down_after_ms, failover_timeout_ms=10_000
    )


def switch_round(
    interop: Interop,
    sentinels: Sequence[SentinelNode],
    *,
    leader: SentinelNode,
    ids: dict[str, str],
    old: RedisNode,
    new: RedisNode,
) -> int:
    """Kill ``old``; ``leader`` must fail over to ``new`` with everyone's votes."""
    old.kill(signal.SIGKILL)
    interop.wait_until(
        lambda: all(s.follows(new) for s in sentinels),
        45,
        f"every sentinel to follow {leader} to {new.addr}",
    )
    assert new.is_master()
    epoch = int(leader.master()["config-epoch"])
    lid = ids[leader.name]
    minst = f"master mymaster {HOST} {old.port}"
    assert leader.has_event("+elected-leader", minst), leader.describe()
    assert leader.has_event("+switch-master", f"mymaster {HOST} {old.port} {HOST} {new.port}")
    for s in sentinels:
        if s is leader:
            continue
        assert s.has_event("+vote-for-leader", f"{lid} {epoch}"), s.describe()
        assert s.has_event("+config-update-from", f"sentinel {lid} "), s.describe()
        assert not s.has_event("+elected-leader", minst), s.describe()
        assert int(s.master()["config-epoch"]) == epoch
    # The old master comes back and is made a replica of the new one.
    old.start()
    interop.wait_until(lambda: old.replicates(new), 40, f"{old.port} to be converted")
    return epoch


#: Fields whose values are clocks, counters or per-sentinel settings.
_VARYING = {
    "link-pending-commands", "last-ping-sent", "last-ok-ping-reply", "last-ping-reply",
    "info-refresh", "role-reported-time", "last-hello-message", "down-after-milliseconds",
    "quorum", "master-link-down-time", "slave-repl-offset", "name", "port", "runid",
    "link-refcount",
}  # fmt: skip


def assert_same_maps(ours: SentinelNode, real: SentinelNode) -> None:
    def stable(m: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in m.items() if k not in _VARYING}

    assert list(ours.master()) == list(real.master())
    assert stable(ours.master()) == stable(real.master())
    assert [list(r) for r in ours.replicas()] == [list(r) for r in real.replicas()]
    assert [stable(r) for r in ours.replicas()] == [stable(r) for r in real.replicas()]
    # Each sees the other two: compare the field lists (values name different peers).
    assert [list(p) for p in ours.peers()] == [list(p) for p in real.peers()]
    assert sorted(p["flags"] for p in ours.peers()) == sorted(p["flags"] for p in real.peers())
    # INFO's Sentinel section (spec §3.5) says the same of the group.
    ours_info, real_info = ours.cmd("INFO", "sentinel"), real.cmd("INFO", "sentinel")
    assert isinstance(ours_info, dict) and isinstance(real_info, dict)
    assert list(ours_info) == list(real_info)
    assert ours_info == real_info


def test_mixed_group_votes_and_follows_both_ways(interop: Interop) -> None:
    a = interop.redis()
    b = interop.redis(replicaof=a)
    p0 = interop.sentinel(group_lines(a, quorum=1, down_after_ms=FAST))
    p1 = interop.sentinel(group_lines(a, quorum=2, down_after_ms=SLOW))
    real = interop.sentinel(group_lines(a, quorum=2, down_after_ms=SLOW), impl=REDIS_SENTINEL)
    sentinels = [p0, p1, real]
    interop.wait_discovery(sentinels, replicas=1)
    ids = {s.name: s.myid() for s in sentinels}
    interop.wait_until(
        lambda: all(
            [r["flags"] for r in s.replicas()] == ["slave"]
            and [p["flags"] for p in s.peers()] == ["sentinel", "sentinel"]
            for s in sentinels
        ),
        15,
        "the links to the replica and the peers",
    )
    # The description maps (spec §3.2) have the same fields, in the same order, and the
    # same values where they are not clocks, as the real sentinel's.
    for s in p0, p1:
        assert_same_maps(s, real)

    first = switch_round(interop, sentinels, leader=p0, ids=ids, old=a, new=b)
    interop.wait_discovery(sentinels, replicas=1)

    # Swap the roles at runtime: now only the real sentinel is fast and self-sufficient.
    assert p0.sentinel("SET", "mymaster", "down-after-milliseconds", SLOW, "quorum", 2) == "OK"
    assert real.sentinel("SET", "mymaster", "down-after-milliseconds", FAST, "quorum", 1) == "OK"
    second = switch_round(interop, sentinels, leader=real, ids=ids, old=b, new=a)
    assert second > first
