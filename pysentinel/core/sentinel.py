"""The ``Sentinel`` aggregate: all state, and the three calls drivers make.

Rules of this module:

* The surface is ``start(now)``, ``handle(input, now)``, ``tick(now)`` and
  ``next_deadline()``, each returning effects in the order they must be carried out.
  Nothing here does I/O, reads a clock or draws randomness except from ``self.rng``.
* This module owns the objects (masters, replicas, peers, links), their creation and
  release, the event primitive of spec §4.1, and routing: inputs to the instance whose
  link they arrived on, client traffic to the client registry, script outcomes to the
  script queue. The behaviour lives in the modules named after sentinel.c's sections:
  ``monitor`` (links, periodic commands), ``info``, ``hello``, ``detection``,
  ``election``, ``failover``, ``commands``, ``scripts``.
* Replies are matched to commands by order on each socket; a shared peer link keeps
  one queue, and each entry says which master's entry of the peer it is for.
* Iteration order is insertion order of dicts, never of sets (STYLE §3).
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Final

import attrs

from pysentinel.config import MasterConfig, SentinelConfig
from pysentinel.core import commands, detection, election, failover, hello, monitor, state_config
from pysentinel.core.effects import Effect, Emit, Log, PersistConfig, Send
from pysentinel.core.events import EventType, announce_host, instance_details
from pysentinel.core.info import valid_host
from pysentinel.core.inputs import (
    ClientCommand,
    ClientConnected,
    ClientDisconnected,
    Input,
    LinkConnected,
    LinkDropped,
    LinkReply,
    ScriptExited,
    ScriptStarted,
)
from pysentinel.core.instance import (
    NEVER,
    FailoverState,
    Instance,
    InstanceLink,
    MasterInstance,
    Pending,
    ReplicaInstance,
    ReplyKind,
    SentinelPeer,
    Tunables,
    flags,
)
from pysentinel.core.scripts import ScriptQueue
from pysentinel.core.types import Addr, ClientId, Epoch, LinkId, LinkKind, LogLevel, Millis, RunId
from pysentinel.core.values import ErrorReply, InReply, Value

if TYPE_CHECKING:
    import random  # the injected rng's type only; the core never draws from the module

    from pysentinel.core.clients import ClientRegistry

__all__ = [
    "InstanceSnapshot",
    "MasterSnapshot",
    "Sentinel",
    "SentinelSnapshot",
]

#: redis's CONFIG_DEFAULT_HZ: the tick runs at this + random(0..HZ-1) times a second.
DEFAULT_HZ: Final = 10
#: Length of a sentinel id.
RUN_ID_LEN: Final = 40


@attrs.frozen
class _LinkRef:
    """Which link (and which of its sockets) a ``LinkId`` belongs to."""

    link: InstanceLink
    kind: LinkKind
    #: The instance that opened the socket (for events about it).
    owner: Instance = attrs.field(eq=False)


# --- snapshot -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class InstanceSnapshot:
    """Frozen view of one master, replica or peer: the raw state behind spec §3.2.

    Times are absolute ``Millis`` (0 = never); a reply field shows ``now - time``.
    """

    name: str
    host: str
    port: int
    run_id: str | None
    flags: tuple[str, ...]
    link_pending_commands: int
    link_refcount: int
    act_ping_time: Millis
    last_avail_time: Millis
    last_pong_time: Millis
    sdown_since: Millis | None
    down_after_ms: int
    info_refresh: Millis
    role_reported: str
    role_reported_time: Millis
    # replicas
    master_link_down_time: int = 0
    master_link_up: bool = False
    master_host: str | None = None
    master_port: int = 0
    priority: int = 0
    repl_offset: int = 0
    replica_announced: bool = True
    # peers
    last_hello_time: Millis = NEVER
    leader: str | None = None
    leader_epoch: int = 0
    #: The SENTINEL MASTERS/REPLICAS/SENTINELS map (spec §3.2) as (field, value) pairs;
    #: only when ``snapshot(now)`` was given the time to measure ages against.
    fields: tuple[tuple[str, str], ...] = ()


@attrs.frozen(kw_only=True)
class MasterSnapshot:
    """Frozen view of a master with its replicas and peers."""

    instance: InstanceSnapshot
    odown_since: Millis | None
    failover_state: str
    config_epoch: int
    leader: str | None
    leader_epoch: int
    failover_epoch: int
    quorum: int
    failover_timeout_ms: int
    parallel_syncs: int
    notification_script: str | None
    client_reconfig_script: str | None
    promoted_replica: str | None
    replicas: tuple[InstanceSnapshot, ...]
    sentinels: tuple[InstanceSnapshot, ...]


@attrs.frozen(kw_only=True)
class SentinelSnapshot:
    """Frozen view of the whole sentinel (``Sentinel.snapshot()``)."""

    myid: str
    current_epoch: int
    tilt: bool
    tilt_start_time: Millis
    masters: tuple[MasterSnapshot, ...]


def _instance_snapshot(instance: Instance, fields: tuple[tuple[str, str], ...]) -> InstanceSnapshot:
    link = instance.link
    common = {
        "fields": fields,
        "name": instance.name,
        "host": instance.addr.host,
        "port": instance.addr.port,
        "run_id": instance.run_id,
        "flags": tuple(flags(instance)),
        "link_pending_commands": link.pending_commands,
        "link_refcount": link.refcount,
        "act_ping_time": link.act_ping_time,
        "last_avail_time": link.last_avail_time,
        "last_pong_time": link.last_pong_time,
        "sdown_since": instance.sdown_since,
        "down_after_ms": instance.down_after_ms,
        "info_refresh": instance.info_refresh,
        "role_reported": instance.role_reported.value,
        "role_reported_time": instance.role_reported_time,
    }
    if isinstance(instance, ReplicaInstance):
        return InstanceSnapshot(
            **common,  # type: ignore[arg-type]
            master_link_down_time=instance.master_link_down_time,
            master_link_up=instance.master_link_up,
            master_host=instance.master_host,
            master_port=instance.master_port,
            priority=instance.priority,
            repl_offset=instance.repl_offset,
            replica_announced=instance.replica_announced,
        )
    if isinstance(instance, SentinelPeer):
        return InstanceSnapshot(
            **common,  # type: ignore[arg-type]
            last_hello_time=instance.last_hello_time,
            leader=instance.leader,
            leader_epoch=instance.leader_epoch,
        )
    return InstanceSnapshot(**common)  # type: ignore[arg-type]


# --- the aggregate ----------------------------------------------------------------------


class Sentinel:
    """One sentinel process's whole state (sentinel.c's ``struct sentinelState`` plus the
    instance tables).

    Args:
        config: the loaded configuration; masters, known replicas and known peers are
            created from it by :meth:`start`.
        rng: the only source of randomness (myid, timer jitter, vote jitter).
    """

    def __init__(self, config: SentinelConfig, rng: random.Random) -> None:
        self.config: SentinelConfig = config
        self.rng: random.Random = rng
        self.tunables: Tunables = Tunables()
        self._myid_generated = not config.myid
        self.myid: RunId = RunId(config.myid or f"{rng.getrandbits(160):040x}")
        self.current_epoch: Epoch = Epoch(config.current_epoch)
        self.masters: dict[str, MasterInstance] = {}
        self.announce_ip: str | None = config.announce_ip
        self.announce_port: int = config.announce_port
        self.announce_hostnames: bool = config.announce_hostnames
        self.resolve_hostnames: bool = config.resolve_hostnames
        self.deny_scripts_reconfig: bool = config.deny_scripts_reconfig
        self.sentinel_user: str | None = config.sentinel_user
        self.sentinel_pass: str | None = config.sentinel_pass
        self.tilt: bool = False
        self.tilt_start_time: Millis = NEVER
        self.previous_time: Millis = NEVER
        self.simfailure_crash_after_election: bool = False
        self.simfailure_crash_after_promotion: bool = False
        self.scripts: ScriptQueue = ScriptQueue(self.tunables, self._script_event)
        self._links: dict[LinkId, _LinkRef] = {}
        self._next_link_id = 1
        self._started = False
        self._next_tick: Millis | None = None
        from pysentinel.core.clients import ClientRegistry

        self.clients: ClientRegistry = ClientRegistry(config, self, rng)

    # --- start-up -----------------------------------------------------------------------

    def start(self, now: Millis) -> list[Effect]:
        """Create the configured instances and announce them.

        Mirrors loading the sentinel directives (sentinelHandleConfiguration()) and
        sentinelIsRunning(): persist a freshly generated myid, log ``Sentinel ID is``,
        emit ``+monitor`` per master. The first tick is due at once.
        """
        if self._started:
            return []
        self._started = True
        self.previous_time = now
        self.clients.start(now)
        out: list[Effect] = []
        for mc in self.config.masters:
            master = self.create_master(mc, now)
            for addr in mc.known_replicas:
                if self.lookup_replica(master, addr) is None:
                    self.create_replica(master, addr, now)
            for known in mc.known_sentinels:
                if known.runid not in master.sentinels:
                    self.create_sentinel_peer(master, known.addr, RunId(known.runid), now)
        if self._myid_generated:
            out += self.flush_config()
        out.append(self.log(LogLevel.WARNING, f"Sentinel ID is {self.myid}"))
        for master in self.masters.values():
            out += self.event(EventType.MONITOR, master, f"quorum {master.quorum}", now=now)
        self._next_tick = now
        return out

    # --- primitives used by every module --------------------------------------------------

    def event(
        self,
        type: EventType,
        instance: Instance | None,
        extra: str = "",
        *,
        details: bool = True,
        now: Millis,
    ) -> list[Effect]:
        """Emit an event (spec §4.1): log it, publish it, maybe queue the notification
        script. Mirrors sentinelEvent().
        """
        if details and instance is not None:
            payload = instance_details(instance, self.announce_hostnames)
            if extra:
                payload += " " + extra
        else:
            payload = extra
        level = type.level
        out: list[Effect] = [Emit(level=level, type=type.value, payload=payload)]
        if level is not LogLevel.DEBUG:
            out += self.clients.publish(type.value, payload)
        if level is LogLevel.WARNING and instance is not None:
            master = self._master_of(instance)
            if master.notification_script:
                self.scripts.schedule((master.notification_script, type.value, payload), now)
        return out

    def _script_event(self, type: EventType, payload: str, now: Millis) -> list[Effect]:
        return self.event(type, None, payload, now=now)

    def log(self, level: LogLevel, text: str) -> Log:
        """A log line that is not an event."""
        return Log(level=level, text=text)

    def send(
        self,
        instance: Instance,
        *argv: str | bytes,
        kind: ReplyKind,
        target: Instance | None = None,
    ) -> Send | None:
        """Send a command on ``instance``'s command link, its name mapped through the
        master group's rename table (spec §5.3, trap T6).

        Returns None, doing nothing, when the link has no command socket (sentinel.c's
        ``redisAsyncCommand`` returning C_ERR).
        """
        link = instance.link
        if link.cmd is None:
            return None
        master = self._master_of(instance)
        first = argv[0]
        name: str | bytes = master.rename(first) if isinstance(first, str) else first
        link.pending_commands += 1
        link.cmd_pending.append(Pending(kind, target or instance))
        return Send(link=link.cmd, argv=monitor.encode_args((name, *argv[1:])))

    def flush_config(self, *, reply_to: ClientId | None = None, proto: int = 2) -> list[Effect]:
        """Persist the whole state (spec §2.7). Mirrors sentinelFlushConfig()."""

        config = state_config.config_from_state(self)
        self.config = config
        return [PersistConfig(config=config, reply_to=reply_to, proto=proto)]

    def client_reconfig(
        self, master: MasterInstance, role: str, from_addr: Addr, to_addr: Addr, now: Millis
    ) -> list[Effect]:
        """Queue ``client-reconfig-script <master> <role> start <from> <to>`` if the master
        has one. Addresses are given in announce form. Mirrors
        sentinelCallClientReconfScript().
        """
        script = master.client_reconfig_script
        if script:
            argv = (
                script,
                master.name,
                role,
                "start",
                from_addr.host,
                str(from_addr.port),
                to_addr.host,
                str(to_addr.port),
            )
            self.scripts.schedule(argv, now)
        return []

    def current_master_instance(self, master: MasterInstance) -> Instance:
        """The instance whose address is the master's *current* one: the promoted replica
        once the failover reached reconf_slaves, else the master itself (spec §8.3
        step 4). Mirrors sentinelGetCurrentMasterAddress().
        """
        promoted = master.promoted_replica
        if promoted is not None and master.failover_state in (
            FailoverState.RECONF_SLAVES,
            FailoverState.UPDATE_CONFIG,
        ):
            return promoted
        return master

    def force_hello(self, master: MasterInstance) -> None:
        """Make the next tick publish hellos to the master, its replicas and peers.

        Mirrors sentinelForceHelloUpdateForMaster().
        """
        step = self.tunables.publish_period_ms + 1
        for instance in (master, *master.replicas.values(), *master.sentinels.values()):
            if instance.last_pub_time >= step:
                instance.last_pub_time = Millis(instance.last_pub_time - step)

    @staticmethod
    def _master_of(instance: Instance) -> MasterInstance:
        if isinstance(instance, MasterInstance):
            return instance
        assert isinstance(instance, ReplicaInstance | SentinelPeer)
        assert instance.master is not None
        return instance.master

    # --- links --------------------------------------------------------------------------

    def new_link(self, link: InstanceLink, kind: LinkKind, owner: Instance) -> LinkId:
        """Allocate a fresh ``LinkId`` for a socket of ``link``."""
        link_id = LinkId(self._next_link_id)
        self._next_link_id += 1
        self._links[link_id] = _LinkRef(link, kind, owner)
        return link_id

    def forget_link(self, link_id: LinkId) -> None:
        """The socket is gone: later inputs for it are ignored."""
        self._links.pop(link_id, None)

    # --- creating and releasing instances --------------------------------------------------

    def _new_instance_fields(self, now: Millis) -> dict[str, Millis]:
        return {
            "last_pub_time": now,
            "role_reported_time": now,
            "slave_conf_change_time": now,
        }

    def create_master(self, mc: MasterConfig, now: Millis) -> MasterInstance:
        """A master from its configuration. Mirrors createSentinelRedisInstance(SRI_MASTER)
        plus the per-master directives of the config file.
        """
        master = MasterInstance(
            name=mc.name,
            addr=Addr(mc.addr.host, mc.addr.port),
            link=InstanceLink.created(now),
            down_after_ms=mc.down_after_ms,
            quorum=mc.quorum,
            parallel_syncs=mc.parallel_syncs,
            failover_timeout_ms=mc.failover_timeout_ms,
            auth_pass=mc.auth_pass,
            auth_user=mc.auth_user,
            notification_script=mc.notification_script,
            client_reconfig_script=mc.client_reconfig_script,
            master_reboot_down_after_period_ms=mc.master_reboot_down_after_period_ms,
            rename_commands={old.upper(): new for old, new in mc.rename_commands},
            config_epoch=Epoch(mc.config_epoch),
            leader_epoch=Epoch(mc.leader_epoch),
            **self._new_instance_fields(now),  # type: ignore[arg-type]
        )
        self.masters[mc.name] = master
        return master

    def replica_name(self, addr: Addr) -> str:
        """The ``ip:port`` key of a replica (announce form). Mirrors
        announceSentinelAddrAndPort().
        """
        return str(addr)

    def lookup_replica(self, master: MasterInstance, addr: Addr) -> ReplicaInstance | None:
        """The replica of ``master`` at ``addr``. Mirrors sentinelRedisInstanceLookupSlave()."""
        return master.replicas.get(self.replica_name(addr))

    def create_replica(self, master: MasterInstance, addr: Addr, now: Millis) -> ReplicaInstance:
        """A replica of ``master``. Mirrors createSentinelRedisInstance(SRI_SLAVE)."""
        from pysentinel.core.types import Role

        name = self.replica_name(addr)
        replica = ReplicaInstance(
            name=name,
            addr=Addr(addr.host, addr.port),
            link=InstanceLink.created(now),
            down_after_ms=master.down_after_ms,
            role_reported=Role.SLAVE,
            master=master,
            **self._new_instance_fields(now),  # type: ignore[arg-type]
        )
        master.replicas[name] = replica
        return replica

    def create_sentinel_peer(
        self, master: MasterInstance, addr: Addr, runid: RunId, now: Millis
    ) -> SentinelPeer:
        """A peer sentinel of ``master``, sharing the link of the same run id under
        another master when there is one. Mirrors createSentinelRedisInstance(SRI_SENTINEL)
        and sentinelTryConnectionSharing().
        """
        peer = SentinelPeer(
            name=runid,
            addr=Addr(addr.host, addr.port),
            link=InstanceLink.created(now),
            down_after_ms=master.down_after_ms,
            run_id=runid,
            master=master,
            last_hello_time=now,
            last_master_down_reply_time=now,
            **self._new_instance_fields(now),  # type: ignore[arg-type]
        )
        master.sentinels[runid] = peer
        for other in self.masters.values():
            if other is master:
                continue
            match = other.sentinels.get(runid)
            if match is not None and match is not peer:
                peer.link = match.link
                match.link.refcount += 1
                break
        return peer

    def release_instance(self, instance: Instance) -> list[Effect]:
        """Drop ``instance``'s use of its link: close the sockets when it was the last
        user, else retarget its pending replies to "discard". Mirrors
        releaseInstance()/releaseInstanceLink(). The caller removes it from its table.
        """
        out: list[Effect] = []
        if isinstance(instance, MasterInstance):
            for replica in list(instance.replicas.values()):
                out += self.release_instance(replica)
            for peer in list(instance.sentinels.values()):
                out += self.release_instance(peer)
        link = instance.link
        link.refcount -= 1
        if link.refcount > 0:
            link.cmd_pending = type(link.cmd_pending)(
                Pending(ReplyKind.DISCARD, None) if p.target is instance else p
                for p in link.cmd_pending
            )
            for link_id, ref in list(self._links.items()):
                if ref.owner is instance:
                    self._links[link_id] = _LinkRef(ref.link, ref.kind, self._other_user(link))
            return out
        out += monitor.close_link_socket(self, link, link.cmd)
        out += monitor.close_link_socket(self, link, link.pubsub)
        return out

    def _other_user(self, link: InstanceLink) -> Instance:
        for master in self.masters.values():
            for peer in master.sentinels.values():
                if peer.link is link:
                    return peer
        raise AssertionError("a shared link without users")

    def reset_master(
        self,
        master: MasterInstance,
        now: Millis,
        *,
        keep_sentinels: bool = False,
        generate_event: bool = False,
    ) -> list[Effect]:
        """Forget replicas (and peers unless ``keep_sentinels``), close the links, clear
        the flags and failover state (spec §9.2, §8.5). ``generate_event`` emits
        ``+reset-master`` (SENTINEL RESET). Mirrors sentinelResetMaster().
        """
        from pysentinel.core.types import Role

        out: list[Effect] = []
        for key, replica in list(master.replicas.items()):
            del master.replicas[key]
            out += self.release_instance(replica)
        if not keep_sentinels:
            for key, peer in list(master.sentinels.items()):
                del master.sentinels[key]
                out += self.release_instance(peer)
        link = master.link
        out += monitor.close_link_socket(self, link, link.cmd)
        out += monitor.close_link_socket(self, link, link.pubsub)
        # ri->flags &= SRI_MASTER
        master.sdown_since = None
        master.odown_since = None
        master.force_failover = False
        master.script_kill_sent = False
        master.master_reboot_since_time = NEVER
        master.leader = None
        master.failover_state = FailoverState.NONE
        master.failover_state_change_time = NEVER
        master.failover_start_time = NEVER
        master.promoted_replica = None
        master.run_id = None
        link.act_ping_time = now
        link.last_ping_time = NEVER
        link.last_avail_time = now
        link.last_pong_time = now
        master.role_reported_time = now
        master.role_reported = Role.MASTER
        if generate_event:
            out += self.event(EventType.RESET_MASTER, master, now=now)
        return out

    def reset_master_and_change_address(
        self, master: MasterInstance, addr: Addr, now: Millis
    ) -> list[Effect]:
        """Move ``master`` to ``addr``: keep its peers, re-create its replicas (and the old
        master as a replica) with ``+slave`` each, flush (spec §8.5).

        Mirrors sentinelResetMasterAndChangeAddress().
        """
        if not valid_host(self, addr.host) or not 0 <= addr.port <= 65535:
            return [self.log(LogLevel.WARNING, f"Failed to resolve hostname '{addr.host}'")]
        new = Addr(addr.host, addr.port)
        keep: list[Addr] = [
            replica.addr for replica in master.replicas.values() if not _addr_eq(replica.addr, new)
        ]
        if not _addr_eq(new, master.addr):
            keep.append(master.addr)
        out = self.reset_master(master, now, keep_sentinels=True)
        master.addr = new
        master.hostname = None
        master.resolved_ip = None
        master.odown_since = None
        master.sdown_since = None
        master.last_sdown_start = NEVER
        for each in keep:
            if self.lookup_replica(master, each) is not None:
                continue
            replica = self.create_replica(master, each, now)
            out += self.event(EventType.SLAVE, replica, now=now)
        out += self.flush_config()
        return out

    def remove_master(self, name: str) -> list[Effect]:
        """Stop monitoring ``name`` (SENTINEL REMOVE): release it and everything under it."""
        master = self.masters.pop(name, None)
        if master is None:
            return []
        return self.release_instance(master)

    # --- the tick -------------------------------------------------------------------------

    def next_deadline(self) -> Millis | None:
        """When :meth:`tick` is next due: sentinel.c's timer runs at 10-19 Hz.

        Sooner when a ``CLIENT PAUSE`` ends before that, so that held commands run at
        once, as redis releases them in beforeSleep().
        """
        held = self.clients.next_deadline()
        if held is not None and (self._next_tick is None or held < self._next_tick):
            return held
        return self._next_tick

    def tick(self, now: Millis) -> list[Effect]:
        """Do what is due (spec §5.2). Mirrors sentinelTimer()."""

        out = detection.check_tilt_condition(self, now)
        switch_to_promoted: MasterInstance | None = None
        for master in list(self.masters.values()):
            out += self._handle_instance(master, now)
            for replica in list(master.replicas.values()):
                out += self._handle_instance(replica, now)
            for peer in list(master.sentinels.values()):
                out += self._handle_instance(peer, now)
            if master.failover_state is FailoverState.UPDATE_CONFIG:
                switch_to_promoted = master
        if switch_to_promoted is not None:
            out += failover.switch_to_promoted_replica(self, switch_to_promoted, now)
        out += self.scripts.run_pending(now)
        out += self.scripts.kill_timed_out(now)
        out += self.clients.tick(now)
        hz = DEFAULT_HZ + self.rng.randrange(DEFAULT_HZ)
        self._next_tick = Millis(now + 1000 // hz)
        return out

    def _handle_instance(self, instance: Instance, now: Millis) -> list[Effect]:
        """Mirrors sentinelHandleRedisInstance()."""

        out = monitor.reconnect_instance(self, instance, now)
        out += monitor.send_periodic_commands(self, instance, now)
        if self.tilt:
            if now - self.tilt_start_time < self.tunables.tilt_period_ms:
                return out
            self.tilt = False
            out += self.event(EventType.TILT_EXITED, None, "#tilt mode exited", now=now)
        out += detection.check_subjectively_down(self, instance, now)
        if isinstance(instance, MasterInstance):
            out += detection.check_objectively_down(self, instance, now)
            started, effects = failover.start_failover_if_needed(self, instance, now)
            out += effects
            if started:
                out += election.ask_master_state_to_other_sentinels(
                    self, instance, forced=True, now=now
                )
            out += failover.failover_state_machine(self, instance, now)
            out += election.ask_master_state_to_other_sentinels(
                self, instance, forced=False, now=now
            )
        return out

    # --- inputs ---------------------------------------------------------------------------

    def handle(self, input: Input, now: Millis, /) -> list[Effect]:
        """Feed one fact; returns what to do about it."""
        match input:
            case LinkReply():
                return self._link_reply(input, now)
            case LinkConnected():
                ref = self._links.get(input.link)
                if ref is not None:
                    monitor.link_connected(ref.link, input.link, input.local_host, input.local_port)
                    if input.link == ref.link.cmd and input.remote_host:
                        _note_resolved_ip(ref.owner, input.remote_host)
                return []
            case LinkDropped():
                ref = self._links.get(input.link)
                if ref is None:
                    return []
                return monitor.link_dropped(
                    self, ref.link, input.link, ref.owner, error=input.error, now=now
                )
            case ClientConnected():
                return self.clients.connected(input, now)
            case ClientCommand():
                return self.clients.command(input, now)
            case ClientDisconnected():
                return self.clients.disconnected(input, now)
            case ScriptStarted():
                return self.scripts.on_started(input, now)
            case ScriptExited():
                return self.scripts.on_exited(input, now)
        raise AssertionError(f"unknown input {input!r}")

    def _link_reply(self, input: LinkReply, now: Millis) -> list[Effect]:

        ref = self._links.get(input.link)
        if ref is None:
            return []
        link = ref.link
        if ref.kind is LinkKind.PUBSUB:
            if not link.pubsub_pending:
                return []
            head = link.pubsub_pending[0]
            if head.kind is not ReplyKind.SUBSCRIBE:
                link.pubsub_pending.popleft()
                link.pending_commands -= 1
                return []
            assert head.target is not None
            if isinstance(input.reply, ErrorReply):
                # hiredis treats an error on a subscribed context as fatal: the pub/sub
                # socket goes away and the instance stays "disconnected" (spec T25).
                link.pc_last_activity = now
                return monitor.close_link_socket(self, link, input.link)
            return hello.receive_hello_frame(self, head.target, input.reply, now)
        if not link.cmd_pending:
            return []
        pending = link.cmd_pending.popleft()
        link.pending_commands -= 1
        target = pending.target
        reply: InReply = input.reply
        if target is None:
            return []
        match pending.kind:
            case ReplyKind.DISCARD | ReplyKind.SUBSCRIBE:
                return []
            case ReplyKind.PING:
                return monitor.ping_reply(self, target, reply, now)
            case ReplyKind.INFO:
                return monitor.info_reply(self, target, reply, now)
            case ReplyKind.PUBLISH:
                monitor.publish_reply(target, reply, now)
                return []
            case ReplyKind.IS_MASTER_DOWN:
                assert isinstance(target, SentinelPeer)
                return election.receive_is_master_down_reply(self, target, reply, now)
        raise AssertionError(pending.kind)

    # --- CommandBackend ---------------------------------------------------------------------

    def sentinel_command(
        self, client: ClientId, args: tuple[bytes, ...], proto: int, now: Millis
    ) -> list[Effect]:
        """SENTINEL <args> (commands.py)."""

        return commands.sentinel_command(self, client, args, proto, now)

    def role_reply(self) -> Value:
        """ROLE (commands.py)."""

        return commands.role_reply(self)

    def info_sentinel_section(self, now: Millis) -> str:
        """INFO's ``# Sentinel`` section (commands.py)."""

        return commands.info_sentinel_section(self, now)

    def hello_published(self, payload: bytes, now: Millis) -> list[Effect]:
        """A peer PUBLISHed a hello to us (spec §6.2; no own-id filter, trap T12)."""

        return hello.process_hello(self, payload.decode("utf-8", "surrogateescape"), now)

    # --- views ------------------------------------------------------------------------------

    def announce_host(self, instance: Instance) -> str:
        """``instance``'s host in announce form (spec §9.5)."""
        return announce_host(instance, self.announce_hostnames)

    def snapshot(self, now: Millis | None = None) -> SentinelSnapshot:
        """Frozen view of the whole state, for tests, the simulator and metrics.

        With ``now``, every instance also carries its spec §3.2 description map.
        """

        def view(instance: Instance) -> InstanceSnapshot:
            fields: tuple[tuple[str, str], ...] = ()
            if now is not None:
                from pysentinel.core import commands

                fields = tuple(commands.instance_map(self, instance, now))
            return _instance_snapshot(instance, fields)

        masters = []
        for master in self.masters.values():
            promoted = master.promoted_replica
            masters.append(
                MasterSnapshot(
                    instance=view(master),
                    odown_since=master.odown_since,
                    failover_state=master.failover_state.value,
                    config_epoch=master.config_epoch,
                    leader=master.leader,
                    leader_epoch=master.leader_epoch,
                    failover_epoch=master.failover_epoch,
                    quorum=master.quorum,
                    failover_timeout_ms=master.failover_timeout_ms,
                    parallel_syncs=master.parallel_syncs,
                    notification_script=master.notification_script,
                    client_reconfig_script=master.client_reconfig_script,
                    promoted_replica=None if promoted is None else promoted.name,
                    replicas=tuple(view(r) for r in master.replicas.values()),
                    sentinels=tuple(view(p) for p in master.sentinels.values()),
                )
            )
        return SentinelSnapshot(
            myid=self.myid,
            current_epoch=self.current_epoch,
            tilt=self.tilt,
            tilt_start_time=self.tilt_start_time,
            masters=tuple(masters),
        )


def _addr_eq(a: Addr, b: Addr) -> bool:
    """Mirrors sentinelAddrOrHostnameEqual(): same port and same host (IPs compared as
    addresses, names case-insensitively).
    """
    from pysentinel.core.info import same_host

    return a.port == b.port and same_host(a.host, b.host)


def _note_resolved_ip(instance: Instance, remote_host: str) -> None:
    """Remember what ``instance``'s hostname resolved to (its command link's far side).

    Only for addresses given as names: an IP literal is its own announce form.
    """
    try:
        ipaddress.ip_address(instance.addr.host)
    except ValueError:
        instance.resolved_ip = remote_host
