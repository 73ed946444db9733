"""INFO sections other than ``# Sentinel``: Server, Clients, Stats, CPU (spec §3.5).

Rules of this module:

* Pure formatting: :func:`info_reply_text` takes the requested section names, the
  counters the client layer keeps (:class:`ServerStats`), the process facts the
  runtime attached to the command (``ProcessStats``, may be None) and the
  ``# Sentinel`` body from the backend, and returns the bulk text.
* Field lists and their order are exactly 7.0.15's in sentinel mode. Values we
  don't measure (memory buffers, network byte counters, I/O thread counters,
  instantaneous rates) are 0, as redis shows them on an idle sentinel; this is
  listed in docs/deviations.md.
* Section selection mirrors sentinelInfoCommand(): no argument, ``default``,
  ``all`` and ``everything`` mean all five sections; names are case-insensitive;
  unsupported names are dropped silently; order is always Server, Clients,
  Stats, CPU, Sentinel; sections are separated by an empty line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import attrs

from pysentinel.core.inputs import ProcessStats

__all__ = ["SECTIONS", "ServerStats", "info_reply_text", "requested_sections"]

#: The sections sentinel supports, in output order.
SECTIONS: Final[tuple[str, ...]] = ("server", "clients", "stats", "cpu", "sentinel")
REDIS_VERSION: Final = "7.0.15"
#: redis's LRU clock resolution and mask (LRU_CLOCK_RESOLUTION, LRU_CLOCK_MAX).
_LRU_CLOCK_MAX: Final = (1 << 24) - 1


@attrs.frozen(kw_only=True)
class ServerStats:
    """What the client layer knows when INFO runs.

    Attributes:
        run_id: the per-process random run id (not the sentinel myid, trap T19).
        tcp_port: the configured port.
        uptime_ms: time since the core started.
        hz: the current timer frequency.
        connected_clients: clients connected now.
        maxclients: the configured limit.
        total_connections_received: clients accepted since start.
        total_commands_processed: commands executed (rejected ones don't count).
        total_error_replies: error replies sent, rejections included.
        pubsub_channels: channels with at least one subscriber.
        pubsub_patterns: patterns with at least one subscriber.
    """

    run_id: str
    tcp_port: int
    uptime_ms: int
    hz: int
    connected_clients: int
    maxclients: int
    total_connections_received: int
    total_commands_processed: int
    total_error_replies: int
    pubsub_channels: int
    pubsub_patterns: int


def requested_sections(args: Sequence[bytes]) -> list[str]:
    """The sections INFO ``args`` select, in output order.

    Mirrors genInfoSectionDict() + the purge in sentinelInfoCommand().
    """
    if not args:
        return list(SECTIONS)
    wanted: set[str] = set()
    for arg in args:
        name = arg.decode(errors="replace").lower()
        if name in ("default", "all", "everything"):
            return list(SECTIONS)
        wanted.add(name)
    return [name for name in SECTIONS if name in wanted]


def _server(stats: ServerStats, proc: ProcessStats | None) -> list[tuple[str, str]]:
    wall_us = proc.wall_time_us if proc else 0
    uptime_s = stats.uptime_ms // 1000
    return [
        ("redis_version", REDIS_VERSION),
        ("redis_git_sha1", "00000000"),
        ("redis_git_dirty", "0"),
        ("redis_build_id", "0"),
        ("redis_mode", "sentinel"),
        ("os", proc.os if proc else ""),
        ("arch_bits", "64"),
        ("monotonic_clock", "POSIX clock_gettime"),
        ("multiplexing_api", "epoll"),
        ("atomicvar_api", "c11-builtin"),
        ("gcc_version", "0.0.0"),
        ("process_id", str(proc.pid if proc else 0)),
        ("process_supervised", "no"),
        ("run_id", stats.run_id),
        ("tcp_port", str(stats.tcp_port)),
        ("server_time_usec", str(wall_us)),
        ("uptime_in_seconds", str(uptime_s)),
        ("uptime_in_days", str(uptime_s // 86400)),
        ("hz", str(stats.hz)),
        ("configured_hz", "10"),
        ("lru_clock", str((wall_us // 1_000_000) & _LRU_CLOCK_MAX)),
        ("executable", proc.executable if proc else ""),
        ("config_file", proc.config_file if proc else ""),
        ("io_threads_active", "0"),
    ]


def _clients(stats: ServerStats, proc: ProcessStats | None) -> list[tuple[str, str]]:
    return [
        ("connected_clients", str(stats.connected_clients)),
        ("cluster_connections", "0"),
        ("maxclients", str(stats.maxclients)),
        ("client_recent_max_input_buffer", "0"),
        ("client_recent_max_output_buffer", "0"),
        ("blocked_clients", "0"),
        ("tracking_clients", "0"),
        ("clients_in_timeout_table", "0"),
    ]


#: Stats fields that are always 0 in sentinel (or that we don't measure), in order,
#: split around the ones we do count.
_STATS_ZERO_A: Final = [
    "instantaneous_ops_per_sec",
    "total_net_input_bytes",
    "total_net_output_bytes",
    "total_net_repl_input_bytes",
    "total_net_repl_output_bytes",
]
_STATS_KBPS: Final = [
    "instantaneous_input_kbps",
    "instantaneous_output_kbps",
    "instantaneous_input_repl_kbps",
    "instantaneous_output_repl_kbps",
]
_STATS_ZERO_B: Final = [
    "rejected_connections",
    "sync_full",
    "sync_partial_ok",
    "sync_partial_err",
    "expired_keys",
]
_STATS_ZERO_C: Final = [
    "expired_time_cap_reached_count",
    "expire_cycle_cpu_milliseconds",
    "evicted_keys",
    "evicted_clients",
    "total_eviction_exceeded_time",
    "current_eviction_exceeded_time",
    "keyspace_hits",
    "keyspace_misses",
]
_STATS_ZERO_D: Final = [
    "pubsubshard_channels",
    "latest_fork_usec",
    "total_forks",
    "migrate_cached_sockets",
    "slave_expires_tracked_keys",
    "active_defrag_hits",
    "active_defrag_misses",
    "active_defrag_key_hits",
    "active_defrag_key_misses",
    "total_active_defrag_time",
    "current_active_defrag_time",
    "tracking_total_keys",
    "tracking_total_items",
    "tracking_total_prefixes",
    "unexpected_error_replies",
]
_STATS_ZERO_E: Final = [
    "dump_payload_sanitizations",
    "total_reads_processed",
    "total_writes_processed",
    "io_threaded_reads_processed",
    "io_threaded_writes_processed",
    "reply_buffer_shrinks",
    "reply_buffer_expands",
]


def _stats(stats: ServerStats, proc: ProcessStats | None) -> list[tuple[str, str]]:
    out = [
        ("total_connections_received", str(stats.total_connections_received)),
        ("total_commands_processed", str(stats.total_commands_processed)),
    ]
    out += [(name, "0") for name in _STATS_ZERO_A]
    out += [(name, "0.00") for name in _STATS_KBPS]
    out += [(name, "0") for name in _STATS_ZERO_B]
    out.append(("expired_stale_perc", "0.00"))
    out += [(name, "0") for name in _STATS_ZERO_C]
    out.append(("pubsub_channels", str(stats.pubsub_channels)))
    out.append(("pubsub_patterns", str(stats.pubsub_patterns)))
    out += [(name, "0") for name in _STATS_ZERO_D]
    out.append(("total_error_replies", str(stats.total_error_replies)))
    out += [(name, "0") for name in _STATS_ZERO_E]
    return out


def _cpu(stats: ServerStats, proc: ProcessStats | None) -> list[tuple[str, str]]:
    sys_ = proc.used_cpu_sys if proc else 0.0
    user = proc.used_cpu_user if proc else 0.0
    # One thread does all the work, so the main-thread times are the process times.
    return [
        ("used_cpu_sys", f"{sys_:.6f}"),
        ("used_cpu_user", f"{user:.6f}"),
        ("used_cpu_sys_children", f"{proc.used_cpu_sys_children if proc else 0.0:.6f}"),
        ("used_cpu_user_children", f"{proc.used_cpu_user_children if proc else 0.0:.6f}"),
        ("used_cpu_sys_main_thread", f"{sys_:.6f}"),
        ("used_cpu_user_main_thread", f"{user:.6f}"),
    ]


_BUILDERS: Final[
    dict[str, tuple[str, Callable[[ServerStats, ProcessStats | None], list[tuple[str, str]]]]]
] = {
    "server": ("Server", _server),
    "clients": ("Clients", _clients),
    "stats": ("Stats", _stats),
    "cpu": ("CPU", _cpu),
}


def info_reply_text(
    sections: Sequence[str],
    stats: ServerStats,
    proc: ProcessStats | None,
    sentinel_body: Callable[[], str],
) -> str:
    """The INFO bulk text for ``sections`` (as returned by :func:`requested_sections`).

    ``sentinel_body`` is called only when the Sentinel section is wanted; it returns
    the section body without title, lines joined by CRLF.

    Mirrors genRedisInfoString() for the sections sentinel keeps.
    """
    parts: list[str] = []
    for name in sections:
        if name == "sentinel":
            body = sentinel_body()
            parts.append("# Sentinel\r\n" + (body + "\r\n" if body else ""))
            continue
        title, build = _BUILDERS[name]
        lines = "".join(f"{key}:{value}\r\n" for key, value in build(stats, proc))
        parts.append(f"# {title}\r\n{lines}")
    return "\r\n".join(parts)
