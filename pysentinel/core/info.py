"""INFO replies from masters and replicas: parsing and acting on them (spec §5.5, §5.6).

Rules of this module:

* Parsing is pure: :meth:`InfoReport.from_text` turns the text into a frozen report and
  never raises. Malformed lines are skipped, numbers parse like C's ``atoi``/``strtoull``
  (garbage is 0), exactly as sentinelRefreshInstanceInfo() reads them.
* Line prefixes are matched byte for byte, in order, and the reported role as known *at
  that line* decides whether the replica fields that follow are read (a ``role:master``
  line after ``master_host:`` stops reading them, as in sentinel.c).
* Applying a report has two halves. The recording half (run id and ``+reboot``, replica
  discovery with ``+slave``, the replica fields, ``±role-change``) runs even in TILT. The
  acting half (promotion confirmed, ``+convert-to-slave``, ``+fix-slave-config``, reconf
  progress) does not, and every reconfiguration it sends is guarded the way sentinel.c
  guards it: the master must look sane and the replica must have been stable for a
  while. Without those guards two sentinels with different views re-point replicas back
  and forth (a replication loop).
* Failover progress belongs to ``failover.py``: this module only detects the moments
  (spec §8.3 step 3, §5.6 step 6) and calls its hooks.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

import attrs

from pysentinel.config import c_atoi, c_strtoull
from pysentinel.core.effects import Effect
from pysentinel.core.events import EventType
from pysentinel.core.instance import (
    FailoverState,
    Instance,
    MasterInstance,
    ReconfState,
    ReplicaInstance,
)
from pysentinel.core.types import Addr, LogLevel, Millis, Role, RunId

if TYPE_CHECKING:
    from pysentinel.core.sentinel import Sentinel

__all__ = [
    "InfoReport",
    "addr_equals_host",
    "master_looks_sane",
    "no_down_for",
    "refresh_instance_info",
    "same_host",
    "valid_host",
]

#: Length of a run id in INFO's ``run_id:`` line.
RUN_ID_LEN = 40


@attrs.frozen(kw_only=True)
class InfoReport:
    """What sentinel reads from one INFO reply (spec §5.5).

    Fields are ``None`` when their line was absent (or, for the replica fields, when it
    came while the reported role was not ``slave``).
    """

    #: The whole reply, cached for SENTINEL INFO-CACHE.
    text: str
    run_id: RunId | None = None
    #: ``slaveN:`` lines, in order, as (host, port) written by the master.
    replicas: tuple[Addr, ...] = ()
    #: ``master_link_down_since_seconds`` x 1000; 0 when absent (sentinel.c resets it).
    master_link_down_ms: int = 0
    role: Role | None = None
    master_host: str | None = None
    master_port: int | None = None
    master_link_up: bool | None = None
    priority: int | None = None
    repl_offset: int | None = None
    replica_announced: int | None = None

    @classmethod
    def from_text(cls, text: str) -> InfoReport:
        """Parse an INFO reply. Mirrors the parsing loop of sentinelRefreshInstanceInfo()."""
        run_id: RunId | None = None
        replicas: list[Addr] = []
        link_down = 0
        role: Role | None = None
        fields: dict[str, int | str | bool] = {}
        for line in text.split("\r\n"):
            if len(line) >= 7 + RUN_ID_LEN and line.startswith("run_id:"):
                run_id = RunId(line[7 : 7 + RUN_ID_LEN])
            if len(line) >= 7 and line.startswith("slave") and line[5].isdigit():
                replica = _replica_line(line)
                if replica is not None:
                    replicas.append(replica)
            if len(line) >= 32 and line.startswith("master_link_down_since_seconds"):
                link_down = _strtoll(line[31:]) * 1000
            if line.startswith("role:master"):
                role = Role.MASTER
            elif line.startswith("role:slave"):
                role = Role.SLAVE
            if role is Role.SLAVE:
                _replica_field(line, fields)
        return cls(
            text=text,
            run_id=run_id,
            replicas=tuple(replicas),
            master_link_down_ms=link_down,
            role=role,
            master_host=_str_or_none(fields.get("master_host")),
            master_port=_int_or_none(fields.get("master_port")),
            master_link_up=_bool_or_none(fields.get("master_link_up")),
            priority=_int_or_none(fields.get("priority")),
            repl_offset=_int_or_none(fields.get("repl_offset")),
            replica_announced=_int_or_none(fields.get("replica_announced")),
        )


def _strtoll(text: str) -> int:
    """C ``strtoll(text, NULL, 10)``: leading blanks, a sign, digits; saturates."""
    rest = text.lstrip(" \t\n\v\f\r")
    sign = 1
    if rest[:1] in ("+", "-"):
        sign = -1 if rest[0] == "-" else 1
        rest = rest[1:]
    digits = len(rest) - len(rest.lstrip("0123456789"))
    value = sign * int(rest[:digits]) if digits else 0
    return max(-(2**63), min(2**63 - 1, value))


def _str_or_none(value: int | str | bool | None) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: int | str | bool | None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool_or_none(value: int | str | bool | None) -> bool | None:
    return value if isinstance(value, bool) else None


def _replica_line(line: str) -> Addr | None:
    """``slave0:ip=..,port=..,...`` (new) or ``slave0:<ip>,<port>,<state>`` (old)."""
    if "ip=" not in line:
        colon = line.find(":")
        if colon < 0:
            return None
        rest = line[colon + 1 :]
        parts = rest.split(",", 2)
        if len(parts) < 3:
            return None
        return Addr(parts[0], c_atoi(parts[1]))
    ip = line[line.find("ip=") + 3 :]
    port_at = line.find("port=")
    if port_at < 0:
        return None
    port = line[port_at + 5 :]
    return Addr(ip.split(",", 1)[0], c_atoi(port.split(",", 1)[0]))


def _replica_field(line: str, fields: dict[str, int | str | bool]) -> None:
    """The fields read while the reported role is slave (spec §5.5 table)."""
    if line.startswith("master_host:"):
        fields["master_host"] = line[12:]
    if line.startswith("master_port:"):
        fields["master_port"] = c_atoi(line[12:])
    if line.startswith("master_link_status:"):
        fields["master_link_up"] = line[19:21].lower() == "up"
    if line.startswith("slave_priority:"):
        fields["priority"] = c_atoi(line[15:])
    if line.startswith("slave_repl_offset:"):
        fields["repl_offset"] = c_strtoull(line[18:])
    if line.startswith("replica_announced:"):
        fields["replica_announced"] = c_atoi(line[18:])


# --- address helpers --------------------------------------------------------------


def same_host(a: str, b: str) -> bool:
    """Do two hosts name the same address? IP literals compare as addresses (so
    ``::1`` equals ``0:0::1``), anything else case-insensitively.
    """
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return a.lower() == b.lower()


def addr_equals_host(instance: Instance, host: str) -> bool:
    """Does ``host`` (from INFO or a hello) name ``instance``'s address?

    sentinel.c resolves ``host`` and compares IPs, falling back to a case-insensitive
    string compare. The core does no DNS, so we compare with the address we connect to
    and with the hostname as given. Mirrors sentinelAddrEqualsHostname().
    """
    if same_host(instance.addr.host, host):
        return True
    if instance.resolved_ip is not None and same_host(instance.resolved_ip, host):
        return True
    return instance.hostname is not None and instance.hostname.lower() == host.lower()


def valid_host(sentinel: Sentinel, host: str) -> bool:
    """Can an address with ``host`` be created (createSentinelAddr())?

    Without ``resolve-hostnames`` only IP literals pass; with it every name is
    accepted (the driver resolves it on connect).
    """
    if sentinel.resolve_hostnames:
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# --- guards -----------------------------------------------------------------------------


def master_looks_sane(sentinel: Sentinel, master: MasterInstance, now: Millis) -> bool:
    """Is it safe to point replicas at ``master``? Mirrors sentinelMasterLooksSane()."""
    return (
        master.role_reported is Role.MASTER
        and master.sdown_since is None
        and master.odown_since is None
        and now - master.info_refresh < sentinel.tunables.info_period_ms * 2
    )


def no_down_for(instance: Instance, ms: int, now: Millis) -> bool:
    """Has ``instance`` had no SDOWN/ODOWN episode *starting* within the last ``ms``?

    Mirrors sentinelRedisInstanceNoDownFor().
    """
    most_recent = instance.last_sdown_start
    if isinstance(instance, MasterInstance) and instance.odown_since is not None:
        most_recent = max(most_recent, instance.odown_since)
    return most_recent == 0 or now - most_recent > ms


# --- applying a report --------------------------------------------------------------


def refresh_instance_info(
    sentinel: Sentinel, instance: MasterInstance | ReplicaInstance, text: str, now: Millis
) -> list[Effect]:
    """Record an INFO reply and act on it. Mirrors sentinelRefreshInstanceInfo()."""
    report = InfoReport.from_text(text)
    out: list[Effect] = []
    instance.info_cache = text
    instance.info_cache_time = now
    if isinstance(instance, ReplicaInstance):
        instance.master_link_down_time = report.master_link_down_ms
    out += _record_run_id(sentinel, instance, report, now)
    if isinstance(instance, MasterInstance):
        out += _discover_replicas(sentinel, instance, report, now)
    if isinstance(instance, ReplicaInstance) and report.role is Role.SLAVE:
        _record_replica_fields(instance, report, now)
    instance.info_refresh = now
    role = report.role
    if role is None:
        # sentinel.c would record "role 0" here; a reply without a role line carries
        # nothing to act on, so we leave the reported role as it was.
        return out
    if role is not instance.role_reported:
        instance.role_reported = role
        instance.role_reported_time = now
        if role is Role.SLAVE:
            instance.slave_conf_change_time = now
        ours = Role.MASTER if isinstance(instance, MasterInstance) else Role.SLAVE
        kind = EventType.ROLE_CHANGE if role is ours else EventType.ROLE_CHANGE_CONTRADICTS
        out += sentinel.event(kind, instance, f"new reported role is {role.value}", now=now)
    if sentinel.tilt or not isinstance(instance, ReplicaInstance):
        # A master reporting slave needs nothing here: it goes SDOWN (spec §5.7 rule 2).
        return out
    out += _act_on_replica(sentinel, instance, role, now)
    return out


def _record_run_id(
    sentinel: Sentinel, instance: Instance, report: InfoReport, now: Millis
) -> list[Effect]:
    if report.run_id is None:
        return []
    if instance.run_id is None:
        instance.run_id = report.run_id
        return []
    if instance.run_id == report.run_id:
        return []
    out = sentinel.event(EventType.REBOOT, instance, now=now)
    if isinstance(instance, MasterInstance) and instance.master_reboot_down_after_period_ms:
        instance.master_reboot_since_time = now
    instance.run_id = report.run_id
    return out


def _discover_replicas(
    sentinel: Sentinel, master: MasterInstance, report: InfoReport, now: Millis
) -> list[Effect]:
    out: list[Effect] = []
    for addr in report.replicas:
        # sentinelRedisInstanceLookupSlave() and createSentinelRedisInstance() both
        # build the address first, and each logs a failure to resolve it.
        if not valid_host(sentinel, addr.host) or not 0 <= addr.port <= 65535:
            if not valid_host(sentinel, addr.host):
                line = sentinel.log(LogLevel.WARNING, f"Failed to resolve hostname '{addr.host}'")
                out += [line, line]
            continue
        if sentinel.lookup_replica(master, addr) is not None:
            continue
        replica = sentinel.create_replica(master, addr, now)
        out += sentinel.event(EventType.SLAVE, replica, now=now)
        out += sentinel.flush_config()
    return out


def _record_replica_fields(replica: ReplicaInstance, report: InfoReport, now: Millis) -> None:
    if report.master_host is not None and (
        replica.master_host is None or replica.master_host.lower() != report.master_host.lower()
    ):
        replica.master_host = report.master_host
        replica.slave_conf_change_time = now
    if report.master_port is not None and report.master_port != replica.master_port:
        replica.master_port = report.master_port
        replica.slave_conf_change_time = now
    if report.master_link_up is not None:
        replica.master_link_up = report.master_link_up
    if report.priority is not None:
        replica.priority = report.priority
    if report.repl_offset is not None:
        replica.repl_offset = report.repl_offset
    if report.replica_announced is not None:
        replica.replica_announced = report.replica_announced != 0


def _act_on_replica(
    sentinel: Sentinel, replica: ReplicaInstance, role: Role, now: Millis
) -> list[Effect]:
    """The acting half for a replica (spec §5.6 steps 4-6); never called in TILT."""
    from pysentinel.core import failover

    master = replica.master
    assert master is not None
    out: list[Effect] = []
    if role is Role.MASTER:
        if replica.promoted and master.failover_state is FailoverState.WAIT_PROMOTION:
            out += failover.on_promoted_replica_is_master(sentinel, replica, now)
        else:
            # A replica turned master on its own (or the old master came back): force our
            # view, but only after waiting for newer configs to reach us.
            wait = sentinel.tunables.convert_to_replica_wait_ms
            if (
                not replica.promoted
                and master_looks_sane(sentinel, master, now)
                and no_down_for(replica, wait, now)
                and now - replica.role_reported_time > wait
                and (sends := failover.send_slave_of(sentinel, replica, master)) is not None
            ):
                out += sends
                out += sentinel.event(EventType.CONVERT_TO_SLAVE, replica, now=now)
    # A replica INFO without master_host gives nothing to compare (sentinel.c would
    # hand NULL to the resolver), so it is left alone.
    if (
        role is Role.SLAVE
        and replica.master_host is not None
        and (
            replica.master_port != master.addr.port
            or not addr_equals_host(master, replica.master_host)
        )
    ):
        wait = master.failover_timeout_ms
        if (
            master_looks_sane(sentinel, master, now)
            and no_down_for(replica, wait, now)
            and now - replica.slave_conf_change_time > wait
            and (sends := failover.send_slave_of(sentinel, replica, master)) is not None
        ):
            out += sends
            out += sentinel.event(EventType.FIX_SLAVE_CONFIG, replica, now=now)
    if role is Role.SLAVE and replica.reconf in (ReconfState.SENT, ReconfState.INPROG):
        # Spec §5.6 step 6: we decide that a step is due; failover.py takes it (state
        # change and +slave-reconf-inprog / +slave-reconf-done). Both steps may happen
        # on the same INFO, so we look again after the first.
        promoted = master.promoted_replica
        if (
            replica.reconf is ReconfState.SENT
            and promoted is not None
            and replica.master_host is not None
            and addr_equals_host(promoted, replica.master_host)
            and replica.master_port == promoted.addr.port
        ):
            out += failover.on_replica_reconf_progress(sentinel, replica, now)
        if replica.reconf is ReconfState.INPROG and replica.master_link_up:
            out += failover.on_replica_reconf_progress(sentinel, replica, now)
    return out
