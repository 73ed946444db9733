"""The script queue: notification and client-reconfig scripts (spec §9.8).

Rules of this module:

* The queue is FIFO and holds at most :data:`MAX_QUEUE` jobs. Scheduling one more drops
  the oldest job that is not running. At most :data:`MAX_RUNNING` jobs run at once.
* A job runs when it is not running and its retry time (``start_time``) has come.
  Starting it stamps ``start_time = now`` and bumps ``retry_num``; the driver gets a
  :class:`RunScript` effect and answers with ``ScriptStarted`` and ``ScriptExited``.
* Exit 1 or death by a signal is retried after ``script-retry-delay x 2^(retry_num-1)``
  until :data:`MAX_RETRY` attempts were made; any other failure, or the last attempt,
  removes the job and emits ``-script-error <path> <signal> <exit-code>``. A spawn
  failure (fork failed) emits ``-script-error <path> 99 0`` and leaves the job queued,
  to be tried again at the next :meth:`ScriptQueue.run_pending`.
* A job running for longer than ``script-max-runtime`` is killed (``KillScript``) and
  ``-script-timeout <path> <pid>`` is emitted; the kill then counts as a death by signal.
* The queue never talks to clients, logs or subscribers itself. Events go through the
  ``emit`` callable given to the constructor (the ``Sentinel`` passes a function over
  its ``event`` primitive); without one, events are dropped, which only tests use.
* Time is ``now`` in milliseconds; nothing here reads a clock. Mirrors the
  "SENTINEL scripts execution" section of sentinel.c.

One difference from sentinel.c, recorded in docs/deviations.md: a job counts as
running from its ``RunScript`` effect on (sentinel.c forks synchronously, so it knows
at once), and a timed-out job is killed once, not on every timer tick until it is
reaped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import attrs

from pysentinel.core.effects import Effect, KillScript, RunScript
from pysentinel.core.events import EventType
from pysentinel.core.inputs import ScriptExited, ScriptStarted
from pysentinel.core.instance import NEVER, Tunables
from pysentinel.core.types import Millis, ScriptId
from pysentinel.core.values import Array, Bulk, Map, Value

__all__ = [
    "MAX_ARGS",
    "MAX_QUEUE",
    "MAX_RETRY",
    "MAX_RUNNING",
    "Emitter",
    "ScriptJob",
    "ScriptQueue",
]

#: SENTINEL_SCRIPT_MAX_QUEUE: jobs kept at most; the oldest idle one is dropped beyond.
MAX_QUEUE: Final = 256
#: SENTINEL_SCRIPT_MAX_RUNNING: scripts running at once.
MAX_RUNNING: Final = 16
#: SENTINEL_SCRIPT_MAX_RETRY: attempts per job.
MAX_RETRY: Final = 10
#: SENTINEL_SCRIPT_MAX_ARGS: argv entries kept, the path included.
MAX_ARGS: Final = 16
#: The "signal" sentinel.c reports when fork() fails.
FORK_FAILED_SIGNAL: Final = 99

#: How the queue emits events: ``emit(type, payload, now) -> effects``. Script events
#: concern no instance, so they never queue a notification script themselves.
Emitter = Callable[[EventType, str, Millis], list[Effect]]


def _no_emit(type: EventType, payload: str, now: Millis) -> list[Effect]:
    return []


@attrs.define(eq=False)
class ScriptJob:
    """One queued script (sentinel.c's sentinelScriptJob)."""

    id: ScriptId
    argv: tuple[str, ...]
    running: bool = False
    #: Attempts started so far.
    retry_num: int = 0
    #: When the current attempt started, or when the next retry is due; 0 = at once.
    start_time: Millis = NEVER
    #: The child's pid while it runs and the driver told us; 0 otherwise.
    pid: int = 0
    #: ``KillScript`` was sent for the current attempt.
    kill_sent: bool = False


def retry_delay(tunables: Tunables, retry_num: int) -> int:
    """The delay before retrying after attempt ``retry_num`` (1-based), doubling each time.

    Mirrors sentinelScriptRetryDelay().
    """
    delay = tunables.script_retry_delay_ms
    while retry_num > 1:
        delay *= 2
        retry_num -= 1
    return delay


class ScriptQueue:
    """The queue of scripts to run, running and waiting for a retry.

    Args:
        tunables: the sentinel's (shared, ``SENTINEL DEBUG`` changes them live).
        emit: how to emit ``-script-error``, ``-script-timeout`` and the debug-level
            ``+script-child``/``-script-child`` events.
    """

    def __init__(self, tunables: Tunables, emit: Emitter | None = None) -> None:
        self.tunables = tunables
        self.emit: Emitter = emit if emit is not None else _no_emit
        self.jobs: list[ScriptJob] = []
        self._next_id = 1

    # --- what INFO and PENDING-SCRIPTS show ---------------------------------------

    @property
    def running_count(self) -> int:
        """``sentinel_running_scripts``."""
        return sum(1 for job in self.jobs if job.running)

    @property
    def queue_length(self) -> int:
        """``sentinel_scripts_queue_length``."""
        return len(self.jobs)

    def _find(self, script: ScriptId) -> ScriptJob | None:
        for job in self.jobs:
            if job.id == script:
                return job
        return None

    # --- scheduling and running --------------------------------------------------

    def schedule(self, argv: tuple[str, ...], now: Millis) -> None:
        """Queue ``argv`` (``argv[0]`` is the path) to run as soon as possible.

        Mirrors sentinelScheduleScriptExecution().
        """
        job = ScriptJob(id=ScriptId(self._next_id), argv=tuple(argv[:MAX_ARGS]))
        self._next_id += 1
        self.jobs.append(job)
        if len(self.jobs) > MAX_QUEUE:
            for i, old in enumerate(self.jobs):
                if not old.running:
                    del self.jobs[i]
                    break
        assert len(self.jobs) <= MAX_QUEUE

    def run_pending(self, now: Millis) -> list[Effect]:
        """Start due jobs, oldest first, while fewer than 16 run.

        Mirrors sentinelRunPendingScripts().
        """
        effects: list[Effect] = []
        running = self.running_count
        for job in self.jobs:
            if running >= MAX_RUNNING:
                break
            if job.running:
                continue
            if job.start_time and job.start_time > now:
                continue
            job.running = True
            job.start_time = now
            job.retry_num += 1
            job.pid = 0
            job.kill_sent = False
            running += 1
            effects.append(RunScript(script=job.id, argv=job.argv))
        return effects

    def on_started(self, started: ScriptStarted, now: Millis) -> list[Effect]:
        """The driver spawned the job's process: record the pid, ``+script-child``."""
        job = self._find(started.script)
        if job is None or not job.running:
            return []
        job.pid = started.pid
        return self.emit(EventType.SCRIPT_CHILD, str(started.pid), now)

    def on_exited(self, exited: ScriptExited, now: Millis) -> list[Effect]:
        """A job's process ended (or never started): retry, drop or report it.

        Mirrors sentinelCollectTerminatedScripts() and the fork-failure branch of
        sentinelRunPendingScripts().
        """
        job = self._find(exited.script)
        if job is None or not job.running:
            return []
        if exited.spawn_failed:
            # fork() failed: reported as signal 99; the job stays queued and is tried
            # again on the next run, as its start_time is already in the past.
            job.running = False
            job.pid = 0
            return self.emit(EventType.SCRIPT_ERROR, f"{job.argv[0]} {FORK_FAILED_SIGNAL} 0", now)
        effects = self.emit(
            EventType.SCRIPT_CHILD_REAPED,
            f"{job.pid} {exited.exit_code} {exited.signal}",
            now,
        )
        job.running = False
        job.pid = 0
        if (exited.signal or exited.exit_code == 1) and job.retry_num != MAX_RETRY:
            job.start_time = Millis(now + retry_delay(self.tunables, job.retry_num))
            return effects
        if exited.signal or exited.exit_code != 0:
            effects += self.emit(
                EventType.SCRIPT_ERROR,
                f"{job.argv[0]} {exited.signal} {exited.exit_code}",
                now,
            )
        self.jobs.remove(job)
        return effects

    def kill_timed_out(self, now: Millis) -> list[Effect]:
        """Kill the jobs that ran for longer than ``script-max-runtime``.

        Mirrors sentinelKillTimedoutScripts().
        """
        effects: list[Effect] = []
        for job in self.jobs:
            if (
                job.running
                and not job.kill_sent
                and now - job.start_time > self.tunables.script_max_runtime_ms
            ):
                job.kill_sent = True
                effects += self.emit(EventType.SCRIPT_TIMEOUT, f"{job.argv[0]} {job.pid}", now)
                effects.append(KillScript(script=job.id))
        return effects

    def next_deadline(self) -> Millis | None:
        """When a retry becomes due or a running job times out, if ever."""
        deadlines: list[int] = []
        running = self.running_count
        for job in self.jobs:
            if job.running:
                if not job.kill_sent:
                    deadlines.append(job.start_time + self.tunables.script_max_runtime_ms + 1)
            elif running < MAX_RUNNING:
                deadlines.append(job.start_time)
        return Millis(min(deadlines)) if deadlines else None

    # --- SENTINEL PENDING-SCRIPTS ------------------------------------------------

    def pending_scripts_reply(self, now: Millis) -> Value:
        """The reply to ``SENTINEL PENDING-SCRIPTS``: one 5-field map per job.

        Mirrors sentinelPendingScriptsCommand().
        """
        entries: list[Value] = []
        for job in self.jobs:
            fields: list[tuple[Value, Value]] = [
                (Bulk.of("argv"), Array(tuple(Bulk.of(arg) for arg in job.argv))),
                (Bulk.of("flags"), Bulk.of("running" if job.running else "scheduled")),
                (Bulk.of("pid"), Bulk.of(job.pid)),
            ]
            if job.running:
                fields.append((Bulk.of("run-time"), Bulk.of(now - job.start_time)))
            else:
                delay = job.start_time - now if job.start_time else 0
                fields.append((Bulk.of("run-delay"), Bulk.of(max(delay, 0))))
            fields.append((Bulk.of("retry-num"), Bulk.of(job.retry_num)))
            entries.append(Map(tuple(fields)))
        return Array(tuple(entries))
