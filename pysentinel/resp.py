"""Sans-IO RESP: reply encoding, command packing and the two parsers.

Rules of this module:

* No I/O and no trio: callers feed bytes in and take bytes or parsed values out.
* ``encode`` writes what we send to our own clients, in RESP2 or RESP3, for every
  :mod:`pysentinel.core.values` class. It is on the hot path of every reply, so it
  builds a list of byte chunks and joins once.
* Outbound links (to Redis instances and peer sentinels) always speak RESP2 (spec §3.6):
  ``pack_command`` writes the multibulk request and :class:`ReplyParser` (hiredis)
  decodes the replies into the core's ``InReply`` shapes.
* :class:`RequestParser` is the server side: it splits a client's byte stream into
  commands like redis-server 7.0's ``processMultibulkBuffer``/``processInlineBuffer``,
  with the same limits and the same protocol error texts. After a
  :class:`ProtocolError` the connection must be closed (redis sets
  ``CLIENT_CLOSE_AFTER_REPLY``); the parser stays broken.

Exceptions: only :class:`ProtocolError` (a subclass of ``ValueError``) is raised for bad
bytes from the peer. The runtime turns it into an error reply plus a close (server side)
or a ``LinkDropped`` (link side).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import hiredis

from pysentinel.core.values import (
    Array,
    Bool,
    Bulk,
    Double,
    Error,
    ErrorReply,
    InReply,
    Int,
    Map,
    Null,
    NullArray,
    Push,
    Set,
    Simple,
    Value,
    Verbatim,
)
from pysentinel.sds import split_args

__all__ = [
    "MAX_BULK_LEN",
    "MAX_MULTIBULK_LEN",
    "PROTO_INLINE_MAX_SIZE",
    "ProtocolError",
    "ReplyParser",
    "RequestParser",
    "encode",
    "pack_command",
]

#: Longest inline line, and longest count line, redis waits for (bytes), PROTO_INLINE_MAX_SIZE.
PROTO_INLINE_MAX_SIZE: Final = 64 * 1024
#: Largest multibulk count redis 7.0 accepts (it checks ``ll > INT_MAX``).
MAX_MULTIBULK_LEN: Final = 2**31 - 1
#: Largest bulk length (bytes), the default ``proto-max-bulk-len`` (512 MB).
MAX_BULK_LEN: Final = 512 * 1024 * 1024
#: Before AUTH, when auth is required: largest multibulk count (processMultibulkBuffer).
UNAUTH_MAX_MULTIBULK_LEN: Final = 10
#: Before AUTH, when auth is required: largest bulk length (bytes).
UNAUTH_MAX_BULK_LEN: Final = 16384


class ProtocolError(ValueError):
    """The peer sent bytes that are not valid RESP.

    For :class:`RequestParser`, ``str(exc)`` is the exact redis text after ``-ERR ``,
    e.g. ``Protocol error: invalid multibulk length``.
    """


# ---------------------------------------------------------------------------
# Encoding replies for our clients.

_CRLF: Final = b"\r\n"
_NULL2: Final = b"$-1\r\n"
_NULL_ARRAY2: Final = b"*-1\r\n"
_NULL3: Final = b"_\r\n"


def _double_text(value: float) -> bytes:
    # redis 7.0 addReplyDouble: "%.17g", with "inf"/"-inf" (and "nan") spelled out.
    return format(value, ".17g").encode()


def _encode_into(out: list[bytes], value: Value, proto: int) -> None:
    # Ordered by how often each shape occurs in our replies (bulk strings dominate).
    match value:
        case Bulk(data=data):
            out.append(b"$%d\r\n" % len(data))
            out.append(data)
            out.append(_CRLF)
        case Simple(text=text):
            out.append(b"+" + text.encode() + _CRLF)
        case Int(value=number):
            out.append(b":%d\r\n" % number)
        case Array(items=items):
            out.append(b"*%d\r\n" % len(items))
            for item in items:
                _encode_into(out, item, proto)
        case Map(items=pairs):
            if proto >= 3:
                out.append(b"%%%d\r\n" % len(pairs))
            else:
                out.append(b"*%d\r\n" % (2 * len(pairs)))
            for key, val in pairs:
                _encode_into(out, key, proto)
                _encode_into(out, val, proto)
        case Error(text=text):
            out.append(b"-" + text.encode() + _CRLF)
        case Null():
            out.append(_NULL3 if proto >= 3 else _NULL2)
        case NullArray():
            out.append(_NULL3 if proto >= 3 else _NULL_ARRAY2)
        case Set(items=items) | Push(items=items):
            if proto >= 3:
                out.append(b"%s%d\r\n" % (b"~" if isinstance(value, Set) else b">", len(items)))
            else:
                out.append(b"*%d\r\n" % len(items))
            for item in items:
                _encode_into(out, item, proto)
        case Double(value=number):
            text_b = _double_text(number)
            if proto >= 3:
                out.append(b"," + text_b + _CRLF)
            else:
                out.append(b"$%d\r\n%s\r\n" % (len(text_b), text_b))
        case Bool(value=flag):
            if proto >= 3:
                out.append(b"#t\r\n" if flag else b"#f\r\n")
            else:
                out.append(b":1\r\n" if flag else b":0\r\n")
        case Verbatim(format=fmt, text=body):
            if proto >= 3:
                fmt_b = fmt.encode()
                out.append(b"=%d\r\n%s:%s\r\n" % (len(body) + len(fmt_b) + 1, fmt_b, body))
            else:
                out.append(b"$%d\r\n%s\r\n" % (len(body), body))
        case _:
            raise TypeError(f"not a RESP value: {value!r}")


def encode(value: Value, proto: int) -> bytes:
    """Serialize ``value`` for a client speaking RESP ``proto`` (2 or 3).

    RESP2 has no map, set, push, double, boolean, verbatim or plain null types, so they
    degrade as redis-server does: map → flat array of key/value, set and push → array,
    double → bulk string (``%.17g``), boolean → ``:1``/``:0``, verbatim → bulk string of
    the text, null → ``$-1``, null array → ``*-1``. In RESP3 both nulls are ``_``.

    Raises:
        TypeError: ``value`` is not one of the Value classes.
    """
    out: list[bytes] = []
    _encode_into(out, value, proto)
    return b"".join(out)


def pack_command(argv: Sequence[bytes]) -> bytes:
    """The RESP2 multibulk request for ``argv`` (what redis-cli and hiredis send)."""
    out = [b"*%d\r\n" % len(argv)]
    for arg in argv:
        out.append(b"$%d\r\n" % len(arg))
        out.append(arg)
        out.append(_CRLF)
    return b"".join(out)


# ---------------------------------------------------------------------------
# Replies on outbound links (hiredis).


def _convert(reply: object) -> InReply:
    # hiredis gives lists for arrays (nested), bytes for status and bulk, int, None,
    # and an instance of our replyError class for errors. The core wants tuples.
    if isinstance(reply, list):
        return tuple(_convert(item) for item in reply)
    if reply is None or isinstance(reply, bytes | int | ErrorReply):
        return reply
    # RESP3 types cannot arrive: we never send HELLO 3 on outbound links. A double or
    # a bool would still be data, not a crash: keep it as its text.
    return str(reply).encode()


class ReplyParser:
    """Decode RESP2 replies arriving on an outbound link, frame by frame.

    Error replies come back as :class:`ErrorReply` values (not raised), as hiredis does.
    """

    def __init__(self) -> None:
        # hiredis's stubs ask for an exception class; any callable taking the text works
        # and the error is returned, not raised.
        self._reader = hiredis.Reader(replyError=ErrorReply)  # type: ignore[arg-type]

    def feed(self, data: bytes) -> None:
        """Add received bytes."""
        self._reader.feed(data)

    def next_reply(self) -> tuple[bool, InReply]:
        """Take the next complete frame.

        Returns:
            ``(True, reply)`` when a frame was complete, ``(False, None)`` when more bytes
            are needed. (A null reply is a complete frame whose value is None.)

        Raises:
            ProtocolError: the stream is not valid RESP; the link must be dropped.
        """
        try:
            reply = self._reader.gets()
        except hiredis.ProtocolError as exc:
            raise ProtocolError(str(exc)) from None
        if reply is False:
            return False, None
        return True, _convert(reply)


# ---------------------------------------------------------------------------
# Requests from our clients (processMultibulkBuffer / processInlineBuffer).

_DIGITS: Final = frozenset(b"0123456789")


def _string2ll(text: bytes) -> int | None:
    """redis's strict ``string2ll``: optional ``-``, no ``+``, no spaces, no leading zeros."""
    if not text or len(text) > 20:
        return None
    if text == b"0":
        return 0
    body = text[1:] if text[:1] == b"-" else text
    if not body or body[0] == 0x30 or not all(c in _DIGITS for c in body):
        return None
    value = int(text)
    if not -(2**63) <= value < 2**63:
        return None
    return value


class RequestParser:
    """Split a client's byte stream into commands, like redis-server 7.0.

    Feed bytes with :meth:`feed`, then call :meth:`next_command` until it returns None.
    Commands parsed before a protocol error in the same buffer are returned first,
    as redis executes them before it replies with the error and closes.

    Args:
        auth_required: the client has not authenticated yet and the server requires it;
            this enables redis's stricter limits (``unauthenticated ... length``). It can
            be changed between commands (after a successful AUTH).
    """

    def __init__(self, *, auth_required: bool = False) -> None:
        self.auth_required = auth_required
        self._buf = bytearray()
        self._pos = 0
        # Multibulk state: arguments still expected (0: between commands), the
        # arguments collected so far, and the pending bulk length (-1: not read yet).
        self._multibulk = 0
        self._args: list[bytes] = []
        self._bulklen = -1
        self._error: ProtocolError | None = None

    def feed(self, data: bytes) -> None:
        """Add received bytes."""
        if self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        elif self._pos > 65536 and self._pos * 2 > len(self._buf):
            # Compact now and then so the buffer does not grow with pipelined traffic.
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    @property
    def buffered(self) -> int:
        """Bytes received but not yet consumed (redis's ``qbuf``)."""
        return len(self._buf) - self._pos

    def _fail(self, text: str) -> ProtocolError:
        self._error = ProtocolError(text)
        return self._error

    def next_command(self) -> tuple[bytes, ...] | None:
        """The next complete command, or None when more bytes are needed.

        Raises:
            ProtocolError: the bytes are not a valid request; every later call raises
                it again.
        """
        if self._error is not None:
            raise self._error
        while True:
            if self._multibulk == 0:
                if self._pos >= len(self._buf):
                    return None
                if self._buf[self._pos] != 0x2A:  # not "*": inline command
                    inline = self._inline()
                    if inline is None:
                        return None
                    if inline:
                        return tuple(inline)
                    continue  # empty line: ignored
                if not self._multibulk_count():
                    return None
                if self._multibulk == 0:
                    continue  # "*0" or a negative count: nothing to run
            command = self._bulks()
            if command is None:
                return None
            return command

    def _inline(self) -> list[bytes] | None:
        buf = self._buf
        newline = buf.find(b"\n", self._pos)
        if newline < 0:
            if len(buf) - self._pos > PROTO_INLINE_MAX_SIZE:
                raise self._fail("Protocol error: too big inline request")
            return None
        end = newline
        if end > self._pos and buf[end - 1] == 0x0D:
            end -= 1
        line = bytes(buf[self._pos : end])
        self._pos = newline + 1
        args = split_args(line)
        if args is None:
            raise self._fail("Protocol error: unbalanced quotes in request")
        return args

    def _count_line(self, too_big: str) -> bytes | None:
        # The "<c><digits>\r\n" header: redis looks for "\r", needs one more byte after
        # it, and skips that byte without checking it is "\n".
        buf = self._buf
        cr = buf.find(b"\r", self._pos)
        if cr < 0:
            if len(buf) - self._pos > PROTO_INLINE_MAX_SIZE:
                raise self._fail(too_big)
            return None
        if cr + 1 >= len(buf):
            return None
        text = bytes(buf[self._pos + 1 : cr])
        self._pos = cr + 2
        return text

    def _multibulk_count(self) -> bool:
        text = self._count_line("Protocol error: too big mbulk count string")
        if text is None:
            return False
        count = _string2ll(text)
        if count is None or count > MAX_MULTIBULK_LEN:
            raise self._fail("Protocol error: invalid multibulk length")
        if count > UNAUTH_MAX_MULTIBULK_LEN and self.auth_required:
            raise self._fail("Protocol error: unauthenticated multibulk length")
        self._multibulk = max(count, 0)
        self._args = []
        self._bulklen = -1
        return True

    def _bulks(self) -> tuple[bytes, ...] | None:
        buf = self._buf
        while self._multibulk:
            if self._bulklen < 0:
                # Like redis, wait for the whole "$<len>\r\n" line before checking the "$".
                first = self._pos
                text = self._count_line("Protocol error: too big bulk count string")
                if text is None:
                    return None
                if buf[first] != 0x24:  # "$"
                    # addReplyErrorFormat turns CR and LF into spaces.
                    got = " " if buf[first] in b"\r\n" else chr(buf[first])
                    raise self._fail(f"Protocol error: expected '$', got '{got}'")
                length = _string2ll(text)
                if length is None or length < 0 or length > MAX_BULK_LEN:
                    raise self._fail("Protocol error: invalid bulk length")
                if length > UNAUTH_MAX_BULK_LEN and self.auth_required:
                    raise self._fail("Protocol error: unauthenticated bulk length")
                self._bulklen = length
            # The data and two more bytes, which redis skips without checking for CRLF.
            if len(buf) - self._pos < self._bulklen + 2:
                return None
            self._args.append(bytes(buf[self._pos : self._pos + self._bulklen]))
            self._pos += self._bulklen + 2
            self._bulklen = -1
            self._multibulk -= 1
        command = tuple(self._args)
        self._args = []
        return command
