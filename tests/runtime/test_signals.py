"""SIGTERM/SIGINT handling of the driver, in a child process running a fake core."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from runtime_helpers import free_port

_CHILD = """
import sys, trio
sys.path.insert(0, {helpers!r})
from runtime_helpers import FakeCore
from pysentinel.config import SentinelConfig
from pysentinel.core.types import LogLevel
from pysentinel.runtime import driver
from pysentinel.runtime.log import Logger

config = SentinelConfig(port={port}, bind=("127.0.0.1",), logfile={log!r}, pidfile={pidfile!r})
driver.write_pidfile({pidfile!r})
logger = Logger({log!r}, LogLevel.NOTICE)
sys.exit(trio.run(driver.run_core, FakeCore(config), config, {conf!r}, logger))
"""


@pytest.mark.parametrize(
    ("signum", "name"), [(signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")]
)
def test_driver_signal_shutdown(tmp_path: Path, signum: int, name: str) -> None:
    log = tmp_path / "s.log"
    pidfile = tmp_path / "s.pid"
    code = _CHILD.format(
        helpers=str(Path(__file__).parent),
        port=free_port(),
        log=str(log),
        pidfile=str(pidfile),
        conf=str(tmp_path / "s.conf"),
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 20
        while "fake core started" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "child did not start"
            assert proc.poll() is None, "child died"
            time.sleep(0.02)
        before = int(time.time())
        os.kill(proc.pid, signum)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    lines = log.read_text().splitlines()
    raw = lines[-4]
    prefix = f"{proc.pid}:signal-handler ("
    assert raw.startswith(prefix) and raw.endswith(f") Received {name} scheduling shutdown...")
    assert before <= int(raw[len(prefix) :].split(")")[0]) <= before + 5
    assert [line.split(" ", 6)[-1] for line in lines[-3:]] == [
        "User requested shutdown...",
        "Removing the pid file.",
        "Sentinel is now ready to exit, bye bye...",
    ]
    assert not pidfile.exists()
