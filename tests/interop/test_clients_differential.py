"""Differential: our client layer's bytes equal a real redis-sentinel 7.0.15's.

We start ``redis-sentinel`` on a free loopback port, open connections to it, and send
each command of a script both to it and to a :class:`ClientRegistry` (with a fake
backend that has no masters, like the fresh real sentinel). The client ids of our
connections are the real ones (read with ``CLIENT ID`` first), so replies that show
them compare byte for byte. INFO and CLIENT LIST carry live numbers: for those we
compare the field names only.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import hiredis
import pytest

from pysentinel import resp
from pysentinel.config import parse
from pysentinel.core.types import ClientId

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "core"))
from clients_fakes import Harness, encode_replies

_DEADLINE_S = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _running_sentinel(tmp_path: Path, extra: str = "") -> Iterator[int]:
    binary = shutil.which("redis-sentinel")
    if binary is None:
        pytest.fail("redis-sentinel (Debian redis-sentinel 7.0.15) is not installed")
    port = _free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f'port {port}\nbind 127.0.0.1\ndaemonize no\nlogfile ""\ndir "{tmp_path}"\n{extra}'
    )
    proc = subprocess.Popen(
        [binary, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + _DEADLINE_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("redis-sentinel did not start listening")
                time.sleep(0.02)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=_DEADLINE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def sentinel_port(tmp_path: Path) -> Iterator[int]:
    with _running_sentinel(tmp_path) as port:
        yield port


class Real:
    """One raw connection to the real sentinel."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=_DEADLINE_S)

    def send(self, argv: tuple[bytes, ...]) -> None:
        self.sock.sendall(resp.pack_command(argv))

    def read_bytes(self, n: int) -> bytes:
        """Read until ``n`` bytes arrived (or the deadline passes)."""
        data = b""
        deadline = time.monotonic() + _DEADLINE_S
        while len(data) < n and time.monotonic() < deadline:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def read_frame(self) -> object:
        reader = hiredis.Reader()
        deadline = time.monotonic() + _DEADLINE_S
        while time.monotonic() < deadline:
            reply = reader.gets()
            if reply is not False:
                return reply
            reader.feed(self.sock.recv(65536))
        raise AssertionError("no reply from redis-sentinel")

    def read_raw_frame(self) -> tuple[object, bytes]:
        """One frame and the exact bytes it came in (nothing else may be pending)."""
        reader = hiredis.Reader()
        raw = b""
        deadline = time.monotonic() + _DEADLINE_S
        while time.monotonic() < deadline:
            reply = reader.gets()
            if reply is not False:
                return reply, raw
            chunk = self.sock.recv(65536)
            raw += chunk
            reader.feed(chunk)
        raise AssertionError("no reply from redis-sentinel")

    def close(self) -> None:
        self.sock.close()


class Pair:
    """A real connection and our registry's client with the same id."""

    def __init__(self, harness: Harness, port: int, *, via: Pair | None = None) -> None:
        self.h = harness
        if via is None:
            self.real = Real(port)
            self.real.send((b"CLIENT", b"ID"))
            real_id = self.real.read_frame()
        else:
            # The new connection can't run commands yet (NOAUTH): the newest id in
            # CLIENT LIST seen from an authenticated connection is its id, once the
            # server has accepted it (which can come after our connect() returned).
            before = via.newest_real_id()
            self.real = Real(port)
            deadline = time.monotonic() + _DEADLINE_S
            while (real_id := via.newest_real_id()) == before:
                assert time.monotonic() < deadline, "redis-sentinel never listed the client"
        assert isinstance(real_id, int)
        self.cid = ClientId(real_id)
        harness.next_id = real_id
        assert harness.connect() == self.cid

    def newest_real_id(self) -> int:
        """The highest client id in the real sentinel's CLIENT LIST, seen from here."""
        self.real.send((b"CLIENT", b"LIST"))
        listing = self.real.read_frame()
        assert isinstance(listing, bytes)
        return max(int(line.split(b" ")[0][3:]) for line in listing.splitlines())

    def both(self, *args: str | bytes) -> tuple[bytes, bytes]:
        argv = tuple(a.encode() if isinstance(a, str) else a for a in args)
        ours = encode_replies(self.h.run(self.cid, *argv), self.cid)
        self.real.send(argv)
        theirs = self.real.read_bytes(len(ours)) if ours else b""
        return ours, theirs

    def same(self, *args: str | bytes) -> None:
        ours, theirs = self.both(*args)
        assert ours == theirs, f"{args!r}: ours {ours!r} != real {theirs!r}"

    def same_unordered(self, *args: str | bytes) -> None:
        """Same reply up to the order of list items and of words in strings.

        redis keeps its commands in a hash table seeded per process, so lists of
        commands (and ACL rules naming single commands) come in a random order.
        """
        ours, theirs = self.both(*args)
        assert _unordered(ours) == _unordered(theirs), f"{args!r}: {ours!r} != {theirs!r}"


def _normal(item: object) -> object:
    if isinstance(item, list):
        return sorted(repr(_normal(x)) for x in item)
    if isinstance(item, bytes):
        return sorted(item.split(b" "))
    return item


def _unordered(data: bytes) -> list[object]:
    reader = hiredis.Reader()
    reader.feed(data)
    out: list[object] = []
    while (frame := reader.gets()) is not False:
        out.append(_normal(frame))
    return out


_RESP2_SCRIPT: tuple[tuple[str, ...], ...] = (
    ("PING",),
    ("PING", "hello"),
    ("ping", "a", "b"),
    ("FOO", "a", "b"),
    ("FOO",),
    ("GET", "a b"),
    ("FOO", "x" * 100, "y" * 100),
    ("CONFIG", "GET", "*"),
    ("QUIT",),
    ("ECHO", "x"),
    ("CLIENT", "FOO"),
    ("SENTINEL", "FOO"),
    ("CLIENT",),
    ("SENTINEL",),
    ("CLIENT", "SETNAME", "a b"),
    ("CLIENT", "SETNAME", "a", "b"),
    ("CLIENT", "GETNAME"),
    ("CLIENT", "SETNAME", "myname"),
    ("CLIENT", "GETNAME"),
    ("CLIENT", "SETNAME", ""),
    ("CLIENT", "GETNAME"),
    ("AUTH", "x"),
    ("AUTH", "a", "b"),
    ("AUTH", "a", "b", "c"),
    ("COMMAND", "COUNT"),
    ("COMMAND", "GETKEYS", "get", "a"),
    ("COMMAND", "GETKEYS", "ping"),
    ("COMMAND", "GETKEYS", "publish", "a", "b"),
    ("~", "COMMAND", "LIST", "FILTERBY", "ACLCAT", "fast"),
    ("COMMAND", "LIST", "FILTERBY", "MODULE", "x"),
    ("COMMAND", "LIST", "x"),
    ("COMMAND", "INFO", "nosuch", "ping"),
    ("COMMAND", "INFO", "client|id"),
    ("COMMAND", "INFO", "role", "publish", "auth", "hello"),
    ("PUBLISH", "a", "b"),
    ("PUBLISH", "__sentinel__:hello", "garbage"),
    ("SHUTDOWN", "FOO"),
    ("SHUTDOWN", "ABORT"),
    ("ROLE",),
    ("INFO", "replication"),
    ("INFO", "x", "y"),
    ("HELLO", "4"),
    ("HELLO", "1"),
    ("HELLO", "x"),
    ("HELLO", "3", "FOO"),
    ("HELLO", "2", "SETNAME", "a b"),
    ("HELLO", "2", "AUTH", "default"),
    ("HELLO", "2", "AUTH", "nobody", "pw"),
    ("ACL", "WHOAMI"),
    ("ACL", "USERS"),
    ("ACL", "LIST"),
    ("ACL", "SETUSER", "u1", "foo"),
    ("ACL", "SETUSER", "u1", "+nosuch"),
    ("ACL", "SETUSER", "u1", "+client|nosuch"),
    ("ACL", "SETUSER", "u1", "+@nosuch"),
    ("ACL", "SETUSER", "u1", "#abc"),
    ("ACL", "SETUSER", "u1", "<nope"),
    ("ACL", "SETUSER", "u1", "+ping", "+@fast", "-ping", "+ping", "~k*", "&ch*", ">pw"),
    ("ACL", "SETUSER", "u2", "+client", "-client|kill", "allchannels", "&x"),
    ("ACL", "SETUSER", "u3", "+@all", "-@dangerous", "reset"),
    ("ACL", "SETUSER", "u4", "-@all", "+@pubsub", "-subscribe", "on", "nopass"),
    ("ACL", "SETUSER", "u5", "+@all", "-ping", "~*", "~x"),
    ("ACL", "SETUSER", "k1", "%RW~*"),
    ("ACL", "SETUSER", "k2", "%R~*", "~a", "%wr~x", "%w~y"),
    ("ACL", "SETUSER", "k4", "allkeys", "%R~x"),
    ("ACL", "GETUSER", "k2"),
    ("~", "ACL", "LIST"),
    ("ACL", "USERS"),
    ("~", "ACL", "GETUSER", "u1"),
    ("ACL", "GETUSER", "nobody"),
    ("ACL", "DELUSER", "default"),
    ("ACL", "DELUSER", "u3", "nobody"),
    ("ACL", "CAT"),
    ("~", "ACL", "CAT", "pubsub"),
    ("~", "ACL", "CAT", "admin"),
    ("ACL", "CAT", "nosuch"),
    ("ACL", "CAT", "a", "b"),
    ("ACL", "DRYRUN", "u1", "ping"),
    ("ACL", "DRYRUN", "u1", "info"),
    ("ACL", "DRYRUN", "nobody", "ping"),
    ("ACL", "DRYRUN", "default", "nosuch"),
    ("ACL", "LOAD"),
    ("ACL", "SAVE"),
    ("ACL", "GENPASS", "0"),
    ("ACL", "GENPASS", "x"),
    ("ACL", "GENPASS", "5000"),
    ("CLIENT", "KILL", "1.2.3.4:5"),
    ("CLIENT", "KILL", "ID", "x"),
    ("CLIENT", "KILL", "ID", "0"),
    ("CLIENT", "KILL", "TYPE", "foo"),
    ("CLIENT", "KILL", "USER", "nob"),
    ("CLIENT", "KILL", "SKIPME", "maybe"),
    ("CLIENT", "KILL", "ID", "1", "SKIPME"),
    ("CLIENT", "KILL", "ID", "999999"),
    ("CLIENT", "KILL", "FOO", "bar"),
    ("CLIENT", "UNBLOCK", "x"),
    ("CLIENT", "UNBLOCK", "1", "x"),
    ("CLIENT", "UNBLOCK", "1"),
    ("CLIENT", "NO-EVICT", "x"),
    ("CLIENT", "NO-EVICT", "on"),
    ("CLIENT", "GETREDIR"),
    ("CLIENT", "TRACKINGINFO"),
    ("CLIENT", "REPLY", "x"),
    ("CLIENT", "UNPAUSE"),
    ("CLIENT", "CACHING", "yes"),
    ("CLIENT", "PAUSE", "x"),
    ("CLIENT", "PAUSE", "-1"),
    ("CLIENT", "PAUSE", "10", "x"),
    ("CLIENT", "PAUSE", "1", "WRITE"),
    ("CLIENT", "LIST", "TYPE", "foo"),
    ("CLIENT", "LIST", "x"),
    ("CLIENT", "LIST", "ID"),
    ("CLIENT", "LIST", "TYPE"),
    ("CLIENT", "LIST", "ID", "1", "x"),
    ("CLIENT", "KILL", "MAXAGE", "10"),
    ("CLIENT", "KILL", "ID", "1", "ID", "2"),
    ("CLIENT", "KILL", "ADDR"),
    ("CLIENT", "SETNAME", "\u00e9"),
    ("HELLO", "3", "SETNAME"),
    ("AUTH", "", ""),
    ("SUBSCRIBE", "a", "b"),
    ("PSUBSCRIBE", "x*"),
    ("SUBSCRIBE", "a"),
    ("PING",),
    ("PING", "m"),
    ("INFO",),
    ("CLIENT", "ID"),
    ("FOO",),
    ("UNSUBSCRIBE", "b", "zz"),
    ("UNSUBSCRIBE",),
    ("PUNSUBSCRIBE",),
    ("UNSUBSCRIBE",),
    ("PUNSUBSCRIBE",),
    ("PING",),
)


@pytest.mark.interop
def test_clients_differential_resp2_script(sentinel_port: int) -> None:
    h = Harness()
    h.backend.masters = ()
    pair = Pair(h, sentinel_port)
    for args in _RESP2_SCRIPT:
        if args[0] == "~":
            pair.same_unordered(*args[1:])
        else:
            pair.same(*args)
    pair.real.close()


_RESP3_SCRIPT: tuple[tuple[str, ...], ...] = (
    ("HELLO", "3"),
    ("HELLO",),
    ("PING",),
    ("SUBSCRIBE", "a"),
    ("PING",),
    ("ROLE",),
    ("UNSUBSCRIBE", "a"),
    ("UNSUBSCRIBE",),
    ("PUNSUBSCRIBE",),
    ("COMMAND", "INFO", "ping", "nosuch"),
    ("CLIENT", "TRACKINGINFO"),
    ("ACL", "GETUSER", "default"),
    ("ACL", "GETUSER", "nobody"),
    ("CLIENT", "GETNAME"),
    ("INFO", "replication"),
    ("CLIENT", "LIST", "TYPE", "master"),
    ("CLIENT", "KILL", "ID", "999999"),
    ("COMMAND", "COUNT"),
    ("COMMAND", "INFO", "client|kill"),
    ("ACL", "LIST"),
    ("ACL", "LOG"),
    ("ACL", "CAT", "nosuch"),
    ("PUBLISH", "__sentinel__:hello", "x"),
    ("FOO", "bar"),
    ("HELLO", "2", "SETNAME", "back-to-2"),
    ("CLIENT", "GETNAME"),
)


@pytest.mark.interop
def test_clients_differential_resp3_script(sentinel_port: int) -> None:
    h = Harness()
    h.backend.masters = ()
    pair = Pair(h, sentinel_port)
    for args in _RESP3_SCRIPT:
        pair.same(*args)
    pair.real.close()


@pytest.mark.interop
def test_clients_differential_auth_and_acl_checks(sentinel_port: int) -> None:
    h = Harness()
    admin = Pair(h, sentinel_port)
    admin.same("ACL", "SETUSER", "bob", "on", ">bobpw", "+ping", "+acl|whoami", "&news")
    admin.same("ACL", "SETUSER", "default", "resetpass", ">pw")
    other = Pair(h, sentinel_port, via=admin)
    for args in (
        ("PING",),
        ("CLIENT", "ID"),
        ("FOO",),
        ("PING", "a", "b"),
        ("HELLO", "3"),
        ("HELLO", "3", "AUTH", "default", "wrong"),
        ("AUTH", "wrong"),
        ("AUTH", "bob", "wrong"),
        ("AUTH", "bob", "bobpw"),
        ("PING",),
        ("ACL", "WHOAMI"),
        ("INFO",),
        ("SUBSCRIBE", "news"),
        ("SUBSCRIBE", "other"),
        ("PSUBSCRIBE", "new*"),
        ("AUTH", "pw"),
        ("ACL", "WHOAMI"),
        ("HELLO", "3", "AUTH", "bob", "bobpw", "SETNAME", "b"),
        ("CLIENT", "GETNAME"),
    ):
        other.same(*args)
    third = Pair(h, sentinel_port, via=admin)
    third.same("HELLO", "2", "AUTH", "default", "pw")
    third.same("ACL", "SETUSER", "default", "nopass")
    # ACL LOG saw the same denials (client-info and age are live values).
    ours_log = _frames(encode_replies(h.run(third.cid, "ACL", "LOG"), third.cid))[0]
    third.real.send((b"ACL", b"LOG"))
    real_log = third.real.read_frame()
    assert isinstance(ours_log, list) and isinstance(real_log, list)

    def core(entries: list[list[object]]) -> list[list[object]]:
        return [entry[:10] for entry in entries]

    assert len(ours_log) >= 4
    assert core(ours_log) == core(real_log)
    third.same("CLIENT", "KILL", "USER", "bob")
    third.real.close()
    admin.real.close()
    other.real.close()


def _frames(data: bytes) -> list[object]:
    reader = hiredis.Reader()
    reader.feed(data)
    out: list[object] = []
    while (frame := reader.gets()) is not False:
        out.append(frame)
    return out


def _keys(text: bytes) -> list[str]:
    return [line.split(":")[0] for line in text.decode().split("\r\n")]


@pytest.mark.interop
def test_clients_differential_info_field_names(sentinel_port: int) -> None:
    h = Harness()
    h.backend.masters = ()
    pair = Pair(h, sentinel_port)
    for args in (
        ("INFO",),
        ("INFO", "all"),
        ("INFO", "everything"),
        ("INFO", "default"),
        ("INFO", "cpu", "all"),
        ("INFO", "server", "sentinel", "replication"),
        ("INFO", "CPU"),
        ("INFO", "stats", "clients"),
    ):
        ours_effects = h.run(pair.cid, *args)
        ours = encode_replies(ours_effects, pair.cid)
        pair.real.send(tuple(a.encode() for a in args))
        theirs = pair.real.read_frame()
        assert isinstance(theirs, bytes)
        ours_text = hiredis.Reader()
        ours_text.feed(ours)
        ours_body = ours_text.gets()
        assert isinstance(ours_body, bytes)
        # Our fake backend's Sentinel section is shorter: compare up to it.
        cut_ours = ours_body.split(b"# Sentinel")[0]
        cut_theirs = theirs.split(b"# Sentinel")[0]
        assert _keys(cut_ours) == _keys(cut_theirs), args
        assert (b"# Sentinel" in ours_body) == (b"# Sentinel" in theirs), args


@pytest.mark.interop
def test_clients_differential_client_list_fields_and_command_list(sentinel_port: int) -> None:
    h = Harness()
    pair = Pair(h, sentinel_port)
    ours = encode_replies(h.run(pair.cid, "CLIENT", "INFO"), pair.cid)
    pair.real.send((b"CLIENT", b"INFO"))
    theirs = pair.real.read_frame()
    assert isinstance(theirs, bytes)
    ours_line = ours.split(b"\r\n")[1]

    def fields(line: bytes) -> list[bytes]:
        return [kv.split(b"=")[0] for kv in line.strip().split(b" ")]

    assert fields(ours_line) == fields(theirs)
    # COMMAND LIST / COMMAND: same entries (redis's order is its hash table's).
    pair.real.send((b"COMMAND", b"LIST"))
    real_names = pair.real.read_frame()
    assert isinstance(real_names, list)
    reader = hiredis.Reader()
    reader.feed(encode_replies(h.run(pair.cid, "COMMAND", "LIST"), pair.cid))
    our_names = reader.gets()
    assert isinstance(our_names, list)
    assert len(our_names) == len(real_names) == 72
    assert sorted(our_names) == sorted(real_names)
    pair.real.send((b"COMMAND",))
    real_all = pair.real.read_frame()
    reader.feed(encode_replies(h.run(pair.cid, "COMMAND"), pair.cid))
    our_all = reader.gets()
    assert isinstance(real_all, list) and isinstance(our_all, list)

    def entry(info: object) -> str:
        # Subcommands come in the hash table's order too.
        assert isinstance(info, list)
        return repr([*info[:9], sorted(entry(sub) for sub in info[9])])

    assert sorted(map(entry, our_all)) == sorted(map(entry, real_all))


_PATTERNS = (
    "*",
    "c*",
    "C*",
    "client|*",
    "*|*id*",
    "?ing",
    "p[iu]*",
    "p[^i]*",
    "[a-c]*",
    "[c-a]*",
    "*[",
    "s*l|*",
    "\\c*",
    "a[c",
    "*e*e*",
    "sentinel|[!m]*",
)


@pytest.mark.interop
def test_clients_differential_glob_via_command_list_pattern(sentinel_port: int) -> None:
    # COMMAND LIST FILTERBY PATTERN runs redis's stringmatchlen (nocase) over the
    # command names: a window onto the real matcher.
    h = Harness()
    pair = Pair(h, sentinel_port)
    for pattern in _PATTERNS:
        pair.same_unordered("COMMAND", "LIST", "FILTERBY", "PATTERN", pattern)


_USER_LINES = (
    "requirepass topsecret\n"
    "user bob on >pw ~k* &c* +@pubsub -subscribe +client|id\n"
    "user carol off nopass +@all -@dangerous resetchannels &x\n"
)


@pytest.mark.interop
def test_clients_differential_users_from_config(tmp_path: Path) -> None:
    config = parse(_USER_LINES)
    h = Harness(config)
    with _running_sentinel(tmp_path, _USER_LINES) as port:
        real = Real(port)
        real.send((b"AUTH", b"topsecret"))
        assert real.read_frame() == b"OK"
        real.send((b"ACL", b"LIST"))
        real_list = real.read_frame()
        real.close()
    ours = [f"user {n} {h.reg.acl.users[n].describe()}".encode() for n in h.reg.acl.sorted_names()]
    assert isinstance(real_list, list)
    assert [sorted(x.split(b" ")) for x in ours] == [sorted(x.split(b" ")) for x in real_list]


_TRACKING_SCRIPT: tuple[tuple[str, ...], ...] = (
    ("CLIENT", "TRACKING", "on", "PREFIX", "a"),
    ("CLIENT", "TRACKING", "on", "BCAST", "OPTIN"),
    ("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"),
    ("CLIENT", "TRACKING", "on", "REDIRECT", "999999"),
    ("CLIENT", "TRACKING", "on", "REDIRECT", "x"),
    ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab"),
    ("CLIENT", "TRACKING", "maybe"),
    ("CLIENT", "TRACKING", "on", "NOLOOP", "x"),
    ("CLIENT", "TRACKING", "on", "PREFIX"),
    ("CLIENT", "CACHING", "yes"),
    ("CLIENT", "TRACKINGINFO"),
    ("CLIENT", "TRACKING", "on", "OPTIN"),
    ("CLIENT", "GETREDIR"),
    ("CLIENT", "TRACKING", "on", "BCAST"),
    ("CLIENT", "TRACKING", "on", "OPTOUT"),
    ("CLIENT", "CACHING", "no"),
    ("CLIENT", "CACHING", "x"),
    ("CLIENT", "CACHING", "yes"),
    ("CLIENT", "TRACKINGINFO"),
    ("PING",),
    ("CLIENT", "TRACKINGINFO"),
    ("CLIENT", "TRACKING", "off"),
    ("CLIENT", "TRACKINGINFO"),
    ("CLIENT", "CACHING", "yes"),
    ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "NOLOOP"),
    ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab"),
    ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b"),
    ("CLIENT", "TRACKINGINFO"),
    ("CLIENT", "GETREDIR"),
    ("CLIENT", "TRACKING", "off"),
    ("CLIENT", "TRACKING", "on", "BCAST"),
    ("CLIENT", "TRACKINGINFO"),
    ("CLIENT", "TRACKING", "off"),
)


@pytest.mark.interop
def test_clients_differential_tracking(sentinel_port: int) -> None:
    h = Harness()
    target = Pair(h, sentinel_port)
    pair = Pair(h, sentinel_port)
    for args in _TRACKING_SCRIPT:
        pair.same(*args)
    pair.same("CLIENT", "TRACKING", "on", "REDIRECT", str(target.cid), "OPTOUT")
    pair.same("CLIENT", "TRACKING", "on", "REDIRECT", str(target.cid), "REDIRECT", "1")
    pair.same("CLIENT", "GETREDIR")
    pair.same("CLIENT", "TRACKINGINFO")
    # CLIENT INFO: the tracking flag and redir= agree.
    ours = encode_replies(h.run(pair.cid, "CLIENT", "INFO"), pair.cid)
    pair.real.send((b"CLIENT", b"INFO"))
    theirs = pair.real.read_frame()
    assert isinstance(theirs, bytes)

    def pick(line: bytes) -> list[bytes]:
        return [kv for kv in line.split() if kv.startswith((b"flags=", b"redir="))]

    assert pick(ours.split(b"\r\n")[1]) == pick(theirs)
    pair.real.close()
    target.real.close()


@pytest.mark.interop
def test_clients_differential_event_delivery_frames(sentinel_port: int) -> None:
    # A real event (+monitor) as a RESP2 pattern subscriber and a RESP3 channel
    # subscriber receive it, byte for byte against our publish().
    h = Harness()
    p2 = Pair(h, sentinel_port)
    p3 = Pair(h, sentinel_port)
    p2.same("PSUBSCRIBE", "+mon*")
    p3.same("HELLO", "3")
    p3.same("SUBSCRIBE", "+monitor")
    admin = Real(sentinel_port)
    admin.send((b"SENTINEL", b"MONITOR", b"m", b"127.0.0.1", str(_free_port()).encode(), b"1"))
    assert admin.read_frame() == b"OK"
    frame, raw2 = p2.real.read_raw_frame()
    assert isinstance(frame, list) and frame[:3] == [b"pmessage", b"+mon*", b"+monitor"]
    payload = frame[3]
    assert isinstance(payload, bytes)
    effects = h.reg.publish("+monitor", payload.decode())
    ours2 = encode_replies(effects, p2.cid)
    ours3 = encode_replies(effects, p3.cid)
    assert ours3 == p3.real.read_bytes(len(ours3))
    assert ours2 == raw2
    admin.close()
    p2.real.close()
    p3.real.close()


_ACL_RULE_WORDS = (
    "+@all", "-@all", "+ping", "-ping", "+client", "-client", "+client|kill",
    "-client|kill", "+client|id", "+@pubsub", "-@pubsub", "+@admin", "-@admin", "+@fast",
    "-@fast", "+@slow", "-@slow", "+@connection", "-@connection", "+@dangerous",
    "-@dangerous", "+sentinel", "-sentinel|masters", "+acl|whoami", "-command",
    "+command|count", "on", "off", "&a*", "resetchannels", "~k", "allkeys", "nopass",
)  # fmt: skip


@pytest.mark.interop
def test_clients_differential_acl_describe_random_rules(sentinel_port: int) -> None:
    rng = random.Random(7)
    h = Harness()
    pair = Pair(h, sentinel_port)
    for n in range(40):
        words = [rng.choice(_ACL_RULE_WORDS) for _ in range(rng.randrange(1, 9))]
        pair.same("ACL", "SETUSER", f"r{n}", "reset", *words)
        pair.same_unordered("ACL", "GETUSER", f"r{n}")
    pair.same_unordered("ACL", "LIST")
