"""The ``pysentinel`` command: ``pysentinel FILE [--name value ...]``.

Mirrors redis-sentinel's start-up (spec §2.1): the config path is made absolute
first, the file and the command-line overrides are parsed (a bad line prints
redis's fatal-error banner to stderr and exits 1), the file must exist and be
writable because it stores the state, and then the trio runtime takes over.

Also ``pysentinel --config FILE ...`` (the same), ``--sentinel`` (accepted and
ignored anywhere, for ``redis-server FILE --sentinel`` muscle memory),
``--version``, ``--help`` and ``pysentinel check FILE`` (validate and describe).
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
import time
from collections.abc import Callable, Sequence

from pysentinel import __version__
from pysentinel.config import SentinelConfig, load, masters_summary, parse
from pysentinel.errors import ConfigError

__all__ = ["main"]

USAGE = """\
Usage: pysentinel FILE [--name value ...]
       pysentinel --config FILE [--name value ...]
       pysentinel check FILE [--name value ...]
       pysentinel --version
       pysentinel --help

FILE is a sentinel.conf; pysentinel rewrites it to persist its state, so it must
be writable. Each --name value... option is read as an extra "name value..." line
after the file (the last one wins), as redis-server does. --sentinel is accepted
and ignored.

Examples:
       pysentinel /etc/redis/sentinel.conf
       pysentinel sentinel.conf --port 26380 --loglevel verbose
       pysentinel check sentinel.conf
"""

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _log_warning(message: str) -> None:
    """Print one redis-format warning log line to stdout (no logfile is open yet)."""
    now = time.time()
    t = time.localtime(now)
    stamp = (
        f"{t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{int(now * 1000) % 1000:03d}"
    )
    print(f"{os.getpid()}:X {stamp} # {message}", flush=True)


def _report(error: ConfigError) -> int:
    """Print a config error the way redis-sentinel does and return the exit status."""
    if error.line_number == 0 and not error.line:
        _log_warning(error.reason)
    else:
        sys.stderr.write(error.redis_format())
        sys.stderr.flush()
    return 1


def _split(args: list[str]) -> tuple[str | None, list[str]]:
    """Separate the config path (positional or ``--config``) from the overrides."""
    path: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(args):
        if args[i] == "--config" and i + 1 < len(args) and path is None:
            path = args[i + 1]
            i += 2
            continue
        if i == 0 and not args[i].startswith("--"):
            path = args[i]
        else:
            rest.append(args[i])
        i += 1
    return path, rest


def _not_writable_reason(path: str) -> str:
    """The ``strerror`` ``access(path, W_OK)`` would have set."""
    if not os.path.lexists(path):
        return os.strerror(errno.ENOENT)
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return os.strerror(errno.EROFS)
    except OSError as exc:
        return os.strerror(exc.errno or errno.EACCES)
    return os.strerror(errno.EACCES)


def _check(args: list[str]) -> int:
    path, rest = _split(args)
    if path is None:
        sys.stderr.write("pysentinel check: a config file is required\n")
        return 1
    path = os.path.abspath(path)
    try:
        config = load(path, rest)
    except ConfigError as error:
        return _report(error)
    print(f"{path}: OK, port {config.port}, {len(config.masters)} master(s)")
    for line in masters_summary(config):
        print(line)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run pysentinel; returns the process exit status.

    Args:
        argv: the arguments after the program name (``sys.argv[1:]`` by default).
    """
    args = [a for a in (sys.argv[1:] if argv is None else argv) if a != "--sentinel"]
    if args and args[0] in ("--version", "-v"):
        print(f"pysentinel {__version__} (redis-sentinel 7.0.15 compatible)")
        return 0
    if args and args[0] in ("--help", "-h"):
        print(USAGE, end="")
        return 0
    if args and args[0] == "check":
        return _check(args[1:])
    path, rest = _split(args)
    if path is not None:
        # Absolute before anything else: a later `dir` must not move the file.
        path = os.path.abspath(path)
    try:
        config: SentinelConfig = load(path, rest) if path is not None else parse("", overrides=rest)
    except ConfigError as error:
        return _report(error)
    if path is None:
        _log_warning("Sentinel needs config file on disk to save state. Exiting...")
        return 1
    if not os.access(path, os.W_OK):
        reason = _not_writable_reason(path)
        _log_warning(f"Sentinel config file {path} is not writable: {reason}. Exiting...")
        return 1
    try:
        # Imported by name: the runtime is optional at type-check time, and a build
        # without it must say so rather than pretend to run.
        driver = importlib.import_module("pysentinel.runtime.driver")
    except ModuleNotFoundError as exc:
        if exc.name not in ("pysentinel.runtime.driver", "pysentinel.runtime"):
            raise
        sys.stderr.write("pysentinel: the runtime is not available in this build; cannot monitor\n")
        return 1
    run_sentinel: Callable[[SentinelConfig, str], int] = driver.run_sentinel
    return run_sentinel(config, path)


if __name__ == "__main__":
    sys.exit(main())
