"""SENTINEL FAILOVER and the voting half of IS-MASTER-DOWN-BY-ADDR, through B's modules."""

from __future__ import annotations

from pysentinel.config import parse
from pysentinel.core.effects import Emit, Log, PersistConfig, Reply
from pysentinel.core.instance import FailoverState
from pysentinel.core.types import Millis
from pysentinel.core.values import Array, Bulk, Error, Int, Simple
from tests.core.commands_fakes import FakeSentinel, reply_of, run

PEER = "b" * 40
CONF = f"""
sentinel myid {"a" * 40}
sentinel monitor mymaster 127.0.0.1 6379 2
sentinel known-replica mymaster 127.0.0.1 6380
sentinel known-sentinel mymaster 127.0.0.1 26380 {PEER}
sentinel current-epoch 3
"""


def make() -> FakeSentinel:
    return FakeSentinel(parse(CONF, cwd="/tmp"))


def test_commands_failover_nogoodslave_when_no_replica_qualifies() -> None:
    s = make()  # the replica never answered INFO
    effects = run(s, "failover", "mymaster")
    assert reply_of(effects) == Error("NOGOODSLAVE No suitable replica to promote")
    assert not s.masters["mymaster"].failover_in_progress


def test_commands_failover_starts_a_forced_failover_and_replies_ok() -> None:
    s = make()
    m = s.masters["mymaster"]
    replica = m.replicas["127.0.0.1:6380"]
    replica.info_refresh = Millis(4900)
    replica.link.last_avail_time = Millis(4900)
    effects = run(s, "FAILOVER", "mymaster", now=5000)
    assert reply_of(effects) == Simple("OK")
    assert isinstance(effects[-1], Reply)  # the reply comes after the events
    logs = [e.text for e in effects if isinstance(e, Log)]
    assert logs == ["Executing user requested FAILOVER of 'mymaster'"]
    assert m.failover_state is FailoverState.WAIT_START and m.force_failover
    assert s.current_epoch == 4 and m.failover_epoch == 4
    assert ("+new-epoch", "4") in s.events
    assert ("+try-failover", "master mymaster 127.0.0.1 6379") in s.events
    assert reply_of(run(s, "failover", "mymaster")) == Error("INPROG Failover already in progress")


def test_commands_is_master_down_by_addr_votes_and_reports_the_vote() -> None:
    s = make()
    m = s.masters["mymaster"]
    m.sdown_since = Millis(1)
    effects = run(s, "is-master-down-by-addr", "127.0.0.1", "6379", "5", PEER)
    assert reply_of(effects) == Array((Int(1), Bulk(PEER.encode()), Int(5)))
    assert s.current_epoch == 5 and m.leader == PEER and m.leader_epoch == 5
    assert [type(e) for e in effects if not isinstance(e, Emit)][:1] == [PersistConfig]
    assert ("+vote-for-leader", f"{PEER} 5") in s.events
    # Same epoch, another candidate: first come, first served.
    other = "c" * 40
    effects = run(s, "is-master-down-by-addr", "127.0.0.1", "6379", "5", other)
    assert reply_of(effects) == Array((Int(1), Bulk(PEER.encode()), Int(5)))
    # Votes are granted in TILT, but the master is reported as not down.
    s.tilt = True
    effects = run(s, "is-master-down-by-addr", "127.0.0.1", "6379", "6", other)
    assert reply_of(effects) == Array((Int(0), Bulk(other.encode()), Int(6)))


def test_commands_is_master_down_by_addr_old_epoch_gets_no_vote() -> None:
    s = make()
    effects = run(s, "is-master-down-by-addr", "127.0.0.1", "6379", "2", PEER)
    assert reply_of(effects) == Array((Int(0), Bulk(b"*"), Int(0)))
