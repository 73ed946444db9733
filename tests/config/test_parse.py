"""Parsing sentinel.conf (spec §2.2-§2.6): load order, lenient numbers, every error."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pysentinel.config import (
    KnownSentinel,
    SentinelConfig,
    c_atoi,
    c_strtoull,
    load,
    override_lines,
    parse,
)
from pysentinel.core.types import Addr, LogLevel
from pysentinel.errors import ConfigError

MYID = "a" * 40
M = "sentinel monitor m 127.0.0.1 6379 2"

# (config text, 1-based line of the error, redis-sentinel 7.0.15's reason)
ERRORS = [
    ("sentinel monitor m 127.0.0.1 6379 0", 1, "Quorum must be 1 or greater."),
    ("sentinel monitor m 127.0.0.1 6379 x", 1, "Quorum must be 1 or greater."),
    ("sentinel monitor m 127.0.0.1 70000 1", 1, "Invalid port number."),
    ("sentinel monitor m 127.0.0.1 -1 1", 1, "Invalid port number."),
    ("sentinel monitor m no.such.host.invalid 6379 1", 1, "Can't resolve instance hostname."),
    (f"{M}\n{M}", 2, "Duplicate master name."),
    ("sentinel monitor m 127.0.0.1 6379", 1, "Unrecognized sentinel configuration statement."),
    ("sentinel frobnicate 1", 1, "Unrecognized sentinel configuration statement."),
    ("sentinel down-after-milliseconds x 5", 1, "No such master with specified name."),
    (f"{M}\nsentinel down-after-milliseconds m 0", 2, "negative or zero time parameter."),
    (f"{M}\nsentinel failover-timeout m -5", 2, "negative or zero time parameter."),
    (
        f"{M}\nsentinel master-reboot-down-after-period m -1",
        2,
        "negative time parameter.",
    ),
    (
        f"{M}\nsentinel notification-script m /nonexistent/script.sh",
        2,
        "Notification script seems non existing or non executable.",
    ),
    (
        f"{M}\nsentinel client-reconfig-script m /nonexistent/script.sh",
        2,
        "Client reconfiguration script seems non existing or non executable.",
    ),
    (
        f"{M}\nsentinel rename-command m PING P1\nsentinel rename-command m ping P2",
        3,
        "Same command renamed multiple times with rename-command.",
    ),
    (
        f"{M}\nsentinel known-replica m 127.0.0.1 6380\nsentinel known-slave m 127.0.0.1 6380",
        3,
        "Duplicate hostname and port for replica.",
    ),
    (f"{M}\nsentinel known-replica m 127.0.0.1 99999", 2, "Invalid port number."),
    (f"{M}\nsentinel known-replica m localhost 6380", 2, "Can't resolve instance hostname."),
    (
        f"{M}\nsentinel known-sentinel m 127.0.0.1 1 {MYID}\n"
        f"sentinel known-sentinel m 127.0.0.2 2 {MYID}",
        3,
        "Duplicate runid for sentinel.",
    ),
    ("sentinel myid abc", 1, "Malformed Sentinel id in myid option."),
    (
        "sentinel deny-scripts-reconfig maybe",
        1,
        "Please specify yes or no for the deny-scripts-reconfig options.",
    ),
    (
        "sentinel resolve-hostnames 1",
        1,
        "Please specify yes or no for the resolve-hostnames option.",
    ),
    (
        "sentinel announce-hostnames 0",
        1,
        "Please specify yes or no for the announce-hostnames option.",
    ),
    ("foo bar", 1, "Bad directive or wrong number of arguments"),
    ("include", 1, "Bad directive or wrong number of arguments"),
    ("port 1 2", 1, "wrong number of arguments"),
    ("port abc", 1, "argument couldn't be parsed into an integer"),
    ("port 70000", 1, "argument must be between 0 and 65535 inclusive"),
    ("maxclients 0", 1, "argument must be between 1 and 4294967295 inclusive"),
    ("daemonize maybe", 1, "argument must be 'yes' or 'no'"),
    (
        "loglevel loud",
        1,
        "argument(s) must be one of the following: debug, verbose, notice, warning",
    ),
    ("dir /nonexistent-dir-for-test", 1, "No such file or directory"),
    ('dir ""', 1, "No such file or directory"),
    ("dir /etc/hostname", 1, "Not a directory"),
    ("bind " + " ".join(["127.0.0.1"] * 17), 1, "Too many bind addresses specified."),
    ('# c\n\nport "1', 3, "Unbalanced quotes in configuration line"),
]


@pytest.mark.parametrize(("text", "line_number", "reason"), ERRORS)
def test_parse_error_reason_and_line(text: str, line_number: int, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text + "\n", path="/x/sentinel.conf")
    error = info.value
    assert error.reason == reason
    assert error.line_number == line_number
    assert error.line == text.split("\n")[line_number - 1]
    assert error.path == "/x/sentinel.conf"
    assert error.redis_format() == (
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
        f"Reading the configuration file, at line {line_number}\n"
        f">>> '{error.line}'\n{reason}\n"
    )


@pytest.mark.interop
@pytest.mark.parametrize(("text", "line_number", "reason"), ERRORS)
def test_parse_error_matches_real_redis_sentinel(
    text: str, line_number: int, reason: str, tmp_path: Path
) -> None:
    """Differential: the real 7.0.15 binary prints the same banner for the same file.

    These files never get past config loading, so no port is opened.
    """
    binary = shutil.which("redis-sentinel")
    if binary is None:
        pytest.fail("redis-sentinel is not installed (apt-get install redis-sentinel)")
    path = tmp_path / "sentinel.conf"
    path.write_text(text + "\n")
    real = subprocess.run(
        [binary, str(path)], capture_output=True, text=True, timeout=10, check=False
    )
    ours = subprocess.run(
        ["python", "-m", "pysentinel", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert real.returncode == ours.returncode == 1
    assert ours.stderr == real.stderr


def test_parse_options_before_monitor_apply_after_it() -> None:
    """Spec §2.3: per-master options may precede their monitor line."""
    config = parse(
        "sentinel down-after-milliseconds m 5000\n"
        "sentinel known-replica m 127.0.0.1 6380\n"
        f"sentinel config-epoch m 7\n{M}\n"
    )
    (master,) = config.masters
    assert master.down_after_ms == 5000
    assert master.known_replicas == (Addr("127.0.0.1", 6380),)
    assert master.config_epoch == 7
    assert config.current_epoch == 7  # raised by config-epoch


def test_parse_pre_monitor_options_apply_first() -> None:
    # resolve-hostnames after the monitor line still lets the monitor use a name.
    config = parse("sentinel monitor m localhost 6379 1\nsentinel resolve-hostnames yes\n")
    assert config.masters[0].addr == Addr("localhost", 6379)
    assert config.resolve_hostnames


def test_parse_unresolvable_name_accepted_with_resolve_hostnames() -> None:
    config = parse("sentinel resolve-hostnames yes\nsentinel monitor m no.such.invalid 1 1\n")
    assert config.masters[0].addr == Addr("no.such.invalid", 1)


def test_parse_generic_errors_win_over_earlier_sentinel_errors() -> None:
    # Generic lines are applied while reading; sentinel ones only afterwards.
    with pytest.raises(ConfigError) as info:
        parse("sentinel myid short\nport x\n")
    assert info.value.line_number == 2


def test_parse_lenient_numbers() -> None:
    """Trap T26: sentinel numbers are C atoi/strtoull."""
    config = parse(
        "sentinel monitor m 127.0.0.1 6379x 2abc\n"
        "sentinel parallel-syncs m junk\n"
        "sentinel failover-timeout m 20000ms\n"
        "sentinel current-epoch 12x\n"
        "sentinel announce-port 99999\n"
    )
    (master,) = config.masters
    assert master.addr.port == 6379
    assert master.quorum == 2
    assert master.parallel_syncs == 0
    assert master.failover_timeout_ms == 20000
    assert config.current_epoch == 12
    assert config.announce_port == 99999
    assert c_atoi("  -12z") == -12
    assert c_atoi("4294967297") == 1  # truncated to a 32-bit int
    assert c_atoi("99999999999999999999") == -1  # saturated long, then truncated
    assert c_strtoull("-1") == 2**64 - 1
    assert c_strtoull("99999999999999999999999") == 2**64 - 1


def test_parse_case_insensitive_names_and_yes_no() -> None:
    config = parse(
        "SENTINEL RESOLVE-HOSTNAMES NO\nPort 1234\nSentinel Monitor m 127.0.0.1 1 1\n"
        "sentinel DENY-scripts-reconfig No\nprotected-mode YES\n"
    )
    assert config.port == 1234
    assert config.masters[0].name == "m"
    assert not config.deny_scripts_reconfig
    assert config.protected_mode


def test_parse_known_sentinel_forms() -> None:
    config = parse(
        f"{M}\nsentinel known-sentinel m 127.0.0.1 26380\n"
        f"sentinel known-sentinel nomaster 127.0.0.1 26380\n"
        f"sentinel known-sentinel m 127.0.0.1 26381 {MYID}\n"
    )
    assert config.masters[0].known_sentinels == (
        KnownSentinel(addr=Addr("127.0.0.1", 26381), runid=MYID),
    )


def test_parse_addresses_are_canonical_ips() -> None:
    config = parse(
        "sentinel monitor m 127.1 1 1\nsentinel known-replica m ::ffff:1.2.3.4 2\n"
        "sentinel known-replica m 0:0::1 3\n"
    )
    (master,) = config.masters
    assert master.addr == Addr("127.0.0.1", 1)
    assert [str(a) for a in master.known_replicas] == ["[::ffff:1.2.3.4]:2", "[::1]:3"]


def test_parse_empty_strings_mean_unset() -> None:
    config = parse(
        'sentinel announce-ip ""\nsentinel sentinel-user ""\nsentinel sentinel-pass ""\n'
        'pidfile ""\n'
    )
    assert config == SentinelConfig(dir=config.dir)


def test_parse_bare_sentinel_and_blank_lines_ignored() -> None:
    assert parse("sentinel\n\n   \n# x\n  # y\n\t\r\n").masters == ()


def test_parse_deprecated_and_real_redis_directives_accepted() -> None:
    config = parse(
        "repl-diskless-sync-delay 0\nenable-protected-configs yes\nenable-debug-command yes\n"
        "tls-cluster yes\nloglevel debug\nlist-max-ziplist-entries 5\nslaveof 1.2.3.4 5\n"
        'save 900 1 300 10\nrename-command FLUSHALL ""\nuser alice on >pw ~* +@all\n'
    )
    assert config.loglevel is LogLevel.DEBUG
    assert config.users == (("alice", "on", ">pw", "~*", "+@all"),)


def test_parse_overrides_are_lines_after_the_file() -> None:
    assert override_lines(["--port", "1", "--bind", "a b", "c", "--sentinel"]) == [
        'port "1"',
        'bind "a b" "c"',
        "sentinel",
    ]
    config = parse("port 1\n", overrides=["--port", "2", "--port", "3", "--sentinel"])
    assert config.port == 3
    with pytest.raises(ConfigError) as info:
        parse("port 1\n", overrides=["--port", "x"])
    assert info.value.line_number == 3  # "port 1\n" + "\n" + 'port "x"'
    assert info.value.line == 'port "x"'


def test_parse_generic_values(tmp_path: Path) -> None:
    config = parse(
        f"dir {tmp_path}\nbind 127.0.0.1 ::1\nbind-source-addr 10.0.0.1\nlogfile 'a b'\n"
        "requirepass secret\nmaxclients 5\ntimeout 7\ntls-port 6390\ntls-replication yes\n"
        "daemonize yes\npidfile /run/p.pid\naclfile /etc/users.acl\n"
    )
    assert config.dir == str(tmp_path)
    assert config.bind == ("127.0.0.1", "::1")
    assert config.bind_source_addr == "10.0.0.1"
    assert config.logfile == "a b"
    assert config.requirepass == "secret"
    assert (config.maxclients, config.timeout, config.tls_port) == (5, 7, 6390)
    assert config.tls_replication and config.daemonize
    assert config.pidfile == "/run/p.pid"
    assert config.aclfile == "/etc/users.acl"


def test_parse_scripts_checked_relative_to_dir(tmp_path: Path) -> None:
    script = tmp_path / "notify.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    config = parse(f"dir {tmp_path}\n{M}\nsentinel notification-script m notify.sh\n")
    assert config.masters[0].notification_script == "notify.sh"
    script.chmod(0o644)
    with pytest.raises(ConfigError):
        parse(f"dir {tmp_path}\n{M}\nsentinel notification-script m notify.sh\n")


def test_load_include_and_errors_in_included_file(tmp_path: Path) -> None:
    inc = tmp_path / "inc.conf"
    inc.write_text(f"{M}\nsentinel parallel-syncs m 3\n")
    main = tmp_path / "sentinel.conf"
    main.write_text(f"include {inc}\nport 7000\n")
    config = load(str(main))
    assert config.port == 7000
    assert config.masters[0].parallel_syncs == 3
    inc.write_text("\nbogus\n")
    with pytest.raises(ConfigError) as info:
        load(str(main))
    assert (info.value.path, info.value.line_number) == (str(inc), 2)
    main.write_text(f"include {tmp_path}/missing.conf\n")
    with pytest.raises(ConfigError) as info:
        load(str(main))
    assert info.value.line_number == 0
    assert "can't open config file" in info.value.reason


def test_parse_relative_dir_follows_previous_dir(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    config = parse(f"dir {tmp_path}\ndir sub\n", cwd=os.sep)
    assert config.dir == str(tmp_path / "sub")


@pytest.mark.parametrize("name", ["sentinel.conf", "sentinel-full.conf"])
def test_load_shipped_examples(name: str) -> None:
    path = Path(__file__).parents[2] / "examples" / name
    config = load(str(path))
    (master,) = config.masters
    assert master.name == "mymaster"
    assert master.addr == Addr("127.0.0.1", 6379)
    assert master.quorum == 2
