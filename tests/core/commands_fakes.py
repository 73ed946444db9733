"""A small fake of the ``Sentinel`` aggregate for the commands/state_config tests.

It has the attribute and method names of the core contract and just enough behaviour
for the SENTINEL commands: events become ``Emit`` effects (and are recorded), a flush
is a ``PersistConfig`` of ``config_from_state``, masters/replicas/peers are built
directly from the instance model.
"""

from __future__ import annotations

import random

from pysentinel.config import MasterConfig, SentinelConfig
from pysentinel.core import commands, state_config
from pysentinel.core.clients import ClientRegistry
from pysentinel.core.effects import Effect, Emit, Log, PersistConfig, Reply
from pysentinel.core.events import EventType, instance_details
from pysentinel.core.instance import (
    NEVER,
    Instance,
    InstanceLink,
    MasterInstance,
    ReplicaInstance,
    SentinelPeer,
    Tunables,
)
from pysentinel.core.scripts import ScriptQueue
from pysentinel.core.types import Addr, ClientId, Epoch, LinkId, LogLevel, Millis, RunId
from pysentinel.core.values import Value

MYID = RunId("a" * 40)
CLIENT = ClientId(7)
START = Millis(1000)


class FakeSentinel:
    """The state and primitives of ``core/sentinel.py``'s ``Sentinel``, minimally."""

    def __init__(self, config: SentinelConfig | None = None, now: Millis = START) -> None:
        self.config = config or SentinelConfig()
        self.myid = RunId(self.config.myid or MYID)
        self.current_epoch = Epoch(self.config.current_epoch)
        self.rng = random.Random(1)
        self.tunables = Tunables()
        self.masters: dict[str, MasterInstance] = {}
        self.announce_ip = self.config.announce_ip
        self.announce_port = self.config.announce_port
        self.announce_hostnames = self.config.announce_hostnames
        self.resolve_hostnames = self.config.resolve_hostnames
        self.deny_scripts_reconfig = self.config.deny_scripts_reconfig
        self.sentinel_user = self.config.sentinel_user
        self.sentinel_pass = self.config.sentinel_pass
        self.tilt = False
        self.tilt_start_time = NEVER
        self.previous_time = NEVER
        self.simfailure_crash_after_election = False
        self.simfailure_crash_after_promotion = False
        self.scripts = ScriptQueue(self.tunables)
        self.clients = ClientRegistry(self.config, self, random.Random(2))
        self.events: list[tuple[str, str]] = []
        self.resets: list[str] = []
        self.forgotten_links: list[LinkId] = []
        self._next_link = 1
        for mc in self.config.masters:
            master = self.create_master(mc, now)
            for addr in mc.known_replicas:
                self.create_replica(master, addr, now)
            for ks in mc.known_sentinels:
                self.create_sentinel_peer(master, ks.addr, RunId(ks.runid), now)

    # --- the contract's primitives ---------------------------------------------------

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
        return Log(level=level, text=text)

    def flush_config(self, *, reply_to: ClientId | None = None, proto: int = 2) -> list[Effect]:
        return [
            PersistConfig(
                config=state_config.config_from_state(self),  # type: ignore[arg-type]
                reply_to=reply_to,
                proto=proto,
            )
        ]

    def _link(self, now: Millis, *, connected: bool = True) -> InstanceLink:
        link = InstanceLink.created(now)
        if connected:
            link.disconnected = False
            link.cmd = LinkId(self._next_link)
            link.pubsub = LinkId(self._next_link + 1)
            link.cmd_ready = link.pubsub_ready = True
            self._next_link += 2
        return link

    def create_master(self, mc: MasterConfig, now: Millis) -> MasterInstance:
        master = MasterInstance(
            name=mc.name,
            addr=mc.addr,
            link=self._link(now),
            down_after_ms=mc.down_after_ms,
            quorum=mc.quorum,
            parallel_syncs=mc.parallel_syncs,
            failover_timeout_ms=mc.failover_timeout_ms,
            auth_pass=mc.auth_pass,
            auth_user=mc.auth_user,
            notification_script=mc.notification_script,
            client_reconfig_script=mc.client_reconfig_script,
            master_reboot_down_after_period_ms=mc.master_reboot_down_after_period_ms,
            rename_commands={k.upper(): v for k, v in mc.rename_commands},
            config_epoch=Epoch(mc.config_epoch),
            leader_epoch=Epoch(mc.leader_epoch),
            role_reported_time=now,
            last_pub_time=now,
        )
        self.masters[mc.name] = master
        return master

    def create_replica(self, master: MasterInstance, addr: Addr, now: Millis) -> ReplicaInstance:
        replica = ReplicaInstance(
            name=str(addr),
            addr=addr,
            link=self._link(now),
            down_after_ms=master.down_after_ms,
            master=master,
            role_reported_time=now,
        )
        master.replicas[replica.name] = replica
        return replica

    def create_sentinel_peer(
        self, master: MasterInstance, addr: Addr, runid: RunId, now: Millis
    ) -> SentinelPeer:
        peer = SentinelPeer(
            name=runid,
            addr=addr,
            link=self._link(now),
            down_after_ms=master.down_after_ms,
            run_id=runid,
            master=master,
            last_hello_time=now,
        )
        master.sentinels[runid] = peer
        return peer

    def forget_link(self, link_id: LinkId) -> None:
        self.forgotten_links.append(link_id)

    def reset_master(
        self, master: MasterInstance, now: Millis, *, keep_sentinels: bool = False
    ) -> list[Effect]:
        self.resets.append(master.name)
        master.replicas.clear()
        if not keep_sentinels:
            master.sentinels.clear()
        return []

    def remove_master(self, name: str) -> list[Effect]:
        del self.masters[name]
        return []

    # --- CommandBackend ----------------------------------------------------------------

    def sentinel_command(
        self, client: ClientId, args: tuple[bytes, ...], proto: int, now: Millis
    ) -> list[Effect]:
        return commands.sentinel_command(self, client, args, proto, now)  # type: ignore[arg-type]

    def role_reply(self) -> Value:
        return commands.role_reply(self)  # type: ignore[arg-type]

    def info_sentinel_section(self, now: Millis) -> str:
        return commands.info_sentinel_section(self, now)  # type: ignore[arg-type]

    def hello_published(self, payload: bytes, now: Millis) -> list[Effect]:
        return []


def run(s: FakeSentinel, *argv: str | bytes, proto: int = 2, now: int = 5000) -> list[Effect]:
    """``SENTINEL <argv...>`` from :data:`CLIENT`."""
    args = tuple(a.encode() if isinstance(a, str) else a for a in argv)
    return commands.sentinel_command(s, CLIENT, args, proto, Millis(now))  # type: ignore[arg-type]


def reply_of(effects: list[Effect]) -> Value:
    """The one ``Reply`` value to :data:`CLIENT` among ``effects``."""
    replies = [e for e in effects if isinstance(e, Reply) and e.client == CLIENT]
    assert len(replies) == 1, effects
    return replies[0].value


def persisted(effects: list[Effect]) -> list[PersistConfig]:
    return [e for e in effects if isinstance(e, PersistConfig)]
