"""Unit tests for pysentinel.resp: the encoder, command packing and both parsers."""

from __future__ import annotations

import pytest

from pysentinel import resp
from pysentinel.core.values import (
    NULL,
    NULL_ARRAY,
    Array,
    Bool,
    Bulk,
    Double,
    Error,
    ErrorReply,
    Int,
    Map,
    Push,
    Set,
    Simple,
    Value,
    Verbatim,
)

ENCODINGS = [
    (Simple("OK"), b"+OK\r\n", b"+OK\r\n"),
    (Error("ERR bad"), b"-ERR bad\r\n", b"-ERR bad\r\n"),
    (Int(-42), b":-42\r\n", b":-42\r\n"),
    (Bulk(b"a\r\nb"), b"$4\r\na\r\nb\r\n", b"$4\r\na\r\nb\r\n"),
    (Bulk(b""), b"$0\r\n\r\n", b"$0\r\n\r\n"),
    (NULL, b"$-1\r\n", b"_\r\n"),
    (NULL_ARRAY, b"*-1\r\n", b"_\r\n"),
    (Array(()), b"*0\r\n", b"*0\r\n"),
    (Array((Int(1), Bulk(b"x"))), b"*2\r\n:1\r\n$1\r\nx\r\n", b"*2\r\n:1\r\n$1\r\nx\r\n"),
    (
        Map(((Bulk(b"k"), Bulk(b"v")),)),
        b"*2\r\n$1\r\nk\r\n$1\r\nv\r\n",
        b"%1\r\n$1\r\nk\r\n$1\r\nv\r\n",
    ),
    (Set((Bulk(b"a"),)), b"*1\r\n$1\r\na\r\n", b"~1\r\n$1\r\na\r\n"),
    (Push((Bulk(b"message"),)), b"*1\r\n$7\r\nmessage\r\n", b">1\r\n$7\r\nmessage\r\n"),
    (Double(1.5), b"$3\r\n1.5\r\n", b",1.5\r\n"),
    (Double(float("inf")), b"$3\r\ninf\r\n", b",inf\r\n"),
    (Double(0.1), b"$19\r\n0.10000000000000001\r\n", b",0.10000000000000001\r\n"),
    (Bool(True), b":1\r\n", b"#t\r\n"),
    (Bool(False), b":0\r\n", b"#f\r\n"),
    (Verbatim("txt", b"hello"), b"$5\r\nhello\r\n", b"=9\r\ntxt:hello\r\n"),
    (
        Array((Map(((Bulk(b"a"), NULL),)), NULL_ARRAY)),
        b"*2\r\n*2\r\n$1\r\na\r\n$-1\r\n*-1\r\n",
        b"*2\r\n%1\r\n$1\r\na\r\n_\r\n_\r\n",
    ),
]


@pytest.mark.parametrize(("value", "resp2", "resp3"), ENCODINGS)
def test_encode_both_protocols(value: Value, resp2: bytes, resp3: bytes) -> None:
    assert resp.encode(value, 2) == resp2
    assert resp.encode(value, 3) == resp3


def test_encode_rejects_non_values() -> None:
    with pytest.raises(TypeError):
        resp.encode("nope", 2)  # type: ignore[arg-type]


def test_pack_command_multibulk() -> None:
    assert resp.pack_command((b"PING",)) == b"*1\r\n$4\r\nPING\r\n"
    assert resp.pack_command((b"SET", b"k", b"")) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"


def test_reply_parser_shapes() -> None:
    parser = resp.ReplyParser()
    parser.feed(b"+OK\r\n:5\r\n$-1\r\n-ERR x\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n*-1\r\n$3\r\nab")
    assert parser.next_reply() == (True, b"OK")
    assert parser.next_reply() == (True, 5)
    assert parser.next_reply() == (True, None)
    assert parser.next_reply() == (True, ErrorReply("ERR x"))
    assert parser.next_reply() == (True, (b"a", (1,)))
    assert parser.next_reply() == (True, None)
    assert parser.next_reply() == (False, None)
    parser.feed(b"c\r\n")
    assert parser.next_reply() == (True, b"abc")


def test_reply_parser_protocol_error() -> None:
    parser = resp.ReplyParser()
    parser.feed(b"?what\r\n")
    with pytest.raises(resp.ProtocolError):
        parser.next_reply()


def _all(parser: resp.RequestParser) -> list[tuple[bytes, ...]]:
    out = []
    while (command := parser.next_command()) is not None:
        out.append(command)
    return out


STREAM = (
    b"*2\r\n$4\r\nECHO\r\n$5\r\nhe\r\nl\r\n"
    b"PING\r\n"
    b"\r\n"
    b"  set 'a b' \"c\\x41\"\n"
    b"*0\r\n"
    b"*-3\r\n"
    b"*1\r\n$4\r\nINFO\r\n"
)
EXPECTED = [
    (b"ECHO", b"he\r\nl"),
    (b"PING",),
    (b"set", b"a b", b"cA"),
    (b"INFO",),
]


def test_request_parser_pipelined_in_one_feed() -> None:
    parser = resp.RequestParser()
    parser.feed(STREAM)
    assert _all(parser) == EXPECTED
    assert parser.buffered == 0


def test_request_parser_byte_by_byte() -> None:
    parser = resp.RequestParser()
    got: list[tuple[bytes, ...]] = []
    for i in range(len(STREAM)):
        parser.feed(STREAM[i : i + 1])
        got.extend(_all(parser))
    assert got == EXPECTED


def test_request_parser_skips_two_bytes_after_bulk_like_redis() -> None:
    # redis-server answers "*1\r\n$4\r\nPINGxx\r\n" with one +PONG: "xx" is skipped and
    # the trailing CRLF is an empty inline line.
    parser = resp.RequestParser()
    parser.feed(b"*1\r\n$4\r\nPINGxx\r\n")
    assert _all(parser) == [(b"PING",)]


ERRORS = [
    (b"*abc\r\n", "Protocol error: invalid multibulk length"),
    (b"*+1\r\n", "Protocol error: invalid multibulk length"),
    (b"*01\r\n", "Protocol error: invalid multibulk length"),
    (b"*3000000000\r\n", "Protocol error: invalid multibulk length"),
    (b"*1\r\n$abc\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$ 4\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$600000000\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'"),
    (b'set "a\r\n', "Protocol error: unbalanced quotes in request"),
    (b"x" * 70000, "Protocol error: too big inline request"),
    (b"*" + b"1" * 70000, "Protocol error: too big mbulk count string"),
    (b"*1\r\n$" + b"1" * 70000, "Protocol error: too big bulk count string"),
]


@pytest.mark.parametrize(("data", "text"), ERRORS)
def test_request_parser_protocol_errors(data: bytes, text: str) -> None:
    parser = resp.RequestParser()
    parser.feed(data)
    with pytest.raises(resp.ProtocolError) as info:
        _all(parser)
    assert str(info.value) == text
    # The parser stays broken: the connection is to be closed.
    with pytest.raises(resp.ProtocolError):
        parser.next_command()


def test_request_parser_commands_before_error_come_first() -> None:
    parser = resp.RequestParser()
    parser.feed(b"PING\r\n*x\r\n")
    assert parser.next_command() == (b"PING",)
    with pytest.raises(resp.ProtocolError):
        parser.next_command()


def test_request_parser_unauthenticated_limits() -> None:
    parser = resp.RequestParser(auth_required=True)
    parser.feed(b"*11\r\n")
    with pytest.raises(resp.ProtocolError, match=r"^Protocol error: unauthenticated multibulk"):
        parser.next_command()
    parser = resp.RequestParser(auth_required=True)
    parser.feed(b"*1\r\n$16385\r\n")
    with pytest.raises(resp.ProtocolError, match=r"^Protocol error: unauthenticated bulk length$"):
        parser.next_command()
    parser = resp.RequestParser(auth_required=True)
    parser.feed(b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n")
    assert parser.next_command() == (b"AUTH", b"pw")
    parser.auth_required = False
    parser.feed(b"*11\r\n" + b"$1\r\nx\r\n" * 11)
    assert parser.next_command() == (b"x",) * 11
