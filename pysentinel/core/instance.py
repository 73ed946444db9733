"""Per-master, per-replica, per-peer and per-link state (sentinel.c's sentinelRedisInstance
and instanceLink).

Rules of this module:

* This is the state the rest of the core reads and writes; it holds no behaviour beyond
  small accessors. Monitoring (``monitor.py``, ``info.py``, ``hello.py``), detection
  (``detection.py``), elections and failover (``election.py``, ``failover.py``) and the
  SENTINEL commands (``commands.py``) all work on these objects.
* sentinel.c keeps one struct for three kinds of instance and a bit field of flags. We
  keep three classes (:class:`MasterInstance`, :class:`ReplicaInstance`,
  :class:`SentinelPeer`) over a common base, and typed fields instead of ``SRI_*`` bits
  (STYLE §6). :func:`flags` rebuilds the wire list of spec §3.2 from them.
* Every timestamp is ``Millis`` on the driver's clock. A timestamp of ``0`` means
  "never" where sentinel.c uses 0 that way (``info_refresh``, ``act_ping_time``,
  ``last_ping_time``, ...), so that the reply fields of spec §3.2 come out the same.
* Masters, replicas and peers live in ``dict``s, which keep insertion order. That is our
  "internal order" (spec §5.1): stable, and never a ``set`` of strings (STYLE §3).
* A peer sentinel known under several masters shares one :class:`InstanceLink`
  (``refcount`` > 1); masters and replicas never share links (spec §5.3).
"""

from __future__ import annotations

import collections
import enum
from typing import Final

import attrs

from pysentinel.core.types import Addr, Epoch, LinkId, Millis, Role, RunId

__all__ = [
    "DEFAULT_REPLICA_PRIORITY",
    "NEVER",
    "NO_EPOCH",
    "FailoverState",
    "Instance",
    "InstanceLink",
    "MasterInstance",
    "Pending",
    "ReconfState",
    "ReplicaInstance",
    "ReplyKind",
    "SentinelPeer",
    "Tunables",
    "flags",
]

#: "Never" for the timestamps that sentinel.c zeroes (``info_refresh``, ``act_ping_time`` ...).
NEVER: Final = Millis(0)
#: The epoch before any: config epochs and votes start here.
NO_EPOCH: Final = Epoch(0)

#: A replica's priority until its INFO says otherwise (spec §1).
DEFAULT_REPLICA_PRIORITY: Final = 100


@attrs.define(eq=False)
class Tunables:
    """The process-global timing constants of spec §1 that ``SENTINEL DEBUG`` can change.

    Not persisted. Field order is the order ``SENTINEL DEBUG`` lists them in.
    """

    info_period_ms: int = 10_000
    ping_period_ms: int = 1_000
    ask_period_ms: int = 1_000
    publish_period_ms: int = 2_000
    default_down_after_ms: int = 30_000
    default_failover_timeout_ms: int = 180_000
    tilt_trigger_ms: int = 2_000
    tilt_period_ms: int = 30_000
    slave_reconf_timeout_ms: int = 10_000
    min_link_reconnect_period_ms: int = 15_000
    election_timeout_ms: int = 10_000
    script_max_runtime_ms: int = 60_000
    script_retry_delay_ms: int = 30_000

    @property
    def master_down_reply_validity_ms(self) -> int:
        """A peer's "master is down" answer and vote expire after this (5 x ask period)."""
        return 5 * self.ask_period_ms

    @property
    def convert_to_replica_wait_ms(self) -> int:
        """A replica that reports role master is demoted only after this (4 x publish)."""
        return 4 * self.publish_period_ms


class FailoverState(enum.Enum):
    """sentinel.c's SENTINEL_FAILOVER_STATE_*; the value is the wire name (spec §3.2)."""

    NONE = "none"
    WAIT_START = "wait_start"
    SELECT_SLAVE = "select_slave"
    SEND_SLAVEOF_NOONE = "send_slaveof_noone"
    WAIT_PROMOTION = "wait_promotion"
    RECONF_SLAVES = "reconf_slaves"
    UPDATE_CONFIG = "update_config"


class ReconfState(enum.Enum):
    """Where a replica is in being re-pointed during a failover (SRI_RECONF_* bits)."""

    NONE = "none"
    SENT = "reconf_sent"
    INPROG = "reconf_inprog"
    DONE = "reconf_done"


class ReplyKind(enum.Enum):
    """What the reply to a command we sent is for: sentinel.c's reply callbacks."""

    #: sentinelDiscardReplyCallback: AUTH, CLIENT SETNAME, the failover transaction ...
    DISCARD = "discard"
    #: sentinelPingReplyCallback
    PING = "ping"
    #: sentinelInfoReplyCallback
    INFO = "info"
    #: sentinelPublishReplyCallback (hello)
    PUBLISH = "publish"
    #: sentinelReceiveIsMasterDownReply
    IS_MASTER_DOWN = "is-master-down"
    #: the pub/sub link's SUBSCRIBE and every message pushed on it
    #: (sentinelReceiveHelloMessages)
    SUBSCRIBE = "subscribe"


@attrs.frozen
class Pending:
    """One reply we are waiting for on a link, in the order the commands were sent.

    ``target`` is the instance the callback gets as private data in sentinel.c. On a peer
    link shared between masters it says which master's entry the reply is for. It is
    ``None`` only for ``DISCARD``.
    """

    kind: ReplyKind
    target: Instance | None = attrs.field(default=None, eq=False)


@attrs.define(eq=False)
class InstanceLink:
    """The connections to one instance (sentinel.c's instanceLink).

    ``cmd``/``pubsub`` are the ids of the current sockets, ``None`` when there is none.
    A socket is "open" from its ``Connect`` effect on; ``cmd_ready``/``pubsub_ready``
    turn true on ``LinkConnected``. Commands sent before that are queued by the driver,
    as hiredis does with a connecting context.
    """

    #: Set when a required socket is missing (SRI link->disconnected).
    disconnected: bool = True
    #: Instance entries sharing this link: > 1 only for a peer known under several masters.
    refcount: int = 1
    #: Replies outstanding on the command socket (reset only when we close or reopen it).
    pending_commands: int = 0
    cmd: LinkId | None = None
    pubsub: LinkId | None = None
    cmd_ready: bool = False
    pubsub_ready: bool = False
    #: The replies we wait for on ``cmd``, oldest first.
    cmd_pending: collections.deque[Pending] = attrs.Factory(collections.deque)
    #: The replies we wait for on ``pubsub`` (AUTH, SETNAME, SUBSCRIBE), oldest first.
    pubsub_pending: collections.deque[Pending] = attrs.Factory(collections.deque)
    #: Our local address of the command socket (for the hello when not announcing).
    local_host: str | None = None
    local_port: int | None = None
    cc_conn_time: Millis = NEVER
    pc_conn_time: Millis = NEVER
    #: Last time anything arrived on the pub/sub socket.
    pc_last_activity: Millis = NEVER
    #: Send time of the oldest unanswered PING; 0 when none is pending.
    act_ping_time: Millis = NEVER
    #: Send time of the last PING; 0 when never sent.
    last_ping_time: Millis = NEVER
    #: Last acceptable PING reply (PONG, LOADING, MASTERDOWN).
    last_avail_time: Millis = NEVER
    #: Last reply of any kind to a PING.
    last_pong_time: Millis = NEVER
    #: Last reconnection attempt.
    last_reconn_time: Millis = NEVER

    @classmethod
    def created(cls, now: Millis) -> InstanceLink:
        """A fresh link: createInstanceLink() stamps the ping times with ``now``.

        That way an instance that can never be reached goes SDOWN after down-after.
        """
        return cls(act_ping_time=now, last_avail_time=now, last_pong_time=now)


@attrs.define(eq=False)
class Instance:
    """What masters, replicas and peer sentinels have in common (spec §5.1)."""

    #: Masters: the configured name; replicas: ``ip:port``; sentinels: the run id.
    name: str
    #: The address we connect to (resolved IP, or the hostname as given).
    addr: Addr
    link: InstanceLink
    #: Masters: configured; replicas and peers: copied from their master.
    down_after_ms: int
    #: The hostname as given, when it differs from ``addr.host`` (resolve-hostnames).
    hostname: str | None = None
    #: For an address given as a hostname: the IP it last resolved to (the far side of
    #: our command link), shown instead of the name when announce-hostnames is off.
    resolved_ip: str | None = None
    #: Last run id seen (INFO ``run_id`` or hello), ``None`` while unknown.
    run_id: RunId | None = None
    #: Last time we published a hello to it (or creation).
    last_pub_time: Millis = NEVER
    sdown_since: Millis | None = None
    #: When the most recent SDOWN episode began, kept after it ends (sentinel.c's
    #: ``s_down_since_time``, which -sdown does not clear); 0 = never. The
    #: convert-to-replica and fix-replica-config guards of spec §5.6 read it.
    last_sdown_start: Millis = NEVER
    #: Last INFO reply; 0 = never (``info-refresh`` shows 0 then).
    info_refresh: Millis = NEVER
    role_reported: Role = Role.MASTER
    role_reported_time: Millis = NEVER
    #: Last time the reported replication config (role, master address) changed.
    slave_conf_change_time: Millis = NEVER
    #: The last INFO text and when it arrived (SENTINEL INFO-CACHE).
    info_cache: str | None = None
    info_cache_time: Millis = NEVER
    #: SCRIPT KILL sent once while SDOWN and answering -BUSY.
    script_kill_sent: bool = False


@attrs.define(eq=False)
class ReplicaInstance(Instance):
    """A replica of one master (SRI_SLAVE)."""

    master: MasterInstance | None = attrs.field(default=None, repr=False)
    #: ms, from INFO ``master_link_down_since_seconds`` x 1000; 0 when absent.
    master_link_down_time: int = 0
    priority: int = DEFAULT_REPLICA_PRIORITY
    replica_announced: bool = True
    #: As reported by the replica's INFO; ``None``/0 when unknown.
    master_host: str | None = None
    master_port: int = 0
    master_link_up: bool = False
    repl_offset: int = 0
    #: SRI_PROMOTED: the replica we chose in the current failover.
    promoted: bool = False
    reconf: ReconfState = ReconfState.NONE
    #: When SLAVEOF <new master> was sent during a failover.
    reconf_sent_time: Millis = NEVER


@attrs.define(eq=False)
class SentinelPeer(Instance):
    """Another sentinel monitoring the same master (SRI_SENTINEL)."""

    master: MasterInstance | None = attrs.field(default=None, repr=False)
    last_hello_time: Millis = NEVER
    last_master_down_reply_time: Millis = NEVER
    #: SRI_MASTER_DOWN: its last is-master-down-by-addr answer said "down".
    master_down: bool = False
    #: Its vote, as learnt from its is-master-down-by-addr reply.
    leader: RunId | None = None
    leader_epoch: Epoch = NO_EPOCH


@attrs.define(eq=False)
class MasterInstance(Instance):
    """A monitored master and everything attached to it (SRI_MASTER)."""

    quorum: int = 1
    parallel_syncs: int = 1
    failover_timeout_ms: int = 180_000
    auth_pass: str | None = None
    auth_user: str | None = None
    notification_script: str | None = None
    client_reconfig_script: str | None = None
    master_reboot_down_after_period_ms: int = 0
    #: When the master last came back rebooted (SRI_MASTER_REBOOT); 0 = not rebooting.
    master_reboot_since_time: Millis = NEVER
    #: rename-command table: upper-cased original name -> new name ("" = disabled).
    rename_commands: dict[str, str] = attrs.Factory(dict)
    #: Replicas keyed by ``ip:port`` name.
    replicas: dict[str, ReplicaInstance] = attrs.Factory(dict)
    #: Peer sentinels keyed by run id.
    sentinels: dict[str, SentinelPeer] = attrs.Factory(dict)
    odown_since: Millis | None = None
    config_epoch: Epoch = NO_EPOCH
    #: Our vote for this master: whom and in which epoch.
    leader: RunId | None = None
    leader_epoch: Epoch = NO_EPOCH
    failover_epoch: Epoch = NO_EPOCH
    failover_state: FailoverState = FailoverState.NONE
    failover_state_change_time: Millis = NEVER
    #: Last failover attempt start (jittered), used for the 2 x failover-timeout delay.
    failover_start_time: Millis = NEVER
    #: "Next failover delay" was logged for the current window.
    failover_delay_logged: bool = False
    #: SRI_FORCE_FAILOVER: SENTINEL FAILOVER asked for this one.
    force_failover: bool = False
    promoted_replica: ReplicaInstance | None = attrs.field(default=None, repr=False)

    @property
    def failover_in_progress(self) -> bool:
        """SRI_FAILOVER_IN_PROGRESS: set at failover start, cleared at its end or abort."""
        return self.failover_state is not FailoverState.NONE

    def rename(self, command: str) -> str:
        """The command name to send for ``command`` under this master's rename table."""
        return self.rename_commands.get(command.upper(), command)


def flags(instance: Instance) -> list[str]:
    """The ``flags`` field of spec §3.2 for ``instance``, in the exact wire order."""
    out: list[str] = []
    if instance.sdown_since is not None:
        out.append("s_down")
    if isinstance(instance, MasterInstance) and instance.odown_since is not None:
        out.append("o_down")
    if isinstance(instance, MasterInstance):
        out.append("master")
    elif isinstance(instance, ReplicaInstance):
        out.append("slave")
    else:
        out.append("sentinel")
    if instance.link.disconnected:
        out.append("disconnected")
    if isinstance(instance, SentinelPeer) and instance.master_down:
        out.append("master_down")
    if isinstance(instance, MasterInstance) and instance.failover_in_progress:
        out.append("failover_in_progress")
    if isinstance(instance, ReplicaInstance):
        if instance.promoted:
            out.append("promoted")
        if instance.reconf is not ReconfState.NONE:
            out.append(instance.reconf.value)
    if isinstance(instance, MasterInstance) and instance.force_failover:
        out.append("force_failover")
    if instance.script_kill_sent:
        out.append("script_kill_sent")
    return out
