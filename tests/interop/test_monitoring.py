"""Monitoring details against real servers: down conditions, hidden replicas, peers
that come back with a new id, replica priority (spec §5, §6.2, §8.2; Tcl 07, 10, 11).
"""

from __future__ import annotations

import signal

import pytest
from harness import (
    HOST,
    SWITCH_SAFE_DOWN_AFTER_MS,
    Interop,
    call_raw,
    free_port,
    monitor_lines,
)

pytestmark = pytest.mark.interop


def test_monitoring_down_conditions(interop: Interop) -> None:
    """SDOWN from a stopped master and from a master that reports ``role:slave``; both
    heal back to exactly ``master``. With quorum 2 and one sentinel no failover starts
    (Tcl 07-down-conditions)."""
    master = interop.redis()
    s = interop.sentinel(monitor_lines(master, quorum=2))
    # INFO every 100 ms, as the Tcl suite sets it: the role:slave rule needs
    # down-after + 2 x info-period of reports (spec §5.7).
    assert call_raw(s.port, "SENTINEL", "DEBUG", "info-period", "100") == b"+OK\r\n"
    interop.wait_until(lambda: s.master()["flags"] == "master", 10, "a healthy master")
    mi = f"master mymaster {HOST} {master.port}"

    def flags() -> str:
        return s.master()["flags"]

    assert master.proc is not None
    master.procs.kill(master.proc, signal.SIGSTOP)
    try:
        interop.wait_until(lambda: flags() == "s_down,master", 10, "SDOWN of a stopped master")
    finally:
        master.procs.kill(master.proc, signal.SIGCONT)
    interop.wait_until(lambda: flags() == "master", 10, "the master back")
    assert s.has_event("+sdown", mi) and s.has_event("-sdown", mi)

    master.client().execute_command("REPLICAOF", HOST, str(free_port()))
    interop.wait_until(lambda: flags() == "s_down,master", 10, "SDOWN of a master-turned-replica")
    assert s.has_event("-role-change", f"{mi} new reported role is slave")
    master.client().execute_command("REPLICAOF", "NO", "ONE")
    interop.wait_until(lambda: flags() == "master", 10, "the master back")
    assert s.has_event("+role-change", f"{mi} new reported role is master")
    assert not s.events("+odown") and not s.events("+try-failover")


def test_monitoring_replica_announced_no(interop: Interop) -> None:
    """A replica with ``replica-announced no`` is hidden from ``SENTINEL REPLICAS`` but
    counted in ``num-slaves`` (trap T22, Tcl 10-replica-priority)."""
    master = interop.redis()
    shown = interop.redis(replicaof=master)
    hidden = interop.redis(replicaof=master, args=["--replica-announced", "no"])
    s = interop.sentinel(monitor_lines(master, quorum=1))
    assert call_raw(s.port, "SENTINEL", "DEBUG", "info-period", "100") == b"+OK\r\n"
    interop.wait_discovery([s], replicas=2)

    def listed() -> list[str]:
        return sorted(r["name"] for r in s.replicas())

    interop.wait_until(lambda: listed() == [f"{HOST}:{shown.port}"], 10, "one listed replica")
    assert s.master()["num-slaves"] == "2"
    hidden.client().config_set("replica-announced", "yes")
    both = sorted([f"{HOST}:{shown.port}", f"{HOST}:{hidden.port}"])
    interop.wait_until(lambda: listed() == both, 10, "both replicas listed")


def test_monitoring_peer_restarted_with_new_id(interop: Interop) -> None:
    """A sentinel restarted on the same port without its ``myid`` line gets a new id; the
    others replace its old entry (``+sentinel-invalid-addr``) instead of counting one
    more peer (spec §6.2, Tcl 11-port-0)."""
    master = interop.redis()
    sentinels = interop.group(monitor_lines(master))
    interop.wait_discovery(sentinels, replicas=0)
    s0, s1, s2 = sentinels
    old_id = s2.myid()
    assert s2.stop() == 0
    lines = s2.conf.read_text().splitlines()
    s2.conf.write_text("\n".join(x for x in lines if not x.startswith("sentinel myid ")) + "\n")
    s2.start()
    new_id = s2.myid()
    assert new_id != old_id and len(new_id) == 40

    def peers_of_s0() -> list[str]:
        return sorted(p["runid"] for p in s0.peers())

    expected = sorted([s1.myid(), new_id])
    interop.wait_until(lambda: peers_of_s0() == expected, 15, "s0 to know s2's new id only")
    interop.wait_until(
        lambda: sorted(p["runid"] for p in s1.peers()) == sorted([s0.myid(), new_id]),
        15,
        "s1 to know s2's new id only",
    )
    for s in s0, s1:
        assert s.has_event("+sentinel-invalid-addr", f"sentinel {old_id} {HOST} {s2.port} @ ")
        assert s.master()["num-other-sentinels"] == "2"


def test_monitoring_replica_priority_selects(interop: Interop) -> None:
    """Replica selection (spec §8.2): priority 0 is never promoted, a lower priority wins
    over the default 100."""
    master = interop.redis()
    never = interop.redis(replicaof=master, args=["--replica-priority", "0"])
    default = interop.redis(replicaof=master)
    preferred = interop.redis(replicaof=master, args=["--replica-priority", "10"])
    s = interop.sentinel(monitor_lines(master, quorum=1, down_after_ms=SWITCH_SAFE_DOWN_AFTER_MS))
    interop.wait_discovery([s], replicas=3)
    interop.wait_until(
        lambda: [r["flags"] for r in s.replicas()] == ["slave"] * 3, 15, "the replicas' links"
    )
    # A replica's priority is known from its own INFO, which can come after its links are
    # up (before that it shows the default 100).
    wanted = {str(never.port): "0", str(default.port): "100", str(preferred.port): "10"}
    interop.wait_until(
        lambda: {r["port"]: r["slave-priority"] for r in s.replicas()} == wanted,
        15,
        "the replicas' priorities from their INFO",
    )
    assert call_raw(s.port, "SENTINEL", "FAILOVER", "mymaster") == b"+OK\r\n"
    interop.wait_until(lambda: s.follows(preferred), 30, "the switch to the preferred replica")
    assert s.has_event("+selected-slave", f"slave {HOST}:{preferred.port} ")
    for r in never, default:
        interop.wait_until(lambda r=r: r.replicates(preferred), 30, f"{r.port} to follow")


def test_monitoring_replica_reboot(interop: Interop) -> None:
    """A replica restarted (new ``run_id`` in INFO) is reported with ``+reboot`` (spec
    §5.5), goes down and comes back (``+sdown`` / ``-sdown``)."""
    master = interop.redis()
    replica = interop.redis(replicaof=master)
    s = interop.sentinel(monitor_lines(master, quorum=1))
    assert call_raw(s.port, "SENTINEL", "DEBUG", "info-period", "200") == b"+OK\r\n"
    interop.wait_discovery([s], replicas=1)
    interop.wait_until(lambda: s.replicas()[0]["runid"] != "", 10, "the replica's run id")
    old_runid = s.replicas()[0]["runid"]
    ri = f"slave {HOST}:{replica.port} {HOST} {replica.port} @ mymaster {HOST} {master.port}"
    replica.kill()
    interop.wait_until(lambda: s.has_event("+sdown", ri), 10, "+sdown of the replica")
    replica.start()
    interop.wait_until(lambda: s.has_event("+reboot", ri), 10, "+reboot of the replica")
    interop.wait_until(lambda: s.has_event("-sdown", ri), 10, "-sdown of the replica")
    new_runid = s.replicas()[0]["runid"]
    assert new_runid not in ("", old_runid)
    assert s.master()["flags"] == "master"


def test_monitoring_two_masters_share_peer_links(interop: Interop) -> None:
    """Three sentinels watching two masters share one link per peer (``link-refcount``
    2, spec §3.2, §5.3); a failover of one group leaves the other alone."""
    a = interop.redis()
    a_replica = interop.redis(replicaof=a)
    b = interop.redis()
    b_replica = interop.redis(replicaof=b)
    lines = [
        *monitor_lines(a, name="alpha", failover_timeout_ms=10_000),
        *monitor_lines(b, name="beta", failover_timeout_ms=10_000),
    ]
    sentinels = interop.group(lines)
    for name in "alpha", "beta":
        interop.wait_discovery(sentinels, replicas=1, name=name)
    for s in sentinels:
        for name in "alpha", "beta":
            assert [p["link-refcount"] for p in s.peers(name)] == ["2", "2"]
        role = s.cmd("ROLE")
        assert isinstance(role, list) and role[0] == "sentinel"
        assert sorted(role[1]) == ["alpha", "beta"]  # internal order

    a.kill()
    interop.wait_until(
        lambda: all(s.follows(a_replica, "alpha") for s in sentinels), 45, "alpha's switch"
    )
    for s in sentinels:
        assert s.follows(b, "beta")
        assert s.master("beta")["flags"] == "master"
        assert s.master("beta")["config-epoch"] == "0"
        assert not s.has_event("+sdown", f"master beta {HOST} {b.port}")
    assert b_replica.replicates(b)
