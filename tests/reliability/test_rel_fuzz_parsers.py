"""Fuzzing the edge parsers (issue 8 item 4): config text, requests, INFO, hello.

tests/resp/test_resp_fuzz.py already checks that request parsing does not depend on
chunking and that replies round-trip; here we add what it does not cover:

* the request parser with ``auth_required`` (redis's tighter limits for
  unauthenticated clients), huge declared counts and lengths (they must fail or wait,
  never allocate what the header claims), and its buffer accounting;
* the config parser: any bytes, and any sequence of lines built from every directive
  name with hostile arguments, raise nothing but :class:`ConfigError`, whose
  ``redis_format()`` names a line that exists in the input;
* ``InfoReport.from_text`` on arbitrary text, and ``process_hello`` on arbitrary
  payloads against a real ``Sentinel``, never raise.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_world import T0, base_config

from pysentinel import config as config_module
from pysentinel import resp
from pysentinel.core import hello
from pysentinel.core.info import InfoReport
from pysentinel.core.sentinel import Sentinel
from pysentinel.errors import ConfigError

#: ``PYSENTINEL_FUZZ_SCALE=50`` multiplies every example count (long manual runs).
SCALE = int(os.environ.get("PYSENTINEL_FUZZ_SCALE", "1"))

# --- requests --------------------------------------------------------------------------------

_HEADERS = st.sampled_from(
    [b"*", b"$", b"*1\r\n", b"*2147483647\r\n", b"*1048577\r\n", b"*-5\r\n", b"*11\r\n",
     b"$536870912\r\n", b"$536870913\r\n", b"$2147483648\r\n", b"$-1\r\n", b"$16385\r\n",
     b"$3\r\nabc\r\n", b"$3\r\nabcd", b"*1\r\n$4\r\nPING\r\n", b"PING\r\n", b"\r\n", b"\n",
     b"AUTH pw\r\n", b'"unbalanced\r\n', b"+OK\r\n", b"x" * 100]
)  # fmt: skip
_STREAM = st.lists(st.one_of(_HEADERS, st.binary(max_size=10)), max_size=20).map(b"".join)


@settings(max_examples=300 * SCALE, deadline=None)
@given(_STREAM, st.booleans(), st.integers(1, 64))
def test_fuzz_request_parser_bounded_and_total(data: bytes, auth: bool, chunk: int) -> None:
    parser = resp.RequestParser(auth_required=auth)
    fed = 0
    try:
        for start in range(0, len(data), chunk):
            parser.feed(data[start : start + chunk])
            fed += len(data[start : start + chunk])
            while (command := parser.next_command()) is not None:
                assert isinstance(command, tuple)
                assert all(isinstance(arg, bytes) for arg in command)
            # What is buffered never exceeds what was fed: a header claiming 2 GB
            # allocates nothing up front.
            assert 0 <= parser.buffered <= fed
    except resp.ProtocolError as exc:
        assert str(exc).startswith("Protocol error: ")
        # Once failed, it stays failed.
        try:
            parser.next_command()
        except resp.ProtocolError as again:
            assert str(again) == str(exc)
        else:
            raise AssertionError("a failed parser produced a command") from exc


def test_fuzz_request_parser_unauthenticated_limits() -> None:
    """The unauthenticated limits of redis 7.0 (networking.c): big counts are refused
    before any argument arrives, authenticated clients may send them."""
    for header, reason in (
        (b"*11\r\n", "Protocol error: unauthenticated multibulk length"),
        (b"*1\r\n$16385\r\n", "Protocol error: unauthenticated bulk length"),
    ):
        parser = resp.RequestParser(auth_required=True)
        parser.feed(header)
        try:
            parser.next_command()
        except resp.ProtocolError as exc:
            assert str(exc) == reason
        else:
            raise AssertionError(f"{header!r} accepted before AUTH")
        trusted = resp.RequestParser(auth_required=False)
        trusted.feed(header)
        assert trusted.next_command() is None


# --- config ----------------------------------------------------------------------------------

_DIRECTIVES = [
    "port", "bind", "dir", "logfile", "pidfile", "daemonize", "protected-mode", "loglevel",
    "requirepass", "maxclients", "timeout", "tls-port", "aclfile", "user", "include",
    "rename-command", "loadmodule", "sentinel", "save", "appendonly", "unknown-directive",
    "SENTINEL", "Port",
]  # fmt: skip
_SENTINEL_SUBS = [
    "monitor", "down-after-milliseconds", "failover-timeout", "parallel-syncs", "quorum",
    "notification-script", "client-reconfig-script", "auth-pass", "auth-user", "myid",
    "current-epoch", "config-epoch", "leader-epoch", "known-replica", "known-slave",
    "known-sentinel", "rename-command", "announce-ip", "announce-port", "announce-hostnames",
    "deny-scripts-reconfig", "sentinel-user", "sentinel-pass", "master-reboot-down-after-period",
    "resolve-hostnames", "bogus",
]  # fmt: skip
_ARGS = [
    "mymaster", "other", "127.0.0.1", "10.0.0.1", "::1", "6379", "0", "-1", "1", "2", "65536",
    "yes", "no", "x", "", '""', "''", '"a b"', "'a\\'b'", '"\\x41\\xzz"', '"unbalanced',
    "a" * 40, "0" * 40, "18446744073709551616", "/nonexistent/script", "/bin/true", ".",
    "..", "/", "*", "/etc/hostname", "nopass", "on", ">pw", "+@all", "~*", "debug", "\x00",
    "\xff", "#", "$(id)", "a;b",
]  # fmt: skip


#: Arguments the rewrite can write back unquoted and read again. sentinel.c writes
#: ``bind``, ``user`` and ``sentinel monitor`` values without quoting, so a value with a
#: blank or a quote, or an empty one, does not survive a rewrite in redis either
#: (docs/reliability.md, "Failures found").
_PLAIN = [a for a in _ARGS if a and not any(c in a for c in " '\"\\\x00")]


def _line(pool: list[str] = _ARGS, *, free_text: bool = True) -> st.SearchStrategy[str]:
    args = st.lists(st.sampled_from(pool), max_size=5)
    lines = [
        st.tuples(st.sampled_from(_DIRECTIVES), args).map(lambda t: " ".join([t[0], *t[1]])),
        st.tuples(st.sampled_from(_SENTINEL_SUBS), args).map(
            lambda t: " ".join(["sentinel", t[0], *t[1]])
        ),
    ]
    if free_text:
        lines.append(st.text(max_size=30))
    return st.one_of(*lines)


def _check_config_text(text: str, cwd: Path, *, round_trip: bool) -> None:
    try:
        parsed = config_module.parse(text, path="fuzz.conf", cwd=str(cwd))
    except ConfigError as exc:
        banner = exc.redis_format()
        assert banner.startswith("\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n")
        if exc.line_number and exc.path == "fuzz.conf":
            lines = text.split("\n")
            assert exc.line_number <= len(lines)
            assert lines[exc.line_number - 1].strip(" \t\r\n") == exc.line
        return
    if not round_trip:
        return
    # A config that loads renders to a file that loads again to the same masters.
    again = config_module.parse(config_module.render(parsed), path="again.conf", cwd=str(cwd))
    assert [m.name for m in again.masters] == [m.name for m in parsed.masters]
    assert [m.addr for m in again.masters] == [m.addr for m in parsed.masters]


@settings(
    max_examples=300 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(_line(), max_size=12))
def test_fuzz_config_lines_raise_only_config_error(tmp_path: Path, lines: list[str]) -> None:
    _check_config_text("\n".join(lines), tmp_path, round_trip=False)


@settings(
    max_examples=300 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(_line(_PLAIN, free_text=False), max_size=12))
def test_fuzz_config_plain_lines_survive_a_rewrite(tmp_path: Path, lines: list[str]) -> None:
    _check_config_text("\n".join(lines), tmp_path, round_trip=True)


@settings(
    max_examples=200 * SCALE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.binary(max_size=200))
def test_fuzz_config_bytes_raise_only_config_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.conf"
    path.write_bytes(data)
    try:
        config_module.load(str(path))
    except ConfigError as exc:
        assert exc.redis_format()


# --- INFO and hello --------------------------------------------------------------------------


@settings(max_examples=300 * SCALE, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(
                [
                    "run_id:",
                    "slave0:",
                    "slave9:ip=,port=",
                    "slave1:ip=::1,port=6379",
                    "role:slave",
                    "master_link_down_since_seconds:",
                    "master_port:-1",
                    "slave_priority:x",
                ]
            ),
        ),
        max_size=10,
    )
)
def test_fuzz_info_report_from_text_total(lines: list[str]) -> None:  # fmt: skip
    report = InfoReport.from_text("\r\n".join(lines))
    assert report.text == "\r\n".join(lines)
    for addr in report.replicas:
        assert isinstance(addr.port, int)
        assert isinstance(addr.host, str)


@settings(max_examples=300 * SCALE, deadline=None)
@given(st.lists(st.text(alphabet="0123456789abcdef.:,mymaster -", max_size=12), max_size=10))
def test_fuzz_process_hello_total(fields: list[str]) -> None:
    sentinel = Sentinel(base_config(), random.Random(0))
    sentinel.start(T0)
    hello.process_hello(sentinel, ",".join(fields), T0)
    # Eight fields with our master's name: the parser must cope with any values.
    hello.process_hello(sentinel, ",".join([*fields[:4], "mymaster", *fields[4:7]]), T0)
