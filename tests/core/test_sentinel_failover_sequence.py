"""A whole failover through the real Sentinel and fake instances: the event sequence of
spec §4.2 (leader side), then the old master coming back and being converted.
"""

from __future__ import annotations

from helpers import MYID, Harness, events, is_subsequence, master_config, sentinel_config

from pysentinel.core.inputs import LinkDropped
from pysentinel.core.types import Addr

M = "master mymaster 127.0.0.1 6379"
R1 = "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"
R2 = "slave 127.0.0.1:6381 127.0.0.1 6381 @ mymaster 127.0.0.1 6379"


def _world() -> Harness:
    h = Harness(sentinel_config(master_config(quorum=1, down_after_ms=1000)))
    h.server(port=6379, replicas=[Addr("127.0.0.1", 6380), Addr("127.0.0.1", 6381)])
    h.server(port=6380, role="slave", offset=100, run_id="2" * 40)
    h.server(port=6381, role="slave", offset=50, run_id="3" * 40)
    h.start()
    h.advance(3000)
    return h


def _kill(h: Harness, addr: Addr) -> None:
    del h.servers[addr]
    for link in h.links_to(addr):
        h.sockets.pop(link)
        h.handle(LinkDropped(link=link, error="Connection reset by peer"))


def test_sentinel_failover_event_sequence_as_leader() -> None:
    h = _world()
    master = h.sentinel.masters["mymaster"]
    assert list(master.replicas) == ["127.0.0.1:6380", "127.0.0.1:6381"]
    _kill(h, Addr("127.0.0.1", 6379))
    seen = events(h.advance(15_000))
    expected = [
        f"+sdown {M}",
        f"+odown {M} #quorum 1/1",
        "+new-epoch 1",
        f"+try-failover {M}",
        f"+vote-for-leader {MYID} 1",
        f"+elected-leader {M}",
        f"+failover-state-select-slave {M}",
        f"+selected-slave {R1}",
        f"+failover-state-send-slaveof-noone {R1}",
        f"+failover-state-wait-promotion {R1}",
        f"-role-change {R1} new reported role is master",
        f"+promoted-slave {R1}",
        f"+failover-state-reconf-slaves {M}",
        f"+slave-reconf-sent {R2}",
        f"+slave-reconf-inprog {R2}",
        f"+slave-reconf-done {R2}",
        f"+failover-end {M}",
        "+switch-master mymaster 127.0.0.1 6379 127.0.0.1 6380",
        "+slave slave 127.0.0.1:6381 127.0.0.1 6381 @ mymaster 127.0.0.1 6380",
        "+slave slave 127.0.0.1:6379 127.0.0.1 6379 @ mymaster 127.0.0.1 6380",
        "+sdown slave 127.0.0.1:6379 127.0.0.1 6379 @ mymaster 127.0.0.1 6380",
    ]
    # Exactly this, once each: filter out only the debug reconnection events and the
    # verbose +role-change of the re-pointed replica.
    noise = ("-cmd-link-reconnection", "-pubsub-link-reconnection", "+role-change")
    assert [e for e in seen if not e.startswith(noise)] == expected
    assert master.addr == Addr("127.0.0.1", 6380)
    assert master.config_epoch == 1
    assert h.servers[Addr("127.0.0.1", 6381)].master_port == 6380


def test_sentinel_old_master_returns_and_is_converted() -> None:
    h = _world()
    _kill(h, Addr("127.0.0.1", 6379))
    h.advance(15_000)
    old = h.server(port=6379, run_id="9" * 40)  # comes back as a master
    seen = events(h.advance(25_000))
    old_r = "slave 127.0.0.1:6379 127.0.0.1 6379 @ mymaster 127.0.0.1 6380"
    assert is_subsequence(
        [
            f"-role-change {old_r} new reported role is master",
            f"-sdown {old_r}",
            f"+convert-to-slave {old_r}",
            f"+role-change {old_r} new reported role is slave",
        ],
        seen,
    ), seen
    assert old.role == "slave" and old.master_port == 6380
    # No replication loop: exactly one conversion.
    assert sum(1 for e in seen if e.startswith("+convert-to-slave")) == 1
