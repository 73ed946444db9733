"""sentinel.conf: the frozen configuration model (parsing and rendering to follow).

The model is shared by the core (its starting state, and what it hands back in
``PersistConfig`` to be written), the runtime and the simulator. Field names are
part of that contract: extend the model, don't rename fields.
"""

from __future__ import annotations

import attrs

from pysentinel.core.types import Addr, LogLevel

__all__ = [
    "DEFAULT_DOWN_AFTER_MS",
    "DEFAULT_FAILOVER_TIMEOUT_MS",
    "DEFAULT_PORT",
    "KnownSentinel",
    "MasterConfig",
    "SentinelConfig",
]

DEFAULT_PORT: int = 26379
DEFAULT_DOWN_AFTER_MS: int = 30_000
DEFAULT_FAILOVER_TIMEOUT_MS: int = 180_000


@attrs.frozen(kw_only=True)
class KnownSentinel:
    """A ``sentinel known-sentinel <master> <host> <port> <runid>`` entry."""

    addr: Addr
    runid: str


@attrs.frozen(kw_only=True)
class MasterConfig:
    """One monitored master and everything persisted about it (spec §2.4, §2.8 5a-5n)."""

    name: str
    addr: Addr
    quorum: int
    down_after_ms: int = DEFAULT_DOWN_AFTER_MS
    failover_timeout_ms: int = DEFAULT_FAILOVER_TIMEOUT_MS
    parallel_syncs: int = 1
    notification_script: str | None = None
    client_reconfig_script: str | None = None
    auth_pass: str | None = None
    auth_user: str | None = None
    master_reboot_down_after_period_ms: int = 0
    #: (command, new name) pairs, lower-cased command, in insertion order.
    rename_commands: tuple[tuple[str, str], ...] = ()
    config_epoch: int = 0
    leader_epoch: int = 0
    known_replicas: tuple[Addr, ...] = ()
    known_sentinels: tuple[KnownSentinel, ...] = ()


@attrs.frozen(kw_only=True)
class SentinelConfig:
    """The whole sentinel.conf, after the load order of spec §2.3 was applied."""

    # --- sentinel state and global sentinel options ---
    myid: str | None = None
    current_epoch: int = 0
    announce_ip: str | None = None
    announce_port: int = 0
    deny_scripts_reconfig: bool = True
    resolve_hostnames: bool = False
    announce_hostnames: bool = False
    sentinel_user: str | None = None
    sentinel_pass: str | None = None
    masters: tuple[MasterConfig, ...] = ()

    # --- generic (server) directives that matter in sentinel mode (spec §2.6) ---
    port: int = DEFAULT_PORT
    bind: tuple[str, ...] = ()
    bind_source_addr: str | None = None
    protected_mode: bool = False
    daemonize: bool = False
    pidfile: str | None = None
    logfile: str = ""
    loglevel: LogLevel = LogLevel.NOTICE
    dir: str | None = None
    requirepass: str | None = None
    #: ``user ...`` lines, each as its argument list after ``user``.
    users: tuple[tuple[str, ...], ...] = ()
    aclfile: str | None = None
    maxclients: int = 10_000
    timeout: int = 0
    tls_port: int = 0
    tls_replication: bool = False
