"""SENTINEL commands through the real ``Sentinel`` and its client layer (ClientCommand in,
effects out), and the persisted config of a real ``Sentinel``."""

from __future__ import annotations

import random

import attrs

from pysentinel.config import SentinelConfig, parse, render
from pysentinel.core.effects import Close, Connect, Effect, Emit, PersistConfig, Reply, Send
from pysentinel.core.inputs import ClientCommand, ClientConnected, LinkConnected
from pysentinel.core.sentinel import Sentinel
from pysentinel.core.state_config import config_from_state
from pysentinel.core.types import ClientId, Millis
from pysentinel.core.values import Array, Bulk, Error, Int, Map, Simple, Value

PEER = "b" * 40
CONF = f"""
port 26390
sentinel myid {"a" * 40}
sentinel monitor mymaster 127.0.0.1 6379 2
sentinel down-after-milliseconds mymaster 5000
sentinel config-epoch mymaster 2
sentinel leader-epoch mymaster 1
sentinel known-replica mymaster 127.0.0.1 6380
sentinel known-sentinel mymaster 127.0.0.1 26380 {PEER}
sentinel rename-command mymaster config xconfig
sentinel monitor other 10.0.0.1 7000 1
sentinel current-epoch 3
"""
CLIENT = ClientId(1)


class Node:
    """A started ``Sentinel`` with one connected client."""

    def __init__(self, text: str = CONF) -> None:
        self.config = parse(text, cwd="/tmp")
        self.s = Sentinel(self.config, random.Random(7))
        self.now = Millis(10_000)
        self.s.start(self.now)
        self.s.handle(
            ClientConnected(client=CLIENT, addr="127.0.0.1:40000", laddr="127.0.0.1:26390"),
            self.now,
        )

    def run(self, *argv: str, advance: int = 10) -> list[Effect]:
        self.now = Millis(self.now + advance)
        return self.s.handle(
            ClientCommand(client=CLIENT, argv=tuple(a.encode() for a in argv)), self.now
        )

    def reply(self, *argv: str) -> Value:
        effects = self.run(*argv)
        replies = [e.value for e in effects if isinstance(e, Reply) and e.client == CLIENT]
        flushes = [e for e in effects if isinstance(e, PersistConfig) and e.reply_to == CLIENT]
        assert len(replies) + len(flushes) == 1, effects
        return replies[0] if replies else Simple("OK")


def _fields(value: Value) -> dict[str, str]:
    assert isinstance(value, Map)
    out = {}
    for k, v in value.items:
        assert isinstance(k, Bulk) and isinstance(v, Bulk)
        out[k.data.decode()] = v.data.decode()
    return out


def test_commands_sentinel_config_from_loaded_state_is_the_loaded_config() -> None:
    node = Node()
    out = config_from_state(node.s)
    assert out == attrs.evolve(
        node.config, users=(("default", "on", "nopass", "~*", "&*", "+@all"),)
    )
    assert render(out) == render(node.config)


def test_commands_sentinel_flush_persists_acl_users() -> None:
    node = Node(CONF + "requirepass pw\n")
    node.run("AUTH", "pw")
    node.run("ACL", "SETUSER", "alice", "on", ">apw", "+@all", "~*")
    effects = node.run("SENTINEL", "FLUSHCONFIG")
    (flush,) = [e for e in effects if isinstance(e, PersistConfig)]
    names = [u[0] for u in flush.config.users]
    assert names == ["alice", "default"]
    assert flush.config.users[1][2].startswith("#")  # requirepass as the default's hash
    text = render(flush.config)
    assert "user alice on #" in text
    assert render(parse(text, cwd="/tmp")) == text


def test_commands_sentinel_persisted_config_round_trips() -> None:
    node = Node()
    node.run("SENTINEL", "SET", "mymaster", "quorum", "1", "rename-command", "ping", "xping")
    node.run("SENTINEL", "CONFIG", "SET", "announce-ip", "10.1.1.1")
    out = config_from_state(node.s)
    again = parse(render(out), cwd="/tmp")
    sentinel_part = [
        "myid",
        "current_epoch",
        "announce_ip",
        "announce_port",
        "deny_scripts_reconfig",
        "resolve_hostnames",
        "announce_hostnames",
        "sentinel_user",
        "sentinel_pass",
        "masters",
    ]
    assert {k: getattr(again, k) for k in sentinel_part} == {
        k: getattr(out, k) for k in sentinel_part
    }
    assert again.masters[0].rename_commands == (("config", "xconfig"), ("ping", "xping"))


def test_commands_sentinel_master_map_through_the_client_layer() -> None:
    node = Node()
    d = _fields(node.reply("SENTINEL", "MASTER", "mymaster"))
    assert list(d)[:5] == ["name", "ip", "port", "runid", "flags"]
    assert d["flags"] == "master,disconnected"
    assert d["num-slaves"] == "1" and d["num-other-sentinels"] == "1"
    assert d["config-epoch"] == "2" and d["down-after-milliseconds"] == "5000"
    assert node.reply("SENTINEL", "MASTER", "nope") == Error("ERR No such master with that name")
    assert node.reply("ROLE") == Array(
        (Bulk(b"sentinel"), Array((Bulk(b"mymaster"), Bulk(b"other"))))
    )


def test_commands_sentinel_info_has_the_sentinel_section() -> None:
    node = Node()
    info = node.reply("INFO", "sentinel")
    assert isinstance(info, Bulk)
    assert info.data.decode().split("\r\n") == [
        "# Sentinel",
        "sentinel_masters:2",
        "sentinel_tilt:0",
        "sentinel_tilt_since_seconds:-1",
        "sentinel_running_scripts:0",
        "sentinel_scripts_queue_length:0",
        "sentinel_simulate_failure_flags:0",
        "master0:name=mymaster,status=ok,address=127.0.0.1:6379,slaves=1,sentinels=2",
        "master1:name=other,status=ok,address=10.0.0.1:7000,slaves=0,sentinels=1",
        "",
    ]


def test_commands_sentinel_monitor_remove_reset() -> None:
    node = Node()
    effects = node.run("SENTINEL", "MONITOR", "third", "127.0.0.1", "6500", "2")
    flushes = [e for e in effects if isinstance(e, PersistConfig)]
    assert len(flushes) == 1 and flushes[0].reply_to == CLIENT
    assert [m.name for m in flushes[0].config.masters] == ["mymaster", "other", "third"]
    assert ("+monitor", "master third 127.0.0.1 6500 quorum 2") in [
        (e.type, e.payload) for e in effects if isinstance(e, Emit)
    ]
    assert node.s.masters["third"].down_after_ms == node.s.tunables.default_down_after_ms
    # The tick connects to the new master.
    node.s.tick(Millis(node.now + 1))
    effects = node.run("SENTINEL", "REMOVE", "third")
    assert "third" not in node.s.masters
    assert any(isinstance(e, Close) for e in effects)
    assert [(e.type, e.payload) for e in effects if isinstance(e, Emit)] == [
        ("-monitor", "master third 127.0.0.1 6500")
    ]
    effects = node.run("SENTINEL", "RESET", "mymaster")
    assert [e.value for e in effects if isinstance(e, Reply)] == [Int(1)]
    assert not any(isinstance(e, PersistConfig) for e in effects)
    assert [(e.type, e.payload) for e in effects if isinstance(e, Emit)] == [
        ("+reset-master", "master mymaster 127.0.0.1 6379")
    ]
    m = node.s.masters["mymaster"]
    assert m.replicas == {} and m.sentinels == {} and m.config_epoch == 2


def test_commands_sentinel_debug_changes_the_live_tunables() -> None:
    node = Node()
    assert node.reply("SENTINEL", "DEBUG", "ping-period", "100") == Simple("OK")
    assert node.s.tunables.ping_period_ms == 100
    assert _fields(node.reply("SENTINEL", "DEBUG"))["PING-PERIOD"] == "100"


def test_commands_sentinel_failover_nogoodslave_and_get_master_addr() -> None:
    node = Node()
    assert node.reply("SENTINEL", "FAILOVER", "mymaster") == Error(
        "NOGOODSLAVE No suitable replica to promote"
    )
    assert node.reply("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "other") == Array(
        (Bulk(b"10.0.0.1"), Bulk(b"7000"))
    )


def test_commands_sentinel_default_config_has_no_masters() -> None:
    node = Node("")
    assert node.reply("SENTINEL", "MASTERS") == Array(())
    assert config_from_state(node.s).masters == ()
    assert isinstance(config_from_state(node.s), SentinelConfig)


def test_commands_sentinel_credentials_changes_drop_links_and_reconnect_with_them() -> None:
    node = Node()
    effects = node.s.tick(Millis(node.now + 1000))
    connects = [e for e in effects if isinstance(e, Connect)]
    assert len(connects) == 2 + 2 + 2 + 1  # two masters (cmd+pubsub), a replica, a peer
    for c in connects:
        node.s.handle(LinkConnected(link=c.link, local_host="127.0.0.1", local_port=1), node.now)
    peer_link = next(c.link for c in connects if c.addr.port == 26380)
    group = {c.link for c in connects if c.addr.port in (6379, 6380)}

    effects = node.run("SENTINEL", "CONFIG", "SET", "sentinel-pass", "spw")
    assert [e.link for e in effects if isinstance(e, Close)] == [peer_link]
    effects = node.run("SENTINEL", "SET", "mymaster", "auth-pass", "mpw")
    assert {e.link for e in effects if isinstance(e, Close)} == group

    effects = node.s.tick(Millis(node.now + 2000))
    new_cmd = {
        e.addr.port: e.link for e in effects if isinstance(e, Connect) and e.kind.value == "cmd"
    }
    assert set(new_cmd) == {6379, 6380, 26380}
    auths = {e.link: e.argv for e in effects if isinstance(e, Send) and e.argv[0] == b"AUTH"}
    assert auths[new_cmd[6379]] == (b"AUTH", b"mpw")
    assert auths[new_cmd[6380]] == (b"AUTH", b"mpw")
    assert auths[new_cmd[26380]] == (b"AUTH", b"spw")
