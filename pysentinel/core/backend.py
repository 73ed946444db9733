"""The seam between the client layer (``core/clients.py``) and the sentinel proper.

The client layer owns everything about a connection to our port: the command
table and its generic checks (unknown command, arity, NOAUTH, NOPERM, subscribed
mode — spec §3.1), AUTH/HELLO/ACL, CLIENT, COMMAND, PING, SUBSCRIBE and friends,
SHUTDOWN, and the INFO sections Server/Clients/Stats/CPU. Whatever needs the
monitoring state, it asks the :class:`CommandBackend` — implemented by
``Sentinel`` in ``core/sentinel.py``, and by small fakes in the client layer's
tests.
"""

from __future__ import annotations

from typing import Protocol

from pysentinel.core.effects import Effect
from pysentinel.core.types import ClientId, Millis
from pysentinel.core.values import Value

__all__ = ["CommandBackend"]


class CommandBackend(Protocol):
    """What the client layer needs from the sentinel."""

    def sentinel_command(
        self, client: ClientId, args: tuple[bytes, ...], proto: int, now: Millis
    ) -> list[Effect]:
        """Run ``SENTINEL <args...>``.

        ``args[0]`` is the subcommand as sent; the client layer has already checked
        that it exists and that the arity is right (spec §3.1). The returned effects
        include the reply to ``client`` — either a ``Reply`` or a ``PersistConfig``
        with ``reply_to=client`` — exactly once, in RESP ``proto``.
        """
        ...

    def role_reply(self) -> Value:
        """The reply to ``ROLE``: ``["sentinel", [master names...]]``."""
        ...

    def info_sentinel_section(self, now: Millis) -> str:
        """The body of INFO's ``# Sentinel`` section, lines joined by CRLF, no title."""
        ...

    def hello_published(self, payload: bytes, now: Millis) -> list[Effect]:
        """``PUBLISH __sentinel__:hello <payload>`` arrived from a peer (spec §6.2)."""
        ...
