"""Effects: imperative instructions the core returns for a driver to carry out.

Rules of this module:

* Every effect is a frozen ``attrs`` class of plain data whose repr is valid Python.
* Drivers execute effects strictly in list order. Order matters: replies to one
  client must go out in the order they were produced (pipelining), and
  ``Send`` effects on one link are the order the core will match replies in.
* The core never waits for an effect's outcome inside one call. Outcomes come back
  later as inputs (``LinkConnected``, ``LinkReply``, ``ScriptExited`` ...), except
  for ``PersistConfig``, whose outcome only affects the reply it carries.
* Don't subclass these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import attrs

from pysentinel.core.types import Addr, ClientId, LinkId, LinkKind, LogLevel, ScriptId
from pysentinel.core.values import Value

if TYPE_CHECKING:
    from pysentinel.config import SentinelConfig

__all__ = [
    "Close",
    "CloseClient",
    "Connect",
    "Effect",
    "Emit",
    "Exit",
    "KillScript",
    "Log",
    "PersistConfig",
    "Reply",
    "RunScript",
    "Send",
]


# --- outbound links ------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Connect:
    """Open a TCP connection for ``link`` to ``addr`` (non-blocking).

    The driver answers later with ``LinkConnected`` or ``LinkDropped``.
    ``source_host`` is ``bind-source-addr`` when configured.
    """

    link: LinkId
    kind: LinkKind
    addr: Addr
    source_host: str | None = None


@attrs.frozen(kw_only=True)
class Close:
    """Close ``link``. No ``LinkDropped`` follows; replies still in flight are discarded."""

    link: LinkId


@attrs.frozen(kw_only=True)
class Send:
    """Write one command (RESP2 multibulk of ``argv``) on ``link``.

    If the link is not connected (any more), the driver drops the command; the core
    learns of the loss through ``LinkDropped``.
    """

    link: LinkId
    argv: tuple[bytes, ...]


# --- our own clients --------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Reply:
    """Send ``value`` to ``client``, encoded in RESP ``proto`` (2 or 3).

    Pub/sub deliveries to subscribers are ``Reply`` effects too (a ``Push`` value).
    """

    client: ClientId
    value: Value
    proto: int = 2


@attrs.frozen(kw_only=True)
class CloseClient:
    """Close ``client``'s connection after the replies already queued for it are written."""

    client: ClientId


# --- process-level ------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Emit:
    """A sentinel event happened (spec §4.1): ``<type> <payload>`` at ``level``.

    The driver logs ``f"{type} {payload}"`` when ``level >= loglevel``. Publishing to
    local subscribers and queueing the notification script are already done by the
    core (as ``Reply`` and ``RunScript`` effects); this effect is for logs and traces.
    """

    level: LogLevel
    type: str
    payload: str


@attrs.frozen(kw_only=True)
class Log:
    """A log line that is not an event (spec §4.3 table), e.g. ``Sentinel ID is ...``."""

    level: LogLevel
    text: str


@attrs.frozen(kw_only=True)
class PersistConfig:
    """Flush: rewrite the config file from ``config`` (spec §2.7, §2.8).

    The driver logs ``Sentinel new configuration saved on disk`` on success, or
    ``WARNING: Sentinel was not able to save the new configuration on disk!!!: <err>``.
    If ``reply_to`` is set, the command that caused the flush is still waiting for
    its reply: the driver sends ``+OK`` (in RESP ``proto``) on success, or
    ``-ERR Failed to save config file. Check server logs.`` on failure.
    """

    config: SentinelConfig
    reply_to: ClientId | None = None
    proto: int = 2


@attrs.frozen(kw_only=True)
class RunScript:
    """Spawn ``argv`` (argv[0] is the path; no shell).

    Answered by ``ScriptStarted`` and ``ScriptExited``.
    """

    script: ScriptId
    argv: tuple[str, ...]


@attrs.frozen(kw_only=True)
class KillScript:
    """SIGKILL the running script ``script`` (max runtime exceeded)."""

    script: ScriptId


@attrs.frozen(kw_only=True)
class Exit:
    """Stop the process with ``code`` after carrying out the effects before this one.

    ``SHUTDOWN`` gives 0; ``SIMULATE-FAILURE`` crashes give 99 (spec T31).
    """

    code: int


Effect: TypeAlias = (
    "Connect | Close | Send | Reply | CloseClient | Emit | Log | PersistConfig"
    " | RunScript | KillScript | Exit"
)
