"""The fake redis-server: replies, INFO text, replication, min-replicas, crash and restart."""

from __future__ import annotations

import random

from pysentinel.core.values import ErrorReply
from sim.network import Conn, Endpoint, Network, NetworkParams
from sim.redis_model import RedisModel, RedisSettings
from sim.scheduler import Scheduler


class _Cli:
    """A raw client connection to one redis."""

    def __init__(self, net: Network, host: str, port: int, box: str = "C") -> None:
        self.replies: list[object] = []
        self.closed: list[str] = []
        self.end = Endpoint(
            box=box,
            on_message=lambda c, m: self.replies.append(m),
            on_close=lambda c, r: self.closed.append(r),
        )
        self.conn: Conn = net.connect(self.end, host, port)

    def send(self, *argv: bytes) -> None:
        self.conn.send(self.end, argv)


def _world(n: int = 2, **settings: int) -> tuple[Scheduler, Network, list[RedisModel]]:
    s = Scheduler()
    net = Network(s, random.Random(3), NetworkParams())
    for name, ip in (("A", "10.0.0.1"), ("B", "10.0.0.2"), ("C", "10.0.0.3"), ("D", "10.0.0.4")):
        net.add_box(name, ip)
    models = []
    for i in range(n):
        replicaof = None if i == 0 else ("10.0.0.1", 6379)
        model = RedisModel(
            f"r{i + 1}",
            "ABD"[i],
            6379,
            net,
            rng=random.Random(i),
            settings=RedisSettings(replicaof=replicaof, **settings),
            pid=100 + i,
        )
        models.append(model)
    s.run_until(3000)
    return s, net, models


def _info(text: str) -> dict[str, str]:
    return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)


def test_redis_replica_syncs_and_info_shows_both_sides() -> None:
    _s, _net, (m, r) = _world()
    mi = _info(m.info_text())
    ri = _info(r.info_text())
    assert mi["role"] == "master"
    assert mi["connected_slaves"] == "1"
    assert mi["slave0"].startswith("ip=10.0.0.2,port=6379,state=online,offset=0,lag=")
    assert ri["role"] == "slave"
    assert ri["master_host"] == "10.0.0.1"
    assert ri["master_port"] == "6379"
    assert ri["master_link_status"] == "up"
    assert "master_link_down_since_seconds" not in ri
    assert ri["slave_priority"] == "100"
    assert ri["replica_announced"] == "1"
    assert len(mi["run_id"]) == 40
    assert m.info_text().startswith("# Server\r\nredis_version:7.0.15\r\n")


def test_redis_writes_replicate_asynchronously() -> None:
    s, _net, (m, r) = _world()
    assert m.write("k", "v") == b"OK"
    assert r.data == {}
    s.run_until(s.now + 50)
    assert r.data == {"k": "v"}
    assert r.offset == m.offset > 0
    assert r.write("x", "y") == ErrorReply("READONLY You can't write against a read only replica.")


def test_redis_commands_over_a_connection() -> None:
    s, net, (_m, _r) = _world()
    c = _Cli(net, "10.0.0.1", 6379)
    c.send(b"PING")
    c.send(b"CLIENT", b"SETNAME", b"x")
    c.send(b"ROLE")
    c.send(b"MULTI")
    c.send(b"PING")
    c.send(b"CONFIG", b"REWRITE")
    c.send(b"EXEC")
    c.send(b"SCRIPT", b"KILL")
    s.run_until(s.now + 50)
    assert c.replies[0] == b"PONG"
    assert c.replies[1] == b"OK"
    role = c.replies[2]
    assert isinstance(role, tuple) and role[0] == b"master"
    assert role[2] == ((b"10.0.0.2", b"6379", b"0"),)
    assert c.replies[3:7] == [b"OK", b"QUEUED", b"QUEUED", (b"PONG", b"OK")]
    assert c.replies[7] == ErrorReply("NOTBUSY No scripts in execution right now.")


def test_redis_pubsub_hello_reaches_subscribers() -> None:
    s, net, (_m, _) = _world()
    sub = _Cli(net, "10.0.0.1", 6379)
    pub = _Cli(net, "10.0.0.1", 6379)
    sub.send(b"SUBSCRIBE", b"__sentinel__:hello")
    s.run_until(s.now + 20)
    pub.send(b"PUBLISH", b"__sentinel__:hello", b"hi")
    s.run_until(s.now + 20)
    assert sub.replies == [
        (b"subscribe", b"__sentinel__:hello", 1),
        (b"message", b"__sentinel__:hello", b"hi"),
    ]
    assert pub.replies == [1]


def test_redis_failover_transaction_promotes_and_kills_clients() -> None:
    s, net, (m, r) = _world()
    victim = _Cli(net, "10.0.0.2", 6379)
    victim.send(b"PING")
    sentinel = _Cli(net, "10.0.0.2", 6379)
    s.run_until(s.now + 20)
    for argv in (
        (b"MULTI",),
        (b"SLAVEOF", b"NO", b"ONE"),
        (b"CONFIG", b"REWRITE"),
        (b"CLIENT", b"KILL", b"TYPE", b"normal"),
        (b"CLIENT", b"KILL", b"TYPE", b"pubsub"),
        (b"EXEC",),
    ):
        sentinel.send(*argv)
    s.run_until(s.now + 50)
    assert sentinel.replies[-1] == (b"OK", b"OK", 1, 0)
    assert victim.closed == ["Server closed the connection"]
    assert r.role == "master"
    assert r.persisted_replicaof is None
    assert _info(r.info_text())["master_replid2"] == _info(m.info_text())["master_replid"]


def test_redis_psync2_partial_resync_after_promotion() -> None:
    s, _net, models = _world(3)
    m, r2, r3 = models
    for i in range(5):
        m.write(f"k{i}", "v")
    s.run_until(s.now + 100)
    m.crash()
    r2._replicaof("NO", "ONE")
    r3._replicaof("10.0.0.2", "6379")
    s.run_until(s.now + 3000)
    assert r3.link_up
    assert r3.replid == r2.replid
    assert r3.data == r2.data == {f"k{i}": "v" for i in range(5)}
    r2.write("new", "1")
    s.run_until(s.now + 100)
    assert r3.data["new"] == "1"


def test_redis_divergent_old_master_full_resyncs_and_loses_its_writes() -> None:
    s, net, (m, r) = _world()
    net.partition([["A"], ["B", "C", "D"]])
    m.write("lost", "1")
    r._replicaof("NO", "ONE")
    r.write("kept", "1")
    net.heal()
    m._replicaof("10.0.0.2", "6379")
    s.run_until(s.now + 3000)
    assert m.data == {"kept": "1"}


def test_redis_min_replicas_rejects_writes_when_replicas_lag() -> None:
    s, net, (m, _r) = _world(min_replicas_to_write=1, min_replicas_max_lag=10)
    assert m.write("a", "1") == b"OK"
    net.partition([["A"], ["B", "C", "D"]])
    s.run_until(s.now + 10_000)
    assert m.write("b", "1") == b"OK"
    s.run_until(s.now + 2_000)
    assert m.write("c", "1") == ErrorReply("NOREPLICAS Not enough good replicas to write.")
    assert _info(m.info_text())["min_slaves_good_slaves"] == "0"


def test_redis_replica_link_down_shows_since_seconds() -> None:
    s, _net, (m, r) = _world()
    m.crash()
    s.run_until(s.now + 5_000)
    ri = _info(r.info_text())
    assert ri["master_link_status"] == "down"
    assert 4 <= int(ri["master_link_down_since_seconds"]) <= 5


def test_redis_crash_keeps_or_loses_data_and_restart_reverts_unrewritten_role() -> None:
    s, _net, (m, r) = _world()
    m.write("k", "v")
    s.run_until(s.now + 50)
    old_run_id = r.run_id
    r._replicaof("NO", "ONE")  # no CONFIG REWRITE: the file still says replicaof
    r.crash()
    r.restart()
    assert r.role == "slave"
    assert r.run_id != old_run_id
    assert r.data == {"k": "v"}
    m.lose_data_on_crash = True
    m.crash()
    m.restart()
    assert m.data == {} and m.offset == 0


def test_redis_debug_sleep_pauses_replies() -> None:
    s, net, (_m, _) = _world()
    c = _Cli(net, "10.0.0.1", 6379)
    c.send(b"DEBUG", b"SLEEP", b"2")
    c.send(b"PING")
    s.run_until(s.now + 1000)
    assert c.replies == []
    s.run_until(s.now + 1100)
    assert c.replies == [b"OK", b"PONG"]


def test_redis_crashed_server_refuses_connections() -> None:
    s, net, (m, _) = _world()
    m.crash()
    c = _Cli(net, "10.0.0.1", 6379)
    s.run_until(s.now + 50)
    assert c.closed == ["Connection refused"]
