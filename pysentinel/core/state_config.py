"""The sentinel's state as a :class:`~pysentinel.config.SentinelConfig`, for persistence.

Rules of this module:

* :func:`config_from_state` is what sentinelFlushConfig() writes (spec §2.8, lines 1-10),
  as data: the rendering into sentinel.conf lines, the "differs from the default"
  filters and the in-place rewrite are :mod:`pysentinel.config`'s business.
* Generic (server) directives are not modelled by the core: they are kept as they were
  last loaded or persisted (``sentinel.config``), so a flush never changes them. The
  exception is the ACL users: like rewriteConfigUserOption(), a flush writes the users
  as they are now (``ACL SETUSER`` changes reach the file with the next flush).
* Addresses are written in announce form (spec §9.5). The ``monitor`` line carries the
  *current* master address, which is the promoted replica once its promotion was seen
  (trap T30); the ``known-replica`` entry that would then repeat that address carries
  the old master address instead.
* Pure: reads the state, changes nothing.
"""

from __future__ import annotations

import attrs

from pysentinel.config import KnownSentinel, MasterConfig, SentinelConfig
from pysentinel.core.commands import SentinelState, current_master_addr
from pysentinel.core.events import announce_host
from pysentinel.core.instance import MasterInstance
from pysentinel.core.types import Addr

__all__ = ["config_from_state", "master_config"]


def _same_addr(a: Addr, b: Addr) -> bool:
    """sentinelAddrOrHostnameEqual() over the addresses we keep."""
    return a.port == b.port and a.host.lower() == b.host.lower()


def master_config(master: MasterInstance, announce_hostnames: bool) -> MasterConfig:
    """Everything persisted about one master (spec §2.8, lines 5a-5n).

    Mirrors the per-master part of rewriteConfigSentinelOption().
    """
    # sentinelGetCurrentMasterAddress(): the promoted replica from reconf_slaves on.
    current = current_master_addr(master)
    promoted = master.promoted_replica
    if promoted is not None and current is promoted.addr:
        monitor_host = announce_host(promoted, announce_hostnames)
    else:
        monitor_host = announce_host(master, announce_hostnames)

    replicas: list[Addr] = []
    for replica in master.replicas.values():
        if _same_addr(replica.addr, current):
            # Mid-failover the promoted replica is the master now: list the old one.
            replicas.append(Addr(announce_host(master, announce_hostnames), master.addr.port))
        else:
            replicas.append(Addr(announce_host(replica, announce_hostnames), replica.addr.port))

    sentinels = tuple(
        KnownSentinel(
            addr=Addr(announce_host(peer, announce_hostnames), peer.addr.port),
            runid=peer.run_id,
        )
        for peer in master.sentinels.values()
        if peer.run_id is not None
    )
    return MasterConfig(
        name=master.name,
        addr=Addr(monitor_host, current.port),
        quorum=master.quorum,
        down_after_ms=master.down_after_ms,
        failover_timeout_ms=master.failover_timeout_ms,
        parallel_syncs=master.parallel_syncs,
        notification_script=master.notification_script,
        client_reconfig_script=master.client_reconfig_script,
        auth_pass=master.auth_pass,
        auth_user=master.auth_user,
        master_reboot_down_after_period_ms=master.master_reboot_down_after_period_ms,
        rename_commands=tuple(
            (command.lower(), new_name) for command, new_name in master.rename_commands.items()
        ),
        config_epoch=master.config_epoch,
        leader_epoch=master.leader_epoch,
        known_replicas=tuple(replicas),
        known_sentinels=sentinels,
    )


def config_from_state(sentinel: SentinelState) -> SentinelConfig:
    """What a flush persists now: ``sentinel.config`` with the sentinel state replaced.

    Mirrors sentinelFlushConfig() / rewriteConfigSentinelOption().
    """
    return attrs.evolve(
        sentinel.config,
        myid=sentinel.myid,
        current_epoch=sentinel.current_epoch,
        announce_ip=sentinel.announce_ip,
        announce_port=sentinel.announce_port,
        deny_scripts_reconfig=sentinel.deny_scripts_reconfig,
        resolve_hostnames=sentinel.resolve_hostnames,
        announce_hostnames=sentinel.announce_hostnames,
        sentinel_user=sentinel.sentinel_user,
        sentinel_pass=sentinel.sentinel_pass,
        users=sentinel.clients.acl.config_lines(),
        masters=tuple(
            master_config(m, sentinel.announce_hostnames) for m in sentinel.masters.values()
        ),
    )
