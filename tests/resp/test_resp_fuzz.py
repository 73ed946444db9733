"""Hypothesis: any bytes in any chunking give commands or the documented error only."""

from __future__ import annotations

import hiredis
from hypothesis import given, settings
from hypothesis import strategies as st

from pysentinel import resp
from pysentinel.core.values import (
    NULL,
    NULL_ARRAY,
    Array,
    Bool,
    Bulk,
    Double,
    Error,
    Int,
    Map,
    Push,
    Set,
    Simple,
    Value,
    Verbatim,
)

# Bytes biased towards RESP structure so the fuzzer reaches deep parser states.
_PIECES = st.sampled_from(
    [b"*", b"$", b"\r\n", b"\r", b"\n", b"1", b"2", b"0", b"-1", b"ab", b'"', b"'", b" ", b"PING"]
)
_DATA = st.lists(st.one_of(_PIECES, st.binary(max_size=8)), max_size=30).map(b"".join)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, start = [], 0
    for p in [*points, len(data)]:
        out.append(data[start:p])
        start = p
    return out


def _run(chunks: list[bytes]) -> tuple[list[tuple[bytes, ...]], str | None]:
    parser = resp.RequestParser()
    commands: list[tuple[bytes, ...]] = []
    try:
        for chunk in chunks:
            parser.feed(chunk)
            while (command := parser.next_command()) is not None:
                commands.append(command)
    except resp.ProtocolError as exc:
        return commands, str(exc)
    return commands, None


@settings(max_examples=300, deadline=None)
@given(_DATA, st.lists(st.integers(min_value=0), max_size=6))
def test_request_parser_chunking_does_not_matter(data: bytes, cuts: list[int]) -> None:
    whole = _run([data])
    assert _run(_chunks(data, cuts)) == whole
    if whole[1] is not None:
        assert whole[1].startswith("Protocol error: ")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.binary(max_size=20), min_size=1, max_size=5), max_size=5))
def test_request_parser_roundtrips_packed_commands(commands: list[list[bytes]]) -> None:
    data = b"".join(resp.pack_command(c) for c in commands)
    assert _run([data[i : i + 1] for i in range(len(data))]) == ([tuple(c) for c in commands], None)


@settings(max_examples=300, deadline=None)
@given(_DATA, st.lists(st.integers(min_value=0), max_size=6))
def test_reply_parser_only_raises_protocol_error(data: bytes, cuts: list[int]) -> None:
    parser = resp.ReplyParser()
    try:
        for chunk in _chunks(data, cuts):
            parser.feed(chunk)
            while parser.next_reply()[0]:
                pass
    except resp.ProtocolError:
        pass


_LEAVES = st.one_of(
    st.builds(Simple, st.text(alphabet="abcXYZ 012-", max_size=10)),
    st.builds(Error, st.text(alphabet="ERR abc", min_size=1, max_size=10)),
    st.builds(Int, st.integers(min_value=-(2**63), max_value=2**63 - 1)),
    st.builds(Bulk, st.binary(max_size=20)),
    st.just(NULL),
    st.just(NULL_ARRAY),
    st.builds(Double, st.floats(allow_nan=False)),
    st.builds(Bool, st.booleans()),
    st.builds(Verbatim, st.just("txt"), st.binary(max_size=20)),
)


# hiredis decodes RESP3 maps to dicts and sets to sets, so their keys and members must
# decode to hashable Python values: scalars only.
_SCALARS = st.one_of(
    st.builds(Bulk, st.binary(max_size=20)),
    st.builds(Simple, st.text(alphabet="abc", max_size=5)),
    st.builds(Int, st.integers(min_value=-(2**63), max_value=2**63 - 1)),
)


def _containers(children: st.SearchStrategy[Value]) -> st.SearchStrategy[Value]:
    items = st.lists(children, max_size=4).map(tuple)
    return st.one_of(
        st.builds(Array, items),
        st.builds(Set, st.lists(_SCALARS, max_size=4).map(tuple)),
        st.builds(Push, items),
        st.builds(Map, st.lists(st.tuples(_SCALARS, children), max_size=3).map(tuple)),
    )


_VALUES = st.recursive(_LEAVES, _containers, max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_VALUES, st.sampled_from([2, 3]))
def test_encode_is_one_well_formed_frame(value: Value, proto: int) -> None:
    data = resp.encode(value, proto)
    reader = hiredis.Reader()
    reader.feed(data)
    assert reader.gets() is not False
    assert reader.gets() is False  # exactly one frame, nothing left over
    # A truncated frame is never complete.
    reader = hiredis.Reader()
    reader.feed(data[:-1])
    assert reader.gets() is False
