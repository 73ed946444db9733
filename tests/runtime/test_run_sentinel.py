"""run_sentinel() end to end with a fake core: start-up lines, pid file, daemonize, SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from runtime_helpers import free_port

# The child swaps a fake in for pysentinel.core.sentinel, so these tests exercise the
# runtime whatever state the real core is in.
_CHILD = """
import sys, types
sys.path.insert(0, {helpers!r})
from runtime_helpers import FakeCore
fake = types.ModuleType("pysentinel.core.sentinel")
fake.Sentinel = lambda config, rng: FakeCore(config)
sys.modules["pysentinel.core.sentinel"] = fake
from pysentinel.config import SentinelConfig
from pysentinel.runtime.driver import run_sentinel
config = SentinelConfig(
    port={port}, bind=("127.0.0.1",), logfile={log!r}, pidfile={pidfile!r}, daemonize={daemon}
)
sys.exit(run_sentinel(config, {conf!r}))
"""


def _start(tmp_path: Path, daemon: bool) -> tuple[subprocess.Popen[bytes], Path, Path, int]:
    log, pidfile, port = tmp_path / "s.log", tmp_path / "s.pid", free_port()
    code = _CHILD.format(
        helpers=str(Path(__file__).parent),
        port=port,
        log=str(log),
        pidfile=str(pidfile),
        daemon=daemon,
        conf=str(tmp_path / "s.conf"),
    )
    return subprocess.Popen([sys.executable, "-c", code]), log, pidfile, port


def _wait(predicate: object, what: str) -> None:
    deadline = time.monotonic() + 20
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _texts(log: Path) -> list[str]:
    return [line.split(" ", 6)[-1] for line in log.read_text().splitlines()]


def test_run_sentinel_startup_lines_pidfile_and_sigterm(tmp_path: Path) -> None:
    proc, log, pidfile, port = _start(tmp_path, daemon=False)
    try:
        _wait(lambda: log.exists() and "fake core started" in log.read_text(), "start")
        assert pidfile.read_text() == f"{proc.pid}\n"
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    lines = log.read_text().splitlines()
    assert all(
        re.match(r"^\d+:X \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} [.\-*#] ", line)
        for line in lines
        if ":signal-handler (" not in line
    )
    assert lines[0].split(" ", 6)[5:] == ["#", "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo"]
    assert _texts(log)[1:4] == [
        f"Redis version=7.0.15, bits=64, commit=00000000, modified=0, pid={proc.pid}, just started",
        "Configuration loaded",
        f"Running mode=sentinel, port={port}.",
    ]
    assert _texts(log)[-3:] == [
        "User requested shutdown...",
        "Removing the pid file.",
        "Sentinel is now ready to exit, bye bye...",
    ]
    assert not pidfile.exists()


def test_run_sentinel_daemonize(tmp_path: Path) -> None:
    proc, log, pidfile, _ = _start(tmp_path, daemon=True)
    assert proc.wait(timeout=20) == 0  # the foreground parent returns at once
    _wait(lambda: pidfile.exists() and pidfile.read_text().endswith("\n"), "pid file")
    daemon_pid = int(pidfile.read_text())
    assert daemon_pid != proc.pid
    try:
        _wait(lambda: "fake core started" in log.read_text(), "daemon start")
        os.kill(daemon_pid, signal.SIGTERM)
        _wait(lambda: not pidfile.exists(), "daemon exit")
        # The pid file goes just before the last line is written.
        _wait(lambda: _texts(log)[-1] == "Sentinel is now ready to exit, bye bye...", "bye")
    finally:
        if pidfile.exists():
            os.kill(daemon_pid, signal.SIGKILL)
