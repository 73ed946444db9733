"""The trio driver: runs the sans-IO core against real sockets, processes and files.

Rules of this module:

* One nursery per process holds every task: the listener and its clients
  (:mod:`.server`), the outbound links (:mod:`.links`), scripts (:mod:`.scripts`) and a
  signal watcher. Those tasks never call the core: they report inputs into one queue.
* The main loop is the only caller of the core. It waits for an input or for
  ``next_deadline()``, calls ``handle``/``tick`` and executes the returned effects
  strictly in order, synchronously (no effect blocks the loop; ``PersistConfig``
  fsyncs, as redis does in its event loop).
* One clock: ``trio.current_time()`` in integer milliseconds. The core never sees
  wall time; log lines and INFO read it on their own.
* Shutdown (``Exit`` effect, SIGTERM, SIGINT) writes redis's lines (spec §3.4), removes
  the pid file and returns the exit code.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeAlias

import attrs
import trio

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
from pysentinel.core.inputs import Input, LinkConnected, LinkDropped, LinkReply
from pysentinel.core.types import LogLevel, Millis
from pysentinel.core.values import Error
from pysentinel.runtime.links import Links
from pysentinel.runtime.log import Logger
from pysentinel.runtime.persist import persist
from pysentinel.runtime.scripts import Scripts
from pysentinel.runtime.server import (
    ClientProtocolError,
    ProcessInfo,
    Server,
    default_user_needs_auth,
)

__all__ = ["Core", "run_core", "run_sentinel"]

#: Exit status of a sentinel killed by SENTINEL SIMULATE-FAILURE (spec T31).
SIMULATED_CRASH_EXIT_CODE = 99
#: redis's CONFIG_DEFAULT_PID_FILE, used by ``daemonize yes`` without ``pidfile``.
DEFAULT_PIDFILE = "/var/run/redis.pid"
#: Inputs handled back to back before the loop yields to the socket tasks.
_BATCH = 64


class Core(Protocol):
    """What the driver needs from ``pysentinel.core.sentinel.Sentinel``."""

    def start(self, now: Millis) -> list[Effect]: ...
    def handle(self, input: Input, now: Millis, /) -> list[Effect]: ...
    def tick(self, now: Millis) -> list[Effect]: ...
    def next_deadline(self) -> Millis | None: ...


class _Signalled:
    """Runtime-internal: SIGTERM or SIGINT arrived."""

    def __init__(self, signum: int) -> None:
        self.signum = signum


_Event: TypeAlias = "Input | ClientProtocolError | _Signalled"


def now_ms() -> Millis:
    """The driver's clock: trio's monotonic time in integer milliseconds."""
    return Millis(math.floor(trio.current_time() * 1000))


class _Runtime:
    """Executes effects; owns the task groups. One per ``run_core`` call."""

    def __init__(
        self,
        nursery: trio.Nursery,
        config: SentinelConfig,
        config_path: str,
        logger: Logger,
    ) -> None:
        self.logger = logger
        self.config_path = config_path
        self.pidfile = config.pidfile
        self.exit_code: int | None = None
        self.send_event, self.events = trio.open_memory_channel[_Event](math.inf)
        self.links = Links(nursery, self._report)
        needs_auth = default_user_needs_auth(config.requirepass, config.users)
        self.server = Server(
            nursery,
            self._report,
            config.maxclients,
            ProcessInfo(config_path=config_path),
            auth_required=needs_auth,
            protected=config.protected_mode and not needs_auth,
        )
        self.scripts = Scripts(nursery, self._report)
        # Lines the core already wrote, so shutdown does not write them twice.
        self._logged_shutdown = False

    def _report(self, event: _Event) -> None:
        # After shutdown nobody reads the queue any more; late reports are moot.
        with contextlib.suppress(trio.ClosedResourceError):
            self.send_event.send_nowait(event)

    def wanted(self, event: Input) -> bool:
        """False for link inputs that raced with a ``Close`` (contract: discarded)."""
        if isinstance(event, LinkConnected | LinkReply | LinkDropped):
            if isinstance(event, LinkDropped):
                # links.py forgets a link before reporting its drop; a drop of a link
                # that was since reconnected under the same id cannot happen (ids are
                # never reused), so a drop is always wanted.
                return True
            return self.links.is_open(event.link)
        return True

    def execute(self, effects: list[Effect]) -> None:
        """Carry out ``effects`` in order; stops after an ``Exit``."""
        for effect in effects:
            if self.exit_code is not None:
                return
            match effect:
                case Send(link=link, argv=argv):
                    self.links.send(link, argv)
                case Reply(client=client, value=value, proto=proto):
                    self.server.reply(client, value, proto)
                case Connect():
                    self.links.connect(effect)
                case Close(link=link):
                    self.links.close(link)
                case CloseClient(client=client):
                    self.server.close(client)
                case Emit(level=level, type=kind, payload=payload):
                    self.logger.log(level, f"{kind} {payload}" if payload else kind)
                case Log(level=level, text=text):
                    if text == "User requested shutdown...":
                        self._logged_shutdown = True
                    self.logger.log(level, text)
                case PersistConfig(reply_to=client, proto=proto):
                    answer = persist(effect, self.config_path, self.logger)
                    if client is not None and answer is not None:
                        self.server.reply(client, answer, proto)
                case RunScript():
                    self.scripts.run(effect)
                case KillScript(script=script):
                    self.scripts.kill(script)
                case Exit(code=code):
                    self.exit_code = code
                    if code != SIMULATED_CRASH_EXIT_CODE:
                        self.shutdown_lines()

    def protocol_error(self, event: ClientProtocolError) -> None:
        """Answer ``-ERR Protocol error: ...`` and close that client only."""
        self.server.reply(event.client, Error(f"ERR {event.text}"), 2)
        self.server.close(event.client)

    def shutdown_lines(self) -> None:
        """redis's prepareForShutdown() lines for sentinel, and the pid file removal."""
        if not self._logged_shutdown:
            self.logger.log(LogLevel.WARNING, "User requested shutdown...")
            self._logged_shutdown = True
        if self.pidfile:
            self.logger.log(LogLevel.NOTICE, "Removing the pid file.")
            remove_pidfile(self.pidfile)
        self.logger.log(LogLevel.WARNING, "Sentinel is now ready to exit, bye bye...")

    def signalled(self, signum: int) -> None:
        """Handle SIGTERM/SIGINT like redis's sigShutdownHandler + prepareForShutdown."""
        name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
        self.logger.raw(
            f"{os.getpid()}:signal-handler ({int(time.time())}) "
            f"Received {name} scheduling shutdown..."
        )
        self.exit_code = 0
        self.shutdown_lines()


async def _watch_signals(report: Callable[[_Event], None]) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            report(_Signalled(signum))


async def run_core(
    core: Core,
    config: SentinelConfig,
    config_path: str,
    logger: Logger,
    *,
    task_status: trio.TaskStatus[list[trio.SocketListener]] = trio.TASK_STATUS_IGNORED,
) -> int:
    """Serve ``core`` until it exits or a signal arrives; return the exit code.

    ``task_status.started`` receives the listeners (tests bind port 0 and read the port).

    Returns:
        The process exit code, or 1 when the listening socket cannot be bound.
    """
    async with trio.open_nursery() as nursery:
        runtime = _Runtime(nursery, config, config_path, logger)
        listeners: list[trio.SocketListener] = []
        if config.port:
            try:
                listeners = await runtime.server.listen(config.bind, config.port)
            except OSError as exc:
                where = " ".join(config.bind) or "*"
                logger.log(
                    LogLevel.WARNING,
                    f"Warning: Could not create server TCP listening socket {where}:"
                    f"{config.port}: bind: {exc.strerror or exc}",
                )
                logger.log(
                    LogLevel.WARNING, f"Failed listening on port {config.port} (TCP), aborting."
                )
                nursery.cancel_scope.cancel()
                return 1
        if threading_main():
            nursery.start_soon(_watch_signals, runtime._report)
        task_status.started(listeners)
        runtime.execute(core.start(now_ms()))
        batch = 0
        while runtime.exit_code is None:
            deadline = core.next_deadline()
            now = now_ms()
            event: _Event | None = None
            # Take queued inputs without a checkpoint, but yield every _BATCH loop turns
            # so the socket tasks keep running (pipelined clients are fast) and a core
            # whose deadline stays in the past cannot starve them.
            batch += 1
            if batch >= _BATCH:
                batch = 0
                await trio.lowlevel.checkpoint()
            try:
                event = runtime.events.receive_nowait()
            except trio.WouldBlock:
                if deadline is None or now < deadline:
                    batch = 0
                    with trio.move_on_at(math.inf if deadline is None else deadline / 1000):
                        event = await runtime.events.receive()
                    now = now_ms()
                    if event is None and deadline is not None:
                        # The timer fired; float rounding may put us a hair before it.
                        now = Millis(max(now, deadline))
            if isinstance(event, _Signalled):
                runtime.signalled(event.signum)
                break
            if isinstance(event, ClientProtocolError):
                runtime.protocol_error(event)
            elif event is not None and runtime.wanted(event):
                runtime.execute(core.handle(event, now))
            if runtime.exit_code is None and deadline is not None and now >= deadline:
                runtime.execute(core.tick(now))
        # Give replies already queued (e.g. to commands before SHUTDOWN) a moment to go out.
        await runtime.server.wait_flushed(0.1)
        runtime.send_event.close()
        nursery.cancel_scope.cancel()
    assert runtime.exit_code is not None
    return runtime.exit_code


def threading_main() -> bool:
    """Signal handlers can only be installed from the main thread."""
    return threading.current_thread() is threading.main_thread()


def write_pidfile(path: str) -> None:
    """Write our pid like redis's createPidFile (failures are ignored, as there)."""
    try:
        with open(path, "w", encoding="ascii") as f:
            f.write(f"{os.getpid()}\n")
    except OSError:
        return


def _is_executable_file(path: str) -> bool:
    """sentinel.c's ``access(path, X_OK) == -1`` check on script paths, negated."""
    return os.access(path, os.X_OK)


def remove_pidfile(path: str) -> None:
    """Remove the pid file; a missing one is fine."""
    try:
        os.unlink(path)
    except OSError:
        return


def daemonize() -> None:
    """Detach like redis's daemonize(): fork, setsid, stdio to /dev/null."""
    if os.fork() != 0:
        os._exit(0)
    os.setsid()
    fd = os.open(os.devnull, os.O_RDWR)
    for std in (0, 1, 2):
        os.dup2(fd, std)
    if fd > 2:
        os.close(fd)


def run_sentinel(config: SentinelConfig, config_path: str) -> int:
    """Run a sentinel for ``config`` (loaded from ``config_path``) until it exits.

    Returns:
        The process exit code: 0 after SHUTDOWN or SIGTERM/SIGINT, 99 after a
        SIMULATE-FAILURE crash, 1 when the port cannot be bound.
    """
    # Imported by name so that this module type-checks and its tests run with a fake
    # core whatever state the real one is in.
    module = importlib.import_module("pysentinel.core.sentinel")
    factory: Callable[[SentinelConfig, random.Random], Core] = module.Sentinel
    logger = Logger(config.logfile, config.loglevel)
    logger.log(LogLevel.WARNING, "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo")
    logger.log(
        LogLevel.WARNING,
        f"Redis version=7.0.15, bits=64, commit=00000000, modified=0, pid={os.getpid()},"
        " just started",
    )
    logger.log(LogLevel.WARNING, "Configuration loaded")
    if config.daemonize:
        daemonize()
    logger.log(LogLevel.NOTICE, f"Running mode=sentinel, port={config.port}.")
    if config.daemonize and not config.pidfile:
        # createPidFile(): a daemon always gets a pid file, by default this one.
        config = attrs.evolve(config, pidfile=DEFAULT_PIDFILE)
    if config.pidfile:
        write_pidfile(config.pidfile)
    core = factory(config, random.Random())
    # SENTINEL SET ... notification-script checks access(path, X_OK) like redis; the
    # core does no file-system I/O, so it asks this callable (commands._executable).
    setattr(core, "script_path_check", _is_executable_file)  # noqa: B010
    code = trio.run(run_core, core, config, config_path, logger)
    if code == 1 and config.pidfile:
        remove_pidfile(config.pidfile)
    sys.stdout.flush()
    return code
