"""redis's stringmatchlen glob (core/glob.py)."""

from __future__ import annotations

import fnmatch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysentinel.core.glob import string_match

CASES = [
    # (pattern, string, nocase, expected)
    ("*", "anything", False, True),
    ("*", "", False, False),  # redis: an empty subject never enters the loop
    ("", "", False, True),
    ("", "a", False, False),
    ("a", "", False, False),
    ("a*", "a", False, True),
    ("a*", "abc", False, True),
    ("a*", "bac", False, False),
    ("*c", "abc", False, True),
    ("a**c", "abbbc", False, True),
    ("*a*b", "xaxb", False, True),
    ("*a*b", "xaxc", False, False),
    ("h?llo", "hello", False, True),
    ("h?llo", "hllo", False, False),
    ("h[ae]llo", "hallo", False, True),
    ("h[ae]llo", "hillo", False, False),
    ("h[^e]llo", "hello", False, False),
    ("h[^e]llo", "hallo", False, True),
    ("h[a-b]llo", "hbllo", False, True),
    ("h[b-a]llo", "hbllo", False, True),  # reversed ranges are swapped
    ("h[a-b]llo", "hcllo", False, False),
    ("h[A-B]llo", "hbllo", True, True),
    ("h[\\]]llo", "h]llo", False, True),
    ("h\\*", "h*", False, True),
    ("h\\*", "hx", False, False),
    ("a\\", "a\\", False, True),  # a trailing backslash is literal
    ("a[b", "ab", False, True),  # an unterminated class runs to the end
    ("a[b", "a[", False, False),
    ("a[", "ab", False, False),
    ("HE*", "hello", True, True),
    ("HE*", "hello", False, False),
    ("h[E]llo", "hello", True, True),
    ("+s*", "+sdown", False, True),
    ("-*", "+sdown", False, False),
]


@pytest.mark.parametrize(("pattern", "string", "nocase", "expected"), CASES)
def test_glob_string_match_cases(pattern: str, string: str, nocase: bool, expected: bool) -> None:
    assert string_match(pattern, string, nocase=nocase) is expected


def test_glob_accepts_bytes() -> None:
    assert string_match(b"a*", b"a\xff")
    assert not string_match(b"a?", b"a")


def test_glob_star_give_up_stops_longer_matches() -> None:
    # Many stars against a long non-matching subject stays fast (skipLongerMatches).
    assert not string_match("*a*a*a*a*a*a*a*a*a*b", "a" * 60)


_SIMPLE = st.text(alphabet="ab*?", max_size=8)
_SUBJECT = st.text(alphabet="ab", min_size=1, max_size=8)


@settings(max_examples=200)
@given(_SIMPLE, _SUBJECT)
def test_glob_agrees_with_fnmatch_without_classes(pattern: str, subject: str) -> None:
    # Without [] and \ the semantics coincide with fnmatch on non-empty subjects.
    assert string_match(pattern, subject) == fnmatch.fnmatchcase(subject, pattern)
