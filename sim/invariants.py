"""Safety predicates checked after every sentinel step; liveness checked after a final heal.

Safety (``SafetyChecker``, called with every step's effects):

1. One leader per epoch and master: no two sentinels emit ``+elected-leader`` for
   the same master in the same failover epoch. When the second leader's current
   epoch had moved past the failover epoch (trap T7: it won with votes of the later
   epoch, as redis-sentinel 7.0.15 does) the rule is reported as ``two-leaders-t7``,
   a known hazard of the protocol rather than a bug of ours
   (``sim/scenarios/two_leaders_one_epoch.txt``).
2. A leader really won: unless the failover was forced (``SENTINEL FAILOVER``), the
   number of sentinels that voted for it in its current epoch (the epoch the vote
   count uses, trap T7; every vote of every sentinel is recorded) is at least
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
8. A sentinel never lists itself among its peers (``self-as-peer``; a known hazard,
   see ``sim/scenarios/sentinel_adds_itself.txt``).

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
    "KNOWN_HAZARDS",
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

#: Rules that redis-sentinel 7.0.15 itself breaks (reproduced on purpose): the random
#: schedules report them but do not fail, nor on what follows from them in that run.
KNOWN_HAZARDS = ("two-leaders-t7", "self-as-peer")
#: What a known hazard can lead to later in the same run (a sentinel that counts itself
#: as a peer counts its own vote twice).
HAZARD_CONSEQUENCES = ("two-promotions", "config-epoch-two-masters", "leader-without-majority")

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
        for e in emits:
            if e.type in COVERAGE_EVENTS:
                self.counters[e.type] += 1
        # 5. epochs never decrease (per sentinel id: a reinstalled sentinel is a new one).
        epoch = int(core.current_epoch)
        before = self._epoch.get(myid, 0)
        if epoch < before:
            self._fail(sentinel, "epoch-decreased", f"current_epoch {before} -> {epoch}")
        self._epoch[myid] = epoch
        # 8. a sentinel never counts itself among its peers.
        for e in emits:
            if e.type == "+sentinel" and e.payload.split()[1:2] == [str(core.myid)]:
                self._fail(sentinel, "self-as-peer", e.payload)
        names = [m for m, _, _ in self.world.topology.monitors]
        if len(names) == 1:
            # 3. one vote per epoch, from the events (they see every vote of the step).
            # ``+vote-for-leader`` does not name the master, so only with one master.
            for e in emits:
                if e.type == "+vote-for-leader":
                    words = e.payload.split()
                    if len(words) == 2 and words[1].isdigit():
                        self._vote(sentinel, names[0], int(words[1]), myid, words[0].lower())
        for name in names:
            mine = [e for e in emits if _master_of(e.payload) == name]
            self._check_master(sentinel, name, myid, mine)
        # 7. nothing in TILT.
        if tilt_before:
            self._check_tilt(sentinel, effects, emits)

    def _check_master(self, sentinel: SimSentinel, name: str, myid: str, emits: list[Emit]) -> None:
        """Rules 1-4 and 6 for one master; ``emits`` are the events about it."""
        core = sentinel.core
        assert core is not None
        master = core.masters.get(name)
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
                    f"{name}: config epoch {cepoch} names {known[0]}:{known[1]} and "
                    f"{view[0]}:{view[1]}",
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
            assert sentinel.core is not None
            current = int(sentinel.core.current_epoch)
            # Trap T7: a leader whose current epoch moved past its failover epoch wins
            # with votes cast in the later epoch; redis-sentinel 7.0.15 does the same.
            rule = "two-leaders-t7" if current != epoch and not forced else "two-leaders"
            self._fail(
                sentinel, rule, f"epoch {epoch}: {other} and {myid} (current epoch {current})"
            )
        if forced or sentinel.core is None:
            return
        master = sentinel.core.masters[master_name]
        # What spec §7.3 counts: the peers' votes cast in our current epoch at the
        # moment of the count (which may have moved past the failover epoch, trap T7)
        # plus our own vote if it is for the failover epoch. We look after the whole
        # step, when the current epoch may have moved on again (another master's
        # failover started in the same tick), so take the best epoch in between.
        # Recorded truth, not what the leader believes.
        current = int(sentinel.core.current_epoch)
        counted = epoch
        votes = 0
        for e in range(epoch, current + 1):
            peers = sum(
                1
                for (m, ep, voter), leader in self.votes.items()
                if m == master_name and ep == e and leader == myid and voter != myid
            )
            if peers > votes:
                votes, counted = peers, e
        if self.votes.get((master_name, epoch, myid)) == myid:
            votes += 1
        voters = len(master.sentinels) + 1
        need = max(master.quorum, voters // 2 + 1)
        if votes < need:
            self._fail(
                sentinel,
                "leader-without-majority",
                f"{master_name} failover epoch {epoch}: {votes} votes in epoch {counted}, "
                f"needs {need} ({voters} sentinels, quorum {master.quorum})",
            )


def _master_of(payload: str) -> str | None:
    """The master an event's ``<inst>`` payload is about (spec §4.1), if any."""
    words = payload.split()
    if len(words) >= 2 and words[0] == "master":
        return words[1]
    if "@" in words:
        at = words.index("@")
        return words[at + 1] if at + 1 < len(words) else None
    return None


def check_converged(world: World) -> list[str]:
    """What keeps the healed world from having converged (empty when it has)."""
    problems: list[str] = []
    for s in world.sentinels.values():
        if s.up and s.core is not None and s.core.tilt:
            problems.append(f"{s.name}: in TILT")
    for name, _, _ in world.topology.monitors:
        problems += _converged_group(world, name)
    return problems


def _converged_group(world: World, name: str) -> list[str]:
    problems: list[str] = []
    views: dict[str, tuple[str, int] | None] = {}
    for s in world.sentinels.values():
        if not s.up or s.core is None:
            continue
        views[s.name] = s.master_view(name)
        master = s.core.masters.get(name)
        if master is not None and master.failover_state is not FailoverState.NONE:
            problems.append(f"{s.name}: {name} failover in state {master.failover_state.value}")
    distinct = list(dict.fromkeys(views.values()))
    if len(distinct) > 1:
        says = ", ".join(f"{k}={v}" for k, v in views.items())
        return [*problems, f"sentinels disagree on {name}: {says}"]
    if not distinct or distinct[0] is None:
        return [*problems, f"no sentinel names a master for {name}"]
    host, port = distinct[0]
    top = world.redis_by_addr(host, port)
    if top is None or not top.up:
        return [*problems, f"the master {host}:{port} is not a live redis"]
    if top.role != "master":
        problems.append(f"{top.name} ({host}:{port}) reports role {top.role}")
    for r in world.redis.values():
        if r is top or not r.up or world.topology.group_of(r.name) != name:
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


#: In lost-write accounting, a client silent this long starts a new run of losses.
RUN_GAP_MS = 5_000


@attrs.frozen
class LostWrites:
    """Jepsen-style accounting of acknowledged writes."""

    acknowledged: int
    lost: int
    #: The longest run of one client's consecutive lost writes, first to last ack (ms).
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
            f"and t={self.last_lost_at}ms (longest run {self.window_ms} ms)"
        )


def lost_writes(world: World) -> LostWrites:
    """Which acknowledged writes the final master of each client's group does not have.

    The final master is the address the live sentinels agree on, else the only live
    redis of the group reporting role master.
    """
    finals: dict[str, dict[str, str]] = {}
    for name, _, _ in world.topology.monitors:
        views = [s.master_view(name) for s in world.sentinels.values() if s.up and s.core]
        candidates = [v for v in dict.fromkeys(views) if v is not None]
        final = None
        if len(candidates) == 1:
            final = world.redis_by_addr(*candidates[0])
        else:
            masters = [
                r
                for r in world.redis.values()
                if r.up and r.role == "master" and world.topology.group_of(r.name) == name
            ]
            final = masters[0] if len(masters) == 1 else None
        finals[name] = final.data if final is not None else {}
    acked = [w for c in world.clients.values() for w in c.acknowledged()]
    lost = [
        w
        for c in world.clients.values()
        for w in c.acknowledged()
        if finals.get(c.master_name, {}).get(w.key) != w.value
    ]
    times = sorted(w.acked_at for w in lost if w.acked_at is not None)
    # The loss window: the longest run of consecutive lost acknowledged writes of one
    # client. Separate episodes (a crash, later a stale master) don't add up: a good
    # write or a silence of more than RUN_GAP_MS ends a run.
    window = 0
    for c in world.clients.values():
        data = finals.get(c.master_name, {})
        start: int | None = None
        previous = 0
        for w in c.acknowledged():
            assert w.acked_at is not None
            if data.get(w.key) != w.value:
                if start is None or w.acked_at - previous > RUN_GAP_MS:
                    start = w.acked_at
                window = max(window, w.acked_at - start)
            else:
                start = None
            previous = w.acked_at
    return LostWrites(
        acknowledged=len(acked),
        lost=len(lost),
        window_ms=window,
        first_lost_at=times[0] if times else None,
        last_lost_at=times[-1] if times else None,
    )
