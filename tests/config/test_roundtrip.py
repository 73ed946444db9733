"""Property: a rendered config parses back into the same config (spec §2.8 ↔ §2.4)."""

from __future__ import annotations

import string
import sys
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from pysentinel.config import (
    KnownSentinel,
    MasterConfig,
    SentinelConfig,
    parse,
    render,
    rewrite_text,
)
from pysentinel.core.types import Addr, LogLevel

# Tokens the rewrite writes unquoted (as redis does) must survive split_args.
_WORD = st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=12)
_HEX40 = st.text("0123456789abcdef", min_size=40, max_size=40)
_INT32 = st.integers(-(2**31), 2**31 - 1)
_POSITIVE = st.integers(1, 2**31 - 1)
_U64 = st.integers(0, 2**64 - 1)
_PORT = st.integers(0, 65535)
# Any text: quoted values go through sdscatrepr and back through split_args.
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
_IPV4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
_IP = st.one_of(_IPV4, st.sampled_from(["::1", "fe80::1", "2001:db8::5"]))
_ADDR = st.builds(Addr, _IP, _PORT)
# An executable that exists wherever the tests run.
_SCRIPT = st.sampled_from([sys.executable])
_DIR = tempfile.gettempdir()


@st.composite
def masters(draw: st.DrawFn) -> MasterConfig:
    replicas = draw(st.lists(_ADDR, max_size=3, unique_by=str))
    sentinels = draw(
        st.lists(
            st.builds(KnownSentinel, addr=_ADDR, runid=_HEX40),
            max_size=3,
            unique_by=lambda s: s.runid,
        )
    )
    renames = draw(
        st.lists(st.tuples(_WORD.map(str.lower), _WORD), max_size=2, unique_by=lambda r: r[0])
    )
    return MasterConfig(
        name=draw(_WORD),
        addr=draw(_ADDR),
        quorum=draw(_POSITIVE),
        down_after_ms=draw(_POSITIVE),
        failover_timeout_ms=draw(_POSITIVE),
        parallel_syncs=draw(_INT32),
        notification_script=draw(st.none() | _SCRIPT),
        client_reconfig_script=draw(st.none() | _SCRIPT),
        auth_pass=draw(st.none() | _WORD),
        auth_user=draw(st.none() | _WORD),
        master_reboot_down_after_period_ms=draw(st.integers(0, 2**31 - 1)),
        rename_commands=tuple(renames),
        config_epoch=draw(_U64),
        leader_epoch=draw(_U64),
        known_replicas=tuple(replicas),
        known_sentinels=tuple(sentinels),
    )


@st.composite
def configs(draw: st.DrawFn) -> SentinelConfig:
    ms = draw(st.lists(masters(), max_size=3, unique_by=lambda m: m.name))
    max_config_epoch = max((m.config_epoch for m in ms), default=0)
    aclfile = draw(st.none() | _TEXT)
    users: list[tuple[str, ...]] = []
    if aclfile is None:
        names = draw(st.lists(_WORD.filter(lambda w: w != "default"), max_size=2, unique=True))
        users = [(n, "on", ">pw", "~*", "+@all") for n in sorted(names)]
    return SentinelConfig(
        myid=draw(st.none() | _HEX40),
        current_epoch=draw(st.integers(max_config_epoch, 2**64 - 1)),
        announce_ip=draw(st.none() | _TEXT),
        announce_port=draw(_INT32),
        deny_scripts_reconfig=draw(st.booleans()),
        resolve_hostnames=draw(st.booleans()),
        announce_hostnames=draw(st.booleans()),
        sentinel_user=draw(st.none() | _WORD),
        sentinel_pass=draw(st.none() | _WORD),
        masters=tuple(ms),
        port=draw(_PORT),
        bind=tuple(draw(st.lists(_IP, max_size=3))),
        bind_source_addr=draw(st.none() | _TEXT),
        protected_mode=draw(st.booleans()),
        daemonize=draw(st.booleans()),
        pidfile=draw(st.none() | _TEXT),
        logfile=draw(st.just("") | _TEXT),
        loglevel=draw(st.sampled_from(LogLevel)),
        dir=_DIR,
        requirepass=draw(st.none() | _TEXT),
        users=tuple(users),
        aclfile=aclfile,
        maxclients=draw(st.integers(1, 2**32 - 1)),
        timeout=draw(st.integers(0, 2**31 - 1)),
        tls_port=draw(_PORT),
        tls_replication=draw(st.booleans()),
    )


@settings(max_examples=150, deadline=None)
@given(configs())
def test_parse_render_round_trip(config: SentinelConfig) -> None:
    text = render(config)
    assert parse(text) == config
    # Rewriting the rendered file with the same state changes nothing but blank
    # lines (the old file's final newline).
    assert rewrite_text(text, config).rstrip("\n") == text.rstrip("\n")
