"""The SENTINEL subcommands, ROLE and INFO's ``# Sentinel`` section (spec §3.2-§3.5).

Rules of this module:

* Every subcommand is a function ``(ctx, args) -> list[Effect]`` over the sentinel's
  state; :func:`sentinel_command` dispatches on the lower-cased subcommand name.
  The client layer (``core/clients.py``) has already checked that the subcommand
  exists and that its arity is right (spec §3.1), so we only do the checks that
  sentinelCommand() does itself, in its order, with its error texts byte for byte.
* The reply goes out exactly once: as a ``Reply`` effect, or, for commands that
  persist the configuration, as a ``PersistConfig`` with ``reply_to`` set (the driver
  answers ``+OK`` or the "Failed to save config file" error). Commands flush exactly
  when sentinel.c's sentinelFlushConfig() runs: MONITOR, REMOVE, SET (if anything
  changed), CONFIG SET, FLUSHCONFIG; not RESET, DEBUG or SIMULATE-FAILURE (spec §2.7,
  trap T18). FAILOVER and IS-MASTER-DOWN-BY-ADDR persist through the failover and
  election code they call.
* Effects come out in sentinel.c's order: events of a change before the reply when
  sentinel.c emits them first (SET's ``+set``, REMOVE's ``-monitor``), after it when
  sentinel.c replies first (MONITOR's ``+monitor`` follows its flush-and-reply).
* Every value in an instance map is a bulk string, numbers included (spec §3.2); maps
  are ``Map`` values, which the encoder writes as flat arrays in RESP2.
* Master names are decoded from the wire with ``surrogateescape`` so that any byte
  string round-trips, as :mod:`pysentinel.config` does for the file. Text that goes
  into error replies is decoded with ``replace``, since error lines must be text.
* Nothing here touches the world. Checking that a script path is executable (``SENTINEL
  SET ... notification-script``) needs the file system, so it goes through
  ``sentinel.script_path_check`` when the driver installed one (see :func:`_executable`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, Protocol

from pysentinel.config import MasterConfig, SentinelConfig
from pysentinel.core.effects import Close, Effect, Log, Reply
from pysentinel.core.election import SentinelLike
from pysentinel.core.events import EventType, announce_host
from pysentinel.core.glob import string_match
from pysentinel.core.info import addr_equals_host
from pysentinel.core.instance import (
    FailoverState,
    Instance,
    InstanceLink,
    MasterInstance,
    ReplicaInstance,
    SentinelPeer,
    flags,
)
from pysentinel.core.types import Addr, ClientId, Epoch, LinkId, LogLevel, Millis, RunId
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

if TYPE_CHECKING:
    from pysentinel.core.clients import ClientRegistry

__all__ = [
    "HELP_LINES",
    "SIMFAILURE_CRASH_AFTER_ELECTION",
    "SIMFAILURE_CRASH_AFTER_PROMOTION",
    "SentinelState",
    "current_master_addr",
    "info_sentinel_section",
    "instance_map",
    "role_reply",
    "sentinel_command",
]

#: INFO ``sentinel_simulate_failure_flags`` bits (SENTINEL_SIMFAILURE_*).
SIMFAILURE_CRASH_AFTER_ELECTION: Final = 1
SIMFAILURE_CRASH_AFTER_PROMOTION: Final = 2

_NO_SUCH_MASTER: Final = "ERR No such master with that name"
_NOT_INTEGER: Final = "ERR value is not an integer or out of range"
_SCRIPTS_DENIED: Final = (
    "ERR Reconfiguration of scripts path is denied for security reasons. Check the"
    " deny-scripts-reconfig configuration directive in your Sentinel configuration"
)
_CONFIG_SHAPE: Final = "ERR Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported."
_LONG_MIN: Final = -(2**63)
_LONG_MAX: Final = 2**63 - 1

#: SENTINEL HELP, as 7.0.15 prints it (49 status lines).
HELP_LINES: Final[tuple[str, ...]] = (
    "SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CKQUORUM <master-name>",
    "    Check if the current Sentinel configuration is able to reach the quorum",
    "    needed to failover a master and the majority needed to authorize the",
    "    failover.",
    "CONFIG SET <param> <value>",
    "    Set a global Sentinel configuration parameter.",
    "CONFIG GET <param>",
    "    Get global Sentinel configuration parameter.",
    "DEBUG [<param> <value> ...]",
    "    Show a list of configurable time parameters and their values (milliseconds).",
    "    Or update current configurable parameters values (one or more).",
    "GET-MASTER-ADDR-BY-NAME <master-name>",
    "    Return the ip and port number of the master with that name.",
    "FAILOVER <master-name>",
    "    Manually failover a master node without asking for agreement from other",
    "    Sentinels",
    "FLUSHCONFIG",
    "    Force Sentinel to rewrite its configuration on disk, including the current",
    "    Sentinel state.",
    "INFO-CACHE <master-name>",
    "    Return last cached INFO output from masters and all its replicas.",
    "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
    "    Check if the master specified by ip:port is down from current Sentinel's",
    "    point of view.",
    "MASTER <master-name>",
    "    Show the state and info of the specified master.",
    "MASTERS",
    "    Show a list of monitored masters and their state.",
    "MONITOR <name> <ip> <port> <quorum>",
    "    Start monitoring a new master with the specified name, ip, port and quorum.",
    "MYID",
    "    Return the ID of the Sentinel instance.",
    "PENDING-SCRIPTS",
    "    Get pending scripts information.",
    "REMOVE <master-name>",
    "    Remove master from Sentinel's monitor list.",
    "REPLICAS <master-name>",
    "    Show a list of replicas for this master and their state.",
    "RESET <pattern>",
    "    Reset masters for specific master name matching this pattern.",
    "SENTINELS <master-name>",
    "    Show a list of Sentinel instances for this master and their state.",
    "SET <master-name> <option> <value> [<option> <value> ...]",
    "    Set configuration parameters for certain masters.",
    "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
    "    Simulate a Sentinel crash.",
    "HELP",
    "    Prints this help.",
)

#: SENTINEL DEBUG parameter names, in the order DEBUG lists them, and the
#: :class:`~pysentinel.core.instance.Tunables` field each one sets.
_DEBUG_PARAMS: Final[tuple[tuple[str, str], ...]] = (
    ("info-period", "info_period_ms"),
    ("ping-period", "ping_period_ms"),
    ("ask-period", "ask_period_ms"),
    ("publish-period", "publish_period_ms"),
    ("default-down-after", "default_down_after_ms"),
    ("default-failover-timeout", "default_failover_timeout_ms"),
    ("tilt-trigger", "tilt_trigger_ms"),
    ("tilt-period", "tilt_period_ms"),
    ("slave-reconf-timeout", "slave_reconf_timeout_ms"),
    ("min-link-reconnect-period", "min_link_reconnect_period_ms"),
    ("election-timeout", "election_timeout_ms"),
    ("script-max-runtime", "script_max_runtime_ms"),
    ("script-retry-delay", "script_retry_delay_ms"),
)


class SentinelState(SentinelLike, Protocol):
    """The part of ``core.sentinel.Sentinel`` the commands read and write.

    The names are the core contract's. We type against this protocol rather than import
    the class, which imports us; it extends ``election.SentinelLike`` (what election and
    failover need), so a ``SentinelState`` can be handed to their functions. The unit
    tests drive the commands with a small fake (tests/core/commands_fakes.py) as well
    as with the real ``Sentinel``.
    """

    masters: dict[str, MasterInstance]
    config: SentinelConfig
    announce_ip: str | None
    announce_port: int
    resolve_hostnames: bool
    deny_scripts_reconfig: bool
    sentinel_user: str | None
    sentinel_pass: str | None
    tilt: bool
    tilt_start_time: Millis
    clients: ClientRegistry

    def create_master(self, mc: MasterConfig, now: Millis) -> MasterInstance: ...

    def reset_master(
        self, master: MasterInstance, now: Millis, *, keep_sentinels: bool = False
    ) -> list[Effect]: ...

    def remove_master(self, name: str) -> list[Effect]: ...

    def forget_link(self, link_id: LinkId) -> None: ...


# Short name used in the signatures below.
Sentinel = SentinelState

# --------------------------------------------------------------------------------------
# Small helpers


def _name(arg: bytes) -> str:
    """A master name or other identifier from the wire (round-trips any bytes)."""
    return arg.decode("utf-8", "surrogateescape")


def _text(arg: bytes) -> str:
    """An argument as it appears inside an error or event text."""
    return arg.decode("utf-8", "replace")


def _bulk(text: str | int) -> Bulk:
    if isinstance(text, int):
        return Bulk.of(text)
    return Bulk(text.encode("utf-8", "surrogateescape"))


def _string2ll(arg: bytes) -> int | None:
    """redis's string2ll(): strict decimal, no spaces, no ``+``, no leading zeros.

    Mirrors getLongLongFromObject() for the values SENTINEL commands parse.
    """
    if not arg or len(arg) > 20:
        return None
    if arg == b"0":
        return 0
    digits = arg[1:] if arg[:1] == b"-" else arg
    # bytes.isdigit() is ASCII-only, as C's isdigit() in the "C" locale.
    if not digits or not digits.isdigit() or digits[:1] == b"0":
        return None
    value = int(arg)
    if not _LONG_MIN <= value <= _LONG_MAX:
        return None
    return value


class _Ctx:
    """One SENTINEL command being run: who asked, in which protocol, and when."""

    def __init__(self, sentinel: Sentinel, client: ClientId, proto: int, now: Millis) -> None:
        self.sentinel = sentinel
        self.client = client
        self.proto = proto
        self.now = now

    def reply(self, value: Value) -> list[Effect]:
        return [Reply(client=self.client, value=value, proto=self.proto)]

    def error(self, text: str) -> list[Effect]:
        return self.reply(Error(text.replace("\r", " ").replace("\n", " ")))

    def ok(self) -> list[Effect]:
        return self.reply(Simple("OK"))

    def flush_and_reply(self) -> list[Effect]:
        """sentinelFlushConfigAndReply(): the driver replies ``+OK`` or the save error."""
        return self.sentinel.flush_config(reply_to=self.client, proto=self.proto)

    def find_master(self, arg: bytes) -> MasterInstance | None:
        """The master named ``arg`` (case-sensitive), or None; callers reply the error."""
        return self.sentinel.masters.get(_name(arg))


def _pairs_to_map(pairs: list[tuple[str, str]]) -> Map:
    return Map(tuple((_bulk(k), _bulk(v)) for k, v in pairs))


def current_master_addr(master: MasterInstance) -> Addr:
    """The address clients should use: the promoted replica once it was seen as master.

    Mirrors sentinelGetCurrentMasterAddress().
    """
    promoted = master.promoted_replica
    if promoted is not None and master.failover_state in (
        FailoverState.RECONF_SLAVES,
        FailoverState.UPDATE_CONFIG,
    ):
        return promoted.addr
    return master.addr


def _current_master_host(master: MasterInstance, announce_hostnames: bool) -> str:
    promoted = master.promoted_replica
    if promoted is not None and current_master_addr(master) is promoted.addr:
        return announce_host(promoted, announce_hostnames)
    return announce_host(master, announce_hostnames)


def _close_link(sentinel: Sentinel, link: InstanceLink) -> list[Effect]:
    """Close both sockets of ``link``; the next tick reconnects.

    Mirrors instanceLinkCloseConnection() applied to the command and pub/sub sockets.
    """
    effects: list[Effect] = []
    if link.cmd is not None:
        effects.append(Close(link=link.cmd))
        sentinel.forget_link(link.cmd)
        link.cmd = None
        link.cmd_ready = False
        link.pending_commands = 0
        link.cmd_pending.clear()
        link.disconnected = True
    if link.pubsub is not None:
        effects.append(Close(link=link.pubsub))
        sentinel.forget_link(link.pubsub)
        link.pubsub = None
        link.pubsub_ready = False
        link.pubsub_pending.clear()
        link.disconnected = True
    return effects


def _drop_instance_connections(sentinel: Sentinel, master: MasterInstance) -> list[Effect]:
    """Mirrors dropInstanceConnections(): the master's and its replicas' links."""
    effects = _close_link(sentinel, master.link)
    for replica in master.replicas.values():
        effects += _close_link(sentinel, replica.link)
    return effects


def _drop_sentinel_connections(sentinel: Sentinel) -> list[Effect]:
    """Mirrors sentinelDropConnections(): every peer sentinel link."""
    effects: list[Effect] = []
    for master in sentinel.masters.values():
        for peer in master.sentinels.values():
            if not peer.link.disconnected:
                effects += _close_link(sentinel, peer.link)
    return effects


def _executable(sentinel: Sentinel, path: str) -> bool:
    """Whether ``path`` is an executable file (``access(path, X_OK)``).

    The core does no I/O, so the driver installs the check as the attribute
    ``script_path_check`` (a ``Callable[[str], bool]``) on the sentinel. Without one
    (the simulator, unit tests) every path is accepted.
    """
    check: Callable[[str], bool] | None = getattr(sentinel, "script_path_check", None)
    return True if check is None else check(path)


def _is_ip_literal(host: str) -> str | None:
    """The canonical form of an IP literal (as inet_ntop prints it), else None."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


# --------------------------------------------------------------------------------------
# Instance maps (spec §3.2)


def instance_map(sentinel: Sentinel, instance: Instance, now: Millis) -> list[tuple[str, str]]:
    """The field/value pairs SENTINEL MASTER(S)/REPLICAS/SENTINELS show for ``instance``.

    Mirrors addReplySentinelRedisInstance().
    """
    link = instance.link
    out: list[tuple[str, str]] = [
        ("name", instance.name),
        ("ip", announce_host(instance, sentinel.announce_hostnames)),
        ("port", str(instance.addr.port)),
        ("runid", instance.run_id or ""),
        ("flags", ",".join(flags(instance))),
        ("link-pending-commands", str(link.pending_commands)),
        ("link-refcount", str(link.refcount)),
    ]
    if isinstance(instance, MasterInstance) and instance.failover_in_progress:
        out.append(("failover-state", instance.failover_state.value))
    out += [
        ("last-ping-sent", str(now - link.act_ping_time if link.act_ping_time else 0)),
        ("last-ok-ping-reply", str(now - link.last_avail_time)),
        ("last-ping-reply", str(now - link.last_pong_time)),
    ]
    if instance.sdown_since is not None:
        out.append(("s-down-time", str(now - instance.sdown_since)))
    if isinstance(instance, MasterInstance) and instance.odown_since is not None:
        out.append(("o-down-time", str(now - instance.odown_since)))
    out.append(("down-after-milliseconds", str(instance.down_after_ms)))
    if isinstance(instance, MasterInstance | ReplicaInstance):
        refresh = now - instance.info_refresh if instance.info_refresh else 0
        out += [
            ("info-refresh", str(refresh)),
            ("role-reported", instance.role_reported.value),
            ("role-reported-time", str(now - instance.role_reported_time)),
        ]
    if isinstance(instance, MasterInstance):
        out += [
            ("config-epoch", str(instance.config_epoch)),
            ("num-slaves", str(len(instance.replicas))),
            ("num-other-sentinels", str(len(instance.sentinels))),
            ("quorum", str(instance.quorum)),
            ("failover-timeout", str(instance.failover_timeout_ms)),
            ("parallel-syncs", str(instance.parallel_syncs)),
        ]
        if instance.notification_script is not None:
            out.append(("notification-script", instance.notification_script))
        if instance.client_reconfig_script is not None:
            out.append(("client-reconfig-script", instance.client_reconfig_script))
    elif isinstance(instance, ReplicaInstance):
        out += [
            ("master-link-down-time", str(instance.master_link_down_time)),
            ("master-link-status", "ok" if instance.master_link_up else "err"),
            ("master-host", instance.master_host if instance.master_host is not None else "?"),
            ("master-port", str(instance.master_port)),
            ("slave-priority", str(instance.priority)),
            ("slave-repl-offset", str(instance.repl_offset)),
            ("replica-announced", "1" if instance.replica_announced else "0"),
        ]
    else:
        assert isinstance(instance, SentinelPeer)
        out += [
            ("last-hello-message", str(now - instance.last_hello_time)),
            ("voted-leader", instance.leader or "?"),
            ("voted-leader-epoch", str(instance.leader_epoch)),
        ]
    return out


def _instances_reply(ctx: _Ctx, instances: list[Instance]) -> Value:
    """Mirrors addReplyDictOfRedisInstances()."""
    return Array(tuple(_pairs_to_map(instance_map(ctx.sentinel, i, ctx.now)) for i in instances))


# --------------------------------------------------------------------------------------
# The subcommands, in sentinelCommand()'s order


def _help(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    return ctx.reply(Array(tuple(Simple(line) for line in HELP_LINES)))


def _masters(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    return ctx.reply(_instances_reply(ctx, list(ctx.sentinel.masters.values())))


def _master(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    master = ctx.find_master(args[1])
    if master is None:
        return ctx.error(_NO_SUCH_MASTER)
    return ctx.reply(_pairs_to_map(instance_map(ctx.sentinel, master, ctx.now)))


def _replicas(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    master = ctx.find_master(args[1])
    if master is None:
        return ctx.error(_NO_SUCH_MASTER)
    # Replicas whose INFO said replica_announced:0 are hidden (trap T22).
    shown: list[Instance] = [r for r in master.replicas.values() if r.replica_announced]
    return ctx.reply(_instances_reply(ctx, shown))


def _sentinels(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    master = ctx.find_master(args[1])
    if master is None:
        return ctx.error(_NO_SUCH_MASTER)
    return ctx.reply(_instances_reply(ctx, list(master.sentinels.values())))


def _myid(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    return ctx.reply(_bulk(ctx.sentinel.myid))


def _find_master_by_addr(sentinel: Sentinel, host: str, port: int) -> MasterInstance | None:
    """The first master whose address matches ``host:port`` (trap T28).

    Mirrors getSentinelRedisInstanceByAddrAndRunID() with a NULL run id. sentinel.c
    resolves ``host`` (IP literals only without resolve-hostnames) and compares IPs or
    hostnames; the core does no DNS, so IP literals compare as addresses and names, with
    resolve-hostnames, compare with the host and hostname we keep
    (``info.addr_equals_host``, as INFO and hello processing do).
    """
    if not 0 <= port <= 65535:
        return None
    if _is_ip_literal(host) is None and not sentinel.resolve_hostnames:
        return None
    for master in sentinel.masters.values():
        if master.addr.port == port and addr_equals_host(master, host):
            return master
    return None


def _is_master_down_by_addr(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    """Answer a peer's ``SENTINEL is-master-down-by-addr`` (spec §5.9)."""
    from pysentinel.core import election

    sentinel = ctx.sentinel
    port = _string2ll(args[2])
    req_epoch = _string2ll(args[3])
    if port is None or req_epoch is None:
        return ctx.error(_NOT_INTEGER)
    master = _find_master_by_addr(sentinel, _name(args[1]), port)
    down = master is not None and not sentinel.tilt and master.sdown_since is not None
    effects: list[Effect] = []
    leader: RunId | None = None
    leader_epoch = 0
    req_runid = _name(args[4])
    if master is not None and req_runid != "*":
        leader, epoch, vote_effects = election.vote_leader(
            sentinel, master, Epoch(req_epoch), RunId(req_runid), ctx.now
        )
        leader_epoch = epoch
        effects += vote_effects
    reply = Array((Int(1 if down else 0), _bulk(leader or "*"), Int(leader_epoch)))
    return effects + ctx.reply(reply)


def _reset(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    """Mirrors sentinelResetMastersByPattern(pattern, SENTINEL_GENERATE_EVENT)."""
    sentinel = ctx.sentinel
    effects: list[Effect] = []
    count = 0
    for master in list(sentinel.masters.values()):
        if not string_match(args[1], master.name.encode("utf-8", "surrogateescape")):
            continue
        effects += sentinel.reset_master(master, ctx.now)
        effects += sentinel.event(EventType.RESET_MASTER, master, now=ctx.now)
        count += 1
    # No flush: the old known-* lines stay until the next one (trap T18).
    return effects + ctx.reply(Int(count))


def _get_master_addr_by_name(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    master = ctx.sentinel.masters.get(_name(args[1]))
    if master is None:
        return ctx.reply(NULL_ARRAY)
    addr = current_master_addr(master)
    host = _current_master_host(master, ctx.sentinel.announce_hostnames)
    return ctx.reply(Array((_bulk(host), _bulk(addr.port))))


def _failover(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    """SENTINEL FAILOVER: the error cases, then B's manual failover (spec §8.6)."""
    master = ctx.find_master(args[1])
    if master is None:
        return ctx.error(_NO_SUCH_MASTER)
    if master.failover_in_progress:
        return ctx.error("INPROG Failover already in progress")
    # Imported here: failover.py imports the Sentinel, which imports this module.
    from pysentinel.core import failover

    if failover.select_replica(ctx.sentinel, master, ctx.now) is None:
        return ctx.error("NOGOODSLAVE No suitable replica to promote")
    effects: list[Effect] = failover.start_manual_failover(ctx.sentinel, master, ctx.now)
    return effects + ctx.ok()


def _pending_scripts(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    return ctx.reply(ctx.sentinel.scripts.pending_scripts_reply(ctx.now))


def _monitor(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    """SENTINEL MONITOR <name> <ip> <port> <quorum>, checks in sentinel.c's order."""
    sentinel = ctx.sentinel
    quorum = _string2ll(args[4])
    if quorum is None:
        return ctx.error("ERR Invalid quorum")
    port = _string2ll(args[3])
    if port is None:
        return ctx.error("ERR Invalid port")
    if quorum <= 0:
        return ctx.error("ERR Quorum must be 1 or greater.")
    host = _name(args[2])
    ip = _is_ip_literal(host)
    if ip is None and not (sentinel.resolve_hostnames and host):
        return ctx.error("ERR Invalid IP address or hostname specified")
    if not 0 <= port <= 65535:
        return ctx.error("ERR Invalid port number.")
    name = _name(args[1])
    if name in sentinel.masters:
        return ctx.error("ERR Duplicate master name.")
    tunables = sentinel.tunables
    mc = MasterConfig(
        name=name,
        # With resolve-hostnames the name is kept as given, as the config loader does.
        addr=Addr(host if sentinel.resolve_hostnames else (ip or host), port),
        quorum=quorum,
        down_after_ms=tunables.default_down_after_ms,
        failover_timeout_ms=tunables.default_failover_timeout_ms,
    )
    master = sentinel.create_master(mc, ctx.now)
    effects = ctx.flush_and_reply()
    effects += sentinel.event(EventType.MONITOR, master, f"quorum {master.quorum}", now=ctx.now)
    return effects


def _flushconfig(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    return ctx.flush_and_reply()


def _remove(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    sentinel = ctx.sentinel
    master = ctx.find_master(args[1])
    if master is None:
        return ctx.error(_NO_SUCH_MASTER)
    effects = sentinel.event(EventType.UNMONITOR, master, now=ctx.now)
    effects += sentinel.remove_master(master.name)
    return effects + ctx.flush_and_reply()


def _ckquorum(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    """Mirrors sentinelIsQuorumReachable() and its reply (spec §9.7)."""
    master = ctx.find_master(args[1])
    if master is None:
        return ctx.error(_NO_SUCH_MASTER)
    voters = len(master.sentinels) + 1
    usable = 1 + sum(
        1
        for peer in master.sentinels.values()
        if peer.sdown_since is None  # peers are never ODOWN
    )
    no_quorum = usable < master.quorum
    no_auth = usable < voters // 2 + 1
    if not no_quorum and not no_auth:
        return ctx.reply(
            Simple(
                f"OK {usable} usable Sentinels. Quorum and failover authorization can be reached"
            )
        )
    text = f"NOQUORUM {usable} usable Sentinels. "
    if no_quorum:
        text += "Not enough available Sentinels to reach the specified quorum for this master"
    if no_auth:
        if no_quorum:
            text += ". "
        text += "Not enough available Sentinels to reach the majority and authorize a failover"
    return ctx.error(text)


# --- SENTINEL SET (spec §9.3) -----------------------------------------------------------


class _SetError(Exception):
    """Stops SENTINEL SET at a bad pair; ``text`` is the error reply."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _set_positive(value: bytes, option: bytes, *, allow_zero: bool = False) -> int:
    number = _string2ll(value)
    if number is None or number < 0 or (number == 0 and not allow_zero):
        raise _SetError(f"ERR Invalid argument '{_text(value)}' for SENTINEL SET '{_text(option)}'")
    return number


def _set(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    """SENTINEL SET <master> <option> <value> [...]; not atomic (trap T13).

    Mirrors sentinelSetCommand().
    """
    sentinel = ctx.sentinel
    master = ctx.find_master(args[1])
    if master is None:
        return ctx.error(_NO_SUCH_MASTER)
    effects: list[Effect] = []
    changes = 0
    j = 2
    try:
        while j < len(args):
            option = args[j]
            opt = option.lower()
            more = len(args) - 1 - j
            shown: tuple[bytes, ...]
            if opt == b"rename-command" and more > 1:
                old, new = args[j + 1], args[j + 2]
                if not old or not new:
                    bad = old if new else new
                    raise _SetError(
                        f"ERR Invalid argument '{_text(bad)}' for SENTINEL SET '{_text(option)}'"
                    )
                old_name = _name(old)
                master.rename_commands.pop(old_name.upper(), None)
                if old_name.lower() != _name(new).lower():
                    master.rename_commands[old_name.upper()] = _name(new)
                shown = (old, new)
                j += 3
            elif more > 0:
                value = args[j + 1]
                shown = (value,)
                effects += _set_one(ctx, master, option, value)
                if opt == b"auth-pass":
                    shown = (b"******",)
                j += 2
            else:
                raise _SetError(
                    f"ERR Unknown option or number of arguments for SENTINEL SET '{_text(option)}'"
                )
            changes += 1
            extra = " ".join(_text(a) for a in (option, *shown))
            effects += sentinel.event(EventType.SET, master, extra, now=ctx.now)
    except _SetError as exc:
        effects += ctx.error(exc.text)
        if changes:
            effects += sentinel.flush_config()
        return effects
    return effects + ctx.flush_and_reply()


def _set_one(ctx: _Ctx, master: MasterInstance, option: bytes, value: bytes) -> list[Effect]:
    """Apply one two-token SET pair; raise :class:`_SetError` when it is refused."""
    sentinel = ctx.sentinel
    opt = option.lower()
    if opt == b"down-after-milliseconds":
        master.down_after_ms = _set_positive(value, option)
        # sentinelPropagateDownAfterPeriod(): replicas and peers follow their master.
        for replica in master.replicas.values():
            replica.down_after_ms = master.down_after_ms
        for peer in master.sentinels.values():
            peer.down_after_ms = master.down_after_ms
    elif opt == b"failover-timeout":
        master.failover_timeout_ms = _set_positive(value, option)
    elif opt == b"parallel-syncs":
        master.parallel_syncs = _set_positive(value, option)
    elif opt in (b"notification-script", b"client-reconfig-script"):
        if sentinel.deny_scripts_reconfig:
            raise _SetError(_SCRIPTS_DENIED)
        path = _name(value)
        if path and not _executable(sentinel, path):
            if opt == b"notification-script":
                raise _SetError("ERR Notification script seems non existing or non executable")
            raise _SetError(
                "ERR Client reconfiguration script seems non existing or non executable"
            )
        if opt == b"notification-script":
            master.notification_script = path or None
        else:
            master.client_reconfig_script = path or None
    elif opt == b"auth-pass":
        master.auth_pass = _name(value) or None
        return _drop_instance_connections(sentinel, master)
    elif opt == b"auth-user":
        master.auth_user = _name(value) or None
        return _drop_instance_connections(sentinel, master)
    elif opt == b"quorum":
        master.quorum = _set_positive(value, option)
    elif opt == b"master-reboot-down-after-period":
        master.master_reboot_down_after_period_ms = _set_positive(value, option, allow_zero=True)
    else:
        raise _SetError(
            f"ERR Unknown option or number of arguments for SENTINEL SET '{_text(option)}'"
        )
    return []


# --- SENTINEL CONFIG (spec §9.4) --------------------------------------------------------


def _config(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    sub = args[1].lower()
    if sub == b"set" and len(args) == 4:
        return _config_set(ctx, args[2], args[3])
    if sub == b"get" and len(args) == 3:
        return _config_get(ctx, args[2])
    return ctx.error(_CONFIG_SHAPE)


def _yesno(value: bytes) -> bool | None:
    lowered = value.lower()
    if lowered == b"yes":
        return True
    if lowered == b"no":
        return False
    return None


def _config_set(ctx: _Ctx, param: bytes, value: bytes) -> list[Effect]:
    """Mirrors sentinelConfigSetCommand() of 7.0.15 (one pair only)."""
    sentinel = ctx.sentinel
    name = param.lower()
    drop_conns = False
    bad_value = f"ERR Invalid value '{_text(value)}' to SENTINEL CONFIG SET '{_text(param)}'"
    if name in (b"resolve-hostnames", b"announce-hostnames"):
        flag = _yesno(value)
        if flag is None:
            return ctx.error(bad_value)
        if name == b"resolve-hostnames":
            sentinel.resolve_hostnames = flag
        else:
            sentinel.announce_hostnames = flag
    elif name == b"announce-ip":
        # Stored as given: "" is an empty but set value (trap T4).
        sentinel.announce_ip = _name(value)
    elif name == b"announce-port":
        port = _string2ll(value)
        if port is None or not 0 <= port <= 65535:
            return ctx.error(bad_value)
        sentinel.announce_port = port
    elif name == b"sentinel-user":
        sentinel.sentinel_user = _name(value) or None
        drop_conns = True
    elif name == b"sentinel-pass":
        sentinel.sentinel_pass = _name(value) or None
        drop_conns = True
    else:
        return ctx.error(f"ERR Invalid argument '{_text(param)}' to SENTINEL CONFIG SET")
    effects = ctx.flush_and_reply()
    if drop_conns:
        effects += _drop_sentinel_connections(sentinel)
    return effects


def _config_get(ctx: _Ctx, pattern: bytes) -> list[Effect]:
    """Mirrors sentinelConfigGetCommand() of 7.0.15 (one pattern)."""
    sentinel = ctx.sentinel
    params: list[tuple[str, str]] = [
        ("resolve-hostnames", "yes" if sentinel.resolve_hostnames else "no"),
        ("announce-hostnames", "yes" if sentinel.announce_hostnames else "no"),
        ("announce-ip", sentinel.announce_ip or ""),
        ("announce-port", str(sentinel.announce_port)),
        ("sentinel-user", sentinel.sentinel_user or ""),
        ("sentinel-pass", sentinel.sentinel_pass or ""),
    ]
    matching = [(k, v) for k, v in params if string_match(pattern, k, nocase=True)]
    return ctx.reply(_pairs_to_map(matching))


# --- diagnostics ------------------------------------------------------------------------


def _info_cache(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    """Cached INFO of the named masters and their replicas, in internal order (trap T9).

    Mirrors the INFO-CACHE branch of sentinelCommand().
    """
    wanted = {_name(a) for a in args[1:]}
    items: list[Value] = []
    for master in ctx.sentinel.masters.values():
        if master.name not in wanted:
            continue
        entries: list[Value] = [_info_entry(master, master, ctx.now)]
        entries += [_info_entry(master, r, ctx.now) for r in master.replicas.values()]
        items += [_bulk(master.name), Array(tuple(entries))]
    return ctx.reply(Array(tuple(items)))


def _info_entry(master: MasterInstance, instance: Instance, now: Millis) -> Value:
    # sentinel.c tests the *master's* info_refresh for every entry (trap T9).
    age = now - instance.info_refresh if master.info_refresh else 0
    text: Value = NULL
    if instance.info_cache is not None:
        text = Bulk(instance.info_cache.encode("utf-8", "surrogateescape"))
    return Array((Int(age), text))


def _simulate_failure(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    """Flags are cleared first, then set one by one (trap T31)."""
    sentinel = ctx.sentinel
    sentinel.simfailure_crash_after_election = False
    sentinel.simfailure_crash_after_promotion = False
    effects: list[Effect] = []
    for arg in args[1:]:
        mode = arg.lower()
        if mode == b"crash-after-election":
            sentinel.simfailure_crash_after_election = True
            effects.append(
                Log(
                    level=LogLevel.WARNING,
                    text="Failure simulation: this Sentinel will crash after being"
                    " successfully elected as failover leader",
                )
            )
        elif mode == b"crash-after-promotion":
            sentinel.simfailure_crash_after_promotion = True
            effects.append(
                Log(
                    level=LogLevel.WARNING,
                    text="Failure simulation: this Sentinel will crash after promoting"
                    " the selected replica to master",
                )
            )
        elif mode == b"help":
            return effects + ctx.reply(
                Array((Bulk(b"crash-after-election"), Bulk(b"crash-after-promotion")))
            )
        else:
            return effects + ctx.error("ERR Unknown failure simulation specified")
    return effects + ctx.ok()


def _debug(ctx: _Ctx, args: tuple[bytes, ...]) -> list[Effect]:
    """SENTINEL DEBUG [<param> <ms> ...]; pairs before a bad one stay applied.

    Mirrors addReplySentinelDebugInfo() and sentinelSetDebugConfigParameters().
    """
    tunables = ctx.sentinel.tunables
    if len(args) == 1:
        return ctx.reply(
            Map(
                tuple(
                    (_bulk(name.upper()), _bulk(getattr(tunables, field)))
                    for name, field in _DEBUG_PARAMS
                )
            )
        )
    fields = dict(_DEBUG_PARAMS)
    j = 1
    while j < len(args):
        option = args[j]
        field = fields.get(_text(option).lower())
        if field is None or len(args) - 1 - j < 1:
            return ctx.error(
                f"ERR Unknown option or number of arguments for SENTINEL DEBUG '{_text(option)}'"
            )
        value = _string2ll(args[j + 1])
        if value is None or value <= 0:
            return ctx.error(
                f"ERR Invalid argument '{_text(args[j + 1])}' for SENTINEL DEBUG '{_text(option)}'"
            )
        setattr(tunables, field, value)
        j += 2
    return ctx.ok()


_Handler = Callable[[_Ctx, tuple[bytes, ...]], list[Effect]]

_HANDLERS: Final[dict[bytes, _Handler]] = {
    b"help": _help,
    b"masters": _masters,
    b"master": _master,
    b"slaves": _replicas,
    b"replicas": _replicas,
    b"sentinels": _sentinels,
    b"myid": _myid,
    b"is-master-down-by-addr": _is_master_down_by_addr,
    b"reset": _reset,
    b"get-master-addr-by-name": _get_master_addr_by_name,
    b"failover": _failover,
    b"pending-scripts": _pending_scripts,
    b"monitor": _monitor,
    b"flushconfig": _flushconfig,
    b"remove": _remove,
    b"ckquorum": _ckquorum,
    b"set": _set,
    b"config": _config,
    b"info-cache": _info_cache,
    b"simulate-failure": _simulate_failure,
    b"debug": _debug,
}


def sentinel_command(
    sentinel: Sentinel, client: ClientId, args: tuple[bytes, ...], proto: int, now: Millis
) -> list[Effect]:
    """Run ``SENTINEL <args...>`` for ``client``; the effects include its one reply.

    ``args[0]`` is the subcommand as sent. Mirrors sentinelCommand().
    """
    ctx = _Ctx(sentinel, client, proto, now)
    handler = _HANDLERS.get(args[0].lower()) if args else None
    if handler is None:
        # The client layer rejects unknown subcommands first; this is the same text.
        sub = _text(args[0]) if args else ""
        return ctx.error(f"ERR unknown subcommand '{sub}'. Try SENTINEL HELP.")
    return handler(ctx, args)


# --------------------------------------------------------------------------------------
# ROLE and INFO


def role_reply(sentinel: Sentinel) -> Value:
    """``ROLE``: ``["sentinel", [master names in internal order]]``."""
    names = tuple(_bulk(name) for name in sentinel.masters)
    return Array((Bulk(b"sentinel"), Array(names)))


def info_sentinel_section(sentinel: Sentinel, now: Millis) -> str:
    """The body of INFO's ``# Sentinel`` section (no title), lines joined by CRLF.

    Mirrors the sentinel part of genRedisInfoString() (sentinelGenerateInfo).
    """
    simfailure = 0
    if sentinel.simfailure_crash_after_election:
        simfailure |= SIMFAILURE_CRASH_AFTER_ELECTION
    if sentinel.simfailure_crash_after_promotion:
        simfailure |= SIMFAILURE_CRASH_AFTER_PROMOTION
    tilt_since = (now - sentinel.tilt_start_time) // 1000 if sentinel.tilt else -1
    lines = [
        f"sentinel_masters:{len(sentinel.masters)}",
        f"sentinel_tilt:{1 if sentinel.tilt else 0}",
        f"sentinel_tilt_since_seconds:{tilt_since}",
        f"sentinel_running_scripts:{sentinel.scripts.running_count}",
        f"sentinel_scripts_queue_length:{sentinel.scripts.queue_length}",
        f"sentinel_simulate_failure_flags:{simfailure}",
    ]
    for i, master in enumerate(sentinel.masters.values()):
        if master.odown_since is not None:
            status = "odown"
        elif master.sdown_since is not None:
            status = "sdown"
        else:
            status = "ok"
        host = announce_host(master, sentinel.announce_hostnames)
        lines.append(
            f"master{i}:name={master.name},status={status},address={host}:{master.addr.port},"
            f"slaves={len(master.replicas)},sentinels={len(master.sentinels) + 1}"
        )
    return "\r\n".join(lines)
