"""Safety predicates checked after every sentinel step; liveness checked after a final heal.

Safety (``SafetyChecker``, called with every step's effects):

1. One leader per epoch and master: no two sentinels emit ``+elected-leader`` for
   the same master in the same failover epoch.
2. A leader really won: unless the failover was forced (``SENTINEL FAILOVER``), the
   number of sentinels that voted for it in that epoch (every vote of every
   sentinel is recorded from ``+vote-for-leader``) is at least
   max(quorum, known sentinels / 2 + 1) (spec §7.3).
3. Nobody votes twice in an epoch: a sentinel's votes for one epoch all name the
   same run id (also across its restarts: ``leader-epoch`` is persisted).
4. Each config epoch names one master address (across all sentinels).
5. Epochs never decrease: a sentinel's ``current_epoch`` and a master's
   ``config_epoch``, also across restarts (both are persisted before they matter).
6. No promotion without ODOWN and a won election: ``+try-failover`` only while
   ODOWN (or forced); ``+selected-slave`` only by the elected leader of that epoch.
7. Nothing is done in TILT: a step that starts in TILT and does not leave it emits
   no SDOWN/ODOWN/failover events and sends no SLAVEOF and no is-master-down-by-addr.

Liveness (``check_converged``, after the world was healed and left alone): every
live sentinel names the same master, which is up and reports role master; every
other live redis reaches it through its chain of replicaof links, all up and without a
loop (a chained replica the sentinels never discovered is fine); no failover is in
progress; no sentinel is in TILT.

``lost_writes`` does the Jepsen-style accounting: which writes that clients saw
acknowledged are missing from the final master.
"""

from __future__ import annotations

import collections

import attrs

from pysentinel.core.effects import Effect, Emit, Send
from pysentinel.core.instance import FailoverState
from sim.world import SimSentinel, World

__all__ = [
    "LostWrites",
    "SafetyChecker",
    "Violation",
    "check_converged",
    "lost_writes",
]

#: Events that are decisions, never taken in TILT (spec §9.1).
_ACTING_EVENTS = (
    "+sdown",
    "-sdown",
    "+odown",
    "-odown",
    "+try-failover",
    "+elected-leader",
    "+failover-state-select-slave",
    "+selected-slave",
    "+failover-state-send-slaveof-noone",
    "+failover-state-wait-promotion",
    "+promoted-slave",
    "+failover-state-reconf-slaves",
    "+slave-reconf-sent",
    "+failover-end",
    "+convert-to-slave",
    "+fix-slave-config",
)

#: Events counted for coverage reports.
COVERAGE_EVENTS = (
    "+tilt",
    "+sdown",
    "+odown",
    "+try-failover",
    "+elected-leader",
    "-failover-abort-not-elected",
    "-failover-abort-no-good-slave",
    "-failover-abort-slave-timeout",
    "+failover-end",
    "+failover-end-for-timeout",
    "+switch-master",
    "+convert-to-slave",
    "+fix-slave-config",
    "+config-update-from",
)


@attrs.frozen
class Violation:
    """A broken safety property."""

    time: int
    sentinel: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"t={self.time}ms {self.sentinel}: {self.rule}: {self.detail}"


class SafetyChecker:
    """Watches every sentinel step of one world."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.violations: list[Violation] = []
        self.counters: collections.Counter[str] = collections.Counter()
        #: (master, epoch, voter id) -> the run id voted for (lower case).
        self.votes: dict[tuple[str, int, str], str] = {}
        #: (master, epoch) -> the leader's id.
        self.leaders: dict[tuple[str, int], str] = {}
        #: (master, config epoch) -> (ip, port).
        self.config_addr: dict[tuple[str, int], tuple[str, int]] = {}
        #: (master, epoch) -> the replica selected.
        self.promoted: dict[tuple[str, int], str] = {}
        self._epoch: dict[str, int] = {}
        self._reported: dict[tuple[str, str, str], bool] = {}
        self._config_epoch: dict[tuple[str, str], int] = {}
        world.add_step_hook(self.check)

    def _fail(self, sentinel: SimSentinel, rule: str, detail: str) -> None:
        key = (sentinel.name, rule, detail)
        if key in self._reported:
            return
        self._reported[key] = True
        self.violations.append(Violation(self.world.scheduler.now, sentinel.name, rule, detail))

    def check(self, sentinel: SimSentinel, effects: list[Effect], tilt_before: bool) -> None:
        """Check the state after one step and the effects it produced."""
        core = sentinel.core
        if core is None:
            return
        emits = [e for e in effects if isinstance(e, Emit)]
        if not emits:
            # Every change the rules below look at (a vote, a new epoch, a config epoch,
            # an address switch, a restart) comes with an event; only the TILT rule
            # needs a look at plain sends.
            if tilt_before:
                self._check_tilt(sentinel, effects, emits)
            return
        myid = str(core.myid).lower()
        name = self.world.topology.master_name
        for e in emits:
            if e.type in COVERAGE_EVENTS:
                self.counters[e.type] += 1
        # 5. epochs never decrease (per sentinel id: a reinstalled sentinel is a new one).
        epoch = int(core.current_epoch)
        before = self._epoch.get(myid, 0)
        if epoch < before:
            self._fail(sentinel, "epoch-decreased", f"current_epoch {before} -> {epoch}")
        self._epoch[myid] = epoch
        master = core.masters.get(name)
        # 3. one vote per epoch (from the events, which see every vote of the step).
        for e in emits:
            if e.type == "+vote-for-leader":
                words = e.payload.split()
                if len(words) == 2 and words[1].isdigit():
                    self._vote(sentinel, name, int(words[1]), myid, words[0].lower())
        if master is None:
            return
        if master.leader is not None and master.leader_epoch:
            self._vote(sentinel, name, int(master.leader_epoch), myid, str(master.leader).lower())
        cepoch = int(master.config_epoch)
        cbefore = self._config_epoch.get((myid, name), 0)
        if cepoch < cbefore:
            self._fail(sentinel, "config-epoch-decreased", f"{cbefore} -> {cepoch}")
        self._config_epoch[(myid, name)] = cepoch
        # 4. each config epoch names one master.
        view = sentinel.master_view(name)
        if view is not None:
            known = self.config_addr.setdefault((name, cepoch), view)
            if known != view:
                self._fail(
                    sentinel,
                    "config-epoch-two-masters",
                    f"config epoch {cepoch} names {known[0]}:{known[1]} and {view[0]}:{view[1]}",
                )
        forced = bool(master.force_failover)
        fepoch = int(master.failover_epoch)
        for e in emits:
            if e.type == "+try-failover" and not forced and master.odown_since is None:
                self._fail(sentinel, "failover-without-odown", e.payload)
            elif e.type == "+elected-leader":
                self._elected(sentinel, name, fepoch, myid, forced)
            elif e.type == "+selected-slave":
                if not forced and self.leaders.get((name, fepoch)) != myid:
                    self._fail(
                        sentinel, "promotion-without-election", f"epoch {fepoch}: {e.payload}"
                    )
                replica = e.payload.split()[1] if len(e.payload.split()) > 1 else e.payload
                chosen = self.promoted.setdefault((name, fepoch), replica)
                if chosen != replica:
                    self._fail(
                        sentinel, "two-promotions", f"epoch {fepoch}: {chosen} and {replica}"
                    )
        # 7. nothing in TILT.
        if tilt_before:
            self._check_tilt(sentinel, effects, emits)

    def _check_tilt(self, sentinel: SimSentinel, effects: list[Effect], emits: list[Emit]) -> None:
        """A step that began in TILT and did not leave it took no decision."""
        if any(e.type == "-tilt" for e in emits):
            return
        for e in emits:
            if e.type in _ACTING_EVENTS:
                self._fail(sentinel, "acted-in-tilt", f"{e.type} {e.payload}")
        for effect in effects:
            if isinstance(effect, Send) and effect.argv:
                cmd = effect.argv[0].upper()
                sub = effect.argv[1].lower() if len(effect.argv) > 1 else b""
                if cmd in (b"SLAVEOF", b"REPLICAOF") or sub == b"is-master-down-by-addr":
                    self._fail(sentinel, "acted-in-tilt", repr(effect.argv))

    def _vote(
        self, sentinel: SimSentinel, master: str, epoch: int, voter: str, leader: str
    ) -> None:
        previous = self.votes.setdefault((master, epoch, voter), leader)
        if previous != leader:
            self._fail(sentinel, "voted-twice", f"epoch {epoch}: for {previous} and for {leader}")

    def _elected(
        self, sentinel: SimSentinel, master_name: str, epoch: int, myid: str, forced: bool
    ) -> None:
        other = self.leaders.setdefault((master_name, epoch), myid)
        if other != myid:
            self._fail(sentinel, "two-leaders", f"epoch {epoch}: {other} and {myid}")
        if forced or sentinel.core is None:
            return
        master = sentinel.core.masters[master_name]
        votes = sum(
            1
            for (m, e, _voter), leader in self.votes.items()
            if m == master_name and e == epoch and leader == myid
        )
        voters = len(master.sentinels) + 1
        need = max(master.quorum, voters // 2 + 1)
        if votes < need:
            self._fail(
                sentinel,
                "leader-without-majority",
                f"epoch {epoch}: {votes} votes, needs {need} ({voters} sentinels, quorum "
                f"{master.quorum})",
            )


def check_converged(world: World) -> list[str]:
    """What keeps the healed world from having converged (empty when it has)."""
    problems: list[str] = []
    name = world.topology.master_name
    views: dict[str, tuple[str, int] | None] = {}
    for s in world.sentinels.values():
        if not s.up or s.core is None:
            continue
        views[s.name] = s.master_view(name)
        master = s.core.masters.get(name)
        if master is not None and master.failover_state is not FailoverState.NONE:
            problems.append(f"{s.name}: failover still in state {master.failover_state.value}")
        if s.core.tilt:
            problems.append(f"{s.name}: in TILT")
    distinct = list(dict.fromkeys(views.values()))
    if len(distinct) > 1:
        problems.append("sentinels disagree: " + ", ".join(f"{k}={v}" for k, v in views.items()))
        return problems
    if not distinct or distinct[0] is None:
        return [*problems, "no sentinel names a master"]
    host, port = distinct[0]
    top = world.redis_by_addr(host, port)
    if top is None or not top.up:
        return [*problems, f"the master {host}:{port} is not a live redis"]
    if top.role != "master":
        problems.append(f"{top.name} ({host}:{port}) reports role {top.role}")
    for r in world.redis.values():
        if r is top or not r.up:
            continue
        # Follow the replication chain: it must reach the master, links up, no loop.
        # (A chained replica the sentinels never discovered is fine: data still flows.)
        seen = [r.name]
        node = r
        while node is not top:
            if node.master is None:
                problems.append(f"{r.name}: chain {' -> '.join(seen)} ends at another master")
                break
            if not node.link_up:
                problems.append(f"{r.name}: {node.name}'s link to {node.master} is down")
                break
            upstream = world.redis_by_addr(*node.master)
            if upstream is None or not upstream.up:
                problems.append(f"{r.name}: {node.name} replicates from a dead {node.master}")
                break
            if upstream.name in seen:
                problems.append(f"replication loop: {' -> '.join([*seen, upstream.name])}")
                break
            seen.append(upstream.name)
            node = upstream
    return problems


@attrs.frozen
class LostWrites:
    """Jepsen-style accounting of acknowledged writes."""

    acknowledged: int
    lost: int
    #: From the first lost write's acknowledgement to the last one's (ms), 0 if none.
    window_ms: int
    first_lost_at: int | None
    last_lost_at: int | None

    @property
    def fraction(self) -> float:
        """Lost / acknowledged."""
        return self.lost / self.acknowledged if self.acknowledged else 0.0

    def __str__(self) -> str:
        if not self.lost:
            return f"acknowledged writes: {self.acknowledged}, lost: 0"
        return (
            f"acknowledged writes: {self.acknowledged}, lost: {self.lost} "
            f"({100 * self.fraction:.1f}%), acknowledged between t={self.first_lost_at}ms "
            f"and t={self.last_lost_at}ms (window {self.window_ms} ms)"
        )


def lost_writes(world: World, final: tuple[str, int] | None = None) -> LostWrites:
    """Which acknowledged writes the final master does not have.

    ``final`` defaults to the address the live sentinels agree on (or the only live
    redis reporting role master).
    """
    if final is None:
        views = [
            s.master_view(world.topology.master_name)
            for s in world.sentinels.values()
            if s.up and s.core is not None
        ]
        candidates = [v for v in dict.fromkeys(views) if v is not None]
        if len(candidates) == 1:
            final = candidates[0]
        else:
            masters = [r for r in world.redis.values() if r.up and r.role == "master"]
            final = (masters[0].ip, masters[0].port) if len(masters) == 1 else None
    data = {}
    if final is not None:
        model = world.redis_by_addr(*final)
        data = model.data if model is not None else {}
    acked = [w for c in world.clients.values() for w in c.acknowledged()]
    lost = [w for w in acked if data.get(w.key) != w.value]
    times = sorted(w.acked_at for w in lost if w.acked_at is not None)
    return LostWrites(
        acknowledged=len(acked),
        lost=len(lost),
        window_ms=times[-1] - times[0] if times else 0,
        first_lost_at=times[0] if times else None,
        last_lost_at=times[-1] if times else None,
    )
