"""Availability checks: SDOWN, ODOWN and TILT (spec §5.7, §5.8, §9.1).

Rules of this module:

* These run in the acting half of the tick, so never in TILT (the caller checks); the
  TILT check itself runs first in every tick.
* SDOWN is our own opinion and has three causes: no acceptable PING reply for
  down-after, a master that keeps reporting ``role:slave``, and a master that rebooted
  (master-reboot-down-after-period) and has not answered ``+PONG`` since.
* ODOWN is weak agreement: our SDOWN plus the ``master_down`` answers of peers we asked
  recently (the asking lives in ``election.py``). No synchronisation is involved.
* Before deciding SDOWN we recycle sockets that look dead but are not closed (no reply
  to PING, or silence on the pub/sub socket where our own hellos should echo).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pysentinel.core.effects import Effect
from pysentinel.core.events import EventType
from pysentinel.core.instance import NEVER, Instance, MasterInstance, SentinelPeer
from pysentinel.core.types import Millis, Role

if TYPE_CHECKING:
    from pysentinel.core.sentinel import Sentinel

__all__ = ["check_objectively_down", "check_subjectively_down", "check_tilt_condition"]


def check_subjectively_down(sentinel: Sentinel, instance: Instance, now: Millis) -> list[Effect]:
    """Recycle inactive sockets, then update the SDOWN state (spec §5.7).

    Mirrors sentinelCheckSubjectivelyDown().
    """
    from pysentinel.core.monitor import close_link_socket

    link = instance.link
    tunables = sentinel.tunables
    out: list[Effect] = []
    if link.act_ping_time != NEVER:
        elapsed = now - link.act_ping_time
    elif link.disconnected:
        elapsed = now - link.last_avail_time
    else:
        elapsed = 0
    half = instance.down_after_ms // 2
    if (
        link.cmd is not None
        and now - link.cc_conn_time > tunables.min_link_reconnect_period_ms
        and link.act_ping_time != NEVER
        and now - link.act_ping_time > half
        and now - link.last_pong_time > half
    ):
        out += close_link_socket(sentinel, link, link.cmd)
    if (
        link.pubsub is not None
        and now - link.pc_conn_time > tunables.min_link_reconnect_period_ms
        and now - link.pc_last_activity > tunables.publish_period_ms * 3
    ):
        out += close_link_socket(sentinel, link, link.pubsub)
    is_master = isinstance(instance, MasterInstance)
    down = (
        elapsed > instance.down_after_ms
        or (
            is_master
            and instance.role_reported is Role.SLAVE
            and now - instance.role_reported_time
            > instance.down_after_ms + tunables.info_period_ms * 2
        )
        or (
            isinstance(instance, MasterInstance)
            and instance.master_reboot_since_time != NEVER
            and now - instance.master_reboot_since_time
            > instance.master_reboot_down_after_period_ms
        )
    )
    if down:
        if instance.sdown_since is None:
            out += sentinel.event(EventType.SDOWN, instance, now=now)
            instance.sdown_since = now
            instance.last_sdown_start = now
    elif instance.sdown_since is not None:
        out += sentinel.event(EventType.SDOWN_CLEARED, instance, now=now)
        instance.sdown_since = None
        instance.script_kill_sent = False
    return out


def check_objectively_down(sentinel: Sentinel, master: MasterInstance, now: Millis) -> list[Effect]:
    """Update the ODOWN state from our SDOWN and the peers' answers (spec §5.8).

    Mirrors sentinelCheckObjectivelyDown().
    """
    odown = False
    count = 0
    if master.sdown_since is not None:
        count = 1 + sum(1 for peer in master.sentinels.values() if _says_down(peer))
        odown = count >= master.quorum
    if odown:
        if master.odown_since is None:
            out = sentinel.event(
                EventType.ODOWN, master, f"#quorum {count}/{master.quorum}", now=now
            )
            master.odown_since = now
            return out
    elif master.odown_since is not None:
        master.odown_since = None
        return sentinel.event(EventType.ODOWN_CLEARED, master, now=now)
    return []


def _says_down(peer: SentinelPeer) -> bool:
    return peer.master_down


def check_tilt_condition(sentinel: Sentinel, now: Millis) -> list[Effect]:
    """Enter (or re-enter) TILT when the time between ticks is negative or too long.

    Mirrors sentinelCheckTiltCondition().
    """
    out: list[Effect] = []
    delta = now - sentinel.previous_time
    if delta < 0 or delta > sentinel.tunables.tilt_trigger_ms:
        sentinel.tilt = True
        sentinel.tilt_start_time = now
        out += sentinel.event(EventType.TILT, None, "#tilt mode entered", now=now)
    sentinel.previous_time = now
    return out
