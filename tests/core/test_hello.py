"""Hello messages and peer discovery (spec §6)."""

from __future__ import annotations

from helpers import (
    MYID,
    PEER2_ID,
    PEER_ID,
    Harness,
    events,
    flushes,
    known_sentinel,
    master_config,
    sends,
    sentinel_config,
)

from pysentinel.core.effects import Close
from pysentinel.core.hello import process_hello, receive_hello_frame
from pysentinel.core.types import Addr, LinkKind, Millis

M = "mymaster 127.0.0.1 6379"


def _hello(
    *,
    ip: str = "127.0.0.1",
    port: int = 26380,
    runid: str = PEER_ID,
    epoch: int = 0,
    name: str = "mymaster",
    mip: str = "127.0.0.1",
    mport: int = 6379,
    cepoch: int = 0,
) -> str:
    return f"{ip},{port},{runid},{epoch},{name},{mip},{mport},{cepoch}"


def _harness(*masters: object, **kwargs: object) -> Harness:
    h = Harness(sentinel_config(*masters, **kwargs))  # type: ignore[arg-type]
    h.start()
    return h


def test_hello_new_peer_discovered_and_flushed() -> None:
    h = _harness()
    effects = process_hello(h.sentinel, _hello(), h.now)
    assert events(effects) == [f"+sentinel sentinel {PEER_ID} 127.0.0.1 26380 @ {M}"]
    assert flushes(effects) == 1
    peer = h.sentinel.masters["mymaster"].sentinels[PEER_ID]
    assert peer.run_id == PEER_ID and peer.last_hello_time == h.now
    # Same hello again: nothing new, only the hello time moves.
    later = Millis(h.now + 100)
    assert process_hello(h.sentinel, _hello(), later) == []
    assert peer.last_hello_time == later


def test_hello_malformed_or_unknown_master_ignored() -> None:
    h = _harness()
    assert process_hello(h.sentinel, "a,b,c", h.now) == []
    assert process_hello(h.sentinel, _hello(name="other"), h.now) == []
    assert process_hello(h.sentinel, _hello() + ",9", h.now) == []
    assert h.sentinel.masters["mymaster"].sentinels == {}


def test_hello_address_switch_updates_other_masters() -> None:
    peer = known_sentinel("127.0.0.1", 26380, PEER_ID)
    h = _harness(
        master_config("m1", port=6379, known_sentinels=(peer,)),
        master_config("m2", port=6479, known_sentinels=(peer,)),
    )
    h.tick()
    old_link = h.sentinel.masters["m1"].sentinels[PEER_ID].link.cmd
    effects = process_hello(h.sentinel, _hello(port=26390, name="m1"), h.now)
    assert events(effects) == [
        f"+sentinel-address-switch master m1 127.0.0.1 6379 ip 127.0.0.1 port 26390 for {PEER_ID}",
        f"+sentinel-address-update sentinel {PEER_ID} 127.0.0.1 26390 @ m1 127.0.0.1 6379"
        " 1 additional matching instances",
    ]
    assert Close(link=old_link) in effects  # type: ignore[arg-type]
    p1 = h.sentinel.masters["m1"].sentinels[PEER_ID]
    p2 = h.sentinel.masters["m2"].sentinels[PEER_ID]
    assert p1.addr == p2.addr == Addr("127.0.0.1", 26390)
    assert p1.link is p2.link and p1.link.refcount == 2


def test_hello_new_runid_at_old_address_invalidates_old_peer_everywhere() -> None:
    peer = known_sentinel("127.0.0.1", 26380, PEER_ID)
    h = _harness(
        master_config("m1", port=6379, known_sentinels=(peer,)),
        master_config("m2", port=6479, known_sentinels=(peer,)),
    )
    effects = process_hello(h.sentinel, _hello(runid=PEER2_ID, name="m1"), h.now)
    assert events(effects) == [
        f"+sentinel-invalid-addr sentinel {PEER_ID} 127.0.0.1 26380 @ m1 127.0.0.1 6379",
        f"+sentinel sentinel {PEER2_ID} 127.0.0.1 26380 @ m1 127.0.0.1 6379",
    ]
    assert list(h.sentinel.masters["m1"].sentinels) == [PEER2_ID]
    assert h.sentinel.masters["m2"].sentinels == {}


def test_hello_higher_current_epoch_adopted() -> None:
    h = _harness()
    effects = process_hello(h.sentinel, _hello(epoch=5), h.now)
    assert events(effects)[-1] == "+new-epoch 5"
    assert h.sentinel.current_epoch == 5
    assert flushes(effects) == 2
    assert events(process_hello(h.sentinel, _hello(epoch=4), h.now)) == []


def test_hello_newer_config_switches_master() -> None:
    h = _harness()
    s = h.sentinel
    master = s.masters["mymaster"]
    s.create_replica(master, Addr("127.0.0.1", 6380), h.now)
    s.create_replica(master, Addr("127.0.0.1", 6381), h.now)
    process_hello(s, _hello(), h.now)
    effects = process_hello(s, _hello(epoch=3, mport=6380, cepoch=3), h.now)
    assert events(effects) == [
        "+new-epoch 3",
        f"+config-update-from sentinel {PEER_ID} 127.0.0.1 26380 @ {M}",
        "+switch-master mymaster 127.0.0.1 6379 127.0.0.1 6380",
        "+slave slave 127.0.0.1:6381 127.0.0.1 6381 @ mymaster 127.0.0.1 6380",
        "+slave slave 127.0.0.1:6379 127.0.0.1 6379 @ mymaster 127.0.0.1 6380",
    ]
    assert master.addr == Addr("127.0.0.1", 6380)
    assert master.config_epoch == 3
    assert list(master.replicas) == ["127.0.0.1:6381", "127.0.0.1:6379"]
    assert PEER_ID in master.sentinels  # peers are kept
    assert flushes(effects) >= 1


def test_hello_newer_config_same_address_only_adopts_epoch() -> None:
    h = _harness()
    s = h.sentinel
    process_hello(s, _hello(), h.now)
    assert events(process_hello(s, _hello(cepoch=2), h.now)) == []
    assert s.masters["mymaster"].config_epoch == 2


def test_hello_from_unknown_peer_never_switches() -> None:
    h = _harness()
    h.sentinel.masters["mymaster"].addr = Addr("127.0.0.1", 6379)
    # The peer is created by this very hello, so the config applies (si != NULL).
    effects = process_hello(h.sentinel, _hello(mport=6390, cepoch=1), h.now)
    assert "+switch-master mymaster 127.0.0.1 6379 127.0.0.1 6390" in events(effects)


def test_hello_client_reconfig_script_queued_as_observer() -> None:
    h = _harness(master_config(client_reconfig_script="/bin/true"))
    process_hello(h.sentinel, _hello(), h.now)
    process_hello(h.sentinel, _hello(mport=6380, cepoch=1), h.now)
    argvs = [job.argv for job in h.sentinel.scripts.jobs]
    assert (
        "/bin/true",
        "mymaster",
        "observer",
        "start",
        "127.0.0.1",
        "6379",
        "127.0.0.1",
        "6380",
    ) in argvs


def test_hello_own_message_on_pubsub_ignored_and_activity_recorded() -> None:
    h = _harness()
    master = h.sentinel.masters["mymaster"]
    own = _hello(runid=MYID).encode()
    frame = (b"message", b"__sentinel__:hello", own)
    assert receive_hello_frame(h.sentinel, master, frame, Millis(h.now + 5)) == []
    assert master.link.pc_last_activity == h.now + 5
    assert master.sentinels == {}
    other = (b"message", b"__sentinel__:hello", _hello().encode())
    assert events(receive_hello_frame(h.sentinel, master, other, h.now))[0].startswith("+sentinel ")


def test_hello_through_pubsub_link_end_to_end() -> None:
    h = _harness()
    h.server(port=6379)
    h.tick()
    h.deliver()
    pubsub = h.links_to(Addr("127.0.0.1", 6379), LinkKind.PUBSUB)[0]
    effects = h.push(pubsub, (b"message", b"__sentinel__:hello", _hello().encode()))
    assert events(effects) == [f"+sentinel sentinel {PEER_ID} 127.0.0.1 26380 @ {M}"]
    # The new peer gets a command link and, once connected, hellos.
    effects = h.tick(1)
    assert any(e for e in effects if type(e).__name__ == "Connect")


def test_hello_published_with_our_own_id_is_ignored() -> None:
    # sentinel.c would add itself as a peer here (trap T12) and then count its own vote
    # twice; we drop it on this path too (docs/deviations.md). PUBLISH still answers :1.
    h = _harness()
    effects = h.sentinel.hello_published(_hello(runid=MYID, port=1).encode(), h.now)
    assert events(effects) == []
    assert h.sentinel.masters["mymaster"].sentinels == {}
    effects = h.sentinel.hello_published(_hello(port=1).encode(), h.now)
    assert events(effects)[0].startswith(f"+sentinel sentinel {PEER_ID}")


def test_hello_payload_uses_promoted_address_after_promotion() -> None:
    from pysentinel.core.instance import FailoverState

    h = _harness()
    h.server(port=6379)
    h.tick()
    h.deliver()
    s = h.sentinel
    master = s.masters["mymaster"]
    promoted = s.create_replica(master, Addr("127.0.0.1", 6380), h.now)
    master.promoted_replica = promoted
    master.failover_state = FailoverState.RECONF_SLAVES
    master.config_epoch = 7  # type: ignore[assignment]
    s.force_hello(master)
    pubs = [a for a in sends(h.tick(1)) if a[0] == b"PUBLISH"]
    assert pubs[0][2] == f"127.0.0.1,26379,{MYID},0,mymaster,127.0.0.1,6380,7".encode()


def test_hello_with_our_own_id_invalidates_a_stale_peer_at_our_address() -> None:
    # A reinstalled sentinel (new id) at the address of its old self, which it had
    # learnt as a peer from a late hello: its own hello, published to that "peer" (that
    # is, to itself), shows the old entry is invalid, and it does not add itself.
    h = _harness()
    h.sentinel.hello_published(_hello(port=26390).encode(), h.now)
    master = h.sentinel.masters["mymaster"]
    assert list(master.sentinels) == [PEER_ID]
    effects = h.sentinel.hello_published(_hello(runid=MYID, port=26390).encode(), h.now)
    assert events(effects) == [f"+sentinel-invalid-addr sentinel {PEER_ID} 127.0.0.1 26390 @ {M}"]
    assert flushes(effects) == 1
    assert master.sentinels == {}
