"""Automatic and manual failovers with real redis-servers (issue 4, items 1, 2 and 3).

The groups follow the Redis Sentinel tutorial: a master, one replica, three sentinels
with ``sentinel monitor mymaster 127.0.0.1 <port> 2``, ``down-after-milliseconds 1000``,
``failover-timeout 60000`` and ``parallel-syncs 1``. Event sequences are checked against
spec §4.2, rewritten config files against §2.8 (parsed back with ``pysentinel.config``
and read as text), replies against §3.3.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from pathlib import Path

import pytest
from harness import (
    HOST,
    Interop,
    LogLine,
    RedisNode,
    SentinelNode,
    call_raw,
    monitor_lines,
    pipeline_raw,
    redis_cli,
)

from pysentinel import config as sconfig
from pysentinel.core.types import Addr

pytestmark = pytest.mark.interop

#: Seconds the tutorial's master sleeps (the tutorial says 30; 15 leaves room for a
#: failover that takes ~6 s here while keeping the suite short).
DEBUG_SLEEP_S = 15
#: Bound for a whole automatic failover, from the fault to every sentinel's switch. The
#: expected time is a few seconds; the slack covers a loaded 2-core CI machine.
FAILOVER_TIMEOUT_S = 45
#: A returning old master is converted 8 s after it reports role master (spec §5.6).
CONVERT_TIMEOUT_S = 40


def _m(master: RedisNode, name: str = "mymaster") -> str:
    """The ``<inst>`` details of a master (spec §4.1)."""
    return f"master {name} {HOST} {master.port}"


def _r(replica: RedisNode, master: RedisNode, name: str = "mymaster") -> str:
    """The ``<inst>`` details of a replica of ``master``."""
    return f"slave {HOST}:{replica.port} {HOST} {replica.port} @ {name} {HOST} {master.port}"


def _s(sentinel: SentinelNode, runid: str, master: RedisNode, name: str = "mymaster") -> str:
    return f"sentinel {runid} {HOST} {sentinel.port} @ {name} {HOST} {master.port}"


def assert_subsequence(
    events: Sequence[LogLine], expected: Sequence[tuple[str, str]], who: str
) -> None:
    """Each ``(type, payload prefix)`` of ``expected`` occurs in ``events``, in order."""
    i = 0
    for line in events:
        if (
            i < len(expected)
            and line.event == expected[i][0]
            and line.payload.startswith(expected[i][1])
        ):
            i += 1
    if i < len(expected):
        seen = "\n".join(f"  {e.message}" for e in events)
        raise AssertionError(
            f"{who}: event {expected[i][0]} {expected[i][1]!r} missing or out of order "
            f"(matched {i} of {len(expected)}); events seen:\n{seen}"
        )


def wait_switched(
    interop: Interop, sentinels: Sequence[SentinelNode], new_master: RedisNode
) -> None:
    interop.wait_until(
        lambda: all(s.follows(new_master) for s in sentinels),
        FAILOVER_TIMEOUT_S,
        f"every sentinel to answer {new_master.addr} for mymaster",
    )


def leader_of(sentinels: Sequence[SentinelNode], ids: dict[str, str], epoch: int) -> SentinelNode:
    """The sentinel that won the election of ``epoch``: it voted for itself in that
    epoch and then logged ``+elected-leader``."""
    winners = [s for s in sentinels if elected_in(s, ids[s.name]) == epoch]
    assert len(winners) == 1, f"expected one leader of epoch {epoch}, got {winners}"
    return winners[0]


def elected_in(sentinel: SentinelNode, myid: str) -> int | None:
    """The epoch of the last election ``sentinel`` won, from its log."""
    epoch = None
    won = None
    for e in sentinel.events():
        if e.event == "+vote-for-leader" and e.payload.startswith(myid + " "):
            epoch = int(e.payload.split()[1])
        elif e.event == "+elected-leader" and epoch is not None:
            won = epoch
    return won


def check_rewritten_files(
    sentinels: Sequence[SentinelNode],
    ids: dict[str, str],
    *,
    new_master: RedisNode,
    old_master: RedisNode,
    epoch: int,
    voted: Sequence[SentinelNode],
    other_replicas: Sequence[RedisNode] = (),
    failover_timeout_ms: int = 60_000,
) -> None:
    """Spec §2.8: each file says where the master is now and what this sentinel knows.

    Args:
        voted: the sentinels that surely voted in ``epoch`` (leader-epoch = epoch).
    """
    for s in sentinels:
        text = s.conf.read_text()
        cfg = sconfig.load(str(s.conf))
        others = [o for o in sentinels if o is not s]
        # Parsed back.
        assert cfg.myid == ids[s.name]
        assert cfg.current_epoch == epoch
        assert [m.name for m in cfg.masters] == ["mymaster"]
        m = cfg.masters[0]
        assert m.addr == Addr(HOST, new_master.port)
        assert m.quorum == 2
        assert m.config_epoch == epoch
        if s in voted:
            assert m.leader_epoch == epoch
        assert m.down_after_ms == 1000
        assert m.failover_timeout_ms == failover_timeout_ms
        assert m.parallel_syncs == 1
        assert sorted(m.known_replicas, key=str) == sorted(
            (Addr(HOST, r.port) for r in [old_master, *other_replicas]), key=str
        )
        assert {(k.addr, k.runid) for k in m.known_sentinels} == {
            (Addr(HOST, o.port), ids[o.name]) for o in others
        }
        # And as text (the lines redis-sentinel writes).
        lines = text.splitlines()
        assert f"sentinel myid {ids[s.name]}" in lines
        assert f"sentinel monitor mymaster {HOST} {new_master.port} 2" in lines
        assert f"sentinel config-epoch mymaster {epoch}" in lines
        assert f"sentinel current-epoch {epoch}" in lines
        for r in [old_master, *other_replicas]:
            assert f"sentinel known-replica mymaster {HOST} {r.port}" in lines
        for o in others:
            assert f"sentinel known-sentinel mymaster {HOST} {o.port} {ids[o.name]}" in lines
        assert any(line.startswith("sentinel leader-epoch mymaster ") for line in lines)
        # The default parallel-syncs 1 is blanked; non-default timings stay.
        assert not any(line.startswith("sentinel parallel-syncs") for line in lines)
        assert "sentinel down-after-milliseconds mymaster 1000" in lines
        assert f"sentinel failover-timeout mymaster {failover_timeout_ms}" in lines


def test_failover_tutorial_debug_sleep(interop: Interop) -> None:
    """Issue 4 item 1: the tutorial, end to end, including restart from the files."""
    master = interop.redis()
    replica = interop.redis(replicaof=master)
    sentinels = interop.group(monitor_lines(master))
    interop.wait_discovery(sentinels, replicas=1)
    ids = {s.name: s.myid() for s in sentinels}
    assert len(set(ids.values())) == 3

    # Discovery events: +slave for the replica, +sentinel for each peer (spec §4.2).
    for s in sentinels:
        assert s.has_event("+slave", _r(replica, master)), s.describe()
        for o in sentinels:
            if o is not s:
                assert s.has_event("+sentinel", _s(o, ids[o.name], master)), s.describe()
        assert redis_cli(s.port, "sentinel", "get-master-addr-by-name", "mymaster") == (
            f"{HOST}\n{master.port}\n"
        )

    sleeper = master.debug_sleep(DEBUG_SLEEP_S)
    try:
        wait_switched(interop, sentinels, replica)
        for s in sentinels:
            assert redis_cli(s.port, "sentinel", "get-master-addr-by-name", "mymaster") == (
                f"{HOST}\n{replica.port}\n"
            )
        assert replica.is_master()
        epoch = int(sentinels[0].master()["config-epoch"])
        assert epoch >= 1
        leader = leader_of(sentinels, ids, epoch)
        lid = ids[leader.name]
        mi, ri = _m(master), _r(replica, master)
        old_as_replica = _r(master, replica)
        # The leader's sequence (spec §4.2, "Observed full sequence", one replica).
        interop.wait_until(
            lambda: leader.has_event("+sdown", old_as_replica),
            10,
            "+sdown of the sleeping old master, now a replica",
        )
        assert_subsequence(
            leader.events(),
            [
                ("+sdown", mi),
                ("+odown", f"{mi} #quorum "),
                ("+new-epoch", str(epoch)),
                ("+try-failover", mi),
                ("+vote-for-leader", f"{lid} {epoch}"),
                ("+elected-leader", mi),
                ("+failover-state-select-slave", mi),
                ("+selected-slave", ri),
                ("+failover-state-send-slaveof-noone", ri),
                ("+failover-state-wait-promotion", ri),
                ("-role-change", f"{ri} new reported role is master"),
                ("+promoted-slave", ri),
                ("+failover-state-reconf-slaves", mi),
                ("+failover-end", mi),
                ("+switch-master", f"mymaster {HOST} {master.port} {HOST} {replica.port}"),
                ("+slave", old_as_replica),
                ("+sdown", old_as_replica),
            ],
            f"leader {leader}",
        )
        # The others learn the new configuration from hellos.
        for s in sentinels:
            if s is leader:
                continue
            # The vote request may come before or after our own +sdown.
            switch = ("+switch-master", f"mymaster {HOST} {master.port} {HOST} {replica.port}")
            for first in ("+sdown", mi), ("+new-epoch", str(epoch)):
                assert_subsequence(
                    s.events(),
                    [
                        first,
                        ("+config-update-from", "sentinel "),
                        switch,
                        ("+slave", old_as_replica),
                    ],
                    f"observer {s}",
                )
            assert not s.events("+elected-leader"), s.describe()
            assert not s.events("+promoted-slave"), s.describe()
    finally:
        sleeper.close()

    # When the sleep ends the old master becomes a replica of the new one.
    interop.wait_until(
        lambda: master.replicates(replica), DEBUG_SLEEP_S + CONVERT_TIMEOUT_S, "old master ROLE"
    )
    assert any(s.has_event("+convert-to-slave", _r(master, replica)) for s in sentinels)
    interop.wait_until(
        lambda: all(
            s.has_event("+role-change", f"{_r(master, replica)} new reported role is slave")
            for s in sentinels
        ),
        15,
        "+role-change of the old master on every sentinel",
    )
    check_rewritten_files(
        sentinels, ids, new_master=replica, old_master=master, epoch=epoch, voted=[leader]
    )

    # Restart all three from the rewritten files: same ids, epochs and master.
    for s in sentinels:
        assert s.stop() == 0, s.describe()
        assert s.log()[-1].message == "Sentinel is now ready to exit, bye bye..."
        # Every line in redis's format (spec §4.3).
        assert s.malformed_log_lines() == [], s.describe()
    for s in sentinels:
        s.start()
    interop.wait_discovery(sentinels, replicas=1)
    for s in sentinels:
        assert s.myid() == ids[s.name]
        assert s.master_addr() == replica.addr
        m = s.master()
        assert (m["ip"], m["port"], m["config-epoch"]) == (HOST, str(replica.port), str(epoch))
        assert {r["name"] for r in s.replicas()} == {f"{HOST}:{master.port}"}
        assert {p["runid"] for p in s.peers()} == {ids[o.name] for o in sentinels if o is not s}
    for s in sentinels:
        assert call_raw(s.port, "SENTINEL", "FLUSHCONFIG") == b"+OK\r\n"
    check_rewritten_files(
        sentinels, ids, new_master=replica, old_master=master, epoch=epoch, voted=[leader]
    )
    # No second failover happened after the restart.
    for s in sentinels:
        assert s.master_addr() == replica.addr
    assert replica.is_master() and master.replicates(replica)


def test_failover_master_sigkill(interop: Interop) -> None:
    """Issue 4 item 2: SIGKILL of the master of two replicas. One is promoted, the other
    is re-pointed (``+slave-reconf-*``, parallel-syncs 1), and the old master is
    converted when it comes back."""
    master = interop.redis()
    replicas = [interop.redis(replicaof=master), interop.redis(replicaof=master)]
    # failover-timeout 10 s: should the first election split, the retry comes after
    # 2 x 10 s instead of 2 min (spec §7.4), within FAILOVER_TIMEOUT_S.
    sentinels = interop.group(monitor_lines(master, failover_timeout_ms=10_000))
    interop.wait_discovery(sentinels, replicas=2)
    ids = {s.name: s.myid() for s in sentinels}

    master.kill(signal.SIGKILL)

    def promoted() -> RedisNode | None:
        return next((r for r in replicas if all(s.follows(r) for s in sentinels)), None)

    new = interop.wait_until(promoted, FAILOVER_TIMEOUT_S, "every sentinel to switch")
    other = next(r for r in replicas if r is not new)
    assert new.is_master()
    interop.wait_until(lambda: other.replicates(new), 20, "the other replica to follow")
    epoch = int(sentinels[0].master()["config-epoch"])
    leader = leader_of(sentinels, ids, epoch)
    mi, ri, oi = _m(master), _r(new, master), _r(other, master)
    switch = ("+switch-master", f"mymaster {HOST} {master.port} {HOST} {new.port}")
    before_switch = [
        ("+sdown", mi),
        ("+odown", f"{mi} #quorum "),
        ("+try-failover", mi),
        ("+elected-leader", mi),
        ("+selected-slave", ri),
        ("+promoted-slave", ri),
        ("+failover-state-reconf-slaves", mi),
        ("+slave-reconf-sent", oi),
        ("+slave-reconf-inprog", oi),
        ("+slave-reconf-done", oi),
        ("+failover-end", mi),
        switch,
    ]
    # After the switch both are re-added as replicas of the new master, in any order.
    for readded in _r(master, new), _r(other, new):
        assert_subsequence(leader.events(), [*before_switch, ("+slave", readded)], f"{leader}")
    # Every sentinel sees the dead old master as a down replica of the new one.
    interop.wait_until(
        lambda: all(s.has_event("+sdown", _r(master, new)) for s in sentinels),
        10,
        "+sdown of the old master as a replica",
    )
    # Restarted (empty, as a master), it is converted into a replica of the new master.
    master.start()
    interop.wait_until(lambda: master.replicates(new), CONVERT_TIMEOUT_S, "conversion")
    assert any(s.has_event("+convert-to-slave", _r(master, new)) for s in sentinels)
    interop.wait_until(
        lambda: all(s.has_event("-sdown", _r(master, new)) for s in sentinels),
        10,
        "-sdown of the old master",
    )
    check_rewritten_files(
        sentinels,
        ids,
        new_master=new,
        old_master=master,
        epoch=epoch,
        voted=[leader],
        other_replicas=[other],
        failover_timeout_ms=10_000,
    )


@pytest.mark.parametrize("crash", ["crash-after-election", "crash-after-promotion"])
def test_failover_leader_killed_mid_failover(interop: Interop, crash: str) -> None:
    """Issue 4 item 2: the leader dies in the middle of the failover; the others finish.

    We make the leader die at a precise point with ``SENTINEL SIMULATE-FAILURE`` (exit
    status 99): right after ``+elected-leader``, before any replica is touched, or right
    after ``+promoted-slave``, when the replica is already a master but nobody else has
    heard of it. The flag is set on every sentinel and cleared on the survivors as soon
    as one has crashed. The survivors voted in that epoch, so they may only try again
    2 x failover-timeout after it started (spec §7.2/§7.4): that is why this group uses a
    failover-timeout of 5000 ms instead of the tutorial's 60000 (a retry after 10 s
    instead of 2 min). The failover then completes in a later epoch.
    """
    master = interop.redis()
    replica = interop.redis(replicaof=master)
    sentinels = interop.group(monitor_lines(master, failover_timeout_ms=5000))
    interop.wait_discovery(sentinels, replicas=1)
    ids = {s.name: s.myid() for s in sentinels}
    for s in sentinels:
        assert call_raw(s.port, "SENTINEL", "SIMULATE-FAILURE", crash) == b"+OK\r\n"

    master.kill(signal.SIGKILL)
    dead = interop.wait_until(
        lambda: next((s for s in sentinels if not s.running), None),
        FAILOVER_TIMEOUT_S,
        "the elected leader to crash",
    )
    survivors = [s for s in sentinels if s is not dead]
    for s in survivors:
        # "help" clears the flags first and then just lists the modes (spec §3.3).
        s.sentinel("SIMULATE-FAILURE", "help")
    assert dead.proc is not None and dead.proc.returncode == 99, dead.describe()
    first_epoch = elected_in(dead, ids[dead.name])
    assert first_epoch is not None, dead.describe()
    log = [line.message for line in dead.log()]
    assert log[-1] == "Sentinel CRASH because of SENTINEL simulate-failure", dead.describe()
    assert dead.has_event("+elected-leader", _m(master))
    if crash == "crash-after-election":
        assert not dead.events("+selected-slave")
    else:
        assert dead.has_event("+promoted-slave", _r(replica, master))
        assert not dead.events("+failover-state-reconf-slaves")
        # The promotion was flushed (spec §2.7): the file names the promoted replica as
        # the master and lists the old master as a replica in its place (trap T30).
        m = sconfig.load(str(dead.conf)).masters[0]
        assert m.addr == Addr(HOST, replica.port)
        assert m.known_replicas == (Addr(HOST, master.port),)
        assert m.config_epoch == first_epoch

    wait_switched(interop, survivors, replica)
    assert replica.is_master()
    epoch = int(survivors[0].master()["config-epoch"])
    assert epoch > first_epoch
    leader = leader_of(survivors, ids, epoch)
    assert_subsequence(
        leader.events(),
        [
            ("+try-failover", _m(master)),
            ("+elected-leader", _m(master)),
            ("+promoted-slave", _r(replica, master)),
            ("+failover-end", _m(master)),
            ("+switch-master", f"mymaster {HOST} {master.port} {HOST} {replica.port}"),
        ],
        f"second leader {leader}",
    )
    # The crashed sentinel comes back and learns the new configuration from the hellos
    # (after a crash after promotion, its own file already names the new master).
    dead.start()
    interop.wait_until(
        lambda: dead.follows(replica) and dead.master()["config-epoch"] == str(epoch),
        20,
        "the restarted sentinel",
    )
    assert dead.myid() == ids[dead.name]
    if crash == "crash-after-election":
        assert dead.has_event("+config-update-from", "sentinel ")


RECONFIG_SCRIPT = """#!/bin/sh
# Scripts run in the sentinel's dir (spec §9.8): one line per call, in that dir.
echo "$#|$*" >> reconfig.log
"""


def test_failover_manual(interop: Interop, tmp_path: Path) -> None:
    """Issue 4 item 3: ``SENTINEL FAILOVER`` promotes the replica with no fault at all;
    the client-reconfig script runs once per sentinel, as leader or observer."""
    script = tmp_path / "reconfig.sh"
    script.write_text(RECONFIG_SCRIPT)
    script.chmod(0o755)
    master = interop.redis()
    replica = interop.redis(replicaof=master)
    lonely = interop.redis()
    sentinels = interop.group(
        monitor_lines(master, extra=[f"sentinel client-reconfig-script mymaster {script}"])
    )
    interop.wait_discovery(sentinels, replicas=1)
    s0 = sentinels[0]
    myid = s0.myid()

    # The errors first (spec §3.3, §8.6).
    assert call_raw(s0.port, "SENTINEL", "FAILOVER", "nosuch") == (
        b"-ERR No such master with that name\r\n"
    )
    assert s0.sentinel("MONITOR", "lonely", HOST, lonely.port, 1) == "OK"
    assert call_raw(s0.port, "SENTINEL", "FAILOVER", "lonely") == (
        b"-NOGOODSLAVE No suitable replica to promote\r\n"
    )
    assert s0.sentinel("REMOVE", "lonely") == "OK"

    # Everything s0 publishes from now on (spec §4.1: every event but debug ones).
    subscriber = s0.new_client().pubsub()
    subscriber.psubscribe("*")
    assert subscriber.get_message(timeout=5) is not None  # the psubscribe confirmation

    # Two FAILOVERs pipelined: the second finds the first in progress.
    failover = ("SENTINEL", "FAILOVER", "mymaster")
    assert pipeline_raw(s0.port, [failover, failover]) == (
        b"+OK\r\n-INPROG Failover already in progress\r\n"
    )

    wait_switched(interop, sentinels, replica)
    assert replica.is_master()
    epoch = int(s0.master()["config-epoch"])
    mi, ri = _m(master), _r(replica, master)
    switch = ("+switch-master", f"mymaster {HOST} {master.port} {HOST} {replica.port}")
    assert any(
        line.message == "Executing user requested FAILOVER of 'mymaster'" for line in s0.log()
    )
    assert_subsequence(
        s0.events(),
        [
            ("+new-epoch", str(epoch)),
            ("+try-failover", mi),
            ("+vote-for-leader", f"{myid} {epoch}"),
            ("+elected-leader", mi),
            ("+failover-state-select-slave", mi),
            ("+selected-slave", ri),
            ("+failover-state-send-slaveof-noone", ri),
            ("+failover-state-wait-promotion", ri),
            ("+promoted-slave", ri),
            ("+failover-state-reconf-slaves", mi),
            ("+failover-end", mi),
            ("+switch-master", f"mymaster {HOST} {master.port} {HOST} {replica.port}"),
            ("+slave", _r(master, replica)),
        ],
        f"{s0}",
    )
    assert not s0.events("+odown")
    # The old master never went down; it still says master until a sentinel converts it.
    interop.wait_until(lambda: master.replicates(replica), CONVERT_TIMEOUT_S, "conversion")
    assert any(s.has_event("+convert-to-slave", _r(master, replica)) for s in sentinels)
    for s in sentinels[1:]:
        assert s.has_event("+config-update-from", _s(s0, myid, master)), s.describe()
    # With loglevel verbose, what s0 published is exactly what it logged as events.
    published = []
    while (message := subscriber.get_message(timeout=0.5)) is not None:
        assert message["type"] == "pmessage"
        published.append((message["channel"], message["data"]))
    subscriber.close()
    logged = [(e.event, e.payload) for e in s0.events()]
    assert switch in published
    assert any(logged[i : i + len(published)] == published for i in range(len(logged))), (
        f"published {published}\nlogged {logged}"
    )
    # client-reconfig-script: <master> <role> start <from-ip> <from-port> <to-ip> <to-port>.
    change = f"start {HOST} {master.port} {HOST} {replica.port}"
    expected = {
        s.name: [f"7|mymaster {'leader' if s is s0 else 'observer'} {change}"] for s in sentinels
    }

    def calls() -> dict[str, list[str]]:
        out = {}
        for s in sentinels:
            path = s.dir / "reconfig.log"
            out[s.name] = path.read_text().splitlines() if path.exists() else []
        return out

    interop.wait_until(lambda: calls() == expected, 10, "one client-reconfig call each")


def test_failover_replica_down_during_failover_is_fixed_later(interop: Interop) -> None:
    """A replica that was down during the failover comes back still pointing at the old
    master; after failover-timeout a sentinel re-points it (``+fix-slave-config``, spec
    §5.6 step 5, §8.8; Tcl 02-slaves-reconf). failover-timeout is 5000 ms so that the
    fix comes within seconds."""
    master = interop.redis()
    first = interop.redis(replicaof=master, args=["--replica-priority", "10"])
    late = interop.redis(replicaof=master)
    sentinels = interop.group(monitor_lines(master, failover_timeout_ms=5000))
    interop.wait_discovery(sentinels, replicas=2)
    late.kill()
    master.kill()
    wait_switched(interop, sentinels, first)
    assert first.is_master()
    late_inst = _r(late, first)
    interop.wait_until(
        lambda: all(s.has_event("+sdown", late_inst) for s in sentinels), 10, "late is down"
    )
    # It restarts with its original --replicaof, i.e. replicating from the dead master.
    late.start()
    interop.wait_until(lambda: late.replicates(first), 40, "the late replica to be re-pointed")
    assert any(s.has_event("+fix-slave-config", late_inst) for s in sentinels)
