"""One scenario and one seed -> sentinels, redis servers, clients and a network.

Rules of this module:

* Sentinels run the real ``pysentinel.core.sentinel.Sentinel`` (a test may pass
  another factory that follows the same contract). The world only carries effects
  out and feeds inputs back, as the trio runtime does: ``Send``/``Connect``/``Close``
  become network traffic, ``Reply`` goes back to the client that asked,
  ``PersistConfig`` rewrites the sentinel's config text (``config.rewrite_text``)
  and a restart parses that text again, ``Emit``/``Log`` go to the trace, and
  ``next_deadline()`` arms the sentinel's timer.
* Every random stream derives from the seed: ``random.Random(f"{seed}/{purpose}")``.
* Nothing iterates over a set; processes are kept in insertion-ordered dicts.
* A sentinel's clock is the virtual clock plus its own offset (clock-jump faults).
"""

from __future__ import annotations

import functools
import importlib
import random
import traceback
from collections.abc import Callable
from typing import Protocol

from pysentinel import config as config_mod
from pysentinel.config import SentinelConfig
from pysentinel.core.effects import (
    Close,
    CloseClient,
    Connect,
    Effect,
    Emit,
    Exit,
    KillScript,
    Log,
    PersistConfig,
    Reply,
    RunScript,
    Send,
)
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
from pysentinel.core.instance import FailoverState, MasterInstance
from pysentinel.core.types import ClientId, LinkId, LogLevel, Millis, ScriptId
from pysentinel.core.values import (
    Array,
    Bool,
    Bulk,
    Double,
    Error,
    ErrorReply,
    InReply,
    Int,
    Map,
    Null,
    NullArray,
    Push,
    Set,
    Simple,
    Value,
    Verbatim,
)
from sim.client import SimClient
from sim.network import Conn, Endpoint, Network, NetworkParams
from sim.process import Process
from sim.redis_model import RedisModel, RedisSettings
from sim.scenario import Topology
from sim.scheduler import Scheduler, Timer
from sim.trace import Trace

__all__ = ["Core", "CoreFactory", "SimSentinel", "World", "to_in_reply"]


class Core(Protocol):
    """What the simulator needs from a sentinel core (the contract's names)."""

    myid: str
    current_epoch: int
    tilt: bool
    masters: dict[str, MasterInstance]

    def start(self, now: Millis) -> list[Effect]: ...
    def handle(self, input: Input, now: Millis, /) -> list[Effect]: ...
    def tick(self, now: Millis) -> list[Effect]: ...
    def next_deadline(self) -> Millis | None: ...


CoreFactory = Callable[[SentinelConfig, random.Random], Core]


def real_core(config: SentinelConfig, rng: random.Random) -> Core:
    """The production core."""
    # Imported late: the simulator's own tests run with fake cores before it exists.
    module = importlib.import_module("pysentinel.core.sentinel")
    core: Core = module.Sentinel(config, rng)
    return core


def to_in_reply(value: Value) -> InReply:
    """What hiredis would decode from ``value`` sent in RESP2 (sentinel-to-sentinel)."""
    match value:
        case Simple(text=text):
            return text.encode()
        case Error(text=text):
            return ErrorReply(text)
        case Int(value=n):
            return n
        case Bulk(data=data):
            return data
        case Null() | NullArray():
            return None
        case Array(items=items) | Set(items=items) | Push(items=items):
            return tuple(to_in_reply(v) for v in items)
        case Map(items=pairs):
            flat: list[InReply] = []
            for k, v in pairs:
                flat.append(to_in_reply(k))
                flat.append(to_in_reply(v))
            return tuple(flat)
        case Double(value=x):
            return repr(x).encode()
        case Bool(value=b):
            return 1 if b else 0
        case Verbatim(text=text):
            return text
    raise AssertionError(value)


#: What the world calls after every sentinel step: (sentinel, effects, tilt before).
StepHook = Callable[["SimSentinel", list[Effect], bool], None]


class SimSentinel(Process):
    """A sentinel core, its persisted config file, and its sockets."""

    def __init__(
        self,
        name: str,
        box: str,
        port: int,
        net: Network,
        *,
        world: World,
        config_text: str,
        pid: int,
    ) -> None:
        super().__init__(name, box, port, net)
        self.world = world
        self.pid = pid
        self._config_text = config_text
        self._initial_config = config_text
        self._unwritten: SentinelConfig | None = None
        #: Set by a ``crash <sentinel> lose-data`` fault: restart from the initial file.
        self.lose_config_on_crash = False
        self.flushes = 0
        self.clock_offset = 0
        self.core: Core | None = None
        self._links: dict[LinkId, tuple[Conn, Endpoint]] = {}
        self._clients: dict[ClientId, tuple[Conn, Endpoint]] = {}
        self._next_client = 0
        #: In-process admin clients: their replies go to a callback, not a socket.
        self._admin: dict[ClientId, Callable[[InReply], None]] = {}
        self._timer = Timer(self.scheduler, self._timer_fired)
        self._tick_due = False
        net.listen(box, port, self._accept)
        self._boot()

    # --- life cycle -----------------------------------------------------------------

    @property
    def now(self) -> Millis:
        """This sentinel's clock."""
        return Millis(self.scheduler.now + self.clock_offset)

    @property
    def config_text(self) -> str:
        """The config file's contents, as the last flush left it."""
        if self._unwritten is not None:
            self._config_text = config_mod.rewrite_text(self._config_text, self._unwritten)
            self._unwritten = None
        return self._config_text

    def _boot(self) -> None:
        cfg = config_mod.parse(self.config_text, path=f"/sim/{self.name}.conf", cwd="/tmp")
        rng = random.Random(f"{self.world.seed}/core/{self.name}/{self.life}")
        self._links = {}
        self._clients = {}
        try:
            self.core = self.world.core_factory(cfg, rng)
        except Exception:
            self.world.core_failed(self, "constructor", traceback.format_exc())
            return
        self._step(lambda core: core.start(self.now), "start")
        for key, value in self.world.topology.sentinel_debug:
            argv = (b"SENTINEL", b"DEBUG", key.encode(), str(value).encode())
            self.admin(argv, lambda reply: None)

    def on_crash(self) -> None:
        self.core = None
        self._links = {}
        self._clients = {}
        self._timer.cancel()
        self._tick_due = False

    def on_restart(self) -> None:
        if self.lose_config_on_crash:
            # A reinstalled sentinel: the first config again, so a new myid.
            self._config_text = self._initial_config
            self._unwritten = None
            self.lose_config_on_crash = False
        self._boot()

    def on_resume(self) -> None:
        if self._tick_due:
            self._tick_due = False
            self._timer_fired()

    def jump_clock(self, ms: int) -> None:
        """Move this sentinel's clock by ``ms`` (negative: backwards)."""
        self.clock_offset += ms
        self._arm()

    # --- driving the core ------------------------------------------------------------

    def _step(self, call: Callable[[Core], list[Effect]], what: str) -> None:
        core = self.core
        if core is None or not self.up:
            return
        tilt_before = bool(core.tilt)
        try:
            effects = call(core)
        except Exception:
            self.world.core_failed(self, what, traceback.format_exc())
            return
        self.world.on_step(self, effects, tilt_before)
        self._execute(effects)
        self._arm()

    def handle(self, event: Input) -> None:
        """Feed one input to the core."""
        self._step(lambda core: core.handle(event, self.now), type(event).__name__)

    def _timer_fired(self) -> None:
        if not self.up:
            return
        if self.paused:
            self._tick_due = True
            return
        self._step(lambda core: core.tick(self.now), "tick")

    def _arm(self) -> None:
        if self.core is None or not self.up:
            return
        deadline = self.core.next_deadline()
        if deadline is None:
            self._timer.cancel()
            return
        at = max(deadline - self.clock_offset, self.scheduler.now)
        if self._timer.due != at:
            self._timer.arm(at)

    # --- effects ------------------------------------------------------------------------

    def _execute(self, effects: list[Effect]) -> None:
        for effect in effects:
            if not self.up:
                return
            match effect:
                case Send(link=link, argv=argv):
                    entry = self._links.get(link)
                    if entry is not None:
                        entry[0].send(entry[1], argv)
                case Connect():
                    self._connect(effect)
                case Close(link=link):
                    entry = self._links.pop(link, None)
                    if entry is not None:
                        entry[0].close(entry[1])
                        self.forget(entry[0])
                case Reply(client=client, value=value):
                    entry = self._clients.get(client)
                    if client in self._admin:
                        self._admin[client](to_in_reply(value))
                    elif entry is not None:
                        entry[0].send(entry[1], to_in_reply(value))
                case CloseClient(client=client):
                    entry = self._clients.pop(client, None)
                    if entry is not None:
                        entry[0].close(entry[1])
                        self.forget(entry[0])
                case Emit(level=level, type=kind, payload=payload):
                    self.world.log(self, level, f"{kind} {payload}" if payload else kind)
                case Log(level=level, text=text):
                    self.world.log(self, level, text)
                case PersistConfig(config=cfg, reply_to=client):
                    self._persist(cfg, client)
                case RunScript(script=script):
                    self._run_script(script)
                case KillScript(script=script):
                    killed = ScriptExited(script=script, exit_code=0, signal=9)
                    self.scheduler.after(1, functools.partial(self.handle, killed))
                case Exit(code=code):
                    self.world.note(f"{self.name} exited with code {code}")
                    self.crash()
                    return

    def _persist(self, cfg: SentinelConfig, client: ClientId | None) -> None:
        # The file is rewritten lazily: only a restart reads it, and rewriting on every
        # flush costs more than the rest of a sentinel step.
        self._unwritten = cfg
        self.flushes += 1
        self.world.log(self, LogLevel.NOTICE, "Sentinel new configuration saved on disk")
        if client is not None:
            entry = self._clients.get(client)
            if client in self._admin:
                self._admin[client](b"OK")
            elif entry is not None:
                entry[0].send(entry[1], b"OK")

    def _run_script(self, script: ScriptId) -> None:
        # Scripts are not simulated: they start at once and exit 0 after 10 ms.
        pid = 90_000 + self.world.next_script_pid()

        def started() -> None:
            self.handle(ScriptStarted(script=script, pid=pid))

        def exited() -> None:
            self.handle(ScriptExited(script=script, exit_code=0))

        life = self.life

        def later(action: Callable[[], None]) -> Callable[[], None]:
            def fire() -> None:
                if life == self.life:
                    self.gate(action)

            return fire

        self.scheduler.after(0, later(started))
        self.scheduler.after(10, later(exited))

    def _connect(self, effect: Connect) -> None:
        link = effect.link

        def on_open(c: Conn) -> None:
            if self._links.get(link, (None,))[0] is c:
                self.handle(LinkConnected(link=link, local_host=self.ip, local_port=c.local_port))

        def on_message(c: Conn, msg: object) -> None:
            if self._links.get(link, (None,))[0] is c:
                self.handle(LinkReply(link=link, reply=msg))  # type: ignore[arg-type]

        def on_close(c: Conn, reason: str) -> None:
            if self._links.get(link, (None,))[0] is c:
                del self._links[link]
                self.forget(c)
                self.handle(LinkDropped(link=link, error=reason))

        end = self.endpoint(on_message, on_close, on_open)
        conn = self.net.connect(end, effect.addr.host, effect.addr.port)
        self._links[link] = (conn, end)
        self.track(conn, end)

    # --- inbound clients (peer sentinels and applications) ---------------------------

    def _accept(self, conn: Conn) -> Endpoint | None:
        if not self.up or self.core is None:
            return None
        self._next_client += 1
        cid = ClientId(self._next_client)

        def on_open(c: Conn) -> None:
            peer_ip = self.net.boxes[c.a.box].ip
            self.handle(
                ClientConnected(
                    client=cid,
                    addr=f"{peer_ip}:{c.local_port}",
                    laddr=f"{self.ip}:{self.port}",
                    fd=cid + 10,
                )
            )

        def on_message(c: Conn, msg: object) -> None:
            if cid in self._clients and isinstance(msg, tuple):
                self.handle(ClientCommand(client=cid, argv=msg))

        def on_close(c: Conn, reason: str) -> None:
            if self._clients.pop(cid, None) is not None:
                self.forget(c)
                self.handle(ClientDisconnected(client=cid))

        end = self.endpoint(on_message, on_close, on_open)
        self._clients[cid] = (conn, end)
        self.track(conn, end)
        return end

    def admin(self, argv: tuple[bytes, ...], on_reply: Callable[[InReply], None]) -> None:
        """Run one command as a local admin client would (connect, command, disconnect)."""
        if self.core is None or not self.up:
            return
        self._next_client += 1
        cid = ClientId(self._next_client)
        self._admin[cid] = on_reply
        self.handle(ClientConnected(client=cid, addr="127.0.0.1:1", laddr=f"127.0.0.1:{self.port}"))
        self.handle(ClientCommand(client=cid, argv=argv))
        self.handle(ClientDisconnected(client=cid))
        self._admin.pop(cid, None)

    # --- views for invariants and reports -------------------------------------------------

    def master_view(self, name: str) -> tuple[str, int] | None:
        """Where this sentinel says ``name``'s master is (GET-MASTER-ADDR-BY-NAME)."""
        if self.core is None:
            return None
        master = self.core.masters.get(name)
        if master is None:
            return None
        promoted = master.promoted_replica
        if (
            master.failover_state in (FailoverState.RECONF_SLAVES, FailoverState.UPDATE_CONFIG)
            and promoted is not None
        ):
            return promoted.addr.host, promoted.addr.port
        return master.addr.host, master.addr.port


class World:
    """Everything in one simulated run."""

    def __init__(
        self,
        topology: Topology,
        seed: int,
        *,
        core_factory: CoreFactory | None = None,
        on_step: StepHook | None = None,
    ) -> None:
        self.topology = topology
        self.seed = seed
        self.core_factory: CoreFactory = core_factory or real_core
        self.scheduler = Scheduler()
        self.trace = Trace()
        params = NetworkParams(
            latency_min_ms=topology.latency_min_ms,
            latency_max_ms=topology.latency_max_ms,
            loss=topology.loss,
            break_after_ms=topology.break_after_ms,
        )
        self.net = Network(self.scheduler, self.rng("network"), params)
        self._step_hooks: list[StepHook] = [on_step] if on_step is not None else []
        #: Exceptions the core raised: (sentinel, what, traceback).
        self.core_errors: list[tuple[str, str, str]] = []
        self._script_pids = 0
        for b in topology.boxes:
            self.net.add_box(b.name, b.ip)
        self.redis: dict[str, RedisModel] = {}
        self.sentinels: dict[str, SimSentinel] = {}
        self.clients: dict[str, SimClient] = {}
        for i, r in enumerate(topology.redis):
            settings = RedisSettings(
                replicaof=topology.redis_addr(r.replicaof) if r.replicaof else None,
                replica_priority=r.priority,
                min_replicas_to_write=topology.min_replicas_to_write,
                min_replicas_max_lag=topology.min_replicas_max_lag,
                requirepass=topology.requirepass,
                renames=topology.renames,
            )
            model = RedisModel(
                r.name,
                r.box,
                r.port,
                self.net,
                rng=self.rng(f"redis/{r.name}"),
                settings=settings,
                pid=1000 + i,
            )
            model.on_log = functools.partial(self._redis_log, model)
            self.redis[r.name] = model
        for i, s in enumerate(topology.sentinels):
            self.sentinels[s.name] = SimSentinel(
                s.name,
                s.box,
                s.port,
                self.net,
                world=self,
                config_text=self.sentinel_config(s.port),
                pid=2000 + i,
            )
        sentinel_addrs = [(topology.box(s.box).ip, s.port) for s in topology.sentinels]
        for c in topology.clients:
            client = SimClient(
                c.name,
                c.box,
                self.net,
                sentinels=sentinel_addrs,
                master_name=c.master or topology.master_name,
                write_interval_ms=c.interval_ms,
                timeout_ms=topology.client_timeout_ms,
                password=topology.requirepass,
                on_note=lambda _name, text: self.note(text),
            )
            self.clients[c.name] = client
            client.start()

    # --- construction helpers ---------------------------------------------------------

    def rng(self, purpose: str) -> random.Random:
        """A random stream for ``purpose``, derived from the seed."""
        return random.Random(f"{self.seed}/{purpose}")

    def sentinel_config(self, port: int) -> str:
        """The initial sentinel.conf of every sentinel."""
        t = self.topology
        text = f"port {port}\ndir /tmp\n"
        for name, root, quorum in t.monitors:
            host, rport = t.redis_addr(root)
            text += (
                f"sentinel monitor {name} {host} {rport} {quorum}\n"
                f"sentinel down-after-milliseconds {name} {t.down_after_ms}\n"
                f"sentinel failover-timeout {name} {t.failover_timeout_ms}\n"
                f"sentinel parallel-syncs {name} {t.parallel_syncs}\n"
            )
            if t.requirepass is not None:
                text += f"sentinel auth-pass {name} {t.requirepass}\n"
            for old, new in t.renames:
                text += f"sentinel rename-command {name} {old} {new}\n"
        return text

    def next_script_pid(self) -> int:
        """A fresh pid for a simulated script."""
        self._script_pids += 1
        return self._script_pids

    def add_step_hook(self, hook: StepHook) -> None:
        """Call ``hook`` after every sentinel step (the safety checker)."""
        self._step_hooks.append(hook)

    # --- hooks from processes -------------------------------------------------------------

    def on_step(self, sentinel: SimSentinel, effects: list[Effect], tilt_before: bool) -> None:
        """A sentinel core returned ``effects``."""
        for hook in self._step_hooks:
            hook(sentinel, effects, tilt_before)

    def core_failed(self, sentinel: SimSentinel, what: str, text: str) -> None:
        """The core raised: record it and let that sentinel die like a crashed process."""
        self.core_errors.append((sentinel.name, what, text))
        last = text.strip().splitlines()[-1] if text.strip() else "?"
        self.note(f"{sentinel.name} core raised in {what}: {last}")
        sentinel.crash()

    def log(self, sentinel: SimSentinel, level: LogLevel, text: str) -> None:
        """A sentinel's log line (default loglevel notice)."""
        if level >= LogLevel.NOTICE:
            self.trace.add(self.scheduler.now, sentinel.pid, "X", level.char, text)

    def _redis_log(self, model: RedisModel, level: str, text: str) -> None:
        role = "M" if model.master is None else "S"
        self.trace.add(self.scheduler.now, model.pid, role, level, text)

    def note(self, text: str) -> None:
        """A line of the simulator's own."""
        self.trace.add(self.scheduler.now, 0, "F", "*", text)

    # --- running ---------------------------------------------------------------------------

    def run_until(self, until: int) -> None:
        """Advance virtual time to ``until``."""
        self.scheduler.run_until(until)

    def process(self, name: str) -> Process:
        """Any process by name."""
        tables: tuple[dict[str, RedisModel], dict[str, SimSentinel], dict[str, SimClient]] = (
            self.redis,
            self.sentinels,
            self.clients,
        )
        for table in tables:
            if name in table:
                return table[name]
        raise KeyError(name)

    def redis_by_addr(self, host: str, port: int) -> RedisModel | None:
        """The redis listening at ``host:port``."""
        for r in self.redis.values():
            if r.ip == host and r.port == port:
                return r
        return None

    def pid_legend(self) -> str:
        """Which pid is which process, for the top of a trace."""
        parts = [f"{r.pid}={name}" for name, r in self.redis.items()]
        parts += [f"{s.pid}={name}" for name, s in self.sentinels.items()]
        return "pids: " + " ".join(parts)
