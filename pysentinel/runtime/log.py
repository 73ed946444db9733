"""redis's log line format, written to ``logfile`` or stdout.

Each line is ``<pid>:X <DD Mon YYYY HH:MM:SS.mmm> <c> <text>`` (spec §4.3), local time,
``<c>`` one of ``. - * #`` for debug, verbose, notice, warning. Lines below ``loglevel``
are dropped. Like redis's ``serverLogRaw`` we open the log file in append mode for every
line, so an external ``logrotate`` that moves the file just works.

Blocking writes are fine here: redis does the same, lines are short, and keeping the
write synchronous keeps log lines in the order the effects were executed.
"""

from __future__ import annotations

import os
import sys
import time

from pysentinel.core.types import LogLevel

__all__ = ["Logger", "format_line"]


def format_line(pid: int, level: LogLevel, text: str, wall: float) -> str:
    """One log line (with newline) for ``text`` at ``level``; ``wall`` is epoch seconds."""
    stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(wall))
    millis = int(wall * 1000) % 1000
    return f"{pid}:X {stamp}.{millis:03d} {level.char} {text}\n"


class Logger:
    """Writes redis-format lines to ``logfile`` (append) or to stdout when it is ``""``.

    Args:
        logfile: path of the log file, or ``""`` for stdout.
        level: lines below this level are dropped.
    """

    def __init__(self, logfile: str, level: LogLevel) -> None:
        self.logfile = logfile
        self.level = level

    def log(self, level: LogLevel, text: str) -> None:
        """Write ``text`` at ``level`` if the level is enabled. Mirrors serverLog()."""
        if level < self.level:
            return
        self._write(format_line(os.getpid(), level, text, time.time()))

    def raw(self, line: str) -> None:
        """Write ``line`` as is (plus a newline), like serverLogFromHandler's lines."""
        self._write(line + "\n")

    def _write(self, line: str) -> None:
        if not self.logfile:
            sys.stdout.write(line)
            sys.stdout.flush()
            return
        try:
            with open(self.logfile, "a", encoding="utf-8", errors="surrogateescape") as f:
                f.write(line)
        except OSError:
            # redis silently drops a line it cannot write (serverLogRaw returns on fopen
            # failure); there is nowhere else to report it.
            return
