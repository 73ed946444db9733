"""INFO sections Server/Clients/Stats/CPU (core/serverinfo.py)."""

from __future__ import annotations

import pytest

from pysentinel.core.inputs import ProcessStats
from pysentinel.core.serverinfo import ServerStats, info_reply_text, requested_sections

STATS = ServerStats(
    run_id="f" * 40,
    tcp_port=26379,
    uptime_ms=90_061_000,
    hz=13,
    connected_clients=2,
    maxclients=10_000,
    total_connections_received=5,
    total_commands_processed=7,
    total_error_replies=3,
    pubsub_channels=1,
    pubsub_patterns=2,
)
PROC = ProcessStats(
    pid=4242,
    executable="/usr/bin/pysentinel",
    config_file="/etc/sentinel.conf",
    os="Linux 6.1 x86_64",
    wall_time_us=1_700_000_000_123_456,
    used_cpu_sys=1.5,
    used_cpu_user=0.25,
)


def _fields(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#"):
            key, _, value = line.partition(":")
            out[key] = value
    return out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), ["server", "clients", "stats", "cpu", "sentinel"]),
        ((b"default",), ["server", "clients", "stats", "cpu", "sentinel"]),
        ((b"all",), ["server", "clients", "stats", "cpu", "sentinel"]),
        ((b"everything",), ["server", "clients", "stats", "cpu", "sentinel"]),
        ((b"cpu", b"all"), ["server", "clients", "stats", "cpu", "sentinel"]),
        ((b"sentinel", b"SERVER", b"replication"), ["server", "sentinel"]),
        ((b"replication", b"memory"), []),
        ((b"CPU", b"cpu"), ["cpu"]),
    ],
)
def test_serverinfo_requested_sections(args: tuple[bytes, ...], expected: list[str]) -> None:
    assert requested_sections(args) == expected


def test_serverinfo_layout_and_values() -> None:
    text = info_reply_text(
        ["server", "clients", "stats", "cpu", "sentinel"],
        STATS,
        PROC,
        lambda: "sentinel_masters:0\r\nsentinel_tilt:0",
    )
    assert text.startswith("# Server\r\nredis_version:7.0.15\r\n")
    assert "\r\n\r\n# Clients\r\nconnected_clients:2\r\n" in text
    assert "\r\n\r\n# Sentinel\r\nsentinel_masters:0\r\nsentinel_tilt:0\r\n" in text
    assert text.endswith("sentinel_tilt:0\r\n")
    fields = _fields(text)
    assert fields["redis_mode"] == "sentinel"
    assert fields["process_id"] == "4242"
    assert fields["run_id"] == "f" * 40
    assert fields["tcp_port"] == "26379"
    assert fields["uptime_in_seconds"] == "90061"
    assert fields["uptime_in_days"] == "1"
    assert fields["hz"] == "13"
    assert fields["configured_hz"] == "10"
    assert fields["server_time_usec"] == "1700000000123456"
    assert fields["lru_clock"] == str(1_700_000_000 & ((1 << 24) - 1))
    assert fields["executable"] == "/usr/bin/pysentinel"
    assert fields["config_file"] == "/etc/sentinel.conf"
    assert fields["os"] == "Linux 6.1 x86_64"
    assert fields["maxclients"] == "10000"
    assert fields["total_connections_received"] == "5"
    assert fields["total_commands_processed"] == "7"
    assert fields["total_error_replies"] == "3"
    assert fields["pubsub_channels"] == "1"
    assert fields["pubsub_patterns"] == "2"
    assert fields["instantaneous_input_kbps"] == "0.00"
    assert fields["used_cpu_sys"] == "1.500000"
    assert fields["used_cpu_user_main_thread"] == "0.250000"
    assert fields["used_cpu_sys_children"] == "0.000000"
    # The Tcl suite (13-info-command) checks these are present / absent.
    for present in ("redis_version", "maxclients", "used_cpu_user", "sentinel_tilt"):
        assert present in fields
    for absent in ("used_memory", "rdb_last_bgsave", "master_repl_offset", "cluster_enabled"):
        assert absent not in fields


def test_serverinfo_stats_field_order() -> None:
    text = info_reply_text(["stats"], STATS, None, lambda: "")
    keys = [line.partition(":")[0] for line in text.split("\r\n")[1:] if line]
    assert keys[:3] == [
        "total_connections_received",
        "total_commands_processed",
        "instantaneous_ops_per_sec",
    ]
    assert keys[-2:] == ["reply_buffer_shrinks", "reply_buffer_expands"]
    assert len(keys) == 50


def test_serverinfo_without_process_stats_and_sentinel_body_only_when_asked() -> None:
    calls: list[int] = []

    def body() -> str:
        calls.append(1)
        return ""

    text = info_reply_text(["server", "cpu"], STATS, None, body)
    assert calls == []
    fields = _fields(text)
    assert fields["process_id"] == "0"
    assert fields["used_cpu_user"] == "0.000000"
    assert info_reply_text([], STATS, None, body) == ""
    assert info_reply_text(["sentinel"], STATS, None, body) == "# Sentinel\r\n"
    assert calls == [1]
