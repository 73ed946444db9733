"""INFO parsing (spec §5.5) and the acting half of INFO processing (spec §5.6)."""

from __future__ import annotations

import helpers
from helpers import T0, Harness, events, flushes, master_config, sends, sentinel_config
from hypothesis import given, settings
from hypothesis import strategies as st

from pysentinel.core.info import InfoReport, refresh_instance_info
from pysentinel.core.instance import FailoverState, ReconfState, ReplicaInstance
from pysentinel.core.types import Addr, Millis, Role

MASTER_INFO = (
    "# Server\r\nredis_version:7.0.15\r\nrun_id:" + "f" * 40 + "\r\n\r\n# Replication\r\n"
    "role:master\r\nconnected_slaves:2\r\n"
    "slave0:ip=127.0.0.1,port=6380,state=online,offset=10,lag=0\r\n"
    "slave1:10.0.0.2,6381,online\r\n"
    "slave_read_only:1\r\nmaster_repl_offset:10\r\n"
)

REPLICA_INFO = (
    "run_id:" + "e" * 40 + "\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6379\r\n"
    "master_link_status:up\r\nmaster_link_down_since_seconds:7\r\n"
    "slave_repl_offset:12345\r\nslave_priority:50\r\nreplica_announced:0\r\n"
)


def test_info_parses_master_report() -> None:
    report = InfoReport.from_text(MASTER_INFO)
    assert report.run_id == "f" * 40
    assert report.role is Role.MASTER
    assert report.replicas == (Addr("127.0.0.1", 6380), Addr("10.0.0.2", 6381))
    assert report.master_host is None and report.priority is None
    assert report.text == MASTER_INFO


def test_info_parses_replica_report() -> None:
    report = InfoReport.from_text(REPLICA_INFO)
    assert report.role is Role.SLAVE
    assert report.master_host == "127.0.0.1"
    assert report.master_port == 6379
    assert report.master_link_up is True
    assert report.master_link_down_ms == 7000
    assert report.repl_offset == 12345
    assert report.priority == 50
    assert report.replica_announced == 0


def test_info_replica_fields_read_only_after_role_slave() -> None:
    text = "master_host:1.2.3.4\r\nrole:slave\r\nmaster_port:7\r\nrole:master\r\nslave_priority:3"
    report = InfoReport.from_text(text)
    assert report.master_host is None
    assert report.master_port == 7
    assert report.priority is None
    assert report.role is Role.MASTER


def test_info_link_status_prefix_case_insensitive_and_short_run_id_ignored() -> None:
    report = InfoReport.from_text("run_id:abc\r\nrole:slave\r\nmaster_link_status:UPx\r\n")
    assert report.run_id is None
    assert report.master_link_up is True
    report = InfoReport.from_text("role:slave\r\nmaster_link_status:down\r\n")
    assert report.master_link_up is False


def test_info_malformed_replica_lines_skipped() -> None:
    text = "slave0:10.0.0.1\r\nslave1:10.0.0.1,6380\r\nslavex:ip=1,port=2\r\nslave2:ip=1.1.1.1\r\n"
    assert InfoReport.from_text(text).replicas == ()


@settings(max_examples=50)
@given(
    st.text(alphabet=st.sampled_from("abr:_=,0123456789\r\nslaveipportmasterhost"), max_size=200)
)
def test_info_parser_never_raises(text: str) -> None:
    InfoReport.from_text(text)


# --- applying -------------------------------------------------------------------------------


def _with_replica(**master_kwargs: object) -> tuple[Harness, ReplicaInstance]:
    h = Harness(sentinel_config(master_config(**master_kwargs)))
    h.start()
    master = h.sentinel.masters["mymaster"]
    replica = h.sentinel.create_replica(master, Addr("127.0.0.1", 6380), h.now)
    return h, replica


def _sane_master(h: Harness) -> None:
    master = h.sentinel.masters["mymaster"]
    master.role_reported = Role.MASTER
    master.info_refresh = h.now


def test_info_new_replicas_emit_slave_and_flush_once_each() -> None:
    h = Harness(sentinel_config())
    h.start()
    master = h.sentinel.masters["mymaster"]
    effects = refresh_instance_info(h.sentinel, master, MASTER_INFO, T0)
    assert events(effects) == [
        "+slave slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379",
        "+slave slave 10.0.0.2:6381 10.0.0.2 6381 @ mymaster 127.0.0.1 6379",
    ]
    assert flushes(effects) == 2
    assert refresh_instance_info(h.sentinel, master, MASTER_INFO, T0) == []
    assert master.info_cache == MASTER_INFO
    assert master.run_id == "f" * 40


def test_info_hostname_replica_rejected_without_resolve_hostnames() -> None:
    h = Harness(sentinel_config())
    h.start()
    master = h.sentinel.masters["mymaster"]
    effects = refresh_instance_info(
        h.sentinel, master, "role:master\r\nslave0:ip=db1,port=6380,state=online\r\n", T0
    )
    assert events(effects) == []
    assert helpers.logs(effects) == ["Failed to resolve hostname 'db1'"] * 2
    assert master.replicas == {}


def test_info_reboot_sets_master_reboot_when_configured() -> None:
    h = Harness(sentinel_config(master_config(master_reboot_down_after_period_ms=5000)))
    h.start()
    master = h.sentinel.masters["mymaster"]
    refresh_instance_info(h.sentinel, master, "run_id:" + "1" * 40 + "\r\nrole:master", T0)
    effects = refresh_instance_info(
        h.sentinel, master, "run_id:" + "2" * 40 + "\r\nrole:master", Millis(T0 + 5)
    )
    assert events(effects) == ["+reboot master mymaster 127.0.0.1 6379"]
    assert master.master_reboot_since_time == T0 + 5
    assert master.run_id == "2" * 40


def test_info_role_change_events() -> None:
    h, replica = _with_replica()
    effects = refresh_instance_info(h.sentinel, replica, "role:master\r\n", Millis(T0 + 1))
    assert events(effects) == [
        "-role-change slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"
        " new reported role is master"
    ]
    assert replica.role_reported is Role.MASTER and replica.role_reported_time == T0 + 1
    effects = refresh_instance_info(h.sentinel, replica, REPLICA_INFO, Millis(T0 + 2))
    assert events(effects) == [
        "+role-change slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"
        " new reported role is slave"
    ]
    assert replica.priority == 50 and replica.repl_offset == 12345
    assert replica.master_link_down_time == 7000
    assert not replica.replica_announced


def test_info_convert_to_slave_waits_and_needs_sane_master() -> None:
    h, replica = _with_replica()
    master = h.sentinel.masters["mymaster"]
    h.server(port=6380, role="master")
    h.tick()
    h.deliver()
    start = h.now
    # The replica has reported master since `start`: nothing for 8 s.
    _sane_master(h)
    info = "role:master\r\n"
    assert events(refresh_instance_info(h.sentinel, replica, info, Millis(start + 8000))) == []
    # Master not sane (INFO too old): still nothing.
    master.info_refresh = Millis(start + 8001 - 20_000)
    assert events(refresh_instance_info(h.sentinel, replica, info, Millis(start + 8001))) == []
    master.info_refresh = Millis(start + 8001)
    # Master itself reporting slave (our view is stale): not sane either.
    master.role_reported = Role.SLAVE
    assert events(refresh_instance_info(h.sentinel, replica, info, Millis(start + 8001))) == []
    master.role_reported = Role.MASTER
    effects = refresh_instance_info(h.sentinel, replica, info, Millis(start + 8001))
    assert events(effects) == [
        "+convert-to-slave slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"
    ]
    assert sends(effects) == [
        (b"MULTI",),
        (b"SLAVEOF", b"127.0.0.1", b"6379"),
        (b"CONFIG", b"REWRITE"),
        (b"CLIENT", b"KILL", b"TYPE", b"normal"),
        (b"CLIENT", b"KILL", b"TYPE", b"pubsub"),
        (b"EXEC",),
    ]


def test_info_convert_to_slave_not_in_tilt_nor_after_recent_sdown() -> None:
    h, replica = _with_replica()
    h.tick()
    _sane_master(h)
    replica.role_reported = Role.MASTER
    replica.role_reported_time = Millis(h.now - 9000)
    h.sentinel.tilt = True
    assert events(refresh_instance_info(h.sentinel, replica, "role:master", h.now)) == []
    h.sentinel.tilt = False
    replica.last_sdown_start = Millis(h.now - 7000)  # an SDOWN began 7 s ago
    assert events(refresh_instance_info(h.sentinel, replica, "role:master", h.now)) == []
    replica.last_sdown_start = Millis(h.now - 8001)
    effects = refresh_instance_info(h.sentinel, replica, "role:master", h.now)
    assert [e.split()[0] for e in events(effects)] == ["+convert-to-slave"]


def test_info_convert_skipped_when_link_down() -> None:
    h, replica = _with_replica()
    _sane_master(h)
    replica.role_reported = Role.MASTER
    replica.role_reported_time = Millis(h.now - 9000)
    assert replica.link.cmd is None
    assert refresh_instance_info(h.sentinel, replica, "role:master", h.now) == []


def test_info_fix_slave_config_after_failover_timeout() -> None:
    h, replica = _with_replica(failover_timeout_ms=60_000)
    h.tick()
    _sane_master(h)
    wrong = "role:slave\r\nmaster_host:10.9.9.9\r\nmaster_port:6379\r\nmaster_link_status:up"
    t = h.now
    assert events(refresh_instance_info(h.sentinel, replica, wrong, t)) == []
    assert replica.slave_conf_change_time == t
    later = Millis(t + 60_001)
    h.sentinel.masters["mymaster"].info_refresh = later
    effects = refresh_instance_info(h.sentinel, replica, wrong, later)
    assert events(effects) == [
        "+fix-slave-config slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"
    ]
    assert (b"SLAVEOF", b"127.0.0.1", b"6379") in sends(effects)


def test_info_right_master_needs_no_fix() -> None:
    h, replica = _with_replica(failover_timeout_ms=1000)
    h.tick()
    _sane_master(h)
    right = "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6379\r\n"
    later = Millis(h.now + 5000)
    h.sentinel.masters["mymaster"].info_refresh = later
    assert refresh_instance_info(h.sentinel, replica, right, h.now) == []
    assert refresh_instance_info(h.sentinel, replica, right, later) == []


def test_info_promoted_replica_in_wait_promotion_calls_failover_hook() -> None:
    h, replica = _with_replica()
    master = h.sentinel.masters["mymaster"]
    master.failover_state = FailoverState.WAIT_PROMOTION
    master.promoted_replica = replica
    replica.promoted = True
    effects = refresh_instance_info(h.sentinel, replica, "role:master\r\n", h.now)
    assert [e.split()[0] for e in events(effects)] == [
        "-role-change",
        "+promoted-slave",
        "+failover-state-reconf-slaves",
    ]
    assert master.failover_state is FailoverState.RECONF_SLAVES
    # The acting half is not run in TILT: no promotion seen there.
    master.failover_state = FailoverState.WAIT_PROMOTION
    replica.role_reported = Role.SLAVE
    h.sentinel.tilt = True
    effects = refresh_instance_info(h.sentinel, replica, "role:master\r\n", h.now)
    assert [e.split()[0] for e in events(effects)] == ["-role-change"]
    assert master.failover_state is FailoverState.WAIT_PROMOTION


def test_info_reconf_progress_both_steps_on_one_info() -> None:
    h, replica = _with_replica()
    master = h.sentinel.masters["mymaster"]
    promoted = h.sentinel.create_replica(master, Addr("127.0.0.1", 6381), h.now)
    master.failover_state = FailoverState.RECONF_SLAVES
    master.promoted_replica = promoted
    promoted.promoted = True
    replica.reconf = ReconfState.SENT
    text = "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6381\r\nmaster_link_status:up\r\n"
    effects = refresh_instance_info(h.sentinel, replica, text, h.now)
    assert events(effects)[-2:] == [
        "+slave-reconf-inprog slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379",
        "+slave-reconf-done slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379",
    ]
    assert replica.reconf is ReconfState.DONE


def test_info_reconf_sent_waits_for_promoted_address() -> None:
    h, replica = _with_replica()
    master = h.sentinel.masters["mymaster"]
    promoted = h.sentinel.create_replica(master, Addr("127.0.0.1", 6381), h.now)
    master.failover_state = FailoverState.RECONF_SLAVES
    master.promoted_replica = promoted
    replica.reconf = ReconfState.SENT
    text = "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6379\r\nmaster_link_status:up\r\n"
    refresh_instance_info(h.sentinel, replica, text, h.now)
    assert replica.reconf is ReconfState.SENT


def test_info_error_reply_ignored() -> None:
    from pysentinel.core.monitor import info_reply
    from pysentinel.core.values import ErrorReply

    h = Harness(sentinel_config())
    h.start()
    master = h.sentinel.masters["mymaster"]
    assert info_reply(h.sentinel, master, ErrorReply("NOAUTH Authentication required."), T0) == []
    assert master.info_refresh == 0


def test_info_link_down_seconds_parse_like_strtoll() -> None:
    def down(value: str) -> int:
        return InfoReport.from_text(
            f"master_link_down_since_seconds:{value}\r\n"
        ).master_link_down_ms

    assert down("-1") == -1000
    assert down("5000000000") == 5_000_000_000_000
    assert down("12abc") == 12_000
    assert down("x") == 0
