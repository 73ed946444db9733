"""The script queue of spec §9.8: limits, retries, timeouts, events, PENDING-SCRIPTS."""

from __future__ import annotations

from pysentinel.core.effects import Effect, Emit, KillScript, RunScript
from pysentinel.core.events import EventType
from pysentinel.core.inputs import ScriptExited, ScriptStarted
from pysentinel.core.instance import Tunables
from pysentinel.core.scripts import MAX_QUEUE, MAX_RETRY, MAX_RUNNING, ScriptQueue, retry_delay
from pysentinel.core.types import Millis, ScriptId
from pysentinel.core.values import Array, Bulk, Map


class Recorder:
    """An emitter that records ``(type, payload)`` and returns an ``Emit`` effect."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def __call__(self, type: EventType, payload: str, now: Millis) -> list[Effect]:
        self.events.append((str(type), payload))
        return [Emit(level=type.level, type=str(type), payload=payload)]


def make() -> tuple[ScriptQueue, Recorder]:
    rec = Recorder()
    return ScriptQueue(Tunables(), rec), rec


def run_ids(effects: list[Effect]) -> list[ScriptId]:
    return [e.script for e in effects if isinstance(e, RunScript)]


def test_scripts_run_fifo_and_cap_running_at_16() -> None:
    q, _ = make()
    for i in range(20):
        q.schedule(("/bin/n", str(i)), Millis(0))
    started = [e for e in q.run_pending(Millis(5)) if isinstance(e, RunScript)]
    assert len(started) == MAX_RUNNING
    assert [e.argv[1] for e in started] == [str(i) for i in range(16)]
    assert q.running_count == 16 and q.queue_length == 20
    assert q.run_pending(Millis(6)) == []
    q.on_exited(ScriptExited(script=started[0].script, exit_code=0), Millis(7))
    again = [e for e in q.run_pending(Millis(8)) if isinstance(e, RunScript)]
    assert [e.argv[1] for e in again] == ["16"]


def test_scripts_queue_drops_oldest_idle_job_beyond_256() -> None:
    q, _ = make()
    q.schedule(("/bin/first",), Millis(0))
    q.run_pending(Millis(0))  # the first one runs, so it is not dropped
    for i in range(MAX_QUEUE):
        q.schedule(("/bin/n", str(i)), Millis(0))
    assert q.queue_length == MAX_QUEUE
    assert q.jobs[0].argv == ("/bin/first",)
    assert q.jobs[1].argv == ("/bin/n", "1")  # "0" was the oldest idle one


def test_scripts_argv_is_capped_at_16_entries() -> None:
    q, _ = make()
    q.schedule(tuple(str(i) for i in range(30)), Millis(0))
    assert len(q.jobs[0].argv) == 16


def test_scripts_retry_delay_doubles() -> None:
    t = Tunables()
    assert [retry_delay(t, n) for n in (1, 2, 3, 4)] == [30_000, 60_000, 120_000, 240_000]


def test_scripts_exit_1_retries_until_10_attempts_then_script_error() -> None:
    q, rec = make()
    q.schedule(("/bin/s", "+sdown", "x"), Millis(0))
    now = Millis(0)
    for attempt in range(1, MAX_RETRY + 1):
        (sid,) = run_ids(q.run_pending(now))
        q.on_started(ScriptStarted(script=sid, pid=100 + attempt), now)
        assert q.jobs[0].retry_num == attempt
        q.on_exited(ScriptExited(script=sid, exit_code=1), now)
        if attempt < MAX_RETRY:
            due = now + retry_delay(q.tunables, attempt)
            assert q.run_pending(Millis(due - 1)) == []
            assert q.next_deadline() == due
            now = Millis(due)
    assert q.queue_length == 0
    assert rec.events[-1] == ("-script-error", "/bin/s 0 1")
    assert ("+script-child", "101") in rec.events
    assert ("-script-child", "101 1 0") in rec.events


def test_scripts_exit_2_is_not_retried() -> None:
    q, rec = make()
    q.schedule(("/bin/s",), Millis(0))
    (sid,) = run_ids(q.run_pending(Millis(0)))
    q.on_exited(ScriptExited(script=sid, exit_code=2), Millis(1))
    assert q.queue_length == 0
    assert rec.events[-1] == ("-script-error", "/bin/s 0 2")


def test_scripts_exit_0_removes_job_silently() -> None:
    q, rec = make()
    q.schedule(("/bin/s",), Millis(0))
    (sid,) = run_ids(q.run_pending(Millis(0)))
    q.on_started(ScriptStarted(script=sid, pid=7), Millis(0))
    q.on_exited(ScriptExited(script=sid, exit_code=0), Millis(1))
    assert q.queue_length == 0
    assert [t for t, _ in rec.events] == ["+script-child", "-script-child"]


def test_scripts_spawn_failure_reports_99_and_stays_queued() -> None:
    q, rec = make()
    q.schedule(("/bin/s",), Millis(0))
    (sid,) = run_ids(q.run_pending(Millis(0)))
    q.on_exited(ScriptExited(script=sid, exit_code=0, spawn_failed=True), Millis(1))
    assert rec.events == [("-script-error", "/bin/s 99 0")]
    assert q.queue_length == 1 and not q.jobs[0].running
    assert run_ids(q.run_pending(Millis(2))) == [sid]
    assert q.jobs[0].retry_num == 2


def test_scripts_timeout_kills_once_and_retries_as_signal() -> None:
    q, rec = make()
    q.schedule(("/bin/slow",), Millis(1000))
    (sid,) = run_ids(q.run_pending(Millis(1000)))
    q.on_started(ScriptStarted(script=sid, pid=42), Millis(1000))
    assert q.kill_timed_out(Millis(61_000)) == []
    assert q.next_deadline() == 61_001
    effects = q.kill_timed_out(Millis(61_001))
    assert KillScript(script=sid) in effects
    assert rec.events[-1] == ("-script-timeout", "/bin/slow 42")
    assert q.kill_timed_out(Millis(61_100)) == []
    q.on_exited(ScriptExited(script=sid, exit_code=0, signal=9), Millis(61_200))
    assert q.queue_length == 1
    assert q.jobs[0].start_time == 61_200 + 30_000


def test_scripts_unknown_ids_are_ignored() -> None:
    q, rec = make()
    assert q.on_started(ScriptStarted(script=ScriptId(99), pid=1), Millis(0)) == []
    assert q.on_exited(ScriptExited(script=ScriptId(99), exit_code=0), Millis(0)) == []
    assert rec.events == []


def test_scripts_pending_scripts_reply_shape() -> None:
    q, _ = make()
    q.schedule(("/p/notify.sh", "+sdown", "master sm 127.0.0.1 16997"), Millis(0))
    q.schedule(("/p/other.sh",), Millis(0))
    (first, second) = run_ids(q.run_pending(Millis(100)))
    q.on_started(ScriptStarted(script=first, pid=555), Millis(100))
    q.on_exited(ScriptExited(script=second, exit_code=1), Millis(200))
    reply = q.pending_scripts_reply(Millis(1171))
    assert reply == Array(
        (
            Map(
                (
                    (
                        Bulk.of("argv"),
                        Array(
                            (
                                Bulk.of("/p/notify.sh"),
                                Bulk.of("+sdown"),
                                Bulk.of("master sm 127.0.0.1 16997"),
                            )
                        ),
                    ),
                    (Bulk.of("flags"), Bulk.of("running")),
                    (Bulk.of("pid"), Bulk.of(555)),
                    (Bulk.of("run-time"), Bulk.of(1071)),
                    (Bulk.of("retry-num"), Bulk.of(1)),
                )
            ),
            Map(
                (
                    (Bulk.of("argv"), Array((Bulk.of("/p/other.sh"),))),
                    (Bulk.of("flags"), Bulk.of("scheduled")),
                    (Bulk.of("pid"), Bulk.of(0)),
                    (Bulk.of("run-delay"), Bulk.of(200 + 30_000 - 1171)),
                    (Bulk.of("retry-num"), Bulk.of(1)),
                )
            ),
        )
    )


def test_scripts_without_emitter_still_work() -> None:
    q = ScriptQueue(Tunables())
    q.schedule(("/bin/s",), Millis(0))
    (sid,) = run_ids(q.run_pending(Millis(0)))
    assert q.on_exited(ScriptExited(script=sid, exit_code=3), Millis(1)) == []
    assert q.queue_length == 0
    assert q.next_deadline() is None
