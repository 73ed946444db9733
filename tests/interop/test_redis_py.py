"""A real client through the sentinels (issue 4 item 4).

redis-py's ``redis.sentinel.Sentinel`` finds the master with ``SENTINEL MASTERS`` (RESP3
by default in redis-py 8: ``HELLO 3`` first, so the map form of spec §3.6 is exercised)
and reconnects through the sentinels when its master connection breaks. A writer thread
keeps writing through ``master_for`` while the master is killed; once the sentinels have
switched, its writes land on the new master.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time

import pytest
import redis
import redis.sentinel
from harness import HOST, Interop, monitor_lines

pytestmark = pytest.mark.interop


class Writer(threading.Thread):
    """Writes ``key:<n> = n`` through a sentinel-managed master client, forever.

    Records which writes were acknowledged, when, and the failures in between.
    """

    def __init__(self, client: redis.Redis) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.stop = threading.Event()
        self.acked: list[tuple[int, float]] = []
        self.errors: list[str] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                self.client.set(f"key:{n}", n)
            except (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError) as exc:
                self.errors.append(type(exc).__name__)
            else:
                self.acked.append((n, time.monotonic()))
            # Pace the writes (this is the load, not a wait for a condition).
            self.stop.wait(0.02)


def test_redis_py_master_for_writes_through_failover(interop: Interop) -> None:
    master = interop.redis()
    replica = interop.redis(replicaof=master)
    # failover-timeout 10 s: a split first election is retried after 20 s, not 2 min.
    sentinels = interop.group(monitor_lines(master, failover_timeout_ms=10_000))
    interop.wait_discovery(sentinels, replicas=1)

    manager = redis.sentinel.Sentinel(
        [(HOST, s.port) for s in sentinels], socket_timeout=1.0, socket_connect_timeout=1.0
    )
    assert manager.discover_master("mymaster") == master.addr
    assert manager.discover_slaves("mymaster") == [replica.addr]
    client = manager.master_for("mymaster", socket_timeout=1.0, socket_connect_timeout=1.0)
    # What clients such as ioredis do: subscribe to +switch-master on a sentinel (RESP2
    # here, and a pattern subscription in RESP3 on another sentinel).
    sub2 = sentinels[0].new_client().pubsub()
    sub2.subscribe("+switch-master")
    assert sub2.get_message(timeout=5) == {
        "type": "subscribe", "pattern": None, "channel": "+switch-master", "data": 1,
    }  # fmt: skip
    sub3 = redis.Redis(host=HOST, port=sentinels[1].port, protocol=3, decode_responses=True)
    psub3 = sub3.pubsub()
    psub3.psubscribe("*switch*")
    assert psub3.get_message(timeout=5) == {
        "type": "psubscribe", "pattern": None, "channel": "*switch*", "data": 1,
    }  # fmt: skip
    writer = Writer(client)
    writer.start()
    try:
        interop.wait_until(lambda: len(writer.acked) >= 10, 10, "the first writes")
        master.kill(signal.SIGKILL)
        killed_at = time.monotonic()
        interop.wait_until(
            lambda: all(s.follows(replica) for s in sentinels),
            45,
            "the switch to the replica",
        )
        switched_at = time.monotonic()
        interop.wait_until(
            lambda: sum(1 for _, t in writer.acked if t > switched_at) >= 20,
            20,
            "writes acknowledged after the switch",
        )
    finally:
        writer.stop.set()
        writer.join(timeout=10)
    assert not writer.is_alive()
    switch = f"mymaster {HOST} {master.port} {HOST} {replica.port}"
    assert sub2.get_message(timeout=5) == {
        "type": "message", "pattern": None, "channel": "+switch-master", "data": switch,
    }  # fmt: skip
    assert psub3.get_message(timeout=5) == {
        "type": "pmessage", "pattern": "*switch*", "channel": "+switch-master", "data": switch,
    }  # fmt: skip
    sub2.close()
    psub3.close()
    sub3.close()
    # No write can succeed between the kill and the promotion (down-after alone is 1 s);
    # redis-py may hide the errors behind its retries, but not the gap.
    times = [t for _, t in writer.acked]
    assert max(b - a for a, b in itertools.pairwise(times)) >= 1.0
    assert manager.discover_master("mymaster") == replica.addr
    # Every write acknowledged after the kill was made on the new master.
    after = [n for n, t in writer.acked if t > killed_at]
    assert after
    values = replica.client().mget([f"key:{n}" for n in after])
    assert values == [str(n) for n in after]
    assert replica.is_master()
    client.close()
    manager_close = getattr(manager, "close", None)
    if manager_close is not None:
        manager_close()
