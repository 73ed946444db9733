"""SENTINEL subcommands over a fake sentinel: reply shapes, field order, error texts."""

from __future__ import annotations

import pytest

from pysentinel import resp
from pysentinel.config import parse
from pysentinel.core import commands
from pysentinel.core.effects import Close, Emit, Log, PersistConfig, Reply
from pysentinel.core.instance import FailoverState, ReconfState
from pysentinel.core.types import Addr, Millis, Role, RunId
from pysentinel.core.values import (
    NULL,
    NULL_ARRAY,
    Array,
    Bulk,
    Error,
    Int,
    Map,
    Simple,
    Value,
)
from tests.core.commands_fakes import CLIENT, FakeSentinel, persisted, reply_of, run

PEER = "b" * 40
PEER2 = "c" * 40

CONF = f"""
sentinel myid {"a" * 40}
sentinel monitor mymaster 127.0.0.1 6379 2
sentinel down-after-milliseconds mymaster 5000
sentinel known-replica mymaster 127.0.0.1 6380
sentinel known-replica mymaster 127.0.0.1 6381
sentinel known-sentinel mymaster 127.0.0.1 26380 {PEER}
sentinel known-sentinel mymaster 127.0.0.1 26381 {PEER2}
sentinel monitor other 10.0.0.1 7000 1
"""


def make() -> FakeSentinel:
    return FakeSentinel(parse(CONF, cwd="/tmp"))


def keys(value: Value) -> list[str]:
    assert isinstance(value, Map)
    out = []
    for k, _ in value.items:
        assert isinstance(k, Bulk)
        out.append(k.data.decode())
    return out


def as_dict(value: Value) -> dict[str, str]:
    assert isinstance(value, Map)
    out = {}
    for k, v in value.items:
        assert isinstance(k, Bulk) and isinstance(v, Bulk), (k, v)
        out[k.data.decode()] = v.data.decode()
    return out


def error_text(effects: list[object]) -> str:
    value = reply_of(effects)  # type: ignore[arg-type]
    assert isinstance(value, Error), value
    return value.text


MASTER_FIELDS = [
    "name",
    "ip",
    "port",
    "runid",
    "flags",
    "link-pending-commands",
    "link-refcount",
    "last-ping-sent",
    "last-ok-ping-reply",
    "last-ping-reply",
    "down-after-milliseconds",
    "info-refresh",
    "role-reported",
    "role-reported-time",
    "config-epoch",
    "num-slaves",
    "num-other-sentinels",
    "quorum",
    "failover-timeout",
    "parallel-syncs",
]


# --- instance maps ----------------------------------------------------------------------


def test_commands_master_map_has_the_20_fields_in_order() -> None:
    s = make()
    value = reply_of(run(s, "master", "mymaster"))
    assert keys(value) == MASTER_FIELDS
    d = as_dict(value)
    assert d["name"] == "mymaster" and d["ip"] == "127.0.0.1" and d["port"] == "6379"
    assert d["flags"] == "master" and d["runid"] == ""
    assert d["num-slaves"] == "2" and d["num-other-sentinels"] == "2"
    assert d["quorum"] == "2" and d["down-after-milliseconds"] == "5000"
    assert d["info-refresh"] == "0"
    assert d["last-ping-sent"] == "4000"  # act_ping_time starts at link creation
    assert d["last-ok-ping-reply"] == "4000"  # link created at 1000, now 5000
    # The Tcl test 11-port-0 reads element 33 of the RESP2 flat array.
    wire = resp.encode(value, 2)
    assert wire.startswith(b"*40\r\n")


def test_commands_master_map_optional_fields_in_place() -> None:
    s = make()
    m = s.masters["mymaster"]
    m.sdown_since = Millis(2000)
    m.odown_since = Millis(3000)
    m.failover_state = FailoverState.WAIT_START
    m.notification_script = "/n.sh"
    m.client_reconfig_script = "/c.sh"
    m.link.act_ping_time = Millis(4500)
    m.info_refresh = Millis(4900)
    m.role_reported = Role.MASTER
    value = reply_of(run(s, "master", "mymaster"))
    expected = [*MASTER_FIELDS[:7], "failover-state", *MASTER_FIELDS[7:10]]
    expected += ["s-down-time", "o-down-time", *MASTER_FIELDS[10:]]
    expected += ["notification-script", "client-reconfig-script"]
    assert keys(value) == expected
    d = as_dict(value)
    assert d["flags"] == "s_down,o_down,master,failover_in_progress"
    assert d["failover-state"] == "wait_start"
    assert d["s-down-time"] == "3000" and d["o-down-time"] == "2000"
    assert d["last-ping-sent"] == "500" and d["info-refresh"] == "100"


def test_commands_replica_and_sentinel_maps() -> None:
    s = make()
    replicas = reply_of(run(s, "replicas", "mymaster"))
    assert isinstance(replicas, Array) and len(replicas.items) == 2
    first = replicas.items[0]
    assert keys(first) == [
        *MASTER_FIELDS[:14],
        "master-link-down-time",
        "master-link-status",
        "master-host",
        "master-port",
        "slave-priority",
        "slave-repl-offset",
        "replica-announced",
    ]
    d = as_dict(first)
    assert d["name"] == "127.0.0.1:6380" and d["flags"] == "slave"
    assert d["master-host"] == "?" and d["master-port"] == "0"
    assert d["master-link-status"] == "err" and d["slave-priority"] == "100"
    assert d["role-reported"] == "master"
    peers = reply_of(run(s, "sentinels", "mymaster"))
    assert isinstance(peers, Array) and len(peers.items) == 2
    assert keys(peers.items[0]) == [
        *MASTER_FIELDS[:11],
        "last-hello-message",
        "voted-leader",
        "voted-leader-epoch",
    ]
    d = as_dict(peers.items[0])
    assert d["name"] == PEER and d["runid"] == PEER and d["flags"] == "sentinel"
    assert d["voted-leader"] == "?" and d["voted-leader-epoch"] == "0"


def test_commands_replicas_hides_unannounced_but_counts_them() -> None:
    s = make()
    s.masters["mymaster"].replicas["127.0.0.1:6380"].replica_announced = False
    replicas = reply_of(run(s, "slaves", "mymaster"))
    assert isinstance(replicas, Array) and len(replicas.items) == 1
    assert as_dict(reply_of(run(s, "master", "mymaster")))["num-slaves"] == "2"


def test_commands_replica_flags_order() -> None:
    s = make()
    r = s.masters["mymaster"].replicas["127.0.0.1:6380"]
    r.sdown_since = Millis(10)
    r.link.disconnected = True
    r.promoted = True
    r.reconf = ReconfState.INPROG
    d = as_dict(reply_of(run(s, "replicas", "mymaster")).items[0])  # type: ignore[union-attr]
    assert d["flags"] == "s_down,slave,disconnected,promoted,reconf_inprog"


def test_commands_masters_lists_all_in_internal_order_resp3_map() -> None:
    s = make()
    value = reply_of(run(s, "MASTERS", proto=3))
    assert isinstance(value, Array)
    assert [as_dict(m)["name"] for m in value.items] == ["mymaster", "other"]
    assert resp.encode(value, 3).startswith(b"*2\r\n%20\r\n")


@pytest.mark.parametrize("sub", ["master", "replicas", "slaves", "sentinels", "failover", "remove"])
def test_commands_unknown_master_error(sub: str) -> None:
    s = make()
    assert error_text(run(s, sub, "nope")) == "ERR No such master with that name"


def test_commands_ckquorum_unknown_master() -> None:
    assert error_text(run(make(), "ckquorum", "x")) == "ERR No such master with that name"


# --- simple getters ---------------------------------------------------------------------


def test_commands_myid_and_role_and_help() -> None:
    s = make()
    assert reply_of(run(s, "myid")) == Bulk(b"a" * 40)
    assert commands.role_reply(s) == Array(  # type: ignore[arg-type]
        (Bulk(b"sentinel"), Array((Bulk(b"mymaster"), Bulk(b"other"))))
    )
    value = reply_of(run(s, "help"))
    assert isinstance(value, Array) and len(value.items) == 49
    assert value.items[0] == Simple(
        "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    )
    assert value.items[-2:] == (Simple("HELP"), Simple("    Prints this help."))


def test_commands_get_master_addr_by_name() -> None:
    s = make()
    assert reply_of(run(s, "get-master-addr-by-name", "mymaster")) == Array(
        (Bulk(b"127.0.0.1"), Bulk(b"6379"))
    )
    assert reply_of(run(s, "get-master-addr-by-name", "nope")) == NULL_ARRAY
    assert resp.encode(NULL_ARRAY, 2) == b"*-1\r\n"
    m = s.masters["mymaster"]
    promoted = m.replicas["127.0.0.1:6381"]
    m.promoted_replica = promoted
    m.failover_state = FailoverState.WAIT_PROMOTION
    assert reply_of(run(s, "get-master-addr-by-name", "mymaster")) == Array(
        (Bulk(b"127.0.0.1"), Bulk(b"6379"))
    )
    m.failover_state = FailoverState.RECONF_SLAVES
    assert reply_of(run(s, "get-master-addr-by-name", "mymaster")) == Array(
        (Bulk(b"127.0.0.1"), Bulk(b"6381"))
    )


def test_commands_announce_hostnames_shows_hostname() -> None:
    s = make()
    m = s.masters["mymaster"]
    m.hostname = "localhost"
    assert as_dict(reply_of(run(s, "master", "mymaster")))["ip"] == "127.0.0.1"
    s.announce_hostnames = True
    assert as_dict(reply_of(run(s, "master", "mymaster")))["ip"] == "localhost"
    assert reply_of(run(s, "get-master-addr-by-name", "mymaster")) == Array(
        (Bulk(b"localhost"), Bulk(b"6379"))
    )


def test_commands_info_sentinel_section() -> None:
    s = make()
    s.masters["other"].sdown_since = Millis(1)
    text = commands.info_sentinel_section(s, Millis(5000))  # type: ignore[arg-type]
    assert text.split("\r\n") == [
        "sentinel_masters:2",
        "sentinel_tilt:0",
        "sentinel_tilt_since_seconds:-1",
        "sentinel_running_scripts:0",
        "sentinel_scripts_queue_length:0",
        "sentinel_simulate_failure_flags:0",
        "master0:name=mymaster,status=ok,address=127.0.0.1:6379,slaves=2,sentinels=3",
        "master1:name=other,status=sdown,address=10.0.0.1:7000,slaves=0,sentinels=1",
    ]
    s.tilt = True
    s.tilt_start_time = Millis(1000)
    s.simfailure_crash_after_promotion = True
    s.masters["other"].odown_since = Millis(2)
    text = commands.info_sentinel_section(s, Millis(5999))  # type: ignore[arg-type]
    lines = text.split("\r\n")
    assert lines[1:3] == ["sentinel_tilt:1", "sentinel_tilt_since_seconds:4"]
    assert lines[5] == "sentinel_simulate_failure_flags:2"
    assert "status=odown" in lines[7]


# --- CKQUORUM -------------------------------------------------------------------------


def test_commands_ckquorum_ok_and_noquorum() -> None:
    s = make()
    assert reply_of(run(s, "ckquorum", "mymaster")) == Simple(
        "OK 3 usable Sentinels. Quorum and failover authorization can be reached"
    )
    for peer in s.masters["mymaster"].sentinels.values():
        peer.sdown_since = Millis(1)
    assert error_text(run(s, "ckquorum", "mymaster")) == (
        "NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified"
        " quorum for this master. Not enough available Sentinels to reach the majority and"
        " authorize a failover"
    )
    s.masters["mymaster"].quorum = 1
    assert error_text(run(s, "ckquorum", "mymaster")) == (
        "NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the majority"
        " and authorize a failover"
    )
    s.masters["mymaster"].quorum = 5
    for peer in s.masters["mymaster"].sentinels.values():
        peer.sdown_since = None
    assert error_text(run(s, "ckquorum", "mymaster")) == (
        "NOQUORUM 3 usable Sentinels. Not enough available Sentinels to reach the specified"
        " quorum for this master"
    )


# --- MONITOR / REMOVE / FLUSHCONFIG / RESET ---------------------------------------------


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (("m", "127.0.0.1", "6379", "x"), "ERR Invalid quorum"),
        (("m", "127.0.0.1", "p", "x"), "ERR Invalid quorum"),
        (("m", "127.0.0.1", "p", "2"), "ERR Invalid port"),
        (("m", "127.0.0.1", "6379", "0"), "ERR Quorum must be 1 or greater."),
        (("m", "bad host", "99999", "0"), "ERR Quorum must be 1 or greater."),
        (("m", "localhost", "99999", "2"), "ERR Invalid IP address or hostname specified"),
        (("m", "127.0.0.1", "99999", "2"), "ERR Invalid port number."),
        (("m", "127.0.0.1", "-1", "2"), "ERR Invalid port number."),
        (("mymaster", "127.0.0.1", "6379", "2"), "ERR Duplicate master name."),
        (("m", "127.0.0.1", " 6379", "2"), "ERR Invalid port"),
        (("m", "127.0.0.1", "6379", "+2"), "ERR Invalid quorum"),
    ],
)
def test_commands_monitor_errors(argv: tuple[str, ...], error: str) -> None:
    s = make()
    effects = run(s, "monitor", *argv)
    assert error_text(effects) == error
    assert persisted(effects) == []
    assert list(s.masters) == ["mymaster", "other"]


def test_commands_monitor_creates_flushes_and_emits() -> None:
    s = make()
    s.tunables.default_down_after_ms = 1234
    effects = run(s, "MONITOR", "new", "::1", "6000", "3")
    (flush,) = persisted(effects)
    assert flush.reply_to == CLIENT
    assert [e for e in effects if isinstance(e, Reply)] == []
    assert isinstance(effects[-1], Emit)
    assert s.events == [("+monitor", "master new ::1 6000 quorum 3")]
    m = s.masters["new"]
    assert m.down_after_ms == 1234 and m.failover_timeout_ms == 180_000 and m.quorum == 3
    assert [mc.name for mc in flush.config.masters] == ["mymaster", "other", "new"]


def test_commands_monitor_hostname_needs_resolve_hostnames() -> None:
    s = make()
    s.resolve_hostnames = True
    effects = run(s, "monitor", "h", "redis.example", "6379", "1")
    assert persisted(effects)[0].reply_to == CLIENT
    assert s.masters["h"].addr.host == "redis.example"


def test_commands_remove_emits_then_flushes() -> None:
    s = make()
    effects = run(s, "remove", "other")
    assert s.events == [("-monitor", "master other 10.0.0.1 7000")]
    assert isinstance(effects[0], Emit)
    (flush,) = persisted(effects)
    assert flush.reply_to == CLIENT and effects[-1] is flush
    assert [mc.name for mc in flush.config.masters] == ["mymaster"]


def test_commands_flushconfig_replies_through_persist() -> None:
    effects = run(make(), "flushconfig", proto=3)
    assert len(effects) == 1
    (flush,) = persisted(effects)
    assert flush.reply_to == CLIENT and flush.proto == 3


def test_commands_reset_counts_matches_and_does_not_flush() -> None:
    s = make()
    effects = run(s, "reset", "*master")
    assert reply_of(effects) == Int(1)
    assert persisted(effects) == []
    assert s.resets == ["mymaster"]
    assert s.events == [("+reset-master", "master mymaster 127.0.0.1 6379")]
    assert reply_of(run(s, "reset", "*")) == Int(2)
    assert reply_of(run(s, "reset", "MY*")) == Int(0)  # case-sensitive


# --- SET --------------------------------------------------------------------------------


def test_commands_set_applies_pairs_emits_and_flushes() -> None:
    s = make()
    effects = run(
        s,
        "set",
        "mymaster",
        "down-after-milliseconds",
        "1000",
        "QUORUM",
        "3",
        "parallel-syncs",
        "2",
        "failover-timeout",
        "9000",
        "master-reboot-down-after-period",
        "0",
    )
    m = s.masters["mymaster"]
    assert (m.down_after_ms, m.quorum, m.parallel_syncs, m.failover_timeout_ms) == (
        1000,
        3,
        2,
        9000,
    )
    assert all(r.down_after_ms == 1000 for r in m.replicas.values())
    assert all(p.down_after_ms == 1000 for p in m.sentinels.values())
    inst = "master mymaster 127.0.0.1 6379"
    assert s.events == [
        ("+set", f"{inst} down-after-milliseconds 1000"),
        ("+set", f"{inst} QUORUM 3"),
        ("+set", f"{inst} parallel-syncs 2"),
        ("+set", f"{inst} failover-timeout 9000"),
        ("+set", f"{inst} master-reboot-down-after-period 0"),
    ]
    (flush,) = persisted(effects)
    assert flush.reply_to == CLIENT and effects[-1] is flush
    assert flush.config.masters[0].down_after_ms == 1000


def test_commands_set_auth_pass_is_masked_and_drops_links() -> None:
    s = make()
    m = s.masters["mymaster"]
    effects = run(s, "set", "mymaster", "auth-pass", "secret", "auth-user", "")
    assert m.auth_pass == "secret" and m.auth_user is None
    inst = "master mymaster 127.0.0.1 6379"
    assert s.events == [("+set", f"{inst} auth-pass ******"), ("+set", f"{inst} auth-user ")]
    closes = [e for e in effects if isinstance(e, Close)]
    assert len(closes) == 6  # master + 2 replicas, two sockets each, once
    assert sorted(s.forgotten_links) == sorted(e.link for e in closes)
    assert m.link.disconnected and m.link.cmd is None and m.link.pending_commands == 0
    assert not any(p.link.disconnected for p in m.sentinels.values())


def test_commands_set_rename_command() -> None:
    s = make()
    m = s.masters["mymaster"]
    run(s, "set", "mymaster", "rename-command", "config", "xconfig")
    assert m.rename("CONFIG") == "xconfig"
    assert s.events[-1] == ("+set", "master mymaster 127.0.0.1 6379 rename-command config xconfig")
    run(s, "set", "mymaster", "rename-command", "CONFIG", "Config")
    assert m.rename_commands == {}
    for argv, bad in (((b"", b"x"), ""), ((b"x", b""), "")):
        effects = run(s, "set", "mymaster", "rename-command", *argv)
        assert (
            error_text(effects) == f"ERR Invalid argument '{bad}' for SENTINEL SET 'rename-command'"
        )


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (("quorum", "0"), "ERR Invalid argument '0' for SENTINEL SET 'quorum'"),
        (("Quorum", "x"), "ERR Invalid argument 'x' for SENTINEL SET 'Quorum'"),
        (("parallel-syncs", "-1"), "ERR Invalid argument '-1' for SENTINEL SET 'parallel-syncs'"),
        (
            ("master-reboot-down-after-period", "-1"),
            "ERR Invalid argument '-1' for SENTINEL SET 'master-reboot-down-after-period'",
        ),
        (("bogus", "1"), "ERR Unknown option or number of arguments for SENTINEL SET 'bogus'"),
        (
            ("rename-command", "x"),
            "ERR Unknown option or number of arguments for SENTINEL SET 'rename-command'",
        ),
        (
            ("notification-script", ""),
            "ERR Reconfiguration of scripts path is denied for security reasons. Check the"
            " deny-scripts-reconfig configuration directive in your Sentinel configuration",
        ),
    ],
)
def test_commands_set_errors(argv: tuple[str, ...], error: str) -> None:
    s = make()
    effects = run(s, "set", "mymaster", *argv)
    assert error_text(effects) == error
    assert persisted(effects) == []
    assert s.events == []


def test_commands_set_is_not_atomic_and_flushes_silently() -> None:
    s = make()
    effects = run(s, "set", "mymaster", "quorum", "4", "quorum", "0", "quorum", "5")
    assert error_text(effects) == "ERR Invalid argument '0' for SENTINEL SET 'quorum'"
    assert s.masters["mymaster"].quorum == 4
    (flush,) = persisted(effects)
    assert flush.reply_to is None
    assert len(s.events) == 1


def test_commands_set_scripts_when_allowed() -> None:
    s = make()
    s.deny_scripts_reconfig = False
    run(s, "set", "mymaster", "notification-script", "/bin/true", "client-reconfig-script", "/c")
    m = s.masters["mymaster"]
    assert m.notification_script == "/bin/true" and m.client_reconfig_script == "/c"
    run(s, "set", "mymaster", "notification-script", "")
    assert m.notification_script is None
    assert s.events[-1] == ("+set", "master mymaster 127.0.0.1 6379 notification-script ")
    s.script_path_check = lambda path: False  # type: ignore[attr-defined]
    assert error_text(run(s, "set", "mymaster", "notification-script", "/x")) == (
        "ERR Notification script seems non existing or non executable"
    )
    assert error_text(run(s, "set", "mymaster", "client-reconfig-script", "/x")) == (
        "ERR Client reconfiguration script seems non existing or non executable"
    )
    run(s, "set", "mymaster", "client-reconfig-script", "")
    assert m.client_reconfig_script is None


# --- CONFIG -----------------------------------------------------------------------------


def test_commands_config_get_order_and_glob() -> None:
    s = make()
    s.announce_port = 26000
    assert reply_of(run(s, "config", "get", "*")) == Map(
        tuple(
            (Bulk(k.encode()), Bulk(v.encode()))
            for k, v in [
                ("resolve-hostnames", "no"),
                ("announce-hostnames", "no"),
                ("announce-ip", ""),
                ("announce-port", "26000"),
                ("sentinel-user", ""),
                ("sentinel-pass", ""),
            ]
        )
    )
    assert reply_of(run(s, "config", "GET", "ANNOUNCE-*")) == Map(
        (
            (Bulk(b"announce-hostnames"), Bulk(b"no")),
            (Bulk(b"announce-ip"), Bulk(b"")),
            (Bulk(b"announce-port"), Bulk(b"26000")),
        )
    )
    assert reply_of(run(s, "config", "get", "nothing")) == Map(())


@pytest.mark.parametrize(
    "argv",
    [("get", "a", "b"), ("set", "a"), ("foo", "x"), ("set", "a", "b", "c")],
)
def test_commands_config_wrong_shape(argv: tuple[str, ...]) -> None:
    assert error_text(run(make(), "config", *argv)) == (
        "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported."
    )


def test_commands_config_set_params_flush_and_reply() -> None:
    s = make()
    for param, value in [
        ("resolve-hostnames", "YES"),
        ("announce-hostnames", "yes"),
        ("announce-ip", ""),
        ("announce-port", "65535"),
    ]:
        effects = run(s, "config", "set", param, value)
        (flush,) = persisted(effects)
        assert flush.reply_to == CLIENT
    assert s.resolve_hostnames and s.announce_hostnames
    assert s.announce_ip == "" and s.announce_port == 65535
    assert flush.config.announce_ip == ""


def test_commands_config_set_sentinel_auth_drops_peer_links() -> None:
    s = make()
    effects = run(s, "config", "set", "sentinel-pass", "pw")
    assert s.sentinel_pass == "pw"
    assert isinstance(effects[0], PersistConfig)
    assert len([e for e in effects if isinstance(e, Close)]) == 4
    effects = run(s, "config", "set", "sentinel-user", "")
    assert s.sentinel_user is None
    assert [e for e in effects if isinstance(e, Close)] == []  # already dropped


@pytest.mark.parametrize(
    ("param", "value", "error"),
    [
        (
            "resolve-hostnames",
            "maybe",
            "ERR Invalid value 'maybe' to SENTINEL CONFIG SET 'resolve-hostnames'",
        ),
        (
            "announce-port",
            "65536",
            "ERR Invalid value '65536' to SENTINEL CONFIG SET 'announce-port'",
        ),
        ("announce-port", "-1", "ERR Invalid value '-1' to SENTINEL CONFIG SET 'announce-port'"),
        ("loglevel", "debug", "ERR Invalid argument 'loglevel' to SENTINEL CONFIG SET"),
    ],
)
def test_commands_config_set_errors(param: str, value: str, error: str) -> None:
    effects = run(make(), "config", "set", param, value)
    assert error_text(effects) == error
    assert persisted(effects) == []


# --- DEBUG ------------------------------------------------------------------------------


def test_commands_debug_lists_13_tunables() -> None:
    value = reply_of(run(make(), "debug"))
    assert keys(value) == [
        "INFO-PERIOD",
        "PING-PERIOD",
        "ASK-PERIOD",
        "PUBLISH-PERIOD",
        "DEFAULT-DOWN-AFTER",
        "DEFAULT-FAILOVER-TIMEOUT",
        "TILT-TRIGGER",
        "TILT-PERIOD",
        "SLAVE-RECONF-TIMEOUT",
        "MIN-LINK-RECONNECT-PERIOD",
        "ELECTION-TIMEOUT",
        "SCRIPT-MAX-RUNTIME",
        "SCRIPT-RETRY-DELAY",
    ]
    assert list(as_dict(value).values())[:2] == ["10000", "1000"]


def test_commands_debug_sets_and_errors() -> None:
    s = make()
    effects = run(s, "debug", "TILT-PERIOD", "5000", "ping-period", "100")
    assert reply_of(effects) == Simple("OK") and persisted(effects) == []
    assert s.tunables.tilt_period_ms == 5000 and s.tunables.ping_period_ms == 100
    assert error_text(run(s, "debug", "info-period", "1", "ask-period", "0")) == (
        "ERR Invalid argument '0' for SENTINEL DEBUG 'ask-period'"
    )
    assert s.tunables.info_period_ms == 1  # pairs before the bad one stay
    assert error_text(run(s, "debug", "nope", "1")) == (
        "ERR Unknown option or number of arguments for SENTINEL DEBUG 'nope'"
    )
    assert error_text(run(s, "debug", "tilt-period")) == (
        "ERR Unknown option or number of arguments for SENTINEL DEBUG 'tilt-period'"
    )
    assert error_text(run(s, "debug", "tilt-period", "x")) == (
        "ERR Invalid argument 'x' for SENTINEL DEBUG 'tilt-period'"
    )


# --- SIMULATE-FAILURE, INFO-CACHE, PENDING-SCRIPTS ----------------------------------------


def test_commands_simulate_failure() -> None:
    s = make()
    effects = run(s, "simulate-failure", "CRASH-AFTER-ELECTION", "crash-after-promotion")
    assert reply_of(effects) == Simple("OK")
    assert len([e for e in effects if isinstance(e, Log)]) == 2
    assert s.simfailure_crash_after_election and s.simfailure_crash_after_promotion
    effects = run(s, "simulate-failure", "crash-after-promotion", "help", "bogus")
    assert reply_of(effects) == Array(
        (Bulk(b"crash-after-election"), Bulk(b"crash-after-promotion"))
    )
    assert not s.simfailure_crash_after_election and s.simfailure_crash_after_promotion
    assert error_text(run(s, "simulate-failure", "bogus")) == (
        "ERR Unknown failure simulation specified"
    )
    assert not s.simfailure_crash_after_promotion


def test_commands_info_cache() -> None:
    s = make()
    m = s.masters["mymaster"]
    m.info_cache = "# Replication\r\nrole:master\r\n"
    m.info_refresh = Millis(4000)
    r = m.replicas["127.0.0.1:6380"]
    r.info_cache = "role:slave"
    r.info_refresh = Millis(4500)
    value = reply_of(run(s, "info-cache", "other", "mymaster", "nope", "other"))
    assert value == Array(
        (
            Bulk(b"mymaster"),
            Array(
                (
                    Array((Int(1000), Bulk(b"# Replication\r\nrole:master\r\n"))),
                    Array((Int(500), Bulk(b"role:slave"))),
                    Array((Int(5000), NULL)),  # never refreshed, but the master was (T9)
                )
            ),
            Bulk(b"other"),
            Array((Array((Int(0), NULL)),)),
        )
    )


def test_commands_pending_scripts_empty_then_one() -> None:
    s = make()
    assert reply_of(run(s, "pending-scripts")) == Array(())
    s.scripts.schedule(("/n.sh", "+sdown", "x"), Millis(0))
    value = reply_of(run(s, "pending-scripts", now=10))
    assert isinstance(value, Array) and keys(value.items[0]) == [
        "argv",
        "flags",
        "pid",
        "run-delay",
        "retry-num",
    ]


# --- IS-MASTER-DOWN-BY-ADDR (the non-voting half) -----------------------------------------


def test_commands_is_master_down_by_addr_without_vote() -> None:
    s = make()
    m = s.masters["mymaster"]
    ask = ("is-master-down-by-addr", "127.0.0.1", "6379", "5", "*")
    assert reply_of(run(s, *ask)) == Array((Int(0), Bulk(b"*"), Int(0)))
    m.sdown_since = Millis(1)
    assert reply_of(run(s, *ask)) == Array((Int(1), Bulk(b"*"), Int(0)))
    s.tilt = True
    assert reply_of(run(s, *ask)) == Array((Int(0), Bulk(b"*"), Int(0)))
    s.tilt = False
    unknown = ("is-master-down-by-addr", "127.0.0.2", "6379", "5", PEER)
    assert reply_of(run(s, *unknown)) == Array((Int(0), Bulk(b"*"), Int(0)))
    for bad in (("x", "5"), ("6379", "e"), ("6379", "")):
        effects = run(s, "is-master-down-by-addr", "127.0.0.1", *bad, "*")
        assert error_text(effects) == "ERR value is not an integer or out of range"


def test_commands_failover_in_progress_error() -> None:
    s = make()
    s.masters["mymaster"].failover_state = FailoverState.WAIT_START
    assert error_text(run(s, "failover", "mymaster")) == "INPROG Failover already in progress"


def test_commands_string2ll_is_strict() -> None:
    f = commands._string2ll
    assert [f(b"0"), f(b"12"), f(b"-3"), f(str(2**63 - 1).encode())] == [0, 12, -3, 2**63 - 1]
    for bad in (b"", b"-", b"-0", b"01", b"+1", b" 1", b"1 ", b"1e3", str(2**63).encode()):
        assert f(bad) is None, bad


def test_commands_unknown_subcommand_text() -> None:
    effects = run(make(), "FOO")
    assert error_text(effects) == "ERR unknown subcommand 'FOO'. Try SENTINEL HELP."


def test_commands_run_id_is_typed() -> None:
    # voted-leader shows the peer's vote once known.
    s = make()
    peer = s.masters["mymaster"].sentinels[PEER]
    peer.leader = RunId(PEER2)
    peer.leader_epoch = 3  # type: ignore[assignment]
    d = as_dict(reply_of(run(s, "sentinels", "mymaster")).items[0])  # type: ignore[union-attr]
    assert d["voted-leader"] == PEER2 and d["voted-leader-epoch"] == "3"


def test_commands_is_master_down_by_addr_address_matching() -> None:
    s = make()
    m = s.masters["mymaster"]
    m.sdown_since = Millis(1)
    down = Array((Int(1), Bulk(b"*"), Int(0)))
    up = Array((Int(0), Bulk(b"*"), Int(0)))
    assert reply_of(run(s, "is-master-down-by-addr", "127.0.0.1", "70000", "0", "*")) == up
    assert reply_of(run(s, "is-master-down-by-addr", "localhost", "6379", "0", "*")) == up
    s.resolve_hostnames = True
    assert reply_of(run(s, "is-master-down-by-addr", "LOCALHOST", "6379", "0", "*")) == up
    m.hostname = "localhost"
    assert reply_of(run(s, "is-master-down-by-addr", "LOCALHOST", "6379", "0", "*")) == down
    assert reply_of(run(s, "is-master-down-by-addr", "127.0.0.1", "6379", "0", "*")) == down


def test_commands_set_unknown_master_and_trailing_option() -> None:
    s = make()
    assert error_text(run(s, "set", "nope", "quorum", "1")) == "ERR No such master with that name"
    effects = run(s, "set", "mymaster", "quorum", "3", "bogus")
    assert error_text(effects) == (
        "ERR Unknown option or number of arguments for SENTINEL SET 'bogus'"
    )
    assert s.masters["mymaster"].quorum == 3
    assert [f.reply_to for f in persisted(effects)] == [None]


def test_commands_config_set_yes_no() -> None:
    s = make()
    run(s, "config", "set", "resolve-hostnames", "yes")
    run(s, "config", "set", "resolve-hostnames", "No")
    assert s.resolve_hostnames is False


def test_commands_info_cache_skips_unrequested_masters_and_info_flags() -> None:
    s = make()
    value = reply_of(run(s, "info-cache", "other"))
    assert value == Array((Bulk(b"other"), Array((Array((Int(0), NULL)),))))
    s.simfailure_crash_after_election = True
    s.simfailure_crash_after_promotion = True
    text = commands.info_sentinel_section(s, Millis(5000))  # type: ignore[arg-type]
    assert "sentinel_simulate_failure_flags:3" in text.split("\r\n")


def test_commands_is_master_down_by_addr_compares_ip_literals_as_addresses() -> None:
    s = make()
    s.masters["other"].sdown_since = Millis(1)
    ask = ("is-master-down-by-addr", "::ffff:10.0.0.1", "7000", "0", "*")
    assert reply_of(run(s, *ask)) == Array((Int(0), Bulk(b"*"), Int(0)))
    s.masters["other"].addr = Addr("::1", 7000)
    ask = ("is-master-down-by-addr", "0:0::1", "7000", "0", "*")
    assert reply_of(run(s, *ask)) == Array((Int(1), Bulk(b"*"), Int(0)))
