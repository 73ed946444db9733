"""The aggregate routes inputs: links to instances, clients to the client registry,
script outcomes to the script queue."""

from __future__ import annotations

import random

from helpers import MYID, T0, Harness, master_config, sentinel_config

from pysentinel.core.effects import Reply
from pysentinel.core.inputs import ClientCommand, ClientConnected, ClientDisconnected
from pysentinel.core.sentinel import Sentinel
from pysentinel.core.types import ClientId
from pysentinel.core.values import Simple


def test_sentinel_routes_client_commands_to_registry() -> None:
    h = Harness(sentinel_config())
    h.start()
    cid = ClientId(7)
    assert (
        h.handle(ClientConnected(client=cid, addr="127.0.0.1:5000", laddr="127.0.0.1:26379")) == []
    )
    effects = h.handle(ClientCommand(client=cid, argv=(b"PING",)))
    assert effects == [Reply(client=cid, value=Simple("PONG"), proto=2)]
    assert h.handle(ClientDisconnected(client=cid)) == []
    assert cid not in h.sentinel.clients.clients


def test_sentinel_events_reach_subscribers() -> None:
    h = Harness(sentinel_config())
    cid = ClientId(1)
    h.handle(ClientConnected(client=cid, addr="127.0.0.1:5000", laddr="127.0.0.1:26379"))
    h.handle(ClientCommand(client=cid, argv=(b"SUBSCRIBE", b"+monitor")))
    effects = h.start()
    pushes = [e for e in effects if isinstance(e, Reply)]
    assert len(pushes) == 1
    assert b"master mymaster 127.0.0.1 6379 quorum 2" in repr(pushes[0].value).encode()


def test_sentinel_generates_myid_from_rng_and_flushes() -> None:
    a = Sentinel(sentinel_config(myid=None), random.Random(1))
    b = Sentinel(sentinel_config(myid=None), random.Random(1))
    assert a.myid == b.myid and len(a.myid) == 40 and a.myid != MYID
    int(a.myid, 16)
    from helpers import flushes, logs

    effects = a.start(T0)
    assert flushes(effects) == 1
    assert logs(effects) == [f"Sentinel ID is {a.myid}"]
    assert flushes(Sentinel(sentinel_config(), random.Random(1)).start(T0)) == 0


def test_sentinel_next_deadline_is_10_to_19_hz() -> None:
    h = Harness(sentinel_config(master_config()))
    h.start()
    for _ in range(50):
        h.tick()
        deadline = h.sentinel.next_deadline()
        assert deadline is not None
        assert 1000 // 19 <= deadline - h.now <= 100
        h.now = deadline
