"""SDOWN, ODOWN and TILT (spec §5.7, §5.8, §9.1)."""

from __future__ import annotations

from helpers import PEER2_ID, PEER_ID, T0, Harness, events, master_config, sentinel_config

from pysentinel.core.detection import (
    check_objectively_down,
    check_subjectively_down,
    check_tilt_condition,
)
from pysentinel.core.effects import Close
from pysentinel.core.types import Addr, LinkKind, Millis, Role

M = "master mymaster 127.0.0.1 6379"


def _harness(**kwargs: object) -> Harness:
    h = Harness(sentinel_config(master_config(**kwargs)))
    h.start()
    return h


def test_detection_unreachable_master_goes_sdown_after_down_after() -> None:
    h = _harness(down_after_ms=5000)
    h.advance(5000)
    master = h.sentinel.masters["mymaster"]
    assert master.sdown_since is None
    effects = h.advance(200)
    assert f"+sdown {M}" in events(effects)
    assert master.sdown_since is not None
    assert master.last_sdown_start == master.sdown_since


def test_detection_pong_clears_sdown() -> None:
    h = _harness(down_after_ms=1000)
    h.advance(1200)
    master = h.sentinel.masters["mymaster"]
    assert master.sdown_since is not None
    h.server(port=6379)
    effects = h.advance(1500)
    assert f"-sdown {M}" in events(effects)
    assert master.sdown_since is None
    assert master.last_sdown_start != 0


def test_detection_master_reporting_slave_goes_sdown() -> None:
    h = _harness(down_after_ms=1000)
    fake = h.server(port=6379)
    fake.role = "slave"
    h.advance(1000)
    master = h.sentinel.masters["mymaster"]
    assert master.role_reported is Role.SLAVE
    # down-after + 2 x info period after the role change.
    effects = h.advance(20_000)
    assert f"+sdown {M}" not in events(effects)
    effects = h.advance(1200)
    assert f"+sdown {M}" in events(effects)


def test_detection_master_reboot_down_after_period() -> None:
    h = _harness(down_after_ms=30_000, master_reboot_down_after_period_ms=2000)
    fake = h.server(port=6379)
    h.advance(200)
    master = h.sentinel.masters["mymaster"]
    fake.run_id = "9" * 40
    fake.ping_reply = b"LOADING Redis is loading"  # type: ignore[assignment]
    from pysentinel.core.values import ErrorReply

    fake.ping_reply = ErrorReply("LOADING Redis is loading the dataset in memory")
    effects = h.advance(10_100)  # next INFO shows the new run id
    assert f"+reboot {M}" in events(effects)
    assert master.master_reboot_since_time != 0
    effects = h.advance(2200)
    assert f"+sdown {M}" in events(effects)
    # The first +PONG clears the reboot flag, and with it the SDOWN.
    fake.ping_reply = None
    effects = h.advance(1500)
    assert master.master_reboot_since_time == 0
    assert f"-sdown {M}" in events(effects)


def test_detection_odown_needs_quorum_of_peer_answers() -> None:
    h = _harness(quorum=2)
    s = h.sentinel
    master = s.masters["mymaster"]
    p1 = s.create_sentinel_peer(master, Addr("127.0.0.1", 26380), PEER_ID, h.now)  # type: ignore[arg-type]
    s.create_sentinel_peer(master, Addr("127.0.0.1", 26381), PEER2_ID, h.now)  # type: ignore[arg-type]
    assert check_objectively_down(s, master, h.now) == []
    master.sdown_since = h.now
    assert check_objectively_down(s, master, h.now) == []
    p1.master_down = True
    effects = check_objectively_down(s, master, Millis(h.now + 1))
    assert events(effects) == [f"+odown {M} #quorum 2/2"]
    assert master.odown_since == h.now + 1
    assert check_objectively_down(s, master, Millis(h.now + 2)) == []
    master.sdown_since = None
    assert events(check_objectively_down(s, master, h.now)) == [f"-odown {M}"]
    assert master.odown_since is None


def test_detection_quorum_one_odown_alone() -> None:
    h = _harness(quorum=1)
    master = h.sentinel.masters["mymaster"]
    master.sdown_since = h.now
    assert events(check_objectively_down(h.sentinel, master, h.now)) == [f"+odown {M} #quorum 1/1"]


def test_detection_inactive_command_link_is_recycled() -> None:
    h = _harness(down_after_ms=10_000)
    h.server(port=6379)  # accepts connections; we never deliver its replies
    h.tick()
    h.connect_all()
    master = h.sentinel.masters["mymaster"]
    cmd = master.link.cmd
    # Connected > 15 s ago, ping pending > 5 s, no reply at all > 5 s.
    now = Millis(T0 + 15_001)
    effects = check_subjectively_down(h.sentinel, master, now)
    assert Close(link=cmd) in effects  # type: ignore[arg-type]
    assert master.link.cmd is None and master.link.disconnected


def test_detection_young_link_not_recycled() -> None:
    h = _harness(down_after_ms=10_000)
    h.tick()
    master = h.sentinel.masters["mymaster"]
    effects = check_subjectively_down(h.sentinel, master, Millis(T0 + 14_999))
    assert not [e for e in effects if isinstance(e, Close)]


def test_detection_silent_pubsub_link_is_recycled() -> None:
    h = _harness(down_after_ms=60_000)
    h.server(port=6379)
    h.tick()
    h.deliver()
    master = h.sentinel.masters["mymaster"]
    pubsub = master.link.pubsub
    assert master.link.pc_last_activity == T0  # the subscribe confirmation
    master.link.act_ping_time = Millis(0)
    effects = check_subjectively_down(h.sentinel, master, Millis(T0 + 15_001))
    assert effects == [Close(link=pubsub)]  # type: ignore[arg-type]
    # The next tick reopens only the pub/sub socket.
    effects = h.tick(15_001 + 1000)
    assert [c.kind for c in effects if hasattr(c, "kind") and type(c).__name__ == "Connect"] == [
        LinkKind.PUBSUB
    ]


def test_detection_tilt_on_time_jump_and_exit_after_period() -> None:
    h = _harness()
    h.tick()
    effects = h.tick(2001)
    assert events(effects)[0] == "+tilt #tilt mode entered"
    assert h.sentinel.tilt and h.sentinel.tilt_start_time == h.now
    # Within the period nothing of the acting half runs: no SDOWN even if due.
    h.sentinel.tunables.tilt_period_ms = 5000
    effects = h.advance(4900)
    assert "-tilt #tilt mode exited" not in events(effects)
    assert h.sentinel.masters["mymaster"].sdown_since is None
    effects = h.advance(200)
    assert "-tilt #tilt mode exited" in events(effects)
    assert not h.sentinel.tilt


def test_detection_tilt_on_backwards_clock_and_restart() -> None:
    h = _harness()
    h.tick()
    h.now = Millis(h.now - 1)
    assert events(check_tilt_condition(h.sentinel, h.now)) == ["+tilt #tilt mode entered"]
    h.now = Millis(h.now + 3000)
    assert events(check_tilt_condition(h.sentinel, h.now)) == ["+tilt #tilt mode entered"]
    assert h.sentinel.tilt_start_time == h.now
    assert check_tilt_condition(h.sentinel, Millis(h.now + 2000)) == []


def test_detection_tilt_freezes_sdown() -> None:
    h = _harness(down_after_ms=1000)
    h.sentinel.tilt = True
    h.sentinel.tilt_start_time = h.now
    h.advance(3000)
    assert h.sentinel.masters["mymaster"].sdown_since is None
