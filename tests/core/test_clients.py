"""The client layer (core/clients.py) through ClientRegistry with a fake backend.

Wire strings were observed on redis-sentinel 7.0.15; tests/interop/
test_clients_differential.py re-checks most of them against the live binary.
"""

from __future__ import annotations

from clients_fakes import Harness, encode_replies

from pysentinel.config import SentinelConfig
from pysentinel.core.clients import ClientSnapshot
from pysentinel.core.effects import CloseClient, Exit, Log, Reply
from pysentinel.core.inputs import ClientCommand, ClientConnected, ProcessStats
from pysentinel.core.types import ClientId, LogLevel, Millis
from pysentinel.core.values import NULL, Array, Bulk, Double, Error, Int, Push, Simple


def _values(effects: list[object]) -> list[object]:
    return [e.value for e in effects if isinstance(e, Reply)]


# --- generic checks (spec §3.1) ---------------------------------------------------------


def test_clients_unknown_command_preview() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "FOO", "a", "b") == (
        b"-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"
    )
    assert h.wire(c, "FOO") == b"-ERR unknown command 'FOO', with args beginning with: \r\n"
    long = h.wire(c, "x" * 200, "y" * 100, "z" * 100, "w")
    assert long == (
        b"-ERR unknown command '"
        + b"x" * 128
        + b"', with args beginning with: '"
        + b"y" * 100
        + b"' '"
        + b"z" * 25
        + b"' \r\n"
    )
    # NUL ends a C string; CR/LF become spaces.
    assert h.wire(c, b"a\0b", b"c\r\nd") == (
        b"-ERR unknown command 'a', with args beginning with: 'c  d' \r\n"
    )
    # QUIT, CONFIG, ECHO don't exist in sentinel (trap T10).
    assert h.wire(c, "QUIT").startswith(b"-ERR unknown command 'QUIT'")


def test_clients_unknown_subcommand_and_arity() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "client", "foo") == b"-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"
    assert h.wire(c, "Sentinel", "x") == b"-ERR unknown subcommand 'x'. Try SENTINEL HELP.\r\n"
    assert h.wire(c, "sentinel") == b"-ERR wrong number of arguments for 'sentinel' command\r\n"
    assert h.wire(c, "SENTINEL", "master") == (
        b"-ERR wrong number of arguments for 'sentinel|master' command\r\n"
    )
    assert h.wire(c, "CLIENT", "KILL") == (
        b"-ERR wrong number of arguments for 'client|kill' command\r\n"
    )
    assert h.wire(c, "ROLE", "x") == b"-ERR wrong number of arguments for 'role' command\r\n"
    assert h.wire(c, "PING", "a", "b") == b"-ERR wrong number of arguments for 'ping' command\r\n"
    assert h.backend.sentinel_calls == []


def test_clients_noauth_before_acl_and_auth_commands_exempt() -> None:
    h = Harness(SentinelConfig(requirepass="pw"))
    c = h.connect()
    # Existence and arity come first.
    assert h.wire(c, "FOO").startswith(b"-ERR unknown command")
    assert h.wire(c, "ROLE", "x").startswith(b"-ERR wrong number")
    # PING checks its own arity when it runs, so NOAUTH comes first (as in redis).
    assert h.wire(c, "PING", "a", "b") == b"-NOAUTH Authentication required.\r\n"
    assert h.wire(c, "PING") == b"-NOAUTH Authentication required.\r\n"
    assert h.wire(c, "SENTINEL", "masters") == b"-NOAUTH Authentication required.\r\n"
    assert h.wire(c, "HELLO", "3") == (
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the"
        b" HELLO AUTH <user> <pass> option can be used to authenticate the client and select"
        b" the RESP protocol version at the same time\r\n"
    )
    assert h.wire(c, "AUTH", "bad") == (
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    )
    assert h.wire(c, "AUTH", "pw") == b"+OK\r\n"
    assert h.wire(c, "PING") == b"+PONG\r\n"


def test_clients_noperm_command_and_channels() -> None:
    h = Harness()
    admin = h.connect()
    assert h.wire(admin, "ACL", "SETUSER", "bob", "on", ">pw", "+ping", "+subscribe",
                  "+psubscribe", "+publish", "&news*") == b"+OK\r\n"  # fmt: skip
    c = h.connect()
    assert h.wire(c, "AUTH", "bob", "pw") == b"+OK\r\n"
    assert h.wire(c, "INFO") == (
        b"-NOPERM this user has no permissions to run the 'info' command\r\n"
    )
    assert h.wire(c, "SENTINEL", "myid") == (
        b"-NOPERM this user has no permissions to run the 'sentinel|myid' command\r\n"
    )
    channel_err = (
        b"-NOPERM this user has no permissions to access one of the channels used as arguments\r\n"
    )
    assert h.wire(c, "SUBSCRIBE", "news1", "other") == channel_err
    assert h.wire(c, "PSUBSCRIBE", "news1*") == channel_err
    assert h.wire(c, "PUBLISH", "other", "x") == channel_err
    # AUTH is no_auth: always allowed.
    assert h.wire(c, "AUTH", "x") == (
        b"-ERR AUTH <password> called without any password configured for the default user."
        b" Are you sure your configuration is correct?\r\n"
    )
    assert h.wire(c, "PSUBSCRIBE", "news*").startswith(b"*3\r\n$10\r\npsubscribe")


def test_clients_subscribed_mode_resp2_only() -> None:
    h = Harness()
    c = h.connect()
    h.run(c, "SUBSCRIBE", "a")
    assert h.wire(c, "INFO") == (
        b"-ERR Can't execute 'info': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT /"
        b" RESET are allowed in this context\r\n"
    )
    assert h.wire(c, "CLIENT", "ID").startswith(b"-ERR Can't execute 'client|id'")
    assert h.wire(c, "PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
    assert h.wire(c, "PING", "m") == b"*2\r\n$4\r\npong\r\n$1\r\nm\r\n"
    r3 = h.connect()
    h.run(r3, "HELLO", "3")
    h.run(r3, "SUBSCRIBE", "a")
    assert h.wire(r3, "PING") == b"+PONG\r\n"
    assert h.wire(r3, "CLIENT", "ID") == b":2\r\n"


# --- PING, INFO, ROLE, SENTINEL, PUBLISH -----------------------------------------------


def test_clients_ping_forms() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "PING") == b"+PONG\r\n"
    assert h.wire(c, "ping", "hi") == b"$2\r\nhi\r\n"


def test_clients_info_uses_backend_and_process_stats() -> None:
    h = Harness()
    c = h.connect()
    proc = ProcessStats(pid=77, executable="/x", config_file="/c", os="L", wall_time_us=5)
    effects = h.reg.command(ClientCommand(client=c, argv=(b"INFO",), proc=proc), h.now)
    (value,) = _values(effects)
    assert isinstance(value, Bulk)
    text = value.data.decode()
    assert "process_id:77\r\n" in text
    assert text.endswith("# Sentinel\r\nsentinel_masters:1\r\nsentinel_tilt:0\r\n")
    assert h.wire(c, "INFO", "replication") == b"$0\r\n\r\n"
    cpu = h.wire(c, "INFO", "CPU")
    assert cpu.startswith(b"$") and b"# CPU\r\nused_cpu_sys:0.000000" in cpu
    assert b"# Server" not in cpu


def test_clients_role_and_sentinel_delegate_to_backend() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "ROLE") == b"*2\r\n$8\r\nsentinel\r\n*1\r\n$8\r\nmymaster\r\n"
    assert h.wire(c, "SENTINEL", "MASTER", "mymaster") == b"+OK\r\n"
    h.run(c, "HELLO", "3")
    h.run(c, "sentinel", "masters")
    assert h.backend.sentinel_calls == [
        (c, (b"MASTER", b"mymaster"), 2),
        (c, (b"masters",), 3),
    ]


def test_clients_publish_only_hello_channel() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "PUBLISH", "x", "y") == (
        b"-ERR Only HELLO messages are accepted by Sentinel instances.\r\n"
    )
    assert h.wire(c, "PUBLISH", "__sentinel__:HELLO", "y").startswith(b"-ERR Only HELLO")
    assert h.wire(c, "PUBLISH", "__sentinel__:hello", "not,a,hello") == b":1\r\n"
    assert h.backend.hellos == [b"not,a,hello"]


# --- pub/sub -----------------------------------------------------------------------------


def test_clients_subscribe_unsubscribe_replies_resp2() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "SUBSCRIBE", "a", "b", "a") == (
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n"
    )
    assert h.wire(c, "PSUBSCRIBE", "x*") == b"*3\r\n$10\r\npsubscribe\r\n$2\r\nx*\r\n:3\r\n"
    assert h.wire(c, "UNSUBSCRIBE", "zz") == b"*3\r\n$11\r\nunsubscribe\r\n$2\r\nzz\r\n:3\r\n"
    assert h.wire(c, "UNSUBSCRIBE") == (
        b"*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:2\r\n"
        b"*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:1\r\n"
    )
    assert h.wire(c, "PUNSUBSCRIBE") == b"*3\r\n$12\r\npunsubscribe\r\n$2\r\nx*\r\n:0\r\n"
    assert h.wire(c, "UNSUBSCRIBE") == b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    assert h.wire(c, "PUNSUBSCRIBE") == b"*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n"
    # Back to normal mode.
    assert h.wire(c, "PING") == b"+PONG\r\n"


def test_clients_subscribe_resp3_push_frames() -> None:
    h = Harness()
    c = h.connect()
    h.run(c, "HELLO", "3")
    assert h.wire(c, "SUBSCRIBE", "a") == b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    assert h.wire(c, "UNSUBSCRIBE") == b">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"
    assert h.wire(c, "UNSUBSCRIBE") == b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"


def test_clients_publish_delivers_to_channels_then_patterns() -> None:
    h = Harness()
    a, b, p = h.connect(), h.connect(), h.connect()
    h.run(b, "HELLO", "3")
    h.run(a, "SUBSCRIBE", "+sdown")
    h.run(b, "SUBSCRIBE", "+sdown", "+odown")
    h.run(p, "PSUBSCRIBE", "+*", "*down", "-*")
    effects = h.reg.publish("+sdown", "master m 127.0.0.1 6379")
    assert [(e.client, e.proto) for e in effects if isinstance(e, Reply)] == [
        (a, 2),
        (b, 3),
        (p, 2),
        (p, 2),
    ]
    assert encode_replies(effects, b) == (
        b">3\r\n$7\r\nmessage\r\n$6\r\n+sdown\r\n$23\r\nmaster m 127.0.0.1 6379\r\n"
    )
    assert encode_replies(effects, p).startswith(
        b"*4\r\n$8\r\npmessage\r\n$2\r\n+*\r\n$6\r\n+sdown\r\n"
    )
    assert h.reg.publish("nobody", "x") == []
    # A disconnected subscriber gets nothing and is forgotten.
    h.disconnect(a)
    assert [e.client for e in h.reg.publish("+sdown", "x") if isinstance(e, Reply)] == [b, p, p]
    stats = h.reg.stats(h.now)
    assert (stats.pubsub_channels, stats.pubsub_patterns) == (2, 3)


# --- SHUTDOWN -----------------------------------------------------------------------------


def test_clients_shutdown_variants() -> None:
    h = Harness()
    c = h.connect()
    expected = [Log(level=LogLevel.WARNING, text="User requested shutdown..."), Exit(code=0)]
    assert h.run(c, "SHUTDOWN") == expected
    assert h.run(c, "shutdown", "nosave", "now", "force") == expected
    assert h.run(c, "SHUTDOWN", "SAVE") == expected
    assert h.wire(c, "SHUTDOWN", "FOO") == b"-ERR syntax error\r\n"
    assert h.wire(c, "SHUTDOWN", "SAVE", "NOSAVE") == b"-ERR syntax error\r\n"
    assert h.wire(c, "SHUTDOWN", "ABORT", "NOW") == b"-ERR syntax error\r\n"
    assert h.wire(c, "SHUTDOWN", "ABORT") == b"-ERR No shutdown in progress.\r\n"


# --- AUTH and HELLO -------------------------------------------------------------------


def test_clients_auth_forms() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "AUTH", "a", "b", "c") == b"-ERR syntax error\r\n"
    assert h.wire(c, "AUTH", "default", "x") == b"+OK\r\n"  # nopass: anything goes
    h.run(c, "ACL", "SETUSER", "u", "on", ">pw", "+acl|whoami")
    assert h.wire(c, "AUTH", "u", "no").startswith(b"-WRONGPASS")
    assert h.wire(c, "AUTH", "nobody", "pw").startswith(b"-WRONGPASS")
    assert h.wire(c, "AUTH", "u", "pw") == b"+OK\r\n"
    assert h.wire(c, "ACL", "WHOAMI") == b"$1\r\nu\r\n"
    h.run(c, "AUTH", "default", "")
    h.run(c, "ACL", "SETUSER", "u", "off")
    assert h.wire(c, "AUTH", "u", "pw").startswith(b"-WRONGPASS")


def test_clients_hello_map_and_options() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "HELLO") == (
        b"*12\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
        b"$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$8\r\nsentinel\r\n"
        b"$7\r\nmodules\r\n*0\r\n"
    )
    assert h.wire(c, "HELLO", "4") == b"-NOPROTO unsupported protocol version\r\n"
    assert h.wire(c, "HELLO", "1") == b"-NOPROTO unsupported protocol version\r\n"
    assert h.wire(c, "HELLO", "x") == (
        b"-ERR Protocol version is not an integer or out of range\r\n"
    )
    assert h.wire(c, "HELLO", "3", "FOO") == b"-ERR Syntax error in HELLO option 'FOO'\r\n"
    assert h.wire(c, "HELLO", "3", "AUTH", "u") == b"-ERR Syntax error in HELLO option 'AUTH'\r\n"
    assert h.wire(c, "HELLO", "3", "SETNAME", "a b") == (
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    )
    assert h.wire(c, "HELLO", "3", "AUTH", "nobody", "x").startswith(b"-WRONGPASS")
    # Nothing above changed the protocol.
    assert h.wire(c, "PING") == b"+PONG\r\n"
    reply = h.wire(c, "hello", "3", "auth", "default", "x", "setname", "me")
    assert reply.startswith(b"%6\r\n")
    assert h.wire(c, "CLIENT", "GETNAME") == b"$2\r\nme\r\n"


def test_clients_hello_auth_when_required() -> None:
    h = Harness(SentinelConfig(requirepass="pw"))
    c = h.connect()
    assert h.wire(c, "HELLO", "3", "AUTH", "default", "bad").startswith(b"-WRONGPASS")
    assert h.wire(c, "HELLO", "3", "AUTH", "default", "pw").startswith(b"%6\r\n")
    assert h.wire(c, "ACL", "WHOAMI") == b"$7\r\ndefault\r\n"


# --- CLIENT -----------------------------------------------------------------------------


def test_clients_client_names() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "CLIENT", "GETNAME") == b"$-1\r\n"
    assert h.wire(c, "CLIENT", "SETNAME", "bad\nname") == (
        b"-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    )
    assert h.wire(c, "CLIENT", "SETNAME", "ok-name") == b"+OK\r\n"
    assert h.wire(c, "CLIENT", "GETNAME") == b"$7\r\nok-name\r\n"
    assert h.wire(c, "CLIENT", "SETNAME", "") == b"+OK\r\n"
    assert h.wire(c, "CLIENT", "GETNAME") == b"$-1\r\n"
    assert h.wire(c, "CLIENT", "ID") == b":1\r\n"


def test_clients_client_list_and_info_lines() -> None:
    h = Harness()
    a = h.connect("127.0.0.1:40001")
    h.now = Millis(h.now + 5_000)
    b = h.connect("127.0.0.1:40002")
    h.run(b, "CLIENT", "SETNAME", "bee")
    h.run(b, "SUBSCRIBE", "x")
    h.now = Millis(h.now + 2_000)
    listing = h.run(a, "CLIENT", "LIST")
    (value,) = _values(listing)
    lines = value.text.decode().split("\n")  # type: ignore[union-attr]
    assert lines[-1] == ""
    assert lines[0] == (
        "id=1 addr=127.0.0.1:40001 laddr=127.0.0.1:26379 fd=7 name= age=7 idle=0 flags=N"
        " db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0"
        " rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=client|list user=default redir=-1"
        " resp=2"
    )
    assert "name=bee age=2 idle=2 flags=P db=0 sub=1 psub=0" in lines[1]
    assert "cmd=subscribe" in lines[1]
    assert h.wire(a, "CLIENT", "INFO").startswith(b"$")
    only_pubsub = _values(h.run(a, "CLIENT", "LIST", "TYPE", "pubsub"))[0]
    assert only_pubsub.text.decode().startswith("id=2 ")  # type: ignore[union-attr]
    assert _values(h.run(a, "CLIENT", "LIST", "TYPE", "master"))[0].text == b""  # type: ignore[union-attr]
    by_id = _values(h.run(a, "CLIENT", "LIST", "ID", "2", "99"))[0]
    assert by_id.text.decode().count("\n") == 1  # type: ignore[union-attr]
    assert h.wire(a, "CLIENT", "LIST", "ID", "x") == b"-ERR Invalid client ID\r\n"
    assert h.wire(a, "CLIENT", "LIST", "TYPE", "foo") == b"-ERR Unknown client type 'foo'\r\n"
    assert h.wire(a, "CLIENT", "LIST", "x") == b"-ERR syntax error\r\n"
    h.run(a, "HELLO", "3")
    assert h.wire(a, "CLIENT", "INFO").startswith(b"=")


def test_clients_client_kill_forms() -> None:
    h = Harness()
    me = h.connect("127.0.0.1:1")
    other = h.connect("127.0.0.1:2")
    third = h.connect("127.0.0.1:3")
    assert h.wire(me, "CLIENT", "KILL", "1.2.3.4:5") == b"-ERR No such client\r\n"
    assert h.run(me, "CLIENT", "KILL", "127.0.0.1:2") == [
        Reply(client=me, value=Simple("OK"), proto=2),
        CloseClient(client=other),
    ]
    # The killed client is gone at once; its late disconnect is harmless.
    assert h.disconnect(other) == []
    assert h.run(other, "PING") == []
    assert h.wire(me, "CLIENT", "KILL", "ID", "x") == (
        b"-ERR client-id should be greater than 0\r\n"
    )
    assert h.wire(me, "CLIENT", "KILL", "TYPE", "foo") == b"-ERR Unknown client type 'foo'\r\n"
    assert h.wire(me, "CLIENT", "KILL", "USER", "nob") == b"-ERR No such user 'nob'\r\n"
    assert h.wire(me, "CLIENT", "KILL", "SKIPME", "maybe") == b"-ERR syntax error\r\n"
    assert h.wire(me, "CLIENT", "KILL", "ID", "1", "SKIPME") == b"-ERR syntax error\r\n"
    assert h.wire(me, "CLIENT", "KILL", "FOO", "bar") == b"-ERR syntax error\r\n"
    assert h.wire(me, "CLIENT", "KILL", "ID", "1") == b":0\r\n"  # skipme yes by default
    assert h.wire(me, "CLIENT", "KILL", "TYPE", "pubsub") == b":0\r\n"
    assert h.wire(me, "CLIENT", "KILL", "LADDR", "127.0.0.1:26379", "ADDR", "x") == b":0\r\n"
    # The suite's form: kills everyone including ourselves, after the reply.
    effects = h.run(me, "CLIENT", "KILL", "USER", "default", "SKIPME", "no")
    assert effects == [
        Reply(client=me, value=Int(2), proto=2),
        CloseClient(client=third),
        CloseClient(client=me),
    ]
    assert h.reg.clients == {}


def test_clients_client_kill_self_by_addr() -> None:
    h = Harness()
    me = h.connect("127.0.0.1:1")
    assert h.run(me, "CLIENT", "KILL", "127.0.0.1:1") == [
        Reply(client=me, value=Simple("OK"), proto=2),
        CloseClient(client=me),
    ]


def test_clients_client_reply_modes() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "CLIENT", "REPLY", "x") == b"-ERR syntax error\r\n"
    assert h.run(c, "CLIENT", "REPLY", "SKIP") == []
    assert h.run(c, "PING") == []
    assert h.wire(c, "PING") == b"+PONG\r\n"
    assert h.run(c, "CLIENT", "REPLY", "OFF") == []
    assert h.run(c, "PING") == []
    assert h.run(c, "CLIENT", "REPLY", "SKIP") == []  # OFF stays OFF
    assert h.run(c, "PING") == []
    assert h.wire(c, "CLIENT", "REPLY", "ON") == b"+OK\r\n"
    # Pushes are suppressed too (RESP3, so CLIENT REPLY works while subscribed).
    r3 = h.connect()
    h.run(r3, "HELLO", "3")
    h.run(r3, "CLIENT", "REPLY", "OFF")
    h.run(r3, "SUBSCRIBE", "a")
    assert h.reg.publish("a", "m") == []
    assert h.wire(r3, "CLIENT", "REPLY", "ON") == b"+OK\r\n"
    assert h.reg.publish("a", "m") != []
    # Errors are counted even when not sent.
    before = h.reg.total_errors
    h.run(c, "CLIENT", "REPLY", "OFF")
    h.run(c, "FOO")
    assert h.reg.total_errors == before + 1


def test_clients_client_misc_subcommands() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "CLIENT", "NO-EVICT", "x") == b"-ERR syntax error\r\n"
    assert h.wire(c, "CLIENT", "NO-EVICT", "on") == b"+OK\r\n"
    assert b"flags=e " in h.wire(c, "CLIENT", "INFO")
    assert h.wire(c, "CLIENT", "GETREDIR") == b":-1\r\n"
    assert h.wire(c, "CLIENT", "TRACKINGINFO") == (
        b"*6\r\n$5\r\nflags\r\n*1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n"
    )
    assert h.wire(c, "CLIENT", "UNBLOCK", "x") == (
        b"-ERR value is not an integer or out of range\r\n"
    )
    assert h.wire(c, "CLIENT", "UNBLOCK", "1", "x") == (
        b"-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR\r\n"
    )
    assert h.wire(c, "CLIENT", "UNBLOCK", "1", "error", "x") == b"-ERR syntax error\r\n"
    assert h.wire(c, "CLIENT", "UNBLOCK", "1", "TIMEOUT") == b":0\r\n"
    assert h.wire(c, "CLIENT", "PAUSE", "10", "write") == b"+OK\r\n"
    assert h.wire(c, "PING") == b"+PONG\r\n"  # a WRITE pause holds nothing here
    assert h.wire(c, "CLIENT", "PAUSE", "x") == (
        b"-ERR timeout is not an integer or out of range\r\n"
    )
    assert h.wire(c, "CLIENT", "PAUSE", "-1") == b"-ERR timeout is negative\r\n"
    assert h.wire(c, "CLIENT", "PAUSE", "10", "x") == (
        b"-ERR CLIENT PAUSE mode must be WRITE or ALL\r\n"
    )
    assert h.wire(c, "CLIENT", "PAUSE", "10", "ALL", "x") == b"-ERR syntax error\r\n"
    assert h.wire(c, "CLIENT", "UNPAUSE") == b"+OK\r\n"


def test_clients_client_tracking_state() -> None:
    h = Harness()
    c = h.connect()
    other = h.connect()
    assert h.wire(c, "CLIENT", "TRACKING", "on", "PREFIX", "a") == (
        b"-ERR PREFIX option requires BCAST mode to be enabled\r\n"
    )
    assert h.wire(c, "CLIENT", "TRACKING", "on", "BCAST", "OPTIN") == (
        b"-ERR OPTIN and OPTOUT are not compatible with BCAST\r\n"
    )
    assert h.wire(c, "CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT") == (
        b"-ERR You can't specify both OPTIN mode and OPTOUT mode\r\n"
    )
    assert h.wire(c, "CLIENT", "TRACKING", "on", "REDIRECT", "999") == (
        b"-ERR The client ID you want redirect to does not exist\r\n"
    )
    assert h.wire(c, "CLIENT", "TRACKING", "on", "REDIRECT", "x") == (
        b"-ERR value is not an integer or out of range\r\n"
    )
    assert h.wire(c, "CLIENT", "TRACKING", "on", "REDIRECT", "2", "REDIRECT", "2") == (
        b"-ERR A client can only redirect to a single other client\r\n"
    )
    assert h.wire(c, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab") == (
        b"-ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single"
        b" client must not overlap.\r\n"
    )
    assert h.wire(c, "CLIENT", "TRACKING", "maybe") == b"-ERR syntax error\r\n"
    assert h.wire(c, "CLIENT", "TRACKING", "on", "x") == b"-ERR syntax error\r\n"
    assert h.wire(c, "CLIENT", "TRACKING", "on", "OPTIN", "REDIRECT", str(other)) == b"+OK\r\n"
    assert h.wire(c, "CLIENT", "GETREDIR") == b":2\r\n"
    assert h.wire(c, "CLIENT", "TRACKING", "on", "BCAST") == (
        b"-ERR You can't switch BCAST mode on/off before disabling tracking for this client,"
        b" and then re-enabling it with a different mode.\r\n"
    )
    assert h.wire(c, "CLIENT", "TRACKING", "on", "OPTOUT").startswith(
        b"-ERR You can't switch OPTIN/OPTOUT mode"
    )
    assert h.wire(c, "CLIENT", "CACHING", "no") == (
        b"-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.\r\n"
    )
    assert h.wire(c, "CLIENT", "CACHING", "x") == b"-ERR syntax error\r\n"
    assert h.wire(c, "CLIENT", "CACHING", "yes") == b"+OK\r\n"
    assert b"$11\r\ncaching-yes" in h.wire(c, "CLIENT", "TRACKINGINFO")
    h.run(c, "PING")  # CACHING applies to one command only
    assert h.wire(c, "CLIENT", "TRACKINGINFO") == (
        b"*6\r\n$5\r\nflags\r\n*2\r\n$2\r\non\r\n$5\r\noptin\r\n"
        b"$8\r\nredirect\r\n:2\r\n$8\r\nprefixes\r\n*0\r\n"
    )
    assert b" flags=t " in h.wire(c, "CLIENT", "INFO")
    assert h.wire(c, "CLIENT", "TRACKING", "off") == b"+OK\r\n"
    assert h.wire(c, "CLIENT", "GETREDIR") == b":-1\r\n"
    assert h.wire(c, "CLIENT", "CACHING", "yes").startswith(
        b"-ERR CLIENT CACHING can be called only"
    )
    assert h.wire(c, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "NOLOOP") == b"+OK\r\n"
    assert h.wire(c, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab") == (
        b"-ERR Prefix 'ab' overlaps with an existing prefix 'a'. Prefixes for a single client"
        b" must not overlap.\r\n"
    )
    assert h.wire(c, "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b") == b"+OK\r\n"
    info = h.wire(c, "CLIENT", "TRACKINGINFO")
    assert info.endswith(b"$8\r\nprefixes\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n")
    assert b"$5\r\nbcast\r\n" in info and b"noloop" not in info
    line = h.wire(c, "CLIENT", "INFO")
    assert b" flags=tB " in line and b" redir=0 " in line


# --- COMMAND -----------------------------------------------------------------------------


def test_clients_command_subcommands() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "COMMAND", "COUNT") == b":15\r\n"
    everything = _values(h.run(c, "COMMAND"))[0]
    assert isinstance(everything, Array) and len(everything.items) == 15
    assert h.wire(c, "COMMAND", "INFO", "nosuch", "ping") == (
        b"*2\r\n$-1\r\n*10\r\n$4\r\nping\r\n:-1\r\n*1\r\n+fast\r\n:0\r\n:0\r\n:0\r\n"
        b"*2\r\n+@fast\r\n+@connection\r\n*2\r\n$25\r\nrequest_policy:all_shards\r\n"
        b"$29\r\nresponse_policy:all_succeeded\r\n*0\r\n*0\r\n"
    )
    info_all = _values(h.run(c, "COMMAND", "INFO"))[0]
    assert isinstance(info_all, Array) and len(info_all.items) == 15
    names = _values(h.run(c, "COMMAND", "LIST"))[0]
    assert isinstance(names, Array) and len(names.items) == 72
    assert h.wire(c, "COMMAND", "LIST", "FILTERBY", "PATTERN", "CLIENT|I*") == (
        b"*2\r\n$11\r\nclient|info\r\n$9\r\nclient|id\r\n"
    )
    assert h.wire(c, "COMMAND", "LIST", "FILTERBY", "MODULE", "x") == b"*0\r\n"
    assert h.wire(c, "COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch") == b"*0\r\n"
    assert h.wire(c, "COMMAND", "LIST", "FILTERBY", "X", "y") == b"-ERR syntax error\r\n"
    assert h.wire(c, "COMMAND", "LIST", "x") == b"-ERR syntax error\r\n"
    assert h.wire(c, "COMMAND", "GETKEYS", "get", "a") == b"-ERR Invalid command specified\r\n"
    assert h.wire(c, "COMMAND", "GETKEYS", "client", "nosuch") == (
        b"-ERR Invalid command specified\r\n"
    )
    assert h.wire(c, "COMMAND", "GETKEYSANDFLAGS", "role", "x") == (
        b"-ERR Invalid number of arguments specified for command\r\n"
    )
    assert h.wire(c, "COMMAND", "GETKEYS", "publish", "a", "b") == (
        b"-ERR The command has no key arguments\r\n"
    )
    assert h.wire(c, "COMMAND", "DOCS") == b"-ERR COMMAND DOCS is not supported by pysentinel\r\n"


# --- ACL through the registry ------------------------------------------------------------


_U_LINE = "user u on ~k* resetchannels &c* -@all +@pubsub"


def test_clients_acl_subcommands() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "ACL", "WHOAMI") == b"$7\r\ndefault\r\n"
    assert h.wire(c, "ACL", "SETUSER", "u", "foo") == (
        b"-ERR Error in ACL SETUSER modifier 'foo': Syntax error\r\n"
    )
    assert h.wire(c, "ACL", "SETUSER", "u", "on", "~k*", "&c*", "+@pubsub") == b"+OK\r\n"
    assert h.wire(c, "ACL", "USERS") == b"*2\r\n$7\r\ndefault\r\n$1\r\nu\r\n"
    assert h.wire(c, "ACL", "LIST") == (
        b"*2\r\n$34\r\nuser default on nopass ~* &* +@all\r\n"
        b"$%d\r\nuser u on ~k* resetchannels &c* -@all +@pubsub\r\n" % len(_U_LINE)
    )
    assert h.wire(c, "ACL", "GETUSER", "u") == (
        b"*12\r\n$5\r\nflags\r\n*1\r\n$2\r\non\r\n$9\r\npasswords\r\n*0\r\n"
        b"$8\r\ncommands\r\n$14\r\n-@all +@pubsub\r\n$4\r\nkeys\r\n$3\r\n~k*\r\n"
        b"$8\r\nchannels\r\n$3\r\n&c*\r\n$9\r\nselectors\r\n*0\r\n"
    )
    assert h.wire(c, "ACL", "GETUSER", "nobody") == b"$-1\r\n"
    assert h.wire(c, "ACL", "CAT", "pubsub") == (
        b"*5\r\n$10\r\npsubscribe\r\n$9\r\nsubscribe\r\n$7\r\npublish\r\n"
        b"$11\r\nunsubscribe\r\n$12\r\npunsubscribe\r\n"
    )
    assert h.wire(c, "ACL", "CAT").startswith(b"*21\r\n$8\r\nkeyspace\r\n")
    assert h.wire(c, "ACL", "CAT", "nosuch") == b"-ERR Unknown category 'nosuch'\r\n"
    assert h.wire(c, "ACL", "CAT", "a", "b") == (
        b"-ERR unknown subcommand or wrong number of arguments for 'CAT'. Try ACL HELP.\r\n"
    )
    assert h.wire(c, "ACL", "DRYRUN", "u", "subscribe", "c1") == b"+OK\r\n"
    assert h.wire(c, "ACL", "DRYRUN", "u", "subscribe", "d1") == (
        b"$76\r\nThis user has no permissions to access one of the channels used as arguments\r\n"
    )
    assert h.wire(c, "ACL", "DRYRUN", "u", "info") == (
        b"$54\r\nThis user has no permissions to run the 'info' command\r\n"
    )
    assert h.wire(c, "ACL", "DRYRUN", "u", "client", "id") == (
        b"$59\r\nThis user has no permissions to run the 'client|id' command\r\n"
    )
    assert h.wire(c, "ACL", "DRYRUN", "u", "role", "x") == (
        b"-ERR wrong number of arguments for 'role' command\r\n"
    )
    assert h.wire(c, "ACL", "DRYRUN", "nobody", "ping") == b"-ERR User 'nobody' not found\r\n"
    assert h.wire(c, "ACL", "DRYRUN", "u", "nosuch") == b"-ERR Command 'nosuch' not found\r\n"
    assert h.wire(c, "ACL", "LOAD").startswith(
        b"-ERR This Redis instance is not configured to use an ACL file."
    )


def test_clients_acl_genpass_is_deterministic_per_seed() -> None:
    def run(seed: int, *args: str) -> bytes:
        h = Harness(seed=seed)
        return h.wire(h.connect(), "ACL", "GENPASS", *args)

    assert run(1) == run(1) != run(2)
    assert run(1).startswith(b"$64\r\n")
    assert run(1, "5").startswith(b"$2\r\n")
    assert run(1, "0") == (
        b"-ERR ACL GENPASS argument must be the number of bits for the output password, a"
        b" positive number up to 4096\r\n"
    )
    assert run(1, "x") == b"-ERR value is not an integer or out of range\r\n"
    assert run(1, "1", "2").startswith(b"-ERR unknown subcommand or wrong number")


def test_clients_acl_deluser_kills_its_clients() -> None:
    h = Harness()
    admin = h.connect()
    h.run(admin, "ACL", "SETUSER", "u", "on", "nopass", "+@all")
    c = h.connect()
    h.run(c, "AUTH", "u", "x")
    h.run(c, "SUBSCRIBE", "ch")
    assert h.run(admin, "ACL", "DELUSER", "u", "nobody") == [
        Reply(client=admin, value=Int(1), proto=2),
        CloseClient(client=c),
    ]
    assert h.reg.publish("ch", "x") == []
    assert h.wire(admin, "ACL", "DELUSER", "default") == (
        b"-ERR The 'default' user cannot be removed\r\n"
    )
    # Deleting the user we are authenticated as closes us after the reply.
    h.run(admin, "ACL", "SETUSER", "v", "on", "nopass", "+@all")
    h.run(admin, "AUTH", "v", "x")
    assert h.run(admin, "ACL", "DELUSER", "v") == [
        Reply(client=admin, value=Int(1), proto=2),
        CloseClient(client=admin),
    ]


def test_clients_acl_acl_help_not_supported() -> None:
    h = Harness()
    c = h.connect()
    assert h.wire(c, "ACL", "HELP") == b"-ERR ACL HELP is not supported by pysentinel\r\n"


# --- counters and lifecycle ------------------------------------------------------------------


def test_clients_counters_for_info() -> None:
    h = Harness()
    h.reg.start(Millis(0))
    c = h.connect()
    h.connect()
    h.run(c, "PING")
    h.run(c, "FOO")
    h.run(c, "PING", "a", "b")
    stats = h.reg.stats(Millis(61_000))
    assert stats.total_connections_received == 2
    assert stats.connected_clients == 2
    # PING checks its arity when it runs: redis counts it as processed.
    assert stats.total_commands_processed == 2
    assert stats.total_error_replies == 2
    assert stats.uptime_ms == 61_000
    assert 10 <= stats.hz <= 19
    assert len(stats.run_id) == 40


def test_clients_unknown_client_and_empty_argv_are_ignored() -> None:
    h = Harness()
    assert h.reg.command(ClientCommand(client=ClientId(99), argv=(b"PING",)), h.now) == []
    c = h.connect()
    assert h.reg.command(ClientCommand(client=c, argv=()), h.now) == []
    assert h.wire(c, "client\xdf", "x").startswith(b"-ERR unknown command")
    assert h.wire(c, "client", "\xdf") == (
        "-ERR unknown subcommand '\xdf'. Try CLIENT HELP.\r\n".encode()
    )


def test_clients_error_values_are_single_line() -> None:
    h = Harness()
    c = h.connect()
    (value,) = _values(h.run(c, "CLIENT", "KILL", "TYPE", "a\r\nb"))
    assert value == Error("ERR Unknown client type 'a  b'")
    assert _values(h.run(c, "CLIENT", "GETNAME")) == [NULL]
    push = _values(h.run(c, "SUBSCRIBE", "z"))[0]
    assert push == Push((Bulk(b"subscribe"), Bulk(b"z"), Int(1)))


def test_clients_acl_log_records_and_groups_denials() -> None:
    h = Harness()
    admin = h.connect("127.0.0.1:1")
    h.run(admin, "ACL", "SETUSER", "u", "on", ">pw", "+ping", "+subscribe", "&ok")
    c = h.connect("127.0.0.1:2")
    h.run(c, "auth", "nob", "x")
    h.run(c, "AUTH", "u", "pw")
    h.run(c, "INFO")
    h.now = Millis(h.now + 1_500)
    h.run(c, "INFO")
    h.run(c, "SUBSCRIBE", "ok", "bad")
    h.now = Millis(h.now + 500)
    log = _values(h.run(admin, "ACL", "LOG"))[0]
    assert isinstance(log, Array)
    rows = [{k.data.decode(): v for k, v in entry.items} for entry in log.items]  # type: ignore[union-attr]
    assert [(r["reason"], r["object"], r["username"], r["count"]) for r in rows] == [
        (Bulk(b"channel"), Bulk(b"bad"), Bulk(b"u"), Int(1)),
        (Bulk(b"command"), Bulk(b"info"), Bulk(b"u"), Int(2)),
        (Bulk(b"auth"), Bulk(b"auth"), Bulk(b"nob"), Int(1)),
    ]
    assert rows[1]["age-seconds"] == Double(0.5)
    assert rows[1]["context"] == Bulk(b"toplevel")
    info = rows[2]["client-info"]
    assert isinstance(info, Bulk) and b" cmd=auth user=default " in info.data
    assert encode_replies(h.run(admin, "ACL", "LOG", "1"), admin).startswith(b"*1\r\n*14\r\n")
    assert h.wire(admin, "ACL", "LOG", "-1") == b"*0\r\n"
    assert h.wire(admin, "ACL", "LOG", "x") == b"-ERR value is not an integer or out of range\r\n"
    assert h.wire(admin, "ACL", "LOG", "1", "2") == (
        b"-ERR unknown subcommand or wrong number of arguments for 'LOG'. Try ACL HELP.\r\n"
    )
    assert h.wire(admin, "ACL", "LOG", "reset") == b"+OK\r\n"
    assert h.wire(admin, "ACL", "LOG") == b"*0\r\n"
    # Entries older than 60 s are not grouped; the log keeps 128 entries.
    for _ in range(130):
        h.now = Millis(h.now + 60_000)
        h.run(c, "INFO")
    assert len(h.reg.acl_log) == 128


def test_clients_snapshot_and_info_does_not_count_itself() -> None:
    h = Harness()
    a = h.connect("127.0.0.1:1")
    b = h.connect("127.0.0.1:2")
    h.run(b, "HELLO", "3", "SETNAME", "bee")
    h.run(b, "SUBSCRIBE", "x")
    h.run(b, "PSUBSCRIBE", "y*")
    snap = h.reg.snapshot()
    assert [s.id for s in snap] == [a, b]
    assert snap[1] == ClientSnapshot(
        id=b,
        addr="127.0.0.1:2",
        name=b"bee",
        user="default",
        proto=3,
        authenticated=True,
        channels=(b"x",),
        patterns=(b"y*",),
    )
    (value,) = _values(h.run(a, "INFO", "stats"))
    assert isinstance(value, Bulk)
    assert b"total_commands_processed:3\r\n" in value.data


def test_clients_info_without_server_section_leaves_rng_alone() -> None:
    h = Harness()
    c = h.connect()
    state = h.reg.rng.getstate()
    h.run(c, "INFO", "cpu", "sentinel")
    assert h.reg.rng.getstate() == state
    h.run(c, "INFO", "server")
    assert h.reg.rng.getstate() != state


def test_clients_client_pause_all_holds_commands_until_it_ends() -> None:
    h = Harness()
    a, b = h.connect(), h.connect()
    start = h.now
    assert h.wire(a, "CLIENT", "PAUSE", "500") == b"+OK\r\n"
    assert h.reg.next_deadline() is None  # nothing held yet
    # Checks still answer at once; valid commands wait, each client in order.
    assert h.wire(b, "FOO") == b"-ERR unknown command 'FOO', with args beginning with: \r\n"
    assert h.run(b, "PING", "1") == []
    assert h.run(a, "CLIENT", "UNPAUSE") == []  # held too, as in redis 7.0
    assert h.run(b, "ECHO") == []  # b is blocked: even errors wait behind its PING
    assert h.run(b, "PING", "2") == []
    assert h.reg.next_deadline() == start + 500
    assert b" flags=b " in h.reg.client_line(h.reg.clients[b], h.now).encode()
    assert h.reg.tick(Millis(start + 499)) == []
    released = h.reg.tick(Millis(start + 500))
    assert [(e.client, e.value) for e in released if isinstance(e, Reply)] == [
        (b, Bulk(b"1")),
        (a, Simple("OK")),
        (b, Error("ERR unknown command 'ECHO', with args beginning with: ")),
        (b, Bulk(b"2")),
    ]
    assert h.reg.postponed == [] and h.reg.next_deadline() is None
    assert h.wire(b, "PING") == b"+PONG\r\n"


def test_clients_client_pause_released_by_later_input_and_longest_wins() -> None:
    h = Harness()
    a, b = h.connect(), h.connect()
    h.run(a, "CLIENT", "PAUSE", "100", "WRITE")
    h.run(a, "CLIENT", "PAUSE", "50", "ALL")  # ALL wins, the later end (100) stays
    assert h.run(b, "PING") == []
    h.now = Millis(h.now + 60)
    assert h.run(b, "PING", "x") == []  # still paused: queued behind the first
    h.now = Millis(h.now + 40)
    # Any later input releases first, in order; then runs the new command.
    effects = h.run(a, "PING", "late")
    assert [(e.client, e.value) for e in effects if isinstance(e, Reply)] == [
        (b, Simple("PONG")),
        (b, Bulk(b"x")),
        (a, Bulk(b"late")),
    ]
    # A held client that goes away is forgotten; a connect also releases.
    h.run(a, "CLIENT", "PAUSE", "10")
    h.run(b, "PING")
    h.disconnect(b)
    assert h.reg.postponed == []
    h.now = Millis(h.now + 10)
    h.run(a, "CLIENT", "PAUSE", "10")
    c = h.connect()
    assert h.run(a, "PING") == []
    h.now = Millis(h.now + 10)
    assert h.reg.connected(
        ClientConnected(client=ClientId(99), addr="x:1", laddr="y:2"), h.now
    ) == [Reply(client=a, value=Simple("PONG"), proto=2)]
    assert c in h.reg.clients


def test_clients_client_pause_keeps_reply_skip_for_the_held_command() -> None:
    h = Harness()
    a, b = h.connect(), h.connect()
    h.run(b, "CLIENT", "REPLY", "SKIP")
    h.run(a, "CLIENT", "PAUSE", "10")
    assert h.run(b, "PING", "skipped") == []
    h.now = Millis(h.now + 10)
    assert h.reg.tick(h.now) == []  # the held PING's reply is the skipped one
    assert h.wire(b, "PING") == b"+PONG\r\n"
