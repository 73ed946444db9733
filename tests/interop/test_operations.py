"""Runtime reconfiguration, RESET, CKQUORUM, authentication and scripts (issue 4 item 3).

Each test starts its own redis-servers and sentinels on loopback. Replies are compared
byte for byte where spec §3.3 gives their exact text; persisted state is read back with
``pysentinel.config`` (spec §2.7: MONITOR, REMOVE and SET flush; RESET does not).
"""

from __future__ import annotations

import signal
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from harness import (
    HOST,
    SWITCH_SAFE_DOWN_AFTER_MS,
    Interop,
    call_raw,
    monitor_lines,
    pipeline_raw,
)

from pysentinel import config as sconfig
from pysentinel.core.types import Addr

pytestmark = pytest.mark.interop

T = TypeVar("T")


def hold(interop: Interop, state: Callable[[], T], expected: T, seconds: float, what: str) -> None:
    """Check that ``state()`` equals ``expected`` now and for ``seconds`` (bounded polling)."""
    deadline = time.monotonic() + seconds
    while True:
        value = state()
        assert value == expected, f"{what}: {value!r} != {expected!r}\n{interop.describe()}"
        if time.monotonic() > deadline:
            return
        time.sleep(0.1)


def test_operations_monitor_set_remove_persisted(interop: Interop) -> None:
    """``SENTINEL MONITOR`` / ``SET`` / ``REMOVE`` at runtime; each is flushed (§2.7) and
    survives a restart."""
    master = interop.redis()
    s = interop.sentinel([])
    myid = s.myid()
    port = master.port

    assert call_raw(s.port, "SENTINEL", "MONITOR", "m2", HOST, port, "1") == b"+OK\r\n"
    assert s.has_event("+monitor", f"master m2 {HOST} {port} quorum 1")
    cfg = sconfig.load(str(s.conf))
    assert [(m.name, m.addr, m.quorum) for m in cfg.masters] == [("m2", Addr(HOST, port), 1)]
    assert f"sentinel monitor m2 {HOST} {port} 1" in s.conf.read_text().splitlines()
    assert cfg.myid == myid
    interop.wait_until(lambda: s.master("m2")["flags"] == "master", 10, "m2 to be monitored")

    # Errors of MONITOR (spec §3.3), checked in order.
    for args, reply in [
        (("m2", HOST, port, "x"), b"-ERR Invalid quorum\r\n"),
        (("m2", HOST, "x", "1"), b"-ERR Invalid port\r\n"),
        (("m2", HOST, port, "0"), b"-ERR Quorum must be 1 or greater.\r\n"),
        (("m2", "not-an-ip", port, "1"), b"-ERR Invalid IP address or hostname specified\r\n"),
        (("m2", HOST, "70000", "1"), b"-ERR Invalid port number.\r\n"),
        (("m2", HOST, port, "1"), b"-ERR Duplicate master name.\r\n"),
    ]:
        assert call_raw(s.port, "SENTINEL", "MONITOR", *args) == reply, args

    set_many = [
        "SENTINEL", "SET", "m2",
        "down-after-milliseconds", "1500",
        "failover-timeout", "20000",
        "parallel-syncs", "3",
        "quorum", "2",
    ]  # fmt: skip
    assert call_raw(s.port, *set_many) == b"+OK\r\n"
    mi = f"master m2 {HOST} {port}"
    for option, value in [
        ("down-after-milliseconds", "1500"),
        ("failover-timeout", "20000"),
        ("parallel-syncs", "3"),
        ("quorum", "2"),
    ]:
        assert s.has_event("+set", f"{mi} {option} {value}"), s.describe()
    m = s.master("m2")
    assert (m["down-after-milliseconds"], m["failover-timeout"], m["parallel-syncs"]) == (
        "1500",
        "20000",
        "3",
    )
    assert m["quorum"] == "2"
    cfg_m = sconfig.load(str(s.conf)).masters[0]
    assert (cfg_m.down_after_ms, cfg_m.failover_timeout_ms, cfg_m.parallel_syncs) == (
        1500,
        20000,
        3,
    )
    assert cfg_m.quorum == 2
    lines = s.conf.read_text().splitlines()
    assert f"sentinel monitor m2 {HOST} {port} 2" in lines
    assert "sentinel down-after-milliseconds m2 1500" in lines
    assert "sentinel parallel-syncs m2 3" in lines

    # SET errors (spec §9.3); a pair before a bad one stays applied (trap T13).
    assert call_raw(s.port, "SENTINEL", "SET", "m2", "quorum", "0") == (
        b"-ERR Invalid argument '0' for SENTINEL SET 'quorum'\r\n"
    )
    assert call_raw(s.port, "SENTINEL", "SET", "m2", "nosuch", "1") == (
        b"-ERR Unknown option or number of arguments for SENTINEL SET 'nosuch'\r\n"
    )
    assert call_raw(s.port, "SENTINEL", "SET", "nosuch", "quorum", "1") == (
        b"-ERR No such master with that name\r\n"
    )
    assert call_raw(s.port, "SENTINEL", "SET", "m2", "quorum") == (
        b"-ERR wrong number of arguments for 'sentinel|set' command\r\n"
    )
    assert call_raw(
        s.port, "SENTINEL", "SET", "m2", "parallel-syncs", "4", "failover-timeout", "-5"
    ) == (b"-ERR Invalid argument '-5' for SENTINEL SET 'failover-timeout'\r\n")
    assert s.master("m2")["parallel-syncs"] == "4"
    assert sconfig.load(str(s.conf)).masters[0].parallel_syncs == 4

    # Restart: the master and its options come back from the file, same id.
    assert s.stop() == 0
    s.start()
    assert s.myid() == myid
    m = s.master("m2")
    assert (m["ip"], m["port"], m["quorum"]) == (HOST, str(port), "2")
    assert (m["down-after-milliseconds"], m["failover-timeout"], m["parallel-syncs"]) == (
        "1500",
        "20000",
        "4",
    )

    assert call_raw(s.port, "SENTINEL", "REMOVE", "m2") == b"+OK\r\n"
    assert s.has_event("-monitor", mi)
    assert call_raw(s.port, "SENTINEL", "MASTER", "m2") == b"-ERR No such master with that name\r\n"
    assert call_raw(s.port, "SENTINEL", "REMOVE", "m2") == b"-ERR No such master with that name\r\n"
    cfg = sconfig.load(str(s.conf))
    assert cfg.masters == ()
    assert not any(" m2 " in line for line in s.conf.read_text().splitlines())
    assert s.stop() == 0
    s.start()
    assert call_raw(s.port, "SENTINEL", "MASTERS") == b"*0\r\n"
    assert s.myid() == myid


def test_operations_reset_forgets_a_dead_sentinel(interop: Interop) -> None:
    """``SENTINEL RESET`` (spec §9.2): replicas and live peers are found again, a dead
    peer is forgotten; the reply counts the matching masters."""
    master = interop.redis()
    replica = interop.redis(replicaof=master)
    sentinels = interop.group(monitor_lines(master))
    interop.wait_discovery(sentinels, replicas=1)
    s0, s1, s2 = sentinels
    ids = {s.name: s.myid() for s in sentinels}
    s2.kill()

    assert call_raw(s0.port, "SENTINEL", "RESET", "nomatch*") == b":0\r\n"
    assert call_raw(s0.port, "SENTINEL", "RESET", "*") == b":1\r\n"
    assert s0.has_event("+reset-master", f"master mymaster {HOST} {master.port}")

    def known() -> tuple[str, list[str], list[str]]:
        return (
            s0.master()["flags"],
            [r["name"] for r in s0.replicas()],
            [p["runid"] for p in s0.peers()],
        )

    expected = ("master", [f"{HOST}:{replica.port}"], [ids[s1.name]])
    interop.wait_until(lambda: known() == expected, 15, "s0 to find the replica and s1 again")
    # The dead s2 does not come back (two hello periods and more).
    hold(interop, known, expected, 5, "s0 forgetting s2")
    # The flushes that followed the rediscovery wrote only the live peer.
    known = sconfig.load(str(s0.conf)).masters[0].known_sentinels
    assert [(k.addr, k.runid) for k in known] == [(Addr(HOST, s1.port), ids[s1.name])]
    # s1 was not reset: it still counts the dead s2.
    assert s1.master()["num-other-sentinels"] == "2"


def test_operations_ckquorum(interop: Interop) -> None:
    """``SENTINEL CKQUORUM`` for a healthy group, a quorum larger than the group and a
    group that lost its majority (spec §9.7)."""
    master = interop.redis()
    interop.redis(replicaof=master)
    sentinels = interop.group(monitor_lines(master))
    interop.wait_discovery(sentinels, replicas=1)
    s0, s1, s2 = sentinels
    ok = b"+OK %d usable Sentinels. Quorum and failover authorization can be reached\r\n"
    no_quorum = b"Not enough available Sentinels to reach the specified quorum for this master"
    no_majority = b"Not enough available Sentinels to reach the majority and authorize a failover"

    assert call_raw(s0.port, "SENTINEL", "CKQUORUM", "mymaster") == ok % 3
    assert call_raw(s0.port, "SENTINEL", "CKQUORUM", "nosuch") == (
        b"-ERR No such master with that name\r\n"
    )
    assert call_raw(s0.port, "SENTINEL", "SET", "mymaster", "quorum", "4") == b"+OK\r\n"
    assert call_raw(s0.port, "SENTINEL", "CKQUORUM", "mymaster") == (
        b"-NOQUORUM 3 usable Sentinels. " + no_quorum + b"\r\n"
    )
    assert call_raw(s0.port, "SENTINEL", "SET", "mymaster", "quorum", "2") == b"+OK\r\n"

    s2.kill()
    interop.wait_until(
        lambda: call_raw(s0.port, "SENTINEL", "CKQUORUM", "mymaster") == ok % 2,
        10,
        "CKQUORUM to count 2 usable sentinels once s2 is down",
    )
    s1.kill()
    broken = b"-NOQUORUM 1 usable Sentinels. " + no_quorum + b". " + no_majority + b"\r\n"
    interop.wait_until(
        lambda: call_raw(s0.port, "SENTINEL", "CKQUORUM", "mymaster") == broken,
        10,
        "CKQUORUM to report the lost quorum and majority",
    )
    assert [p["flags"] for p in s0.peers()] == ["s_down,sentinel,disconnected"] * 2


def test_operations_master_with_auth_pass(interop: Interop) -> None:
    """A master and replica protected by ``requirepass``: ``sentinel auth-pass`` makes
    them reachable; without it the master shows ``disconnected`` (trap T25) until
    ``SENTINEL SET auth-pass`` is applied (Tcl 03-runtime-reconf)."""
    secret = "s3cr3t-pass"
    auth = ["--requirepass", secret, "--masterauth", secret]
    master = interop.redis(args=auth, password=secret)
    replica = interop.redis(replicaof=master, args=auth, password=secret)
    good = interop.sentinel(
        monitor_lines(master, quorum=1, extra=[f"sentinel auth-pass mymaster {secret}"])
    )
    bare = interop.sentinel(monitor_lines(master, quorum=1))

    interop.wait_until(
        lambda: good.master()["flags"] == "master" and good.master()["num-slaves"] == "1",
        15,
        "the sentinel with auth-pass to monitor master and replica",
    )
    interop.wait_until(
        lambda: [r["flags"] for r in good.replicas()] == ["slave"], 15, "the replica"
    )
    interop.wait_until(
        lambda: {"s_down", "disconnected"} <= set(bare.master()["flags"].split(",")),
        15,
        "the sentinel without auth-pass to see the master down and disconnected",
    )
    assert bare.master()["num-slaves"] == "0"

    assert call_raw(bare.port, "SENTINEL", "SET", "mymaster", "auth-pass", secret) == b"+OK\r\n"
    assert bare.has_event("+set", f"master mymaster {HOST} {master.port} auth-pass ******")
    assert f"sentinel auth-pass mymaster {secret}" in bare.conf.read_text().splitlines()
    interop.wait_until(
        lambda: bare.master()["flags"] == "master" and bare.master()["num-slaves"] == "1",
        15,
        "the sentinel to reconnect with the new password",
    )
    interop.wait_until(
        lambda: [r["flags"] for r in bare.replicas()] == ["slave"],
        15,
        "the replica, reached with the master's auth-pass",
    )
    assert f"{HOST}:{replica.port}" == bare.replicas()[0]["name"]


#: The minimal ACL a monitored Redis must grant sentinel (spec §9.6, from the docs).
SENTINEL_ACL = [
    "-@all", "+multi", "+slaveof", "+ping", "+exec", "+subscribe", "+config|rewrite",
    "+role", "+publish", "+info", "+client|setname", "+client|kill", "+script|kill",
    "allchannels",
]  # fmt: skip


def test_operations_master_with_acl_user(interop: Interop) -> None:
    """Master and replica with the ``default`` user disabled; the sentinel logs in with
    ``auth-user`` + ``auth-pass`` as a user holding only the documented minimal ACL,
    and can still promote the replica (MULTI/SLAVEOF NO ONE/CONFIG REWRITE/CLIENT KILL)."""
    users = [
        "--user", "default", "off",
        "--user", "admin", "on", ">adminpw", "~*", "&*", "+@all",
        "--user", "sentinel-user", "on", ">sentpw", *SENTINEL_ACL,
        "--masteruser", "admin", "--masterauth", "adminpw",
    ]  # fmt: skip
    master = interop.redis(args=users, username="admin", password="adminpw")
    replica = interop.redis(replicaof=master, args=users, username="admin", password="adminpw")
    s = interop.sentinel(
        monitor_lines(
            master,
            quorum=1,
            down_after_ms=SWITCH_SAFE_DOWN_AFTER_MS,
            extra=[
                "sentinel auth-user mymaster sentinel-user",
                "sentinel auth-pass mymaster sentpw",
            ],
        )
    )
    interop.wait_until(
        lambda: s.master()["flags"] == "master" and s.master()["num-slaves"] == "1",
        15,
        "the sentinel to log in as sentinel-user",
    )
    interop.wait_until(
        lambda: [r["flags"] for r in s.replicas()] == ["slave"], 15, "the replica to be reached"
    )
    cfg = sconfig.load(str(s.conf)).masters[0]
    assert (cfg.auth_user, cfg.auth_pass) == ("sentinel-user", "sentpw")

    assert call_raw(s.port, "SENTINEL", "FAILOVER", "mymaster") == b"+OK\r\n"
    interop.wait_until(lambda: s.follows(replica), 30, "the switch")
    assert replica.is_master()
    interop.wait_until(lambda: master.replicates(replica), 40, "the old master to be converted")


def test_operations_sentinel_with_requirepass(interop: Interop) -> None:
    """Sentinels with ``requirepass``: clients must AUTH (spec §3.1, §3.4) and the peers
    authenticate to each other with it (spec §9.6), so no peer looks down."""
    master = interop.redis()
    interop.redis(replicaof=master)
    pw = "sentinel-pw"
    lines = [f"requirepass {pw}", *monitor_lines(master)]
    sentinels = [interop.sentinel(lines, password=pw) for _ in range(3)]
    s0 = sentinels[0]

    assert call_raw(s0.port, "PING") == b"-NOAUTH Authentication required.\r\n"
    assert call_raw(s0.port, "SENTINEL", "MYID") == b"-NOAUTH Authentication required.\r\n"
    assert call_raw(s0.port, "AUTH", "wrong") == (
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    )
    assert pipeline_raw(s0.port, [("AUTH", pw), ("PING",)]) == b"+OK\r\n+PONG\r\n"
    assert call_raw(s0.port, "SENTINEL", "MYID", auth=[pw]) == (
        b"$40\r\n" + s0.myid().encode() + b"\r\n"
    )

    interop.wait_discovery(sentinels, replicas=1)

    def peer_flags() -> list[list[str]]:
        return [[p["flags"] for p in s.peers()] for s in sentinels]

    healthy = [["sentinel", "sentinel"]] * 3
    interop.wait_until(lambda: peer_flags() == healthy, 10, "the links to the peers")
    # Peers answer our PINGs only if our AUTH worked: none may go s_down (down-after
    # is 1000 ms).
    hold(interop, peer_flags, healthy, 3, "every peer answering authenticated PINGs")
    ok = b"+OK 3 usable Sentinels. Quorum and failover authorization can be reached\r\n"
    for s in sentinels:
        assert call_raw(s.port, "SENTINEL", "CKQUORUM", "mymaster", auth=[pw]) == ok


NOTIFY_SCRIPT = """#!/bin/sh
# One line per call: the argument count, then each argument, tab-separated.
printf '%s\\t%s\\t%s\\n' "$#" "$1" "$2" >> "$(dirname "$0")/notify.log"
# What the script's open file descriptors point to (none may be the sentinel's).
ls -l "/proc/$$/fd" >> "$(dirname "$0")/fds.log"
"""


def test_operations_notification_script(interop: Interop, tmp_path: Path) -> None:
    """The notification script gets ``<event-type> <payload>`` for warning events that
    concern an instance, and nothing for the others (spec §4.1, §9.8)."""
    script = tmp_path / "notify.sh"
    script.write_text(NOTIFY_SCRIPT)
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    calls = tmp_path / "notify.log"
    master = interop.redis()
    s = interop.sentinel(
        monitor_lines(master, quorum=1, extra=[f"sentinel notification-script mymaster {script}"])
    )
    mi = f"master mymaster {HOST} {master.port}"

    def logged() -> list[str]:
        return calls.read_text().splitlines() if calls.exists() else []

    interop.wait_until(logged, 10, "the +monitor notification")
    assert logged() == [f"2\t+monitor\t{mi} quorum 1"]

    myid = s.myid()
    master.kill(signal.SIGKILL)
    expected = [
        # +new-epoch and +vote-for-leader carry no instance details, but they concern
        # the master, so they run its script too (sentinelEvent is given the master).
        "2\t+new-epoch\t1",
        f"2\t+vote-for-leader\t{myid} 1",
        f"2\t+sdown\t{mi}",
        f"2\t+odown\t{mi} #quorum 1/1",
        f"2\t+try-failover\t{mi}",
        f"2\t+elected-leader\t{mi}",
        f"2\t+failover-state-select-slave\t{mi}",
        f"2\t-failover-abort-no-good-slave\t{mi}",
    ]
    interop.wait_until(
        lambda: all(line in logged() for line in expected), 20, "the down/failover scripts"
    )
    assert all(line.startswith("2\t") for line in logged())
    cfg = sconfig.load(str(s.conf)).masters[0]
    assert cfg.notification_script == str(script)
    # No descriptor of the sentinel leaks into the script (spec §9.8; the Tcl suite's
    # check_leaked_fds): no sockets, not its config or log file. stdout and stderr are
    # inherited, as redis does.
    fds = set()
    for line in (tmp_path / "fds.log").read_text().splitlines():
        if " -> " in line:
            left, target = line.split(" -> ", 1)
            fds.add((int(left.split()[-1]), target))
    assert fds
    leaked = [
        (fd, target)
        for fd, target in fds
        if fd > 2
        and (target.startswith(("socket:", "pipe:", "anon_inode:")) or str(s.dir) in target)
        # The shell keeps a copy of its stdout (the sentinel's, inherited) aside.
        and target != str(s.output_path)
    ]
    assert leaked == [], sorted(fds)


def test_operations_tilt_after_a_stall(interop: Interop) -> None:
    """A sentinel stopped for longer than the TILT trigger (2 s) enters TILT when it
    resumes, and leaves it after tilt-period (set to 1000 ms with ``SENTINEL DEBUG``,
    as the Tcl suite does) (spec §9.1)."""
    master = interop.redis()
    s = interop.sentinel(monitor_lines(master, quorum=1))
    assert call_raw(s.port, "SENTINEL", "DEBUG", "tilt-period", "1000") == b"+OK\r\n"
    before = s.cmd("INFO", "sentinel")
    assert isinstance(before, dict)
    assert before["sentinel_tilt"] == 0
    assert s.proc is not None
    s.procs.kill(s.proc, signal.SIGSTOP)
    try:
        # The stall itself is the fault under test, not a wait for a condition.
        time.sleep(2.5)
    finally:
        s.procs.kill(s.proc, signal.SIGCONT)
    interop.wait_until(lambda: s.has_event("+tilt", "#tilt mode entered"), 10, "+tilt")
    interop.wait_until(lambda: s.has_event("-tilt", "#tilt mode exited"), 10, "-tilt")
    info = s.cmd("INFO", "sentinel")
    assert isinstance(info, dict)
    assert info["sentinel_tilt"] == 0
    # The master did not go down because of our own stall.
    assert not s.events("+sdown")
    assert s.master()["flags"] == "master"


def test_operations_rename_command(interop: Interop) -> None:
    """``sentinel rename-command`` maps every command sent to the group (spec §5.3, §8.4,
    trap T6): with SLAVEOF and CONFIG renamed on the servers, a failover still works;
    renaming PING to something the master does not know makes it look down (Tcl
    07-down-conditions), and renaming it back heals it."""
    renames = [
        "--rename-command", "SLAVEOF", "x-slaveof",
        "--rename-command", "REPLICAOF", "x-replicaof",
        "--rename-command", "CONFIG", "x-config",
    ]  # fmt: skip
    master = interop.redis(args=renames)
    replica = interop.redis(replicaof=master, args=renames)
    s = interop.sentinel(
        monitor_lines(
            master,
            quorum=1,
            down_after_ms=SWITCH_SAFE_DOWN_AFTER_MS,
            extra=[
                "sentinel rename-command mymaster SLAVEOF x-slaveof",
                "sentinel rename-command mymaster CONFIG x-config",
            ],
        )
    )
    interop.wait_discovery([s], replicas=1)
    interop.wait_until(
        lambda: [r["flags"] for r in s.replicas()] == ["slave"], 15, "the replica's links"
    )
    assert call_raw(s.port, "SENTINEL", "FAILOVER", "mymaster") == b"+OK\r\n"
    interop.wait_until(lambda: s.follows(replica), 30, "the switch")
    assert replica.is_master()
    interop.wait_until(lambda: master.replicates(replica), 40, "the old master, converted")
    cfg = sconfig.load(str(s.conf)).masters[0]
    assert set(cfg.rename_commands) == {("slaveof", "x-slaveof"), ("config", "x-config")}

    mi = f"master mymaster {HOST} {replica.port}"
    reply = call_raw(s.port, "SENTINEL", "SET", "mymaster", "rename-command", "PING", "NOPING")
    assert reply == b"+OK\r\n"
    assert s.has_event("+set", f"{mi} rename-command PING NOPING")
    interop.wait_until(
        lambda: "s_down" in s.master()["flags"].split(","), 10, "the master to look down"
    )
    reply = call_raw(s.port, "SENTINEL", "SET", "mymaster", "rename-command", "PING", "PING")
    assert reply == b"+OK\r\n"
    interop.wait_until(lambda: s.master()["flags"] == "master", 10, "the master to heal")
    cfg = sconfig.load(str(s.conf)).masters[0]
    assert set(cfg.rename_commands) == {("slaveof", "x-slaveof"), ("config", "x-config")}


def test_operations_hostnames(interop: Interop) -> None:
    """``resolve-hostnames`` / ``announce-hostnames`` with ``localhost`` everywhere (spec
    §9.5, Tcl 08-hostname-conf): addresses are reported as the hostname, then as the IP
    once ``announce-hostnames`` is off again."""
    master = interop.redis(args=["--replica-announce-ip", "localhost"])
    replica = interop.redis(replicaof=master, args=["--replica-announce-ip", "localhost"])
    s = interop.sentinel([])
    for param in "resolve-hostnames", "announce-hostnames":
        assert call_raw(s.port, "SENTINEL", "CONFIG", "SET", param, "yes") == b"+OK\r\n"
    lines = s.conf.read_text().splitlines()
    assert "sentinel resolve-hostnames yes" in lines
    assert "sentinel announce-hostnames yes" in lines
    assert call_raw(s.port, "SENTINEL", "MONITOR", "mymaster", "localhost", master.port, "1") == (
        b"+OK\r\n"
    )
    interop.wait_discovery([s], replicas=1)
    assert s.master_addr() == ("localhost", master.port)
    interop.wait_until(
        lambda: [(r["ip"], r["flags"]) for r in s.replicas()] == [("localhost", "slave")],
        15,
        "the replica, announced as localhost",
    )
    assert s.has_event("+monitor", f"master mymaster localhost {master.port} quorum 1")
    info = s.cmd("INFO", "sentinel")
    assert isinstance(info, dict)
    assert info["master0"]["address"] == f"localhost:{master.port}"
    cfg = sconfig.load(str(s.conf))
    assert cfg.masters[0].addr == Addr("localhost", master.port)

    assert call_raw(s.port, "SENTINEL", "CONFIG", "SET", "announce-hostnames", "no") == (b"+OK\r\n")
    assert s.master_addr() == (HOST, master.port)
    assert [r["ip"] for r in s.replicas()] == [HOST]
    assert replica.replicates(master)
    # The flush of CONFIG SET wrote the addresses in their new announce form (§2.8 5a, 5l).
    lines = s.conf.read_text().splitlines()
    assert f"sentinel monitor mymaster {HOST} {master.port} 1" in lines
    assert f"sentinel known-replica mymaster {HOST} {replica.port}" in lines


def test_operations_sentinels_with_acl_users(interop: Interop) -> None:
    """Sentinels whose ``default`` user is off: peers can't authenticate until
    ``SENTINEL CONFIG SET sentinel-user/sentinel-pass`` gives them the ACL user's
    credentials (spec §9.4, §9.6, Tcl 09-acl-support)."""
    master = interop.redis()
    user, pw = "sentinel-user", "s3cr3t"
    lines = ["user default off", f"user {user} on >{pw} allchannels +@all", *monitor_lines(master)]
    sentinels = [interop.sentinel(lines, username=user, password=pw) for _ in range(3)]
    s0 = sentinels[0]
    assert call_raw(s0.port, "PING") == b"-NOAUTH Authentication required.\r\n"
    assert call_raw(s0.port, "AUTH", "default", "") == (
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    )
    interop.wait_discovery(sentinels, replicas=0)
    # Our PINGs to the peers get -NOAUTH: after down-after they look down.
    broken = (
        b"-NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified"
        b" quorum for this master. Not enough available Sentinels to reach the majority and"
        b" authorize a failover\r\n"
    )
    auth = [user, pw]
    interop.wait_until(
        lambda: call_raw(s0.port, "SENTINEL", "CKQUORUM", "mymaster", auth=auth) == broken,
        10,
        "peers that cannot be authenticated to look down",
    )
    for s in sentinels:
        for param, value in ("sentinel-user", user), ("sentinel-pass", pw):
            reply = call_raw(s.port, "SENTINEL", "CONFIG", "SET", param, value, auth=auth)
            assert reply == b"+OK\r\n"
        lines_now = s.conf.read_text().splitlines()
        assert f"sentinel sentinel-user {user}" in lines_now
        assert f"sentinel sentinel-pass {pw}" in lines_now
    ok = b"+OK 3 usable Sentinels. Quorum and failover authorization can be reached\r\n"
    for s in sentinels:
        interop.wait_until(
            lambda s=s: call_raw(s.port, "SENTINEL", "CKQUORUM", "mymaster", auth=auth) == ok,
            10,
            f"{s} to reach its peers with the ACL user",
        )
    assert [p["flags"] for p in s0.peers()] == ["sentinel", "sentinel"]


def test_operations_flushconfig_file_gone_or_unwritable(interop: Interop) -> None:
    """``SENTINEL FLUSHCONFIG`` recreates a deleted config file; when the path has become
    a directory the flush fails with redis's reply and log line, the state is kept, and a
    later flush works again (spec §2.7, §3.3, Tcl 03-runtime-reconf)."""
    master = interop.redis()
    s = interop.sentinel(monitor_lines(master, quorum=1))
    myid = s.myid()
    s.conf.unlink()
    assert call_raw(s.port, "SENTINEL", "FLUSHCONFIG") == b"+OK\r\n"
    cfg = sconfig.load(str(s.conf))
    assert cfg.myid == myid
    assert [m.name for m in cfg.masters] == ["mymaster"]

    saved = s.conf.read_text()
    s.conf.unlink()
    s.conf.mkdir()
    failed = b"-ERR Failed to save config file. Check server logs.\r\n"
    assert call_raw(s.port, "SENTINEL", "FLUSHCONFIG") == failed
    assert call_raw(s.port, "SENTINEL", "SET", "mymaster", "quorum", "2") == failed
    assert s.master()["quorum"] == "2"  # the in-memory change is kept
    interop.wait_until(
        lambda: (
            [line.message for line in s.log()].count(
                "WARNING: Sentinel was not able to save the new configuration on disk!!!: "
                "Is a directory"
            )
            == 2
        ),
        5,
        "the flush failure in the log",
    )
    s.conf.rmdir()
    s.conf.write_text(saved)
    assert call_raw(s.port, "SENTINEL", "FLUSHCONFIG") == b"+OK\r\n"
    assert sconfig.load(str(s.conf)).masters[0].quorum == 2
