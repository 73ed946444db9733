"""Redis's argument splitting and quoting, shared by the config file and inline commands.

redis-server splits both a config line and an inline command with one function,
``sdssplitargs``, and writes quoted strings back (config rewrite, CLIENT LIST) with
``sdscatrepr``. Both are reproduced here byte for byte, on ``bytes`` because a
quoted ``\\xHH`` escape may produce any byte.

Splitting rules (``sdssplitargs``):

* Tokens are separated by whitespace (space, ``\\t``, ``\\n``, ``\\v``, ``\\f``, ``\\r``).
* The C function reads a C string, so a NUL byte ends the input: whatever follows
  it is ignored (and a quote still open there is unterminated).
* ``"..."`` supports ``\\n \\r \\t \\b \\a``, ``\\xHH`` (two hex digits) and ``\\<c>`` for
  any other ``c`` (so ``\\\\`` and ``\\"``).
* ``'...'`` supports only ``\\'``.
* A quote may open in the middle of a token (``ab"c d"`` is ``abc d``), but a closing
  quote must be followed by whitespace or the end of the input.
* An unterminated quote, or a closing quote followed by anything else, makes the
  whole input invalid: :func:`split_args` returns None.
"""

from __future__ import annotations

__all__ = ["cat_repr", "split_args"]

_SPACE = frozenset(b" \t\n\v\f\r")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("a"): b"\a"}


def split_args(line: bytes) -> list[bytes] | None:
    """Split ``line`` into arguments like redis's ``sdssplitargs``.

    Returns:
        The arguments (possibly empty), or None when the quoting is unbalanced.
    """
    line = line.split(b"\0", 1)[0]
    args: list[bytes] = []
    n = len(line)
    i = 0
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return args
        current = bytearray()
        in_double = in_single = False
        while True:
            if in_double:
                if i >= n:
                    return None  # unterminated quotes
                c = line[i]
                if (
                    c == 0x5C
                    and i + 3 < n
                    and line[i + 1] == ord("x")
                    and line[i + 2] in _HEX
                    and line[i + 3] in _HEX
                ):
                    current.append(int(line[i + 2 : i + 4], 16))
                    i += 3
                elif c == 0x5C and i + 1 < n:
                    i += 1
                    current += _ESCAPES.get(line[i], bytes((line[i],)))
                elif c == ord('"'):
                    # The closing quote must be followed by a space or nothing.
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    current.append(c)
            elif in_single:
                if i >= n:
                    return None
                c = line[i]
                if c == 0x5C and i + 1 < n and line[i + 1] == ord("'"):
                    i += 1
                    current.append(ord("'"))
                elif c == ord("'"):
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    current.append(c)
            else:
                if i >= n:
                    break
                c = line[i]
                if c in (0x20, 0x0A, 0x0D, 0x09):
                    break
                if c == ord('"'):
                    in_double = True
                elif c == ord("'"):
                    in_single = True
                else:
                    current.append(c)
            i += 1
        args.append(bytes(current))


def cat_repr(data: bytes) -> bytes:
    """Quote ``data`` like redis's ``sdscatrepr``: ``"..."`` with C-style escapes.

    Printable ASCII is kept except ``\\`` and ``"`` (escaped); ``\\n \\r \\t \\a \\b`` use
    their letters; every other byte is ``\\xHH`` (lower-case hex).
    """
    out = bytearray(b'"')
    for c in data:
        if c in (0x5C, 0x22):
            out += b"\\" + bytes((c,))
        elif c == 0x0A:
            out += b"\\n"
        elif c == 0x0D:
            out += b"\\r"
        elif c == 0x09:
            out += b"\\t"
        elif c == 0x07:
            out += b"\\a"
        elif c == 0x08:
            out += b"\\b"
        elif 0x20 <= c < 0x7F:
            out.append(c)
        else:
            out += b"\\x%02x" % c
    out += b'"'
    return bytes(out)
