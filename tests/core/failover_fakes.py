"""A small fake ``Sentinel`` for the election and failover unit tests.

It implements only the names of the core contract that ``election.py`` and
``failover.py`` use, with real behaviour (STYLE §13: fakes, not mocks): events are
formatted with the real ``instance_details``, ``send`` maps the rename table and queues
``Pending`` replies on the link like the real aggregate, and the address switch
re-creates replicas the way sentinelResetMasterAndChangeAddress does. Everything it
did is recorded for assertions (``events``, ``logs``, ``sent``, ``flushes``).
"""

from __future__ import annotations

import random

import attrs

from pysentinel.config import SentinelConfig
from pysentinel.core.effects import Effect, Emit, Log, PersistConfig, Send
from pysentinel.core.events import EventType, instance_details
from pysentinel.core.instance import (
    NEVER,
    NO_EPOCH,
    FailoverState,
    Instance,
    InstanceLink,
    MasterInstance,
    Pending,
    ReplicaInstance,
    ReplyKind,
    SentinelPeer,
    Tunables,
)
from pysentinel.core.scripts import ScriptQueue
from pysentinel.core.types import Addr, ClientId, Epoch, LinkId, LogLevel, Millis, Role, RunId

MYID = RunId("0" * 39 + "a")
PEER1 = RunId("1" * 40)
PEER2 = RunId("2" * 40)
#: A start time well away from 0.
T0 = Millis(1_000_000)


def _default_scripts(self: FakeSentinel) -> ScriptQueue:
    return ScriptQueue(self.tunables)


@attrs.define(eq=False)
class FakeSentinel:
    """Just the ``Sentinel`` surface of the core contract that B's modules use."""

    myid: RunId = MYID
    current_epoch: Epoch = NO_EPOCH
    rng: random.Random = attrs.Factory(lambda: random.Random(7))
    tunables: Tunables = attrs.Factory(Tunables)
    masters: dict[str, MasterInstance] = attrs.Factory(dict)
    tilt: bool = False
    announce_hostnames: bool = False
    simfailure_crash_after_election: bool = False
    simfailure_crash_after_promotion: bool = False
    scripts: ScriptQueue = attrs.Factory(_default_scripts, takes_self=True)
    #: ``(type, payload)`` of every event, in order.
    events: list[tuple[str, str]] = attrs.Factory(list)
    logs: list[str] = attrs.Factory(list)
    #: ``(instance name, argv as text)`` of every command sent.
    sent: list[tuple[str, tuple[str, ...]]] = attrs.Factory(list)
    flushes: int = 0
    forced_hellos: list[str] = attrs.Factory(list)
    next_link: int = 1

    # --- the contract surface ----------------------------------------------------

    def event(
        self,
        type: EventType,
        instance: Instance | None,
        extra: str = "",
        *,
        details: bool = True,
        now: Millis,
    ) -> list[Effect]:
        if details and instance is not None:
            payload = instance_details(instance, self.announce_hostnames)
            if extra:
                payload += " " + extra
        else:
            payload = extra
        self.events.append((str(type), payload))
        return [Emit(level=type.level, type=str(type), payload=payload)]

    def log(self, level: LogLevel, text: str) -> Log:
        self.logs.append(text)
        return Log(level=level, text=text)

    def send(
        self,
        instance: Instance,
        *argv: str | bytes,
        kind: ReplyKind,
        target: Instance | None = None,
    ) -> Send | None:
        link = instance.link
        if link.cmd is None:
            return None
        master = _group_master(instance)
        first = argv[0] if isinstance(argv[0], str) else argv[0].decode()
        mapped = (master.rename(first), *argv[1:])
        data = tuple(a.encode() if isinstance(a, str) else a for a in mapped)
        link.pending_commands += 1
        link.cmd_pending.append(Pending(kind, target or instance))
        self.sent.append((instance.name, tuple(d.decode() for d in data)))
        return Send(link=link.cmd, argv=data)

    def flush_config(self, *, reply_to: ClientId | None = None, proto: int = 2) -> list[Effect]:
        self.flushes += 1
        return [PersistConfig(config=SentinelConfig(), reply_to=reply_to, proto=proto)]

    def reset_master_and_change_address(
        self, master: MasterInstance, addr: Addr, now: Millis
    ) -> list[Effect]:
        """sentinelResetMasterAndChangeAddress, as spec §8.5 describes it."""
        keep = [r.addr for r in master.replicas.values() if r.addr != addr]
        if master.addr != addr:
            keep.append(master.addr)
        master.replicas.clear()
        master.failover_state = FailoverState.NONE
        master.failover_state_change_time = now
        master.failover_start_time = NEVER
        master.force_failover = False
        master.promoted_replica = None
        master.leader = None
        master.run_id = None
        master.role_reported = Role.MASTER
        master.addr = addr
        master.sdown_since = None
        master.odown_since = None
        effects: list[Effect] = []
        for a in keep:
            replica = self.add_replica(master, a.host, a.port, now, connected=False, info=False)
            effects += self.event(EventType.SLAVE, replica, now=now)
        effects += self.flush_config()
        return effects

    def force_hello(self, master: MasterInstance) -> None:
        self.forced_hellos.append(master.name)

    # --- builders --------------------------------------------------------------

    def connect(self, instance: Instance) -> None:
        """Give ``instance`` a connected command link."""
        instance.link.cmd = LinkId(self.next_link)
        self.next_link += 1
        instance.link.cmd_ready = True
        instance.link.disconnected = False

    def disconnect(self, instance: Instance) -> None:
        instance.link.cmd = None
        instance.link.cmd_ready = False
        instance.link.disconnected = True

    def add_master(
        self,
        name: str = "mymaster",
        host: str = "127.0.0.1",
        port: int = 16379,
        *,
        quorum: int = 2,
        now: Millis = T0,
        down_after_ms: int = 5_000,
        failover_timeout_ms: int = 180_000,
        parallel_syncs: int = 1,
    ) -> MasterInstance:
        master = MasterInstance(
            name=name,
            addr=Addr(host, port),
            link=InstanceLink.created(now),
            down_after_ms=down_after_ms,
            quorum=quorum,
            failover_timeout_ms=failover_timeout_ms,
            parallel_syncs=parallel_syncs,
        )
        self.masters[name] = master
        self.connect(master)
        return master

    def add_replica(
        self,
        master: MasterInstance,
        host: str,
        port: int,
        now: Millis,
        *,
        connected: bool = True,
        info: bool = True,
        run_id: str | None = None,
        priority: int = 100,
        offset: int = 0,
    ) -> ReplicaInstance:
        replica = ReplicaInstance(
            name=str(Addr(host, port)),
            addr=Addr(host, port),
            link=InstanceLink.created(now),
            down_after_ms=master.down_after_ms,
            master=master,
            run_id=RunId(run_id) if run_id is not None else None,
            priority=priority,
            repl_offset=offset,
            role_reported=Role.SLAVE,
        )
        if info:
            replica.info_refresh = now
            replica.master_host = master.addr.host
            replica.master_port = master.addr.port
            replica.master_link_up = True
        master.replicas[replica.name] = replica
        if connected:
            self.connect(replica)
        return replica

    def add_peer(
        self,
        master: MasterInstance,
        run_id: str,
        host: str,
        port: int,
        now: Millis,
        *,
        connected: bool = True,
    ) -> SentinelPeer:
        peer = SentinelPeer(
            name=run_id,
            addr=Addr(host, port),
            link=InstanceLink.created(now),
            down_after_ms=master.down_after_ms,
            master=master,
            run_id=RunId(run_id),
            last_hello_time=now,
            last_master_down_reply_time=now,
        )
        master.sentinels[run_id] = peer
        if connected:
            self.connect(peer)
        return peer

    def event_types(self) -> list[str]:
        return [t for t, _ in self.events]


def _group_master(instance: Instance) -> MasterInstance:
    if isinstance(instance, MasterInstance):
        return instance
    assert isinstance(instance, ReplicaInstance | SentinelPeer)
    assert instance.master is not None
    return instance.master


def standard_setup(
    now: Millis = T0,
) -> tuple[FakeSentinel, MasterInstance, ReplicaInstance, ReplicaInstance]:
    """One master (16379), two connected replicas (16380, 16381), two connected peers."""
    s = FakeSentinel()
    m = s.add_master(now=now)
    r1 = s.add_replica(m, "127.0.0.1", 16380, now, run_id="b" * 40, offset=100)
    r2 = s.add_replica(m, "127.0.0.1", 16381, now, run_id="c" * 40, offset=50)
    s.add_peer(m, PEER1, "127.0.0.1", 26380, now)
    s.add_peer(m, PEER2, "127.0.0.1", 26381, now)
    return s, m, r1, r2
