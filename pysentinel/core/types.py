"""Basic types shared by the whole core.

Rules of this module:

* Everything here is a plain value: ``NewType`` aliases over ``int``/``str`` and
  small frozen ``attrs`` classes. Nothing here knows about links, clients or time
  sources.
* ``Millis`` is always integer milliseconds on the driver's clock (monotonic in the
  runtime, virtual in the simulator). Floats never enter the core's timing logic:
  rounding makes traces fragile.
* Identifiers say ``replica``; ``slave`` appears only in wire strings.
"""

from __future__ import annotations

import enum
from typing import NewType

import attrs

__all__ = [
    "Addr",
    "ClientId",
    "Epoch",
    "LinkId",
    "LinkKind",
    "LogLevel",
    "Millis",
    "Role",
    "RunId",
    "ScriptId",
]

#: Integer milliseconds on the driver's clock.
Millis = NewType("Millis", int)
#: A sentinel epoch (``current_epoch``, ``config_epoch``, ``leader_epoch``).
Epoch = NewType("Epoch", int)
#: A 40-hex-character sentinel id or Redis run id.
RunId = NewType("RunId", str)
#: Stable id of one outbound connection; allocated by the core, never reused.
LinkId = NewType("LinkId", int)
#: Id of one inbound client connection; allocated by the driver, never reused.
ClientId = NewType("ClientId", int)
#: Id of one queued script job; allocated by the core.
ScriptId = NewType("ScriptId", int)


class Role(enum.Enum):
    """The role an instance reports in INFO (wire names)."""

    MASTER = "master"
    SLAVE = "slave"


class LinkKind(enum.Enum):
    """What an outbound link is for (spec §5.3)."""

    #: Commands: AUTH, CLIENT SETNAME, PING, INFO, PUBLISH, SLAVEOF, SENTINEL ...
    COMMAND = "cmd"
    #: Masters and replicas only: SUBSCRIBE __sentinel__:hello.
    PUBSUB = "pubsub"


class LogLevel(enum.IntEnum):
    """redis log levels, ordered so that ``level >= configured`` means "log it"."""

    DEBUG = 0
    VERBOSE = 1
    NOTICE = 2
    WARNING = 3

    @property
    def char(self) -> str:
        """The character redis writes in a log line for this level (spec §4.3)."""
        return ".-*#"[self.value]

    @classmethod
    def from_name(cls, name: str) -> LogLevel:
        """Parse a ``loglevel`` directive value (case-insensitive).

        Raises:
            ValueError: the name is not one of debug, verbose, notice, warning.
        """
        try:
            return cls[name.upper()]
        except KeyError:
            raise ValueError(name) from None


@attrs.frozen
class Addr:
    """A host (IP literal or hostname, as given) and a port.

    ``str(addr)`` is the redis instance-name form: ``ip:port``, or ``[ip]:port`` for
    IPv6 literals.
    """

    host: str
    port: int

    def __str__(self) -> str:
        if ":" in self.host:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"
