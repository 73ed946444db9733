"""Inputs: past-tense facts the drivers feed to ``Sentinel.handle(input, now)``.

Rules of this module:

* Every input is a frozen ``attrs`` class of plain data (no sockets, no callbacks)
  whose repr is valid Python, so a failing Hypothesis example pastes into a test.
* Names are past tense (h2's ``DataReceived``): the driver reports what happened;
  the core decides what it means.
* Replies on an outbound link are matched to requests by order, exactly as Redis
  pipelining does; the core keeps the queue of what it sent on each link.
* Don't subclass these.
"""

from __future__ import annotations

from typing import TypeAlias

import attrs

from pysentinel.core.types import ClientId, LinkId, ScriptId
from pysentinel.core.values import InReply

__all__ = [
    "ClientCommand",
    "ClientConnected",
    "ClientDisconnected",
    "Input",
    "LinkConnected",
    "LinkDropped",
    "LinkReply",
    "ProcessStats",
    "ScriptExited",
    "ScriptStarted",
]


# --- outbound links (to masters, replicas and peer sentinels) ---------------


@attrs.frozen(kw_only=True)
class LinkConnected:
    """The TCP connection requested by ``Connect(link=...)`` is established.

    ``local_host``/``local_port`` are the socket's own address (getsockname); the
    hello message announces it unless ``sentinel announce-ip`` is set (spec §6.1).
    """

    link: LinkId
    local_host: str
    local_port: int
    #: The far side's IP (getpeername). For an instance known by a hostname
    #: (``resolve-hostnames yes``) it is the address the name resolved to, which is what
    #: redis shows when ``announce-hostnames`` is off (spec §9.5).
    remote_host: str = ""


@attrs.frozen(kw_only=True)
class LinkDropped:
    """The link failed to connect or was closed by the far side or an I/O error.

    Not sent for links the core closed itself with ``Close``. ``error`` is a short
    human text (e.g. ``"Connection refused"``) used in ``-cmd-link-reconnection``.
    """

    link: LinkId
    error: str


@attrs.frozen(kw_only=True)
class LinkReply:
    """One complete RESP frame arrived on the link: a reply, or a pub/sub push."""

    link: LinkId
    reply: InReply


# --- inbound clients (our own port) ------------------------------------------


@attrs.frozen(kw_only=True)
class ClientConnected:
    """A client connected to our listener.

    Args:
        client: the id the driver gave this connection.
        addr: the peer address in redis ``ip:port`` form (``CLIENT LIST addr=``).
        laddr: our local address in the same form (``laddr=``).
        fd: the file descriptor number (``fd=``; any stable int in the simulator).
    """

    client: ClientId
    addr: str
    laddr: str
    fd: int = -1


@attrs.frozen(kw_only=True)
class ProcessStats:
    """Process facts only the driver can read, attached to commands that show them (INFO).

    Times are seconds as floats because that is how INFO prints them; they never
    enter timing logic.
    """

    pid: int
    executable: str
    config_file: str
    os: str
    wall_time_us: int
    used_cpu_sys: float = 0.0
    used_cpu_user: float = 0.0
    used_cpu_sys_children: float = 0.0
    used_cpu_user_children: float = 0.0


@attrs.frozen(kw_only=True)
class ClientCommand:
    """A complete command arrived from a client (RESP multibulk or inline, already split).

    ``proc`` is filled by the runtime for commands whose reply shows process facts
    (INFO); it may be None, in which case those fields show neutral values.
    """

    client: ClientId
    argv: tuple[bytes, ...]
    proc: ProcessStats | None = None


@attrs.frozen(kw_only=True)
class ClientDisconnected:
    """The client's connection is gone (closed by the peer, or after ``CloseClient``)."""

    client: ClientId


# --- scripts -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ScriptStarted:
    """The process for ``RunScript(script=...)`` was spawned with this pid."""

    script: ScriptId
    pid: int


@attrs.frozen(kw_only=True)
class ScriptExited:
    """The script's process ended (or could not be spawned).

    Args:
        exit_code: the exit status when it exited normally, else 0.
        signal: the signal number that killed it, else 0.
        spawn_failed: the process could not be started at all (fork/exec failure
            before a pid existed): spec §9.8 reports this as signal 99, exit 0.
    """

    script: ScriptId
    exit_code: int
    signal: int = 0
    spawn_failed: bool = False


Input: TypeAlias = (
    "LinkConnected | LinkDropped | LinkReply | ClientConnected | ClientCommand"
    " | ClientDisconnected | ScriptStarted | ScriptExited"
)
