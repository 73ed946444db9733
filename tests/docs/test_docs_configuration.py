"""docs/configuration.md names every sentinel directive, and its defaults are the parser's.

* Every ``sentinel <directive>`` the rewrite knows (the parser's list) has a row in one
  of the page's tables, and every directive in those tables loads.
* The "Default" column is checked against what ``pysentinel.config.parse`` gives for a
  file that does not set the directive.
* Every error text in the "Rejected with" column is one the parser really produces for
  some line (so a reworded error shows up here).
"""

from __future__ import annotations

import re

import pytest
from docrun import DOCS

from pysentinel.config import _SENTINEL_KEYS, SentinelConfig, parse
from pysentinel.core.types import LogLevel
from pysentinel.errors import ConfigError

PAGE = DOCS / "configuration.md"
MONITOR = "sentinel monitor mymaster 127.0.0.1 6379 2\n"


def _rows() -> list[list[str]]:
    rows = []
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def _directive(cell: str) -> str:
    """``sentinel down-after-milliseconds`` from ```sentinel down-after-milliseconds <m> <ms>```."""
    words = cell.strip("`").split()
    return " ".join(words[:2]) if words[0] == "sentinel" else words[0]


def _default(name: str) -> str:
    for row in _rows():
        if _directive(row[0]) == name:
            return row[1]
    raise AssertionError(f"{name} has no row")


def test_docs_configuration_every_sentinel_directive_has_a_row() -> None:
    documented = {_directive(r[0]) for r in _rows()}
    for key in _SENTINEL_KEYS:
        assert f"sentinel {key}" in documented, f"sentinel {key} is not documented"
    assert "`known-slave`" in PAGE.read_text(encoding="utf-8")


def test_docs_configuration_documented_directives_load() -> None:
    samples = {
        "sentinel monitor": "sentinel monitor other 127.0.0.1 6380 2",
        "sentinel down-after-milliseconds": "sentinel down-after-milliseconds mymaster 5000",
        "sentinel failover-timeout": "sentinel failover-timeout mymaster 60000",
        "sentinel parallel-syncs": "sentinel parallel-syncs mymaster 2",
        "sentinel notification-script": "sentinel notification-script mymaster /bin/true",
        "sentinel client-reconfig-script": "sentinel client-reconfig-script mymaster /bin/true",
        "sentinel auth-pass": "sentinel auth-pass mymaster pw",
        "sentinel auth-user": "sentinel auth-user mymaster u",
        "sentinel master-reboot-down-after-period": (
            "sentinel master-reboot-down-after-period mymaster 1000"
        ),
        "sentinel rename-command": "sentinel rename-command mymaster CONFIG MYCONFIG",
        "sentinel announce-ip": "sentinel announce-ip 10.0.0.5",
        "sentinel announce-port": "sentinel announce-port 26390",
        "sentinel resolve-hostnames": "sentinel resolve-hostnames no",
        "sentinel announce-hostnames": "sentinel announce-hostnames no",
        "sentinel deny-scripts-reconfig": "sentinel deny-scripts-reconfig no",
        "sentinel sentinel-user": "sentinel sentinel-user u",
        "sentinel sentinel-pass": "sentinel sentinel-pass p",
        "sentinel myid": "sentinel myid " + "a" * 40,
        "sentinel current-epoch": "sentinel current-epoch 3",
        "sentinel config-epoch": "sentinel config-epoch mymaster 2",
        "sentinel leader-epoch": "sentinel leader-epoch mymaster 2",
        "sentinel known-replica": "sentinel known-replica mymaster 127.0.0.1 6380",
        "sentinel known-sentinel": ("sentinel known-sentinel mymaster 127.0.0.1 26380 " + "b" * 40),
        "port": "port 26390",
        "bind": "bind 127.0.0.1 ::1",
        "bind-source-addr": "bind-source-addr 127.0.0.1",
        "protected-mode": "protected-mode yes",
        "daemonize": "daemonize no",
        "pidfile": "pidfile /tmp/x.pid",
        "logfile": 'logfile ""',
        "loglevel": "loglevel verbose",
        "dir": "dir /",
        "requirepass": "requirepass secret",
        "user": "user alice on >pw +@all",
        "maxclients": "maxclients 100",
    }
    documented = {_directive(r[0]) for r in _rows()}
    assert documented == set(samples)
    for line in samples.values():
        parse(MONITOR + line + "\n")


def test_docs_configuration_defaults_are_the_parsers() -> None:
    config: SentinelConfig = parse(MONITOR)
    (master,) = config.masters
    assert _default("sentinel down-after-milliseconds") == str(master.down_after_ms)
    assert _default("sentinel failover-timeout") == str(master.failover_timeout_ms)
    assert _default("sentinel parallel-syncs") == str(master.parallel_syncs)
    assert _default("sentinel master-reboot-down-after-period") == "0 (off)"
    assert master.master_reboot_down_after_period_ms == 0
    for name in ("notification-script", "client-reconfig-script", "auth-pass", "auth-user"):
        assert _default(f"sentinel {name}") == "none"
        assert getattr(master, name.replace("-", "_")) is None
    yes_no = {"`yes`": True, "`no`": False}
    assert yes_no[_default("sentinel deny-scripts-reconfig")] is config.deny_scripts_reconfig
    assert yes_no[_default("sentinel resolve-hostnames")] is config.resolve_hostnames
    assert yes_no[_default("sentinel announce-hostnames")] is config.announce_hostnames
    assert yes_no[_default("protected-mode")] is config.protected_mode
    assert yes_no[_default("daemonize")] is config.daemonize
    assert _default("sentinel announce-ip") == "unset" and config.announce_ip is None
    assert _default("sentinel announce-port") == "0 (unset)" and config.announce_port == 0
    assert _default("port") == str(config.port)
    assert _default("maxclients") == str(config.maxclients)
    assert _default("loglevel") == f"`{config.loglevel.name.lower()}`"
    assert config.loglevel is LogLevel.NOTICE
    assert _default("logfile") == '`""` (standard output)' and config.logfile == ""
    assert _default("bind") == "all interfaces" and config.bind == ()


def _errors() -> list[str]:
    out = []
    for row in _rows():
        if len(row) == 4 and row[3] != "—" and "Rejected" not in row[3]:
            out += re.findall(r"`([^`]+)`", row[3])
    for row in _rows():
        if len(row) == 3 and row[2] not in ("—",) and row[0].startswith("`sentinel"):
            out += [e for e in re.findall(r"`([^`]+)`", row[2]) if e.endswith(".")]
    return out


BAD_LINES = [
    "sentinel monitor other 127.0.0.1 6379 0",
    "sentinel monitor other 127.0.0.1 70000 2",
    "sentinel monitor other no-such-host.invalid 6379 2",
    "sentinel monitor mymaster 127.0.0.1 6380 2",
    "sentinel down-after-milliseconds mymaster 0",
    "sentinel master-reboot-down-after-period mymaster -1",
    "sentinel notification-script mymaster /nonexistent/notify.sh",
    "sentinel client-reconfig-script mymaster /nonexistent/reconfig.sh",
    "sentinel rename-command mymaster config a\nsentinel rename-command mymaster CONFIG b",
    "sentinel myid abc",
    "sentinel known-replica mymaster 127.0.0.1 6380\n"
    "sentinel known-replica mymaster 127.0.0.1 6380",
    f"sentinel known-sentinel mymaster 127.0.0.1 1 {'c' * 40}\n"
    f"sentinel known-sentinel mymaster 127.0.0.1 2 {'c' * 40}",
    "sentinel down-after-milliseconds nosuchmaster 5000",
    "sentinel parallel-syncs mymaster",
]


def test_docs_configuration_error_texts_are_real() -> None:
    produced = set()
    for bad in BAD_LINES:
        with pytest.raises(ConfigError) as info:
            parse(MONITOR + bad + "\n")
        produced.add(info.value.reason)
    documented = set(_errors())
    documented.update(
        re.findall(r"is the error `([^`]+)`", PAGE.read_text(encoding="utf-8").replace("\n", " "))
    )
    assert documented, "no error texts found in the page"
    assert documented <= produced, documented - produced
