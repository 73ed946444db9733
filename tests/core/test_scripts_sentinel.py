"""The script queue inside the real ``Sentinel``: events queue scripts, ticks run them,
ScriptStarted/ScriptExited come back through ``handle``, PENDING-SCRIPTS and INFO show it."""

from __future__ import annotations

import random

from pysentinel.config import parse
from pysentinel.core.effects import Effect, Emit, KillScript, Reply, RunScript
from pysentinel.core.inputs import ClientCommand, ClientConnected, ScriptExited, ScriptStarted
from pysentinel.core.sentinel import Sentinel
from pysentinel.core.types import ClientId, LogLevel, Millis
from pysentinel.core.values import Array, Bulk, Map

CLIENT = ClientId(1)
CONF = f"""
sentinel myid {"a" * 40}
sentinel deny-scripts-reconfig no
sentinel monitor mymaster 127.0.0.1 6379 2
"""


def _start() -> Sentinel:
    s = Sentinel(parse(CONF, cwd="/tmp"), random.Random(3))
    now = Millis(1000)
    s.start(now)
    s.handle(ClientConnected(client=CLIENT, addr="127.0.0.1:1", laddr="127.0.0.1:2"), now)
    return s


def _cmd(s: Sentinel, now: int, *argv: str) -> list[Effect]:
    return s.handle(ClientCommand(client=CLIENT, argv=tuple(a.encode() for a in argv)), Millis(now))


def _pending(s: Sentinel, now: int) -> list[dict[str, object]]:
    (reply,) = [
        e.value for e in _cmd(s, now, "SENTINEL", "PENDING-SCRIPTS") if isinstance(e, Reply)
    ]
    assert isinstance(reply, Array)
    out = []
    for entry in reply.items:
        assert isinstance(entry, Map)
        d: dict[str, object] = {}
        for k, v in entry.items:
            assert isinstance(k, Bulk)
            d[k.data.decode()] = v.data.decode() if isinstance(v, Bulk) else v
        out.append(d)
    return out


def test_scripts_sentinel_warning_event_runs_the_notification_script() -> None:
    s = _start()
    # The +set event is a warning about the master, emitted once the script is set:
    # it already queues the script.
    _cmd(s, 2000, "SENTINEL", "SET", "mymaster", "notification-script", "/bin/notify")
    jobs = _pending(s, 2002)
    assert [j["argv"] for j in jobs] == [
        Array(
            (
                Bulk(b"/bin/notify"),
                Bulk(b"+set"),
                Bulk(b"master mymaster 127.0.0.1 6379 notification-script /bin/notify"),
            )
        )
    ]
    assert jobs[0]["flags"] == "scheduled" and jobs[0]["run-delay"] == "0"

    effects = s.tick(Millis(2100))
    (run,) = [e for e in effects if isinstance(e, RunScript)]
    assert run.argv == (
        "/bin/notify",
        "+set",
        "master mymaster 127.0.0.1 6379 notification-script /bin/notify",
    )
    effects = s.handle(ScriptStarted(script=run.script, pid=4242), Millis(2101))
    assert [(e.level, e.type, e.payload) for e in effects if isinstance(e, Emit)] == [
        (LogLevel.DEBUG, "+script-child", "4242")
    ]
    info = next(e.value for e in _cmd(s, 2200, "INFO", "sentinel") if isinstance(e, Reply))
    assert isinstance(info, Bulk)
    assert b"sentinel_running_scripts:1\r\nsentinel_scripts_queue_length:1" in info.data
    jobs = _pending(s, 2300)
    assert jobs[0]["flags"] == "running" and jobs[0]["pid"] == "4242"
    assert jobs[0]["run-time"] == "200"

    # Exit 1: retried after script-retry-delay.
    s.handle(ScriptExited(script=run.script, exit_code=1), Millis(2400))
    jobs = _pending(s, 2400)
    assert jobs[0]["flags"] == "scheduled" and jobs[0]["run-delay"] == "30000"
    assert [e for e in s.tick(Millis(2500)) if isinstance(e, RunScript)] == []


def test_scripts_sentinel_timeout_kills_and_reports() -> None:
    s = _start()
    _cmd(s, 2000, "SENTINEL", "DEBUG", "script-max-runtime", "500")
    _cmd(s, 2001, "SENTINEL", "SET", "mymaster", "notification-script", "/bin/slow")
    (run,) = [e for e in s.tick(Millis(2100)) if isinstance(e, RunScript)]
    s.handle(ScriptStarted(script=run.script, pid=99), Millis(2100))
    effects = s.tick(Millis(2700))
    assert KillScript(script=run.script) in effects
    assert ("-script-timeout", "/bin/slow 99") in [
        (e.type, e.payload) for e in effects if isinstance(e, Emit)
    ]
    effects = s.handle(ScriptExited(script=run.script, exit_code=0, signal=9), Millis(2750))
    assert ("-script-child", "99 0 9") in [
        (e.type, e.payload) for e in effects if isinstance(e, Emit)
    ]
    assert _pending(s, 2800)[0]["retry-num"] == "1"
