"""The canonical, diffable trace of a run, in redis's own log format.

Each line is ``<pid>:<role> <DD Mon YYYY HH:MM:SS.mmm> <level char> <text>`` (spec
§4.3), with virtual time printed from a fixed wall-clock origin so that the same
seed always prints the same bytes. Roles: ``X`` sentinel, ``M`` redis master, ``S``
redis replica (as redis writes them); the simulator's own lines (faults, client
notes) use pid 0 and role ``F``.
"""

from __future__ import annotations

from typing import Final

__all__ = ["Trace", "timestamp"]

#: Virtual time 0 is printed as 01 Jan 2026 00:00:00.000.
_ORIGIN_YEAR: Final = 2026


def timestamp(ms: int) -> str:
    """``DD Mon YYYY HH:MM:SS.mmm`` for virtual time ``ms`` (January only: runs are short)."""
    day, rest = divmod(ms, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{day + 1:02d} Jan {_ORIGIN_YEAR} {hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


class Trace:
    """Lines in the order they happened."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        #: (time, pid, role, level char, text) for analysis without re-parsing.
        self.records: list[tuple[int, int, str, str, str]] = []

    def add(self, ms: int, pid: int, role: str, level: str, text: str) -> None:
        """Append one line."""
        self.records.append((ms, pid, role, level, text))
        self.lines.append(f"{pid}:{role} {timestamp(ms)} {level} {text}")

    def text(self) -> str:
        """The whole trace, one line each, ending in a newline."""
        return "".join(line + "\n" for line in self.lines)
