"""RESP values, as data.

Two families live here:

* ``InReply``: what a monitored Redis or a peer sentinel sent us on an outbound
  link, after the driver's parser (hiredis) decoded it. Sentinel always speaks
  RESP2 to instances (spec §3.6), so the shapes are few: bytes (status or bulk:
  hiredis does not tell them apart), int, None (null bulk / null array), an
  :class:`ErrorReply`, or a tuple of those (arrays, including pub/sub frames).
* ``Value``: what we send to our own clients. These keep the distinctions RESP
  needs (status vs bulk, map vs array, null vs null array) so that the encoder in
  :mod:`pysentinel.resp` can write RESP2 or RESP3 for the same value. The core
  never encodes bytes itself: ``Reply(client, value, proto)`` goes out as data.

All classes are frozen and their reprs are valid Python (STYLE §4).
"""

from __future__ import annotations

from typing import TypeAlias

import attrs

__all__ = [
    "NULL",
    "NULL_ARRAY",
    "Array",
    "Bool",
    "Bulk",
    "Double",
    "Error",
    "ErrorReply",
    "InReply",
    "Int",
    "Map",
    "Null",
    "NullArray",
    "Push",
    "Set",
    "Simple",
    "Value",
    "Verbatim",
]


# ---------------------------------------------------------------------------
# Replies received from instances and peers (decoded by the driver).


@attrs.frozen
class ErrorReply:
    """An error reply received on an outbound link, e.g. ``NOAUTH Authentication required.``"""

    message: str


InReply: TypeAlias = "bytes | int | ErrorReply | tuple[InReply, ...] | None"


# ---------------------------------------------------------------------------
# Replies we send to our clients.


@attrs.frozen
class Simple:
    """Status reply: ``+text`` (both protocols)."""

    text: str


@attrs.frozen
class Error:
    """Error reply: ``-text``. ``text`` includes the code, e.g. ``"ERR unknown command ..."``."""

    text: str


@attrs.frozen
class Int:
    """Integer reply: ``:n``."""

    value: int


@attrs.frozen
class Bulk:
    """Bulk string: ``$len\\r\\ndata``."""

    data: bytes

    @classmethod
    def of(cls, text: str | int) -> Bulk:
        """A bulk string from text or a number (numbers in maps are bulk strings, §3.2)."""
        return cls(str(text).encode())


@attrs.frozen
class Null:
    """Null bulk: ``$-1`` in RESP2, ``_`` in RESP3."""


@attrs.frozen
class NullArray:
    """Null array: ``*-1`` in RESP2, ``_`` in RESP3."""


NULL = Null()
NULL_ARRAY = NullArray()


@attrs.frozen
class Array:
    """Array reply: ``*n``."""

    items: tuple[Value, ...]


@attrs.frozen
class Map:
    """Map: ``%n`` in RESP3, a flat array of alternating key/value in RESP2."""

    items: tuple[tuple[Value, Value], ...]


@attrs.frozen
class Set:
    """Set: ``~n`` in RESP3, an array in RESP2."""

    items: tuple[Value, ...]


@attrs.frozen
class Push:
    """Out-of-band push: ``>n`` in RESP3, an array in RESP2 (pub/sub messages)."""

    items: tuple[Value, ...]


@attrs.frozen
class Double:
    """Double: ``,x`` in RESP3, a bulk string in RESP2."""

    value: float


@attrs.frozen
class Bool:
    """Boolean: ``#t``/``#f`` in RESP3, ``:1``/``:0`` in RESP2."""

    value: bool


@attrs.frozen
class Verbatim:
    """Verbatim string: ``=len\\r\\nfmt:text`` in RESP3, a bulk string in RESP2."""

    format: str
    text: bytes


Value: TypeAlias = (
    "Simple | Error | Int | Bulk | Null | NullArray | Array | Map | Set | Push"
    " | Double | Bool | Verbatim"
)
