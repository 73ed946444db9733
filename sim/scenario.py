"""Scenarios and topologies as text.

A scenario file is a topology, a timeline, and optionally ``----`` followed by the
expected (golden) trace::

    # Example 2 of the sentinel docs: three boxes, quorum 2
    box A 10.0.0.1
    box B 10.0.0.2
    box C 10.0.0.3
    redis r1 A
    redis r2 B replicaof r1
    redis r3 C replicaof r1
    sentinel s1 A
    sentinel s2 B
    sentinel s3 C
    client c1 A
    monitor mymaster r1 2
    set down-after-milliseconds 5000
    set failover-timeout 30000
    at 20s partition A | B C
    at 80s heal
    run 150s
    ----
    <golden trace>

Directives (one per line, ``#`` starts a comment):

* ``box <name> <ip>`` — a machine.
* ``redis <name> <box> [port <p>] [replicaof <redis>] [priority <n>]`` — a server.
* ``sentinel <name> <box> [port <p>]``;
  ``client <name> <box> [interval <ms>] [master <master-name>]``.
* ``monitor <master-name> <redis> <quorum>`` — may be repeated: every sentinel
  monitors every master (peer links are then shared between masters).
* ``set <option> <value...>``: ``down-after-milliseconds``, ``failover-timeout``,
  ``parallel-syncs``, ``min-replicas-to-write``, ``min-replicas-max-lag``,
  ``latency <min> <max>``, ``loss <p>``, ``break-after <ms>``, ``client-timeout <ms>``,
  ``sentinel-debug <tunable> <ms>`` (``SENTINEL DEBUG`` at every sentinel start),
  ``requirepass <pw>`` (every redis; sentinels get ``auth-pass``, clients AUTH),
  ``rename-command <old> <new>`` (every redis and every monitored master).
* ``accept <availability|split-brain|lost-writes>`` — for ``analyze``: faults of that
  kind do not make the exit status non-zero.
* ``at <time> <fault...>`` — a fault at a virtual time (``500ms``, ``20s``, ``2m``);
  the fault vocabulary is in ``faults.py``.
* ``run <time>`` — how long the run lasts.
* ``seed <n>`` — the seed used when none is given (``run``, the golden test).
* ``expect <rule...>`` — safety rules this scenario breaks on purpose (a documented
  hazard of redis-sentinel itself, e.g. ``two-leaders``); ``run`` then succeeds only
  if exactly those rules break.
"""

from __future__ import annotations

import attrs

__all__ = [
    "BoxSpec",
    "ClientSpec",
    "RedisSpec",
    "Scenario",
    "ScenarioError",
    "SentinelSpec",
    "Topology",
    "parse_scenario",
    "parse_time",
]

SEPARATOR = "----"


class ScenarioError(ValueError):
    """A scenario or topology file is malformed (line number and reason)."""


@attrs.frozen
class BoxSpec:
    name: str
    ip: str


@attrs.frozen(kw_only=True)
class RedisSpec:
    name: str
    box: str
    port: int = 6379
    replicaof: str | None = None
    priority: int = 100


@attrs.frozen(kw_only=True)
class SentinelSpec:
    name: str
    box: str
    port: int = 26379


@attrs.frozen(kw_only=True)
class ClientSpec:
    name: str
    box: str
    interval_ms: int = 100
    #: The master name it asks the sentinels for ("" = the first monitored one).
    master: str = ""


@attrs.frozen(kw_only=True)
class Topology:
    """What runs where, and the settings that matter for failover."""

    boxes: tuple[BoxSpec, ...]
    redis: tuple[RedisSpec, ...]
    sentinels: tuple[SentinelSpec, ...]
    clients: tuple[ClientSpec, ...] = ()
    master_name: str = "mymaster"
    #: The redis the sentinels are told to monitor.
    monitor: str = ""
    quorum: int = 1
    #: Further monitored masters: (name, redis, quorum).
    more_monitors: tuple[tuple[str, str, int], ...] = ()
    down_after_ms: int = 5_000
    failover_timeout_ms: int = 30_000
    parallel_syncs: int = 1
    min_replicas_to_write: int = 0
    min_replicas_max_lag: int = 10
    latency_min_ms: int = 1
    latency_max_ms: int = 3
    loss: float = 0.0
    break_after_ms: int = 30_000
    client_timeout_ms: int = 1_000
    #: ``requirepass`` of every redis (sentinels get ``auth-pass``, clients AUTH).
    requirepass: str | None = None
    #: ``rename-command`` on every redis and for every monitored master: (old, new).
    renames: tuple[tuple[str, str], ...] = ()
    #: ``SENTINEL DEBUG <name> <ms>`` applied at every sentinel start (not persisted).
    sentinel_debug: tuple[tuple[str, int], ...] = ()
    accept: tuple[str, ...] = ()

    @property
    def monitors(self) -> list[tuple[str, str, int]]:
        """Every monitored master: (name, redis, quorum), the first one first."""
        return [(self.master_name, self.monitor, self.quorum), *self.more_monitors]

    def group_of(self, redis: str) -> str | None:
        """The master name whose replication tree ``redis`` starts in (by replicaof)."""
        seen: list[str] = []
        name = redis
        while name not in seen:
            seen.append(name)
            for master, root, _ in self.monitors:
                if root == name:
                    return master
            spec = self.redis_spec(name)
            if spec.replicaof is None:
                return None
            name = spec.replicaof
        return None

    def box(self, name: str) -> BoxSpec:
        """The box called ``name``."""
        for b in self.boxes:
            if b.name == name:
                return b
        raise KeyError(name)

    def redis_spec(self, name: str) -> RedisSpec:
        """The redis called ``name``."""
        for r in self.redis:
            if r.name == name:
                return r
        raise KeyError(name)

    def redis_addr(self, name: str) -> tuple[str, int]:
        """``(ip, port)`` of a redis."""
        spec = self.redis_spec(name)
        return self.box(spec.box).ip, spec.port


@attrs.frozen(kw_only=True)
class Scenario:
    """A topology, what happens to it and when, and the expected trace."""

    topology: Topology
    #: (virtual time ms, fault words), in file order.
    timeline: tuple[tuple[int, tuple[str, ...]], ...] = ()
    duration_ms: int = 120_000
    #: The golden trace after ``----``, or None.
    expected: str | None = None
    #: The text before ``----`` (written back when updating goldens).
    source: str = ""
    #: Safety rules this scenario is meant to break (a documented hazard).
    expect: tuple[str, ...] = ()
    #: The seed ``run`` and the golden test use unless told otherwise.
    seed: int = 1


def parse_time(text: str) -> int:
    """``500ms``, ``20s``, ``2m`` or a bare number of milliseconds -> milliseconds."""
    for suffix, factor in (("ms", 1), ("s", 1000), ("m", 60_000)):
        if text.endswith(suffix) and text[: -len(suffix)].replace(".", "", 1).isdigit():
            return int(float(text[: -len(suffix)]) * factor)
    if text.isdigit():
        return int(text)
    raise ValueError(f"bad time {text!r}")


def _options(words: list[str], allowed: dict[str, type]) -> dict[str, object]:
    out: dict[str, object] = {}
    if len(words) % 2:
        raise ValueError(f"option without a value: {words[-1]}")
    for key, value in zip(words[::2], words[1::2], strict=True):
        if key not in allowed:
            raise ValueError(f"unknown option {key}")
        out[key] = allowed[key](value)
    return out


def parse_scenario(text: str) -> Scenario:
    """Parse a scenario (or a bare topology) file.

    Raises:
        ScenarioError: with the line number and the reason.
    """
    head, sep, tail = text.partition("\n" + SEPARATOR + "\n")
    if not sep and text.startswith(SEPARATOR + "\n"):
        head, tail, sep = "", text[len(SEPARATOR) + 1 :], SEPARATOR
    boxes: list[BoxSpec] = []
    redis: list[RedisSpec] = []
    sentinels: list[SentinelSpec] = []
    clients: list[ClientSpec] = []
    settings: dict[str, object] = {}
    timeline: list[tuple[int, tuple[str, ...]]] = []
    expect: list[str] = []
    seed = 1
    duration = 120_000
    for number, raw in enumerate(head.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        try:
            kind = words[0]
            if kind == "box" and len(words) == 3:
                boxes.append(BoxSpec(words[1], words[2]))
            elif kind == "redis" and len(words) >= 3:
                opts = _options(words[3:], {"port": int, "replicaof": str, "priority": int})
                redis.append(RedisSpec(name=words[1], box=words[2], **opts))  # type: ignore[arg-type]
            elif kind == "sentinel" and len(words) >= 3:
                opts = _options(words[3:], {"port": int})
                sentinels.append(SentinelSpec(name=words[1], box=words[2], **opts))  # type: ignore[arg-type]
            elif kind == "client" and len(words) >= 3:
                opts = _options(words[3:], {"interval": int, "master": str})
                interval = opts.get("interval", 100)
                master = opts.get("master", "")
                assert isinstance(interval, int) and isinstance(master, str)
                clients.append(
                    ClientSpec(name=words[1], box=words[2], interval_ms=interval, master=master)
                )
            elif kind == "monitor" and len(words) == 4 and "monitor" in settings:
                more: list[tuple[str, str, int]] = list(settings.get("more_monitors", []))  # type: ignore[call-overload]
                settings["more_monitors"] = (*more, (words[1], words[2], int(words[3])))
            elif kind == "monitor" and len(words) == 4:
                settings["master_name"] = words[1]
                settings["monitor"] = words[2]
                settings["quorum"] = int(words[3])
            elif kind == "set" and len(words) >= 3:
                _setting(settings, words[1], words[2:])
            elif kind == "accept" and len(words) >= 2:
                accepted: list[str] = list(settings.get("accept", []))  # type: ignore[call-overload]
                settings["accept"] = tuple(accepted + words[1:])
            elif kind == "at" and len(words) >= 3:
                timeline.append((parse_time(words[1]), tuple(words[2:])))
            elif kind == "seed" and len(words) == 2:
                seed = int(words[1])
            elif kind == "expect" and len(words) >= 2:
                expect.extend(words[1:])
            elif kind == "run" and len(words) == 2:
                duration = parse_time(words[1])
            else:
                raise ValueError(f"bad directive {line!r}")
        except (ValueError, KeyError) as exc:
            raise ScenarioError(f"line {number}: {exc}") from None
    topology = Topology(
        boxes=tuple(boxes),
        redis=tuple(redis),
        sentinels=tuple(sentinels),
        clients=tuple(clients),
        **settings,  # type: ignore[arg-type]
    )
    _validate(topology)
    return Scenario(
        topology=topology,
        timeline=tuple(timeline),
        duration_ms=duration,
        expected=tail if sep else None,
        source=head,
        expect=tuple(expect),
        seed=seed,
    )


_SETTINGS = {
    "down-after-milliseconds": ("down_after_ms", int),
    "failover-timeout": ("failover_timeout_ms", int),
    "parallel-syncs": ("parallel_syncs", int),
    "min-replicas-to-write": ("min_replicas_to_write", int),
    "min-replicas-max-lag": ("min_replicas_max_lag", int),
    "loss": ("loss", float),
    "break-after": ("break_after_ms", int),
    "client-timeout": ("client_timeout_ms", int),
}


def _setting(settings: dict[str, object], key: str, values: list[str]) -> None:
    if key == "sentinel-debug" and len(values) == 2:
        debug: list[tuple[str, int]] = list(settings.get("sentinel_debug", []))  # type: ignore[call-overload]
        settings["sentinel_debug"] = (*debug, (values[0], int(values[1])))
        return
    if key == "requirepass" and len(values) == 1:
        settings["requirepass"] = values[0]
        return
    if key == "rename-command" and len(values) == 2:
        renames: list[tuple[str, str]] = list(settings.get("renames", []))  # type: ignore[call-overload]
        settings["renames"] = (*renames, (values[0], values[1]))
        return
    if key == "latency" and len(values) == 2:
        settings["latency_min_ms"] = int(values[0])
        settings["latency_max_ms"] = int(values[1])
        return
    if key not in _SETTINGS or len(values) != 1:
        raise ValueError(f"unknown setting {key}")
    field, conv = _SETTINGS[key]
    settings[field] = conv(values[0])


def _validate(t: Topology) -> None:
    names = [b.name for b in t.boxes]
    specs: list[RedisSpec | SentinelSpec | ClientSpec] = [*t.redis, *t.sentinels, *t.clients]
    for spec in specs:
        if spec.box not in names:
            raise ScenarioError(f"{spec.name}: unknown box {spec.box}")
    redis_names = [r.name for r in t.redis]
    for r in t.redis:
        if r.replicaof is not None and r.replicaof not in redis_names:
            raise ScenarioError(f"{r.name}: unknown redis {r.replicaof}")
    for _, root, quorum in t.monitors:
        if t.redis and root not in redis_names:
            raise ScenarioError(f"monitor: unknown redis {root!r}")
        if quorum < 1:
            raise ScenarioError("quorum must be 1 or greater")
    masters = [m for m, _, _ in t.monitors]
    for c in t.clients:
        if c.master and c.master not in masters:
            raise ScenarioError(f"{c.name}: unknown master {c.master}")
