"""Three real sentinels over a fake network: discovery, agreement, one failover, and
every sentinel converging on the new master (spec §4.2, §6, §8.8)."""

from __future__ import annotations

from helpers import Cluster, is_subsequence, master_config

from pysentinel.core.types import Addr


def _cluster() -> Cluster:
    c = Cluster.of(3, master_config(quorum=2, down_after_ms=1000, failover_timeout_ms=10_000))
    c.server(port=6379, replicas=[Addr("127.0.0.1", 6380), Addr("127.0.0.1", 6381)])
    c.server(port=6380, role="slave", offset=100, run_id="2" * 40)
    c.server(port=6381, role="slave", offset=50, run_id="3" * 40)
    c.start()
    c.advance(3000)
    return c


def test_sentinel_cluster_peers_see_each_other_connected() -> None:
    c = _cluster()
    for s in c.sentinels:
        master = s.masters["mymaster"]
        assert len(master.sentinels) == 2
        assert all(not p.link.disconnected for p in master.sentinels.values())
        assert list(master.replicas) == ["127.0.0.1:6380", "127.0.0.1:6381"]
        # Peers' hellos arrive (through the master's channel and PUBLISH to us).
        assert all(p.last_hello_time > c.now - 2500 for p in master.sentinels.values())


def test_sentinel_cluster_one_failover_everyone_switches() -> None:
    c = _cluster()
    c.kill_server(Addr("127.0.0.1", 6379))
    c.advance(20_000)
    leaders = [i for i in range(3) if "+elected-leader" in " ".join(c.events(i))]
    assert len(leaders) == 1, [c.events(i) for i in range(3)]
    leader = leaders[0]
    switch = "+switch-master mymaster 127.0.0.1 6379 127.0.0.1 6380"
    for i, s in enumerate(c.sentinels):
        master = s.masters["mymaster"]
        assert master.addr == Addr("127.0.0.1", 6380), (i, c.events(i))
        assert master.config_epoch >= 1
        assert switch in c.events(i)
        if i != leader:
            leader_id = c.sentinels[leader].myid
            assert is_subsequence(
                [
                    f"+config-update-from sentinel {leader_id} 127.0.0.1 {26379 + leader}"
                    " @ mymaster 127.0.0.1 6379",
                    switch,
                    "+slave slave 127.0.0.1:6381 127.0.0.1 6381 @ mymaster 127.0.0.1 6380",
                    "+slave slave 127.0.0.1:6379 127.0.0.1 6379 @ mymaster 127.0.0.1 6380",
                ],
                c.events(i),
            ), c.events(i)
    assert c.servers[Addr("127.0.0.1", 6381)].master_port == 6380
    # The old master comes back as a master and is converted exactly once.
    old = c.server(port=6379, run_id="9" * 40)
    c.advance(30_000)
    assert old.role == "slave" and old.master_port == 6380
    conversions = sum(1 for i in range(3) for e in c.events(i) if e.startswith("+convert-to-slave"))
    assert conversions == 1
    assert all(s.current_epoch == c.sentinels[leader].current_epoch for s in c.sentinels)


def test_sentinel_cluster_stale_sentinel_never_demotes_the_new_master() -> None:
    c = _cluster()
    c.down.add(0)  # sentinel 0 is frozen through the whole failover
    c.kill_server(Addr("127.0.0.1", 6379))
    c.advance(20_000)
    # The old master returns (and is converted by the others) while 0 is still away.
    old = c.server(port=6379, run_id="9" * 40)
    c.advance(20_000)
    assert old.role == "slave"
    c.down.discard(0)
    stale = c.sentinels[0]
    # Its view is old: it still calls 6379 the master and sees 6380 report master.
    assert stale.masters["mymaster"].addr == Addr("127.0.0.1", 6379)
    c.advance(30_000)
    events0 = c.events(0)
    # Frozen for 40 s, it enters TILT first; the newer config reaches it by hellos,
    # which TILT does not stop.
    assert "+tilt #tilt mode entered" in events0
    assert not [e for e in events0 if e.startswith(("+convert-to-slave", "+fix-slave-config"))]
    assert "+switch-master mymaster 127.0.0.1 6379 127.0.0.1 6380" in events0
    assert stale.masters["mymaster"].addr == Addr("127.0.0.1", 6380)
    new = c.servers[Addr("127.0.0.1", 6380)]
    assert new.role == "master"
    assert c.servers[Addr("127.0.0.1", 6381)].master_port == 6380


def test_sentinel_cluster_partitioned_sentinel_heals_without_replication_loop() -> None:
    c = _cluster()
    c.partition(0)
    c.kill_server(Addr("127.0.0.1", 6379))
    c.advance(20_000)
    old = c.server(port=6379, run_id="9" * 40)
    c.advance(20_000)
    assert old.role == "slave" and old.master_port == 6380
    stale = c.sentinels[0]
    assert stale.masters["mymaster"].addr == Addr("127.0.0.1", 6379)
    assert not stale.tilt
    c.deaf.add(0)  # no newer config reaches it for a while
    c.heal(0)
    c.advance(30_000)
    assert stale.masters["mymaster"].addr == Addr("127.0.0.1", 6379)
    replica = stale.masters["mymaster"].replicas["127.0.0.1:6380"]
    assert replica.role_reported.value == "master"
    assert c.now - replica.role_reported_time > 20_000
    c.deaf.discard(0)
    c.advance(10_000)
    events0 = c.events(0)
    # Its stale master (6379) reports role slave, so it does not look sane: 6380,
    # reporting master, is left alone until the newer config arrives by hello.
    assert not [e for e in events0 if e.startswith(("+convert-to-slave", "+fix-slave-config"))]
    assert "+tilt #tilt mode entered" not in events0
    assert "+switch-master mymaster 127.0.0.1 6379 127.0.0.1 6380" in events0
    assert c.servers[Addr("127.0.0.1", 6380)].role == "master"
    assert old.master_port == 6380
