"""Hello messages: publishing ours and discovering peers from theirs (spec §6).

Rules of this module:

* The payload is eight comma-separated fields (spec §6.1, Appendix B). We publish it on
  the command link of every master, replica and peer sentinel every publish period.
  ``last_pub_time`` moves only when the publish was accepted (monitor.publish_reply).
* Hellos reach us two ways: as ``message`` frames on a pub/sub link of a master or
  replica (our own hellos come back that way and are dropped by the myid filter), and
  as ``PUBLISH __sentinel__:hello`` commands from peers (sentinel.c has no myid filter
  there, spec T12; we drop our own id in :func:`process_hello` on both paths).
* Processing a hello is part of the *monitoring* half: it runs in TILT too, including
  the switch to a newer master config.
* Peers are keyed by run id under each master and identified by run id and address;
  the rules for a peer that moved, and for a new peer taking an old peer's address,
  are spec §6.2's. A peer is never forgotten otherwise (spec T15).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pysentinel.config import c_atoi, c_strtoull
from pysentinel.core.effects import Effect
from pysentinel.core.events import EventType, announce_host
from pysentinel.core.info import addr_equals_host
from pysentinel.core.instance import (
    Instance,
    MasterInstance,
    ReplicaInstance,
    ReplyKind,
    SentinelPeer,
)
from pysentinel.core.monitor import HELLO_CHANNEL
from pysentinel.core.types import Addr, Epoch, Millis, RunId
from pysentinel.core.values import InReply

if TYPE_CHECKING:
    from pysentinel.core.sentinel import Sentinel

__all__ = [
    "hello_payload",
    "lookup_peer",
    "process_hello",
    "receive_hello_frame",
    "send_hello",
]


def _master_of(instance: Instance) -> MasterInstance:
    if isinstance(instance, MasterInstance):
        return instance
    assert isinstance(instance, ReplicaInstance | SentinelPeer)
    assert instance.master is not None
    return instance.master


def hello_payload(sentinel: Sentinel, instance: Instance) -> str | None:
    """The hello we would publish on ``instance``'s command link, or None when we cannot
    tell our own address yet (the socket has not connected).
    """
    master = _master_of(instance)
    current = sentinel.current_master_instance(master)
    if sentinel.announce_ip:
        ip = sentinel.announce_ip
    elif instance.link.local_host is not None:
        ip = instance.link.local_host
    else:
        return None
    if sentinel.announce_port:
        port = sentinel.announce_port
    elif sentinel.config.tls_replication and sentinel.config.tls_port:
        port = sentinel.config.tls_port
    else:
        port = sentinel.config.port
    return (
        f"{ip},{port},{sentinel.myid},{sentinel.current_epoch},"
        f"{master.name},{announce_host(current, sentinel.announce_hostnames)},"
        f"{current.addr.port},{master.config_epoch}"
    )


def send_hello(sentinel: Sentinel, instance: Instance, now: Millis) -> list[Effect]:
    """Publish our hello on ``instance``'s command link. Mirrors sentinelSendHello()."""
    if instance.link.disconnected:
        return []
    payload = hello_payload(sentinel, instance)
    if payload is None:
        return []
    send = sentinel.send(instance, "PUBLISH", HELLO_CHANNEL, payload, kind=ReplyKind.PUBLISH)
    return [] if send is None else [send]


def receive_hello_frame(
    sentinel: Sentinel, instance: Instance, reply: InReply, now: Millis
) -> list[Effect]:
    """A frame on a pub/sub link: any frame counts as activity; ``message`` frames not
    carrying our own id are hellos. Mirrors sentinelReceiveHelloMessages().
    """
    instance.link.pc_last_activity = now
    if not (
        isinstance(reply, tuple)
        and len(reply) == 3
        and all(isinstance(r, bytes) for r in reply)
        and reply[0] == b"message"
    ):
        return []
    payload = reply[2]
    assert isinstance(payload, bytes)
    if sentinel.myid.encode() in payload:
        return []
    return process_hello(sentinel, payload.decode("utf-8", "surrogateescape"), now)


def lookup_peer(
    master: MasterInstance, host: str | None, port: int, run_id: str | None
) -> SentinelPeer | None:
    """The peer of ``master`` matching the address (if given) and run id (if given).

    Mirrors getSentinelRedisInstanceByAddrAndRunID().
    """
    for peer in master.sentinels.values():
        if run_id is not None and peer.run_id != run_id:
            continue
        if host is not None and (peer.addr.port != port or not addr_equals_host(peer, host)):
            continue
        return peer
    return None


def _remove_matching_peer(
    sentinel: Sentinel, master: MasterInstance, run_id: str
) -> tuple[int, list[Effect]]:
    """Remove every peer of ``master`` with ``run_id``. Mirrors
    removeMatchingSentinelFromMaster().
    """
    out: list[Effect] = []
    removed = 0
    for key, peer in list(master.sentinels.items()):
        if peer.run_id == run_id:
            del master.sentinels[key]
            out += sentinel.release_instance(peer)
            removed += 1
    return removed, out


def _update_address_in_all_masters(
    sentinel: Sentinel, peer: SentinelPeer, now: Millis
) -> list[Effect]:
    """After a peer moved, move it under every master and drop the old links.

    Mirrors sentinelUpdateSentinelAddressInAllMasters().
    """
    from pysentinel.core.monitor import close_link_socket

    out: list[Effect] = []
    reconfigured = 0
    for master in sentinel.masters.values():
        match = lookup_peer(master, None, 0, peer.run_id)
        if match is None:
            continue
        out += close_link_socket(sentinel, match.link, match.link.cmd)
        out += close_link_socket(sentinel, match.link, match.link.pubsub)
        if match is peer:
            continue
        match.addr = peer.addr
        match.hostname = peer.hostname
        reconfigured += 1
    if reconfigured:
        out += sentinel.event(
            EventType.SENTINEL_ADDRESS_UPDATE,
            peer,
            f"{reconfigured} additional matching instances",
            now=now,
        )
    return out


def process_hello(sentinel: Sentinel, hello: str, now: Millis) -> list[Effect]:
    """Process one hello payload (spec §6.2). Mirrors sentinelProcessHelloMessage()."""
    from pysentinel.core.info import valid_host

    token = hello.split(",")
    if len(token) != 8:
        return []
    master = sentinel.masters.get(token[4])
    if master is None:
        return []
    out: list[Effect] = []
    ip, run_id = token[0], RunId(token[2])
    port = c_atoi(token[1])
    master_port = c_atoi(token[6])
    current_epoch = Epoch(c_strtoull(token[3]))
    master_config_epoch = Epoch(c_strtoull(token[7]))
    peer = lookup_peer(master, ip, port, run_id)
    other: SentinelPeer | None = None
    if peer is None:
        removed, effects = _remove_matching_peer(sentinel, master, run_id)
        out += effects
        if removed:
            out += sentinel.event(
                EventType.SENTINEL_ADDRESS_SWITCH,
                master,
                f"ip {ip} port {port} for {run_id}",
                now=now,
            )
        else:
            other = lookup_peer(master, ip, port, None)
            if other is not None:
                out += sentinel.event(EventType.SENTINEL_INVALID_ADDR, other, now=now)
                obsolete = other.run_id
                assert obsolete is not None
                for each in list(sentinel.masters.values()):
                    out += _remove_matching_peer(sentinel, each, obsolete)[1]
        if run_id == sentinel.myid:
            # Our own hello, come back through the PUBLISH path: sentinel.c filters our
            # id on the pub/sub path only (trap T12) and would add itself as a peer here
            # and count its own vote twice. That happens after a reinstall with a new id
            # at the old address, once a late hello of the old self made it a "peer"
            # (found by the simulator, scenario sentinel_adds_itself). The old entry at
            # our address is invalid all the same (dropped just above); we never add
            # ourselves (docs/deviations.md).
            if removed or other is not None:
                out += sentinel.flush_config()
            return out
        if valid_host(sentinel, ip) and 0 <= port <= 65535 and run_id not in master.sentinels:
            peer = sentinel.create_sentinel_peer(master, Addr(ip, port), run_id, now)
            if not removed:
                out += sentinel.event(EventType.SENTINEL, peer, now=now)
            if removed:
                out += _update_address_in_all_masters(sentinel, peer, now)
            out += sentinel.flush_config()
    if current_epoch > sentinel.current_epoch:
        sentinel.current_epoch = current_epoch
        out += sentinel.flush_config()
        out += sentinel.event(
            EventType.NEW_EPOCH, master, str(current_epoch), details=False, now=now
        )
    if peer is not None and master.config_epoch < master_config_epoch:
        master.config_epoch = master_config_epoch
        if master_port != master.addr.port or not addr_equals_host(master, token[5]):
            # The old address in announce form, for the event and the reconfig script.
            old_announced = Addr(
                announce_host(master, sentinel.announce_hostnames), master.addr.port
            )
            out += sentinel.event(EventType.CONFIG_UPDATE_FROM, peer, now=now)
            out += sentinel.event(
                EventType.SWITCH_MASTER,
                master,
                f"{master.name} {old_announced.host} {old_announced.port} {token[5]} {master_port}",
                details=False,
                now=now,
            )
            out += sentinel.reset_master_and_change_address(
                master, Addr(token[5], master_port), now
            )
            new_announced = Addr(announce_host(master, sentinel.announce_hostnames), master_port)
            out += sentinel.client_reconfig(master, "observer", old_announced, new_announced, now)
    if peer is not None:
        peer.last_hello_time = now
    return out
