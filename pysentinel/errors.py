"""Exceptions raised by pysentinel.

The tree::

    PySentinelError
    ├── ConfigError      bad local input: sentinel.conf or command-line options,
    │                    with file, line number and the offending line
    └── UsageError       misuse of the core API by a driver (a bug in the caller)

A misbehaving peer or client never raises: the core records or ignores bad data
and answers clients with Redis-style ``-ERR`` replies (STYLE §9). Our own bugs are
``assert``s.
"""

from __future__ import annotations

__all__ = ["ConfigError", "PySentinelError", "UsageError"]


class PySentinelError(Exception):
    """Base class of every exception pysentinel raises on purpose."""


class ConfigError(PySentinelError):
    """The configuration is invalid.

    Args:
        reason: redis-sentinel's error text, e.g. ``Quorum must be 1 or greater.``
        path: the file that holds the bad line, if any.
        line_number: 1-based line number in that file (0 when unknown).
        line: the offending line as written.
    """

    def __init__(
        self, reason: str, *, path: str | None = None, line_number: int = 0, line: str = ""
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path
        self.line_number = line_number
        self.line = line

    def redis_format(self) -> str:
        """The fatal error text redis-sentinel 7.0.15 prints to stderr (spec §2.5)."""
        return (
            "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
            f"Reading the configuration file, at line {self.line_number}\n"
            f">>> '{self.line}'\n"
            f"{self.reason}\n"
        )


class UsageError(PySentinelError):
    """A driver called the core in a way its contract forbids."""
