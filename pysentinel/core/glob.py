"""redis's glob matcher (``stringmatchlen`` in util.c), over bytes.

Rules of this module:

* One function, :func:`string_match`, with redis's semantics: ``*``, ``?``,
  ``[...]`` classes with ``^`` negation and ``a-z`` ranges (reversed ranges are
  swapped), and ``\\`` escapes. An unterminated ``[`` class runs to the end of
  the pattern, as redis's does.
* Used for PSUBSCRIBE deliveries, ACL channel rules, ``COMMAND LIST FILTERBY
  PATTERN`` and ``ACL`` checks; ``SENTINEL RESET`` and ``CONFIG GET`` use it too.
* Like redis, a ``*`` that fails to match at every remaining position stops the
  whole match (``skipLongerMatches``), which keeps pathological patterns linear
  per star instead of exponential.
"""

from __future__ import annotations

__all__ = ["string_match"]


def _lower(c: int) -> int:
    # C tolower() in the "C" locale: ASCII only.
    return c + 32 if 65 <= c <= 90 else c


class _GiveUp(Exception):
    """A ``*`` could not match anywhere: no longer match can succeed either."""


def _match(p: bytes, pi: int, s: bytes, si: int, nocase: bool) -> bool:
    plen, slen = len(p), len(s)
    while pi < plen and si < slen:
        c = p[pi]
        if c == 0x2A:  # '*'
            while pi + 1 < plen and p[pi + 1] == 0x2A:
                pi += 1
            if pi + 1 == plen:
                return True
            while si < slen:
                if _match(p, pi + 1, s, si, nocase):
                    return True
                si += 1
            raise _GiveUp
        if c == 0x3F:  # '?'
            si += 1
        elif c == 0x5B:  # '['
            pi += 1
            negate = pi < plen and p[pi] == 0x5E
            if negate:
                pi += 1
            matched = False
            sc = s[si]
            while True:
                if pi < plen and p[pi] == 0x5C and plen - pi >= 2:
                    pi += 1
                    if p[pi] == sc:
                        matched = True
                elif pi < plen and p[pi] == 0x5D:
                    break
                elif pi >= plen:
                    pi -= 1
                    break
                elif plen - pi >= 3 and p[pi + 1] == 0x2D:
                    start, end, cc = p[pi], p[pi + 2], sc
                    if start > end:
                        start, end = end, start
                    if nocase:
                        start, end, cc = _lower(start), _lower(end), _lower(cc)
                    pi += 2
                    if start <= cc <= end:
                        matched = True
                elif nocase:
                    if _lower(p[pi]) == _lower(sc):
                        matched = True
                elif p[pi] == sc:
                    matched = True
                pi += 1
            if negate:
                matched = not matched
            if not matched:
                return False
            si += 1
        else:
            if c == 0x5C and plen - pi >= 2:  # '\\' escapes the next byte
                pi += 1
                c = p[pi]
            if nocase:
                if _lower(c) != _lower(s[si]):
                    return False
            elif c != s[si]:
                return False
            si += 1
        pi += 1
        if si == slen:
            while pi < plen and p[pi] == 0x2A:
                pi += 1
            break
    return pi == plen and si == slen


def string_match(pattern: bytes | str, string: bytes | str, *, nocase: bool = False) -> bool:
    """Whether ``string`` matches the glob ``pattern``.

    Args:
        pattern: the glob, as bytes or text (text is UTF-8 encoded).
        string: the subject.
        nocase: compare ASCII letters case-insensitively.

    Mirrors stringmatchlen().
    """
    p = pattern.encode() if isinstance(pattern, str) else pattern
    s = string.encode() if isinstance(string, str) else string
    try:
        return _match(p, 0, s, 0, nocase)
    except _GiveUp:
        return False
