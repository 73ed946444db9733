"""Security on the sentinel port and around scripts (issue 8 item 5).

Every case runs against a pysentinel and a real ``redis-sentinel`` 7.0.15 started with
the same configuration, and the exact reply bytes must match (the reference tells a
wrong test from a pysentinel bug); on top of that each case asserts what it is about:

* ``requirepass``: an unauthenticated client gets ``-NOAUTH`` for every command of the
  table (each subcommand, with a valid arity) except ``AUTH`` and ``HELLO``;
* ACL users: per-command denials (``-NOPERM``), disabled users, channel permissions,
  ``user default off``;
* protected mode as redis does it: with ``protected-mode yes``, no ``bind`` and no
  password, a client from a non-loopback address gets ``-DENIED``; the sentinel default
  (``protected-mode no``) lets it in; a password lifts the protection;
* scripts run without a shell: a master name full of shell metacharacters reaches the
  notification and client-reconfig scripts as one argv element, and nothing the name
  spells is executed;
* ``sentinel deny-scripts-reconfig`` is on by default, cannot be switched off at
  runtime, and no path or directory can be changed through ``CONFIG SET`` or
  ``SENTINEL CONFIG SET``.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest
from harness import (
    CLIENT_TIMEOUT_S,
    HOST,
    PYSENTINEL,
    REDIS_SENTINEL,
    REPO_ROOT,
    Interop,
    SentinelNode,
    monitor_lines,
    pack,
    read_replies,
    wait_until,
)

from pysentinel import config as config_module
from pysentinel.core.cmdtable import COMMANDS
from pysentinel.errors import ConfigError

pytestmark = pytest.mark.interop

NOAUTH = b"-NOAUTH Authentication required.\r\n"


def _pair(env: Interop, lines: Sequence[str], *, bind: bool = True) -> list[SentinelNode]:
    """A pysentinel and a redis-sentinel with the same ``lines`` (and our port/dir/log)."""
    nodes = []
    for impl in (PYSENTINEL, REDIS_SENTINEL):
        node = env.sentinel(lines, impl=impl, start=False)
        if not bind:
            text = node.conf.read_text().replace(f"bind {HOST}\n", "")
            node.conf.write_text(text)
        nodes.append(node)
    for node in nodes:
        _start_without_ping(node)
    return nodes


def _start_without_ping(node: SentinelNode) -> None:
    """Start a sentinel that may refuse our PING (password, protected mode): wait until
    its port accepts connections instead."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    node.proc = node.procs.spawn(node.argv, cwd=node.dir, output=node.output_path, env=env)

    def listening() -> bool:
        if not node.running:
            raise AssertionError(f"{node} exited at start-up\n{node.describe()}")
        with socket.create_connection((HOST, node.port), timeout=CLIENT_TIMEOUT_S):
            return True

    wait_until(listening, 20, f"{node} to listen", node.describe)


def _exchange(port: int, commands: Sequence[Sequence[str]], host: str = HOST) -> bytes:
    """Send ``commands`` one at a time on one new connection; all reply bytes."""
    out = b""
    with socket.create_connection((host, port), timeout=CLIENT_TIMEOUT_S) as sock:
        for argv in commands:
            sock.sendall(pack(list(argv)))
            out += read_replies(sock, 1)
    return out


def _same(nodes: list[SentinelNode], commands: Sequence[Sequence[str]]) -> list[bytes]:
    """Each reply, from both implementations, which must agree byte for byte."""
    per_node = []
    for node in nodes:
        replies = []
        with socket.create_connection((HOST, node.port), timeout=CLIENT_TIMEOUT_S) as sock:
            for argv in commands:
                sock.sendall(pack(list(argv)))
                replies.append(read_replies(sock, 1))
        per_node.append(replies)
    ours, theirs = per_node
    for argv, a, b in zip(commands, ours, theirs, strict=True):
        assert a == b, f"{argv}: pysentinel {a!r} != redis-sentinel {b!r}"
    return ours


def _valid_arity_commands() -> list[list[str]]:
    """One argv per command and subcommand of the table, with an acceptable arity."""
    out = []
    for spec in COMMANDS:
        entries = [(spec.fullname, spec.arity, [])] if not spec.subcommands else []
        for sub in spec.subcommands:
            entries.append((spec.fullname, sub.arity, [sub.subname]))
        for name, arity, sub_words in entries:
            argc = arity if arity > 0 else -arity
            argv = [name, *sub_words]
            argv += ["x"] * max(0, argc - len(argv))
            out.append(argv)
    return out


def test_security_requirepass_noauth_for_everything_but_auth_and_hello(
    procs_env: Interop,
) -> None:
    master = procs_env.redis()
    nodes = _pair(procs_env, ["requirepass s3cret", *monitor_lines(master, quorum=1)])
    commands = _valid_arity_commands()
    replies = _same(nodes, commands)
    exempt = {"auth", "hello"}
    checked = 0
    for argv, reply in zip(commands, replies, strict=True):
        if argv[0] in exempt:
            assert reply != NOAUTH, argv
        else:
            assert reply == NOAUTH, (argv, reply)
            checked += 1
    assert checked >= 60
    hello = (
        b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        b"HELLO AUTH <user> <pass> option can be used to authenticate the client and select "
        b"the RESP protocol version at the same time\r\n"
    )
    assert _same(nodes, [["HELLO", "3"]]) == [hello]
    # Still refused after a wrong password; served after the right one.
    assert _same(nodes, [["AUTH", "nope"], ["PING"], ["AUTH", "s3cret"], ["PING"]]) == [
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
        NOAUTH,
        b"+OK\r\n",
        b"+PONG\r\n",
    ]
    for node in nodes:
        raw = _exchange(node.port, [["HELLO", "2", "AUTH", "default", "s3cret"], ["PING"]])
        assert raw.startswith(b"*12\r\n$6\r\nserver\r\n$5\r\nredis\r\n"), raw
        assert raw.endswith(b"+PONG\r\n")
    assert all(node.running for node in nodes)


def test_security_acl_users(procs_env: Interop) -> None:
    master = procs_env.redis()
    lines = [
        "user default off",
        "user alice on >apw ~* &* +@all -sentinel|set -shutdown",
        "user bob on >bpw -@all +ping +auth +subscribe",
        "user carol off >cpw +@all",
        *monitor_lines(master, quorum=1),
    ]
    nodes = _pair(procs_env, lines)
    get_addr = ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"]
    replies = _same(
        nodes,
        [
            ["PING"],
            ["AUTH", "carol", "cpw"],
            ["AUTH", "alice", "wrong"],
            ["AUTH", "alice", "apw"],
            get_addr,
            ["SENTINEL", "SET", "mymaster", "quorum", "2"],
            ["SHUTDOWN"],
            ["ACL", "WHOAMI"],
            ["AUTH", "bob", "bpw"],
            ["PING"],
            get_addr,
            ["SUBSCRIBE", "+sdown"],
        ],
    )
    wrongpass = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    assert replies[0] == NOAUTH
    assert replies[1] == replies[2] == wrongpass
    assert replies[3] == b"+OK\r\n"
    assert replies[4].startswith(b"*2\r\n")
    assert replies[5] == (
        b"-NOPERM this user has no permissions to run the 'sentinel|set' command\r\n"
    )
    assert replies[6] == b"-NOPERM this user has no permissions to run the 'shutdown' command\r\n"
    assert replies[7] == b"$5\r\nalice\r\n"
    assert replies[9] == b"+PONG\r\n"
    assert replies[10].startswith(b"-NOPERM")
    assert replies[11].startswith(b"-NOPERM")  # bob has no channel permissions
    assert all(node.running for node in nodes)


def test_security_protected_mode(procs_env: Interop) -> None:
    """redis-server 7.0.15 decides "local" by comparing the peer address string with
    ``127.0.0.1`` and ``::1`` (networking.c, clientAcceptHandler); 7.2 moved to any
    ``127.*``. So a client bound to 127.0.0.2 is external to 7.0.15, which lets us test
    protected mode without any real interface."""
    external = "127.0.0.2"
    master = procs_env.redis()
    mon = monitor_lines(master, quorum=1)
    cases = [
        ("sentinel default: protected-mode no", [], b"+PONG\r\n"),
        ("protected, no bind, no password", ["protected-mode yes"], b"-DENIED"),
        ("protected but a password", ["protected-mode yes", "requirepass pw"], NOAUTH),
    ]
    for what, extra, expected in cases:
        nodes = _pair(procs_env, [*extra, *mon], bind=False)
        remote = [_exchange_or_closed(node.port, external) for node in nodes]
        assert remote[1].startswith(expected), (what, "redis-sentinel", remote[1])
        assert remote[0] == remote[1], (what, remote)
        # Loopback clients are never denied.
        local = [_exchange(node.port, [["PING"]]) for node in nodes]
        assert local[0] == local[1]
        assert not local[0].startswith(b"-DENIED"), (what, local)
        for node in nodes:
            node.stop()


def _exchange_or_closed(port: int, source: str) -> bytes:
    """PING from the source address ``source``; the reply, read until it is complete or
    the server closes (redis closes after ``-DENIED``)."""
    with socket.create_connection(
        (HOST, port), timeout=CLIENT_TIMEOUT_S, source_address=(source, 0)
    ) as sock:
        sock.sendall(pack(["PING"]))
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


# --- scripts ------------------------------------------------------------------------------------

#: One file per call (calls may run concurrently): the argv elements, NUL-terminated.
RECORD_SCRIPT = """#!/bin/sh
out=$(mktemp "$(dirname "$0")/argv-$(basename "$0")-XXXXXX")
printf '%s\\0' "$0" "$@" > "$out"
"""

#: Shell metacharacters, but no blank and no quote: sentinel.c writes the master name
#: unquoted into the rewritten config (see test_security_master_name_quoting_like_redis).
HOSTILE_NAME = "m;touch${IFS}PWNED1;$(touch${IFS}PWNED2)`touch${IFS}PWNED3`|x&&y>z<w*?~\\n"


def _records(scripts: Path, script: str) -> list[list[str]]:
    """Every recorded call of ``script`` (any order)."""
    return [
        [f.decode() for f in path.read_bytes().split(b"\0")[:-1]]
        for path in sorted(scripts.glob(f"argv-{script}-*"))
    ]


def _quote_for_config(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@pytest.mark.parametrize("impl", [PYSENTINEL, REDIS_SENTINEL])
def test_security_scripts_get_hostile_names_as_one_argument(
    procs_env: Interop, tmp_path: Path, impl: str
) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    notify, reconfig = scripts / "notify.sh", scripts / "reconfig.sh"
    for script in (notify, reconfig):
        script.write_text(RECORD_SCRIPT)
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    master = procs_env.redis()
    replica = procs_env.redis(replicaof=master)
    name = _quote_for_config(HOSTILE_NAME)
    lines = [
        f"sentinel monitor {name} {HOST} {master.port} 1",
        f"sentinel down-after-milliseconds {name} 1000",
        f"sentinel notification-script {name} {notify}",
        f"sentinel client-reconfig-script {name} {reconfig}",
    ]
    node = procs_env.sentinel(lines, impl=impl)
    procs_env.wait_until(
        lambda: [r["flags"] for r in node.replicas(HOSTILE_NAME)] == ["slave"], 20, "the replica"
    )
    assert node.sentinel("FAILOVER", HOSTILE_NAME) == "OK"
    procs_env.wait_until(lambda: _records(scripts, "reconfig.sh"), 30, "the client-reconfig script")
    mi = f"master {HOSTILE_NAME} {HOST} {master.port}"
    procs_env.wait_until(
        lambda: [str(notify), "+monitor", f"{mi} quorum 1"] in _records(scripts, "notify.sh"),
        10,
        "the +monitor notification",
    )
    (call, *_) = _records(scripts, "reconfig.sh")
    assert call == [
        str(reconfig), HOSTILE_NAME, "leader", "start",
        HOST, str(master.port), HOST, str(replica.port),
    ]  # fmt: skip
    for record in _records(scripts, "notify.sh"):
        assert len(record) == 3, record  # path, event type, payload: never split
    # Nothing the name spells ran, in any directory the processes could write to.
    for where in (scripts, tmp_path, node.dir, Path.cwd()):
        assert not list(where.glob("PWNED*")), where
    # The hostile name survives the config rewrites of the failover.
    assert [m.name for m in config_module.load(str(node.conf)).masters] == [HOSTILE_NAME]


def test_security_script_and_path_reconfiguration_denied(procs_env: Interop) -> None:
    master = procs_env.redis()
    nodes = _pair(procs_env, monitor_lines(master, quorum=1))
    denied = (
        b"-ERR Reconfiguration of scripts path is denied for security reasons. Check the "
        b"deny-scripts-reconfig configuration directive in your Sentinel configuration\r\n"
    )
    replies = _same(
        nodes,
        [
            ["SENTINEL", "SET", "mymaster", "notification-script", "/bin/sh"],
            ["SENTINEL", "SET", "mymaster", "client-reconfig-script", "../../../bin/sh"],
            ["SENTINEL", "SET", "mymaster", "notification-script", ""],
            ["SENTINEL", "SET", "mymaster", "quorum", "1", "notification-script", "/bin/sh"],
            ["SENTINEL", "CONFIG", "SET", "deny-scripts-reconfig", "no"],
            ["SENTINEL", "CONFIG", "SET", "dir", "/tmp"],
            ["SENTINEL", "CONFIG", "SET", "logfile", "/tmp/x"],
            ["CONFIG", "SET", "dir", "/tmp"],
            ["CONFIG", "SET", "dbfilename", "../../etc/passwd"],
            ["SENTINEL", "CONFIG", "GET", "deny-scripts-reconfig"],
        ],
    )
    assert replies[:4] == [denied] * 4
    assert replies[4] == b"-ERR Invalid argument 'deny-scripts-reconfig' to SENTINEL CONFIG SET\r\n"
    assert replies[5] == b"-ERR Invalid argument 'dir' to SENTINEL CONFIG SET\r\n"
    assert replies[7].startswith(b"-ERR unknown command 'CONFIG'")
    for node in nodes:
        assert node.master()["quorum"] == "1"  # the pair before the denied one applied
        text = node.conf.read_text()
        assert "notification-script" not in text
        assert "client-reconfig-script" not in text


def test_security_scripts_reconfig_when_allowed(procs_env: Interop, tmp_path: Path) -> None:
    """With ``deny-scripts-reconfig no`` the path is still checked (executable file)."""
    master = procs_env.redis()
    ok_script = tmp_path / "ok.sh"
    ok_script.write_text("#!/bin/sh\nexit 0\n")
    ok_script.chmod(0o755)
    plain = tmp_path / "plain.txt"
    plain.write_text("not a script\n")
    nodes = _pair(
        procs_env, ["sentinel deny-scripts-reconfig no", *monitor_lines(master, quorum=1)]
    )
    replies = _same(
        nodes,
        [
            ["SENTINEL", "SET", "mymaster", "notification-script", "/nonexistent/x.sh"],
            ["SENTINEL", "SET", "mymaster", "notification-script", str(plain)],
            ["SENTINEL", "SET", "mymaster", "client-reconfig-script", str(tmp_path)],
            ["SENTINEL", "SET", "mymaster", "notification-script", str(ok_script)],
        ],
    )
    assert (
        replies[0]
        == replies[1]
        == (b"-ERR Notification script seems non existing or non executable\r\n")
    )
    assert replies[3] == b"+OK\r\n"


def test_security_master_name_quoting_like_redis(procs_env: Interop) -> None:
    """A master name with a blank or a quote is written unquoted by the rewrite, as
    sentinel.c's ``sentinel monitor %s`` does, so the file no longer loads: an inherited
    hazard (docs/reliability.md). We check that we write exactly what redis writes."""
    master = procs_env.redis()
    nodes = _pair(procs_env, [])
    name = "a b'c"
    monitor = ["SENTINEL", "MONITOR", name, HOST, str(master.port), "1"]
    assert _same(nodes, [monitor]) == [b"+OK\r\n"]
    written = []
    for node in nodes:
        lines = [
            ln for ln in node.conf.read_text().splitlines() if ln.startswith("sentinel monitor")
        ]
        written.append(lines)
        with pytest.raises(ConfigError, match="Unbalanced quotes"):
            config_module.load(str(node.conf))
    assert written[0] == written[1] == [f"sentinel monitor {name} {HOST} {master.port} 1"]
