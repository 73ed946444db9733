"""sdssplitargs / sdscatrepr behaviour, checked against redis-server's own rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pysentinel.sds import cat_repr, split_args


def test_split_args_plain_tokens() -> None:
    assert split_args(b"  sentinel monitor m 127.0.0.1 6379 2 \r\n") == [
        b"sentinel",
        b"monitor",
        b"m",
        b"127.0.0.1",
        b"6379",
        b"2",
    ]


def test_split_args_empty_line_gives_no_args() -> None:
    assert split_args(b"") == []
    assert split_args(b" \t ") == []


def test_split_args_double_quotes_and_escapes() -> None:
    assert split_args(b'set "a b" "\\x41\\n\\t\\\\\\"\\q"') == [b"set", b"a b", b'A\n\t\\"q']


def test_split_args_bad_hex_escape_is_literal() -> None:
    assert split_args(b'"\\xZZ"') == [b"xZZ"]


def test_split_args_single_quotes_only_escape_quote() -> None:
    assert split_args(b"'it\\'s' '\\n'") == [b"it's", b"\\n"]


def test_split_args_quote_inside_token() -> None:
    assert split_args(b'ab"c d"') == [b"abc d"]


def test_split_args_unbalanced_quotes() -> None:
    assert split_args(b'"abc') is None
    assert split_args(b"'abc") is None
    assert split_args(b'"abc"def') is None
    assert split_args(b"'abc'def") is None


def test_split_args_empty_quoted_token() -> None:
    assert split_args(b'a "" b') == [b"a", b"", b"b"]


def test_cat_repr_escapes() -> None:
    assert cat_repr(b"/srv/s4") == b'"/srv/s4"'
    assert cat_repr(b'a"b\\c\n\r\t\x07\x08\x00\xff') == b'"a\\"b\\\\c\\n\\r\\t\\a\\b\\x00\\xff"'


@given(st.binary(max_size=64))
def test_cat_repr_round_trips_through_split_args(data: bytes) -> None:
    assert split_args(cat_repr(data)) == [data]


@given(st.binary(max_size=64))
def test_split_args_never_raises(data: bytes) -> None:
    result = split_args(data)
    assert result is None or all(isinstance(a, bytes) for a in result)


def test_split_args_nul_ends_the_input() -> None:
    assert split_args(b"a\x00b c") == [b"a"]
    assert split_args(b'"a\x00b"') is None
