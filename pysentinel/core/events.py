"""Event types and the canonical text of sentinelEvent()'s ``%@`` instance details.

Rules of this module:

* Every event string the sentinel emits is a member of :class:`EventType`, byte-exact
  with spec §4.2. Nothing else in the core writes an event type as a literal.
* :func:`instance_details` is the one place that formats ``<inst>`` (spec §4.1).
* Emitting an event (log, publish to our subscribers, queue the notification script)
  needs the client registry and the script queue, so it lives on the ``Sentinel``
  aggregate (``Sentinel.event``); this module only knows the text.
"""

from __future__ import annotations

import enum

from pysentinel.core.instance import Instance, MasterInstance, ReplicaInstance, SentinelPeer
from pysentinel.core.types import LogLevel

__all__ = ["EventType", "announce_host", "instance_details"]


class EventType(enum.StrEnum):
    """Every event (and pub/sub channel) of redis-sentinel 7.0.15 (spec §4.2)."""

    MONITOR = "+monitor"
    UNMONITOR = "-monitor"
    SET = "+set"
    RESET_MASTER = "+reset-master"
    SLAVE = "+slave"
    SENTINEL = "+sentinel"
    SENTINEL_ADDRESS_SWITCH = "+sentinel-address-switch"
    SENTINEL_ADDRESS_UPDATE = "+sentinel-address-update"
    SENTINEL_INVALID_ADDR = "+sentinel-invalid-addr"
    REBOOT = "+reboot"
    ROLE_CHANGE = "+role-change"
    ROLE_CHANGE_CONTRADICTS = "-role-change"
    SDOWN = "+sdown"
    SDOWN_CLEARED = "-sdown"
    ODOWN = "+odown"
    ODOWN_CLEARED = "-odown"
    NEW_EPOCH = "+new-epoch"
    TRY_FAILOVER = "+try-failover"
    VOTE_FOR_LEADER = "+vote-for-leader"
    ELECTED_LEADER = "+elected-leader"
    FAILOVER_STATE_SELECT_SLAVE = "+failover-state-select-slave"
    FAILOVER_ABORT_NOT_ELECTED = "-failover-abort-not-elected"
    FAILOVER_ABORT_NO_GOOD_SLAVE = "-failover-abort-no-good-slave"
    SELECTED_SLAVE = "+selected-slave"
    FAILOVER_STATE_SEND_SLAVEOF_NOONE = "+failover-state-send-slaveof-noone"
    FAILOVER_STATE_WAIT_PROMOTION = "+failover-state-wait-promotion"
    FAILOVER_ABORT_SLAVE_TIMEOUT = "-failover-abort-slave-timeout"
    PROMOTED_SLAVE = "+promoted-slave"
    FAILOVER_STATE_RECONF_SLAVES = "+failover-state-reconf-slaves"
    SLAVE_RECONF_SENT = "+slave-reconf-sent"
    SLAVE_RECONF_INPROG = "+slave-reconf-inprog"
    SLAVE_RECONF_DONE = "+slave-reconf-done"
    SLAVE_RECONF_SENT_TIMEOUT = "-slave-reconf-sent-timeout"
    SLAVE_RECONF_SENT_BE = "+slave-reconf-sent-be"
    FAILOVER_END_FOR_TIMEOUT = "+failover-end-for-timeout"
    FAILOVER_END = "+failover-end"
    SWITCH_MASTER = "+switch-master"
    CONFIG_UPDATE_FROM = "+config-update-from"
    CONVERT_TO_SLAVE = "+convert-to-slave"
    FIX_SLAVE_CONFIG = "+fix-slave-config"
    TILT = "+tilt"
    TILT_EXITED = "-tilt"
    SCRIPT_ERROR = "-script-error"
    SCRIPT_TIMEOUT = "-script-timeout"
    SCRIPT_CHILD = "+script-child"
    SCRIPT_CHILD_REAPED = "-script-child"
    CMD_LINK_RECONNECTION = "-cmd-link-reconnection"
    PUBSUB_LINK_RECONNECTION = "-pubsub-link-reconnection"

    @property
    def level(self) -> LogLevel:
        """The level spec §4.2 gives this event."""
        return _LEVELS.get(self, LogLevel.WARNING)


_LEVELS: dict[EventType, LogLevel] = {
    EventType.SLAVE: LogLevel.NOTICE,
    EventType.SENTINEL: LogLevel.NOTICE,
    EventType.SENTINEL_ADDRESS_SWITCH: LogLevel.NOTICE,
    EventType.SENTINEL_ADDRESS_UPDATE: LogLevel.NOTICE,
    EventType.SENTINEL_INVALID_ADDR: LogLevel.NOTICE,
    EventType.REBOOT: LogLevel.NOTICE,
    EventType.ROLE_CHANGE: LogLevel.VERBOSE,
    EventType.ROLE_CHANGE_CONTRADICTS: LogLevel.VERBOSE,
    EventType.FAILOVER_STATE_SEND_SLAVEOF_NOONE: LogLevel.NOTICE,
    EventType.FAILOVER_STATE_WAIT_PROMOTION: LogLevel.NOTICE,
    EventType.SLAVE_RECONF_SENT: LogLevel.NOTICE,
    EventType.SLAVE_RECONF_INPROG: LogLevel.NOTICE,
    EventType.SLAVE_RECONF_DONE: LogLevel.NOTICE,
    EventType.SLAVE_RECONF_SENT_TIMEOUT: LogLevel.NOTICE,
    EventType.SLAVE_RECONF_SENT_BE: LogLevel.NOTICE,
    EventType.CONVERT_TO_SLAVE: LogLevel.NOTICE,
    EventType.FIX_SLAVE_CONFIG: LogLevel.NOTICE,
    EventType.SCRIPT_CHILD: LogLevel.DEBUG,
    EventType.SCRIPT_CHILD_REAPED: LogLevel.DEBUG,
    EventType.CMD_LINK_RECONNECTION: LogLevel.DEBUG,
    EventType.PUBSUB_LINK_RECONNECTION: LogLevel.DEBUG,
}


def announce_host(instance: Instance, announce_hostnames: bool) -> str:
    """The announce form of an instance's host (spec §9.5).

    With ``announce-hostnames yes`` that is the hostname as given, when there is one;
    otherwise the IP: for an address given as a hostname, the one it resolved to when we
    last connected (redis resolves at creation; the core does no DNS), else the address
    we connect to.
    """
    if announce_hostnames:
        return instance.hostname if instance.hostname is not None else instance.addr.host
    if instance.resolved_ip is not None:
        return instance.resolved_ip
    return instance.addr.host


def instance_details(instance: Instance, announce_hostnames: bool = False) -> str:
    """``<inst>`` of spec §4.1: ``master <name> <ip> <port>`` or
    ``<slave|sentinel> <name> <ip> <port> @ <master-name> <master-ip> <master-port>``.

    Mirrors the ``%@`` case of sentinelEvent().
    """
    host = announce_host(instance, announce_hostnames)
    if isinstance(instance, MasterInstance):
        return f"master {instance.name} {host} {instance.addr.port}"
    assert isinstance(instance, ReplicaInstance | SentinelPeer)
    kind = "slave" if isinstance(instance, ReplicaInstance) else "sentinel"
    master = instance.master
    assert master is not None
    master_host = announce_host(master, announce_hostnames)
    return (
        f"{kind} {instance.name} {host} {instance.addr.port}"
        f" @ {master.name} {master_host} {master.addr.port}"
    )
