"""docs/operations.md: the event table is complete and the systemd unit really works.

* Every ``EventType`` of the core has a row in the event table, with its log level
  character, and the table names no event the core does not have.
* The unit's ``ExecStart`` is started the way systemd starts a ``Type=simple`` service
  (same argv, the program found on PATH, the config path pointed at a scratch copy),
  and must then: be the very process that serves the sentinel port (no fork), and exit
  with status 0 within ``TimeoutStopSec`` of systemd's default ``SIGTERM``.
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis
from docrun import DOCS, free_port, parse_blocks, stop_pid

from pysentinel.core.events import EventType

PAGE = DOCS / "operations.md"
START_TIMEOUT_S = 20.0


def test_docs_operations_event_table_is_complete() -> None:
    rows = re.findall(
        r"^\| `([+-][a-z-]+)` \| `(.)` \|", PAGE.read_text(encoding="utf-8"), re.MULTILINE
    )
    documented = dict(rows)
    assert len(documented) == len(rows), "an event is listed twice"
    assert set(documented) == {e.value for e in EventType}
    for event in EventType:
        assert documented[event.value] == event.level.char, event.value


def _unit() -> configparser.ConfigParser:
    (block,) = [b for b in parse_blocks(PAGE) if b.lang == "ini"]
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(block.text)
    return unit


def test_docs_operations_unit_shape() -> None:
    unit = _unit()
    assert unit.sections() == ["Unit", "Service", "Install"]
    service = unit["Service"]
    assert service["Type"] == "simple"
    assert "KillSignal" not in service  # systemd's default, SIGTERM
    argv = shlex.split(service["ExecStart"])
    assert Path(argv[0]).name == "pysentinel"
    config_dir = str(Path(argv[1]).parent)
    assert config_dir in service["ReadWritePaths"].split(), "the config dir must be writable"


@pytest.mark.interop
def test_docs_operations_unit_execstart_runs_and_stops(tmp_path: Path) -> None:
    service = _unit()["Service"]
    argv = shlex.split(service["ExecStart"])
    program = shutil.which("pysentinel")
    assert program, "pysentinel is not on PATH"
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    # A daemonize line in the file: the unit's --daemonize no must win over it.
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndaemonize yes\n"
        f"pidfile {tmp_path / 'sentinel.pid'}\n"
        "sentinel monitor mymaster 127.0.0.1 1 2\n"
    )
    argv = [program, str(conf), *argv[2:]]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        client = redis.Redis(port=port, socket_timeout=2, decode_responses=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                info = client.info("server")
                break
            except redis.ConnectionError:
                assert proc.poll() is None, "ExecStart exited at once (it must not fork)"
                assert time.monotonic() < deadline, "the sentinel did not start"
                time.sleep(0.05)
        assert info["process_id"] == proc.pid
        assert info["redis_mode"] == "sentinel"
        proc.send_signal(signal.SIGTERM)
        stop_timeout = float(service["TimeoutStopSec"])
        assert proc.wait(timeout=stop_timeout) == 0
        assert proc.stdout is not None
        log = proc.stdout.read().decode()
        assert "Received SIGTERM scheduling shutdown..." in log
        assert "Sentinel is now ready to exit, bye bye..." in log
    finally:
        stop_pid(proc.pid)
        proc.wait(timeout=15)


def test_docs_operations_install_commands_match_the_unit() -> None:
    """The admin commands install the unit and the config where the unit expects them."""
    argv = shlex.split(_unit()["Service"]["ExecStart"])
    root = "\n".join(b.text for b in parse_blocks(PAGE) if b.lang == "sh" and "root" in b.options)
    text = PAGE.read_text(encoding="utf-8")
    assert "`/etc/systemd/system/pysentinel.service`" in text
    assert "/etc/systemd/system/pysentinel.service" in root
    assert f" {argv[1]}\n" in root, "the config is not installed where ExecStart reads it"
    for verb in ("enable --now pysentinel", "disable --now pysentinel", "daemon-reload"):
        assert f"systemctl {verb}" in root
