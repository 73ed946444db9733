"""Links and periodic commands (spec §5.3, §5.4)."""

from __future__ import annotations

from helpers import (
    MYID,
    T0,
    Harness,
    events,
    logs,
    master_config,
    sends,
    sentinel_config,
)

from pysentinel.core.effects import Close, Connect, Effect, Send
from pysentinel.core.inputs import LinkConnected, LinkDropped, LinkReply
from pysentinel.core.types import Addr, LinkId, LinkKind, Millis
from pysentinel.core.values import ErrorReply, InReply

M = Addr("127.0.0.1", 6379)


def _started(**master_kwargs: object) -> Harness:
    h = Harness(sentinel_config(master_config(**master_kwargs)))
    h.start()
    return h


def test_sentinel_start_logs_id_and_monitor_event() -> None:
    h = Harness(sentinel_config(master_config(quorum=2)))
    effects = h.start()
    assert logs(effects) == [f"Sentinel ID is {MYID}"]
    assert events(effects) == ["+monitor master mymaster 127.0.0.1 6379 quorum 2"]
    assert h.sentinel.next_deadline() == T0


def test_monitor_first_tick_opens_both_links_with_handshake() -> None:
    h = _started()
    effects = h.tick()
    connects = [e for e in effects if isinstance(e, Connect)]
    assert [(c.kind, c.addr) for c in connects] == [(LinkKind.COMMAND, M), (LinkKind.PUBSUB, M)]
    cmd, pubsub = connects[0].link, connects[1].link
    assert cmd != pubsub
    id8 = MYID[:8]
    assert sends(effects, cmd) == [
        (b"CLIENT", b"SETNAME", f"sentinel-{id8}-cmd".encode()),
        (b"PING",),
        (b"INFO",),
    ]
    assert sends(effects, pubsub) == [
        (b"CLIENT", b"SETNAME", f"sentinel-{id8}-pubsub".encode()),
        (b"SUBSCRIBE", b"__sentinel__:hello"),
    ]
    master = h.sentinel.masters["mymaster"]
    assert not master.link.disconnected
    # AUTH/SETNAME on both sockets, PING and INFO are outstanding.
    assert master.link.pending_commands == 4


def test_monitor_auth_sent_first_with_user() -> None:
    h = _started(auth_pass="secret", auth_user="sentinel")
    effects = h.tick()
    first = next(e.argv for e in effects if isinstance(e, Send))
    assert first == (b"AUTH", b"sentinel", b"secret")
    assert sends(effects).count((b"AUTH", b"sentinel", b"secret")) == 2


def test_monitor_auth_without_user() -> None:
    h = _started(auth_pass="secret")
    assert sends(h.tick()).count((b"AUTH", b"secret")) == 2


def test_monitor_rename_command_applies_to_every_command() -> None:
    h = _started(rename_commands=(("ping", "PONGIT"), ("subscribe", "SUB2")))
    effects = h.tick()
    assert (b"PONGIT",) in sends(effects)
    assert (b"SUB2", b"__sentinel__:hello") in sends(effects)
    assert (b"PING",) not in sends(effects)


def test_monitor_info_reply_discovers_replica_and_flushes() -> None:
    h = _started()
    h.server(port=6379, replicas=[Addr("127.0.0.1", 6380)])
    effects = h.tick() + h.deliver()
    assert "+slave slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379" in events(effects)
    master = h.sentinel.masters["mymaster"]
    assert list(master.replicas) == ["127.0.0.1:6380"]
    assert master.info_refresh == T0
    assert master.run_id == "1" * 40
    assert master.link.pending_commands == 0


def test_monitor_ping_cadence_and_act_ping_time() -> None:
    h = _started(down_after_ms=5000)
    h.server(port=6379)
    h.tick()
    h.deliver()
    link = h.sentinel.masters["mymaster"].link
    assert link.act_ping_time == 0
    assert link.last_avail_time == T0
    # No new PING before a ping period without pong.
    assert (b"PING",) not in sends(h.tick(1000))
    effects = h.tick(1)
    assert (b"PING",) in sends(effects)
    assert link.act_ping_time == T0 + 1001
    # An unanswered ping keeps act_ping_time at the first one.
    h.tick(600)
    assert link.act_ping_time == T0 + 1001


def test_monitor_ping_period_follows_small_down_after() -> None:
    h = _started(down_after_ms=400)
    h.server(port=6379)
    h.tick()
    h.deliver()
    assert (b"PING",) not in sends(h.tick(400))
    assert (b"PING",) in sends(h.tick(1))


def test_monitor_info_every_info_period() -> None:
    h = _started()
    h.server(port=6379)
    h.tick()
    h.deliver()
    assert (b"INFO",) not in sends(h.tick(10_000))
    assert (b"INFO",) in sends(h.tick(1))


def test_monitor_hello_published_every_two_seconds() -> None:
    h = _started()
    h.server(port=6379)
    h.tick()
    h.deliver()
    assert not [a for a in sends(h.tick(2000)) if a[0] == b"PUBLISH"]
    effects = h.tick(1)
    pubs = [a for a in sends(effects) if a[0] == b"PUBLISH"]
    assert pubs == [
        (
            b"PUBLISH",
            b"__sentinel__:hello",
            f"127.0.0.1,26379,{MYID},0,mymaster,127.0.0.1,6379,0".encode(),
        )
    ]
    h.deliver()
    assert h.sentinel.masters["mymaster"].last_pub_time == T0 + 2001


def test_monitor_refused_publish_is_retried_next_tick() -> None:
    h = _started()
    h.server(port=6379)
    h.tick()
    h.deliver()
    cmd = h.links_to(M, LinkKind.COMMAND)[0]
    h.tick(2001)
    h.sockets[cmd].inbox.clear()
    master = h.sentinel.masters["mymaster"]
    # Answer the PUBLISH (the only thing outstanding besides nothing) with an error.
    kinds = [p.kind.value for p in master.link.cmd_pending]
    assert kinds[-1] == "publish"
    for _ in kinds[:-1]:
        h.push(cmd, b"PONG")
    h.push(cmd, ErrorReply("NOPERM this user has no permissions"))
    assert master.last_pub_time == T0
    assert [a for a in sends(h.tick(50)) if a[0] == b"PUBLISH"]


def test_monitor_hello_uses_announce_ip_and_port() -> None:
    h = Harness(sentinel_config(announce_ip="10.0.0.9", announce_port=5000))
    h.start()
    h.server(port=6379)
    h.tick()
    h.deliver()
    pubs = [a for a in sends(h.tick(2001)) if a[0] == b"PUBLISH"]
    assert pubs[0][2] == f"10.0.0.9,5000,{MYID},0,mymaster,127.0.0.1,6379,0".encode()


def test_monitor_connect_refused_emits_debug_event_and_retries_after_ping_period() -> None:
    h = _started()
    h.tick()
    effects = h.connect_all()
    assert events(effects) == [
        "-cmd-link-reconnection master mymaster 127.0.0.1 6379 #Connection refused",
        "-pubsub-link-reconnection master mymaster 127.0.0.1 6379 #Connection refused",
    ]
    master = h.sentinel.masters["mymaster"]
    assert master.link.disconnected
    # Pending replies are lost but still counted (spec T11).
    assert master.link.pending_commands == 4
    assert not [e for e in h.tick(999) if isinstance(e, Connect)]
    assert len([e for e in h.tick(1) if isinstance(e, Connect)]) == 2


def test_monitor_dropped_established_link_reconnects_without_event() -> None:
    h = _started()
    h.server(port=6379)
    h.tick()
    h.deliver()
    cmd = h.links_to(M, LinkKind.COMMAND)[0]
    effects = h.handle(LinkDropped(link=cmd, error="Connection reset by peer"))
    assert events(effects) == []
    master = h.sentinel.masters["mymaster"]
    assert master.link.disconnected and master.link.cmd is None
    assert master.link.pubsub is not None
    effects = h.tick(1000)
    connects = [e for e in effects if isinstance(e, Connect)]
    assert [c.kind for c in connects] == [LinkKind.COMMAND]
    assert connects[0].link != cmd
    # Late input for the old socket is ignored.
    assert h.handle(LinkReply(link=cmd, reply=b"PONG")) == []
    assert h.handle(LinkConnected(link=cmd, local_host="x", local_port=1)) == []


def test_monitor_pending_cap_stops_periodic_commands() -> None:
    h = _started()
    h.tick()
    master = h.sentinel.masters["mymaster"]
    master.link.pending_commands = 100
    effects = h.tick(20_000)
    assert sends(effects) == []
    master.link.pending_commands = 99
    assert sends(h.tick(1))


def test_monitor_subscribe_error_drops_pubsub_link() -> None:
    h = _started(auth_pass="wrong")
    h.tick()
    pubsub = next(s for s in h.sockets.values() if s.kind is LinkKind.PUBSUB).link
    h.handle(LinkConnected(link=pubsub, local_host="127.0.0.1", local_port=1))
    h.push(pubsub, ErrorReply("WRONGPASS invalid username-password pair"))
    h.push(pubsub, ErrorReply("NOAUTH Authentication required."))
    effects = h.push(pubsub, ErrorReply("NOAUTH Authentication required."))
    assert effects == [Close(link=pubsub)]
    master = h.sentinel.masters["mymaster"]
    assert master.link.disconnected and master.link.pubsub is None


def test_monitor_ping_reply_rules() -> None:
    h = _started(down_after_ms=1000)
    h.tick()
    cmd = next(s for s in h.sockets.values() if s.kind is LinkKind.COMMAND).link
    h.handle(LinkConnected(link=cmd, local_host="127.0.0.1", local_port=1))
    master = h.sentinel.masters["mymaster"]
    link = master.link
    h.push(cmd, b"OK")  # SETNAME
    h.now = Millis(h.now + 10)
    h.push(cmd, ErrorReply("NOAUTH Authentication required."))  # PING: not acceptable
    assert link.last_pong_time == T0 + 10
    assert link.last_avail_time == T0
    assert link.act_ping_time == T0
    h.push(cmd, b"# Server\r\n")  # INFO
    h.now = Millis(h.now + 1100)
    h.tick()  # SDOWN now (no acceptable pong for 1110 ms) and a new PING
    assert master.sdown_since is not None
    busy = ErrorReply("BUSY Redis is busy running a script.")
    effects = _answer_pings(h, cmd, busy)
    assert sends(effects) == [(b"SCRIPT", b"KILL")]
    assert master.script_kill_sent
    assert sends(h.tick(1001)).count((b"PING",)) == 1
    assert sends(_answer_pings(h, cmd, busy)) == []
    assert sends(h.tick(1001)).count((b"PING",)) == 1
    _answer_pings(h, cmd, ErrorReply("LOADING Redis is loading the dataset in memory"))
    assert link.act_ping_time == 0
    assert link.last_avail_time == h.now


def _answer_pings(h: Harness, cmd: LinkId, reply: InReply) -> list[Effect]:
    """Answer everything outstanding on ``cmd``: PINGs with ``reply``, the rest with OK."""
    from pysentinel.core.instance import ReplyKind

    link = h.sentinel.masters["mymaster"].link
    out: list[Effect] = []
    for pending in list(link.cmd_pending):
        out += h.push(cmd, reply if pending.kind is ReplyKind.PING else b"OK")
    return out


def test_monitor_known_sentinels_share_one_link_across_masters() -> None:
    from helpers import PEER_ID, known_sentinel

    peer = known_sentinel("127.0.0.1", 26380, PEER_ID)
    h = Harness(
        sentinel_config(
            master_config("m1", port=6379, known_sentinels=(peer,)),
            master_config("m2", port=6479, known_sentinels=(peer,)),
        )
    )
    h.start()
    p1 = h.sentinel.masters["m1"].sentinels[PEER_ID]
    p2 = h.sentinel.masters["m2"].sentinels[PEER_ID]
    assert p1.link is p2.link and p1.link.refcount == 2
    effects = h.tick()
    peer_connects = [
        e for e in effects if isinstance(e, Connect) and e.addr == Addr("127.0.0.1", 26380)
    ]
    assert [c.kind for c in peer_connects] == [LinkKind.COMMAND]
    # Releasing one user keeps the link; releasing the last closes it.
    assert h.sentinel.remove_master("m1") != []
    assert p2.link.refcount == 1 and p2.link.cmd is not None
    closes = [e for e in h.sentinel.remove_master("m2") if isinstance(e, Close)]
    assert peer_connects[0].link in [c.link for c in closes]


def test_monitor_peer_auth_uses_sentinel_pass_then_requirepass() -> None:
    from helpers import PEER_ID, known_sentinel

    peer = known_sentinel("127.0.0.1", 26380, PEER_ID)
    h = Harness(
        sentinel_config(
            master_config(known_sentinels=(peer,)), requirepass="rp", sentinel_pass=None
        )
    )
    h.start()
    peer_cmd_sends = [
        e.argv
        for e in h.tick()
        if isinstance(e, Send) and e.link == h.links_to(Addr("127.0.0.1", 26380))[0]
    ]
    assert peer_cmd_sends[0] == (b"AUTH", b"rp")
    h2 = Harness(
        sentinel_config(
            master_config(known_sentinels=(peer,)),
            requirepass="rp",
            sentinel_user="su",
            sentinel_pass="sp",
        )
    )
    h2.start()
    effects = h2.tick()
    link = h2.links_to(Addr("127.0.0.1", 26380))[0]
    assert sends(effects, link)[0] == (b"AUTH", b"su", b"sp")
    # A peer gets no INFO and no pub/sub link.
    assert (b"INFO",) not in sends(effects, link)


def _replica_world() -> tuple[Harness, object]:
    h = _started()
    h.server(port=6379, replicas=[Addr("127.0.0.1", 6380)])
    h.server(port=6380, role="slave")
    h.advance(300)
    master = h.sentinel.masters["mymaster"]
    return h, master


def test_monitor_replica_info_accelerated_while_master_odown() -> None:
    from pysentinel.core.instance import MasterInstance
    from pysentinel.core.monitor import send_periodic_commands

    h, master = _replica_world()
    assert isinstance(master, MasterInstance)
    replica = master.replicas["127.0.0.1:6380"]
    replica.info_refresh = h.now
    later = Millis(h.now + 1001)
    assert (b"INFO",) not in sends(send_periodic_commands(h.sentinel, replica, later))
    master.odown_since = h.now
    assert (b"INFO",) in sends(send_periodic_commands(h.sentinel, replica, later))


def test_monitor_replica_info_accelerated_during_failover_and_link_down() -> None:
    from pysentinel.core.instance import FailoverState, MasterInstance
    from pysentinel.core.monitor import send_periodic_commands

    h, master = _replica_world()
    assert isinstance(master, MasterInstance)
    replica = master.replicas["127.0.0.1:6380"]
    replica.info_refresh = h.now
    later = Millis(h.now + 1001)
    master.failover_state = FailoverState.WAIT_START
    assert (b"INFO",) in sends(send_periodic_commands(h.sentinel, replica, later))
    master.failover_state = FailoverState.NONE
    replica.master_link_down_time = 5000
    assert (b"INFO",) in sends(send_periodic_commands(h.sentinel, replica, later))
    replica.master_link_down_time = 0
    assert (b"INFO",) not in sends(send_periodic_commands(h.sentinel, replica, later))
    # The accelerated period is fixed at 1 s, whatever SENTINEL DEBUG info-period says.
    h.sentinel.tunables.info_period_ms = 100_000
    replica.master_link_down_time = 5000
    assert (b"INFO",) in sends(send_periodic_commands(h.sentinel, replica, later))


def test_monitor_tilt_keeps_monitoring_and_hello_switch() -> None:
    from helpers import PEER_ID

    from pysentinel.core.hello import process_hello

    h = _started()
    h.server(port=6379, replicas=[Addr("127.0.0.1", 6380)])
    h.sentinel.tilt = True
    h.sentinel.tilt_start_time = h.now
    effects = h.advance(300)
    # Monitoring half still runs: connects, PING, INFO, replica discovery.
    assert any(isinstance(e, Connect) for e in effects)
    assert "+slave slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379" in events(effects)
    hello = f"127.0.0.1,26380,{PEER_ID},1,mymaster,127.0.0.1,6380,1"
    assert "+switch-master mymaster 127.0.0.1 6379 127.0.0.1 6380" in events(
        process_hello(h.sentinel, hello, h.now)
    )
