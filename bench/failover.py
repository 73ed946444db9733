"""Failover benchmark: pysentinel and redis-sentinel on the tutorial topology, alternating.

Topology of every trial (fresh processes each time, ports picked at random): one
master, one replica, three sentinels of one kind, ``quorum 2``,
``down-after-milliseconds`` 1000 or 5000, ``failover-timeout`` 10000. A redis-py
``Sentinel`` client writes a key every 50 ms for the whole trial. The master then
fails, either by SIGKILL or by ``DEBUG SLEEP`` (long enough for the failover to end
while it sleeps). We listen on every sentinel's pub/sub (``PSUBSCRIBE *``) and stamp
each event on arrival with this process's monotonic clock, then report, in seconds:

* ``sdown``, ``odown``, ``elected_leader``, ``promoted_slave``: from the failure to
  the first ``+sdown``/``+odown``/``+elected-leader`` of the master and the first
  ``+promoted-slave``, on any sentinel;
* ``switch_all``: from the failure until every sentinel has sent ``+switch-master``;
* ``write_gap``: the longest time between two successful writes of the client
  around the failure;
* ``convert``: from the old master's return (restarted after SIGKILL, or waking
  from DEBUG SLEEP) to the first ``+convert-to-slave`` of it.

Usage: ``python3 bench/failover.py [--reps N] [--down-after 1000,5000]
[--failures kill,sleep] [--out DIR]``. The default (2 repetitions of the 8
combinations) takes about five minutes; the published tables use ``--reps 3``.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis
from redis.sentinel import Sentinel

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

from _common import (
    HOST,
    KINDS,
    RESULTS,
    BenchError,
    Procs,
    bench_env,
    emit,
    free_port,
    machine,
    resp_command,
    start_redis,
    start_sentinel,
    summarize,
    table,
    wait_redis,
    wait_until,
    write_results,
)

MASTER = "mymaster"
WRITE_INTERVAL_S = 0.05
FAILOVER_TIMEOUT_MS = 10_000
#: How long after the switch we wait for +convert-to-slave before giving up.
CONVERT_TIMEOUT_S = 30.0
METRICS = (
    "sdown",
    "odown",
    "elected_leader",
    "promoted_slave",
    "switch_all",
    "write_gap",
    "convert",
)


class EventLog:
    """Every pub/sub message of every sentinel, stamped on arrival."""

    def __init__(self, ports: list[int]) -> None:
        self.events: list[tuple[float, int, str, str]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.ready = [threading.Event() for _ in ports]
        self.threads = [
            threading.Thread(target=self._listen, args=(i, p), daemon=True)
            for i, p in enumerate(ports)
        ]
        for t in self.threads:
            t.start()
        for ev in self.ready:
            if not ev.wait(10):
                raise BenchError("could not subscribe to a sentinel")

    def _listen(self, index: int, port: int) -> None:
        conn = redis.Redis(host=HOST, port=port, decode_responses=True)
        pubsub = conn.pubsub()  # type: ignore[no-untyped-call]
        pubsub.psubscribe("*")
        try:
            while not self.stopping.is_set():
                msg = pubsub.get_message(timeout=0.05)
                now = time.monotonic()
                if msg is None:
                    continue
                if msg["type"] == "psubscribe":
                    self.ready[index].set()
                    continue
                with self.lock:
                    self.events.append((now, index, str(msg["channel"]), str(msg["data"])))
        except redis.RedisError:
            pass
        finally:
            pubsub.close()
            conn.close()

    def first(self, channel: str, prefix: str = "", after: float = 0.0) -> float | None:
        """Monotonic time of the first ``channel`` message starting with ``prefix``."""
        with self.lock:
            for t, _, ch, data in self.events:
                if ch == channel and data.startswith(prefix) and t >= after:
                    return t
        return None

    def all_sentinels(self, channel: str, prefix: str, n: int, after: float) -> float | None:
        """When the last of the ``n`` sentinels sent its first matching message."""
        firsts: dict[int, float] = {}
        with self.lock:
            for t, i, ch, data in self.events:
                if ch == channel and data.startswith(prefix) and t >= after and i not in firsts:
                    firsts[i] = t
        return max(firsts.values()) if len(firsts) == n else None

    def stop(self) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(5)


class Writer:
    """A redis-py Sentinel client writing every 50 ms; keeps the times of its successes."""

    def __init__(self, sentinel_ports: list[int]) -> None:
        self.successes: list[float] = []
        self.stopping = threading.Event()
        self.sentinel = Sentinel(  # type: ignore[no-untyped-call]
            [(HOST, p) for p in sentinel_ports],
            socket_timeout=0.2,
            sentinel_kwargs={"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
        )
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        master = self.sentinel.master_for(  # type: ignore[no-untyped-call]
            MASTER, socket_timeout=0.2, socket_connect_timeout=0.2
        )
        i = 0
        next_at = time.monotonic()
        while not self.stopping.is_set():
            try:
                master.set("bench:key", i)
                self.successes.append(time.monotonic())
            except (redis.RedisError, OSError):
                pass
            i += 1
            next_at += WRITE_INTERVAL_S
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()
        master.close()

    def longest_gap(self, start: float) -> float | None:
        """The longest gap between consecutive successes from the last one before ``start``."""
        times = list(self.successes)
        before = [t for t in times if t < start]
        after = [t for t in times if t >= start]
        if not before or not after:
            return None
        seq = [before[-1], *after]
        return max(b - a for a, b in itertools.pairwise(seq))

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(5)


def _pairs(reply: object) -> dict[str, str]:
    """A flat [key, value, ...] reply, or redis-py's parsed dict, as str -> str."""
    if isinstance(reply, dict):
        return {str(k): str(v) for k, v in reply.items()}
    assert isinstance(reply, list)
    return {str(reply[i]): str(reply[i + 1]) for i in range(0, len(reply) - 1, 2)}


def _sentinel_ready(port: int) -> bool:
    """The sentinel knows the replica (link up) and both other sentinels."""
    try:
        with redis.Redis(host=HOST, port=port, decode_responses=True, socket_timeout=1) as c:
            master = _pairs(c.execute_command("SENTINEL", "MASTER", MASTER))
            if master.get("num-slaves") != "1" or master.get("num-other-sentinels") != "2":
                return False
            replicas = c.execute_command("SENTINEL", "REPLICAS", MASTER)
            assert isinstance(replicas, list)
            return all(_pairs(r).get("master-link-status") == "ok" for r in replicas)
    except redis.RedisError:
        return False


def run_trial(kind: str, down_after: int, failure: str, keep: bool) -> dict[str, object]:
    """One failover of a fresh tutorial topology; returns the record."""
    record: dict[str, object] = {"kind": kind, "down_after_ms": down_after, "failure": failure}
    with bench_env("failover", keep=keep) as procs:
        mport, rport = free_port(), free_port()
        master = start_redis(procs, mport, name="master")
        replica = start_redis(procs, rport, replicaof=mport, name="replica")
        wait_redis(master, mport)
        wait_redis(replica, rport)
        rconn = redis.Redis(host=HOST, port=rport, decode_responses=True)
        wait_until(
            "replica in sync",
            lambda: rconn.info("replication").get("master_link_status") == "up",
            20,
            0.1,
        )
        rconn.close()
        sports = [free_port() for _ in range(3)]
        monitors = [
            f"sentinel monitor {MASTER} {HOST} {mport} 2",
            f"sentinel down-after-milliseconds {MASTER} {down_after}",
            f"sentinel failover-timeout {MASTER} {FAILOVER_TIMEOUT_MS}",
        ]
        sentinels = [
            start_sentinel(procs, kind, p, monitors, f"sentinel-{i}") for i, p in enumerate(sports)
        ]
        for s, p in zip(sentinels, sports, strict=True):
            wait_redis(s, p)
        events = EventLog(sports)
        writer: Writer | None = None
        try:
            wait_until(
                "sentinels see the replica and each other",
                lambda: all(_sentinel_ready(p) for p in sports),
                60,
                0.2,
            )
            writer = Writer(sports)
            wait_until("the client writing", lambda: len(writer.successes) >= 20, 20, 0.05)
            record.update(
                _fail_and_measure(
                    procs,
                    events,
                    master=master,
                    mport=mport,
                    down_after=down_after,
                    failure=failure,
                )
            )
        except BenchError as exc:
            record["error"] = str(exc)
        finally:
            if writer is not None:
                writer.stop()
                t0 = record.get("_t0")
                if isinstance(t0, float):
                    record["write_gap"] = writer.longest_gap(t0)
            events.stop()
    record.pop("_t0", None)
    return record


def _fail_and_measure(
    procs: Procs,
    events: EventLog,
    *,
    master: subprocess.Popen[bytes],
    mport: int,
    down_after: int,
    failure: str,
) -> dict[str, object]:
    out: dict[str, object] = {}
    sleeper: socket.socket | None = None
    woke: list[float] = []
    sleep_s = down_after // 1000 + 8
    if failure == "kill":
        assert master in procs.procs
        t0 = time.monotonic()
        procs.stop(master, sig=signal.SIGKILL)
    else:
        sleeper = socket.create_connection((HOST, mport))
        t0 = time.monotonic()
        sleeper.sendall(resp_command("DEBUG", "SLEEP", sleep_s))

        def wait_wake() -> None:
            assert sleeper is not None
            sleeper.settimeout(sleep_s + 30)
            try:
                if sleeper.recv(16).startswith(b"+OK"):
                    woke.append(time.monotonic())
            except OSError:
                pass

        threading.Thread(target=wait_wake, daemon=True).start()
    out["_t0"] = t0
    prefix = f"master {MASTER} "
    deadline_s = down_after / 1000 + 40
    try:
        wait_until(
            "+switch-master on all sentinels",
            lambda: events.all_sentinels("+switch-master", MASTER + " ", 3, t0) is not None,
            deadline_s,
            0.05,
        )
    except BenchError as exc:
        out["error"] = str(exc)
    for name, channel, pfx in (
        ("sdown", "+sdown", prefix),
        ("odown", "+odown", prefix),
        ("elected_leader", "+elected-leader", prefix),
        ("promoted_slave", "+promoted-slave", ""),
    ):
        t = events.first(channel, pfx, t0)
        out[name] = None if t is None else t - t0
    t_switch = events.all_sentinels("+switch-master", MASTER + " ", 3, t0)
    out["switch_all"] = None if t_switch is None else t_switch - t0
    # The old master comes back.
    if failure == "kill":
        time.sleep(0.5)
        proc = start_redis(procs, mport, name="master")
        wait_redis(proc, mport)
        t_back = time.monotonic()
    else:
        wait_until("the old master waking up", lambda: bool(woke), sleep_s + 30, 0.02)
        t_back = woke[0]
        assert sleeper is not None
        sleeper.close()
    old = f"slave {HOST}:{mport} "
    try:
        t_conv = wait_until(
            "+convert-to-slave",
            lambda: events.first("+convert-to-slave", old, t_back) is not None,
            CONVERT_TIMEOUT_S,
            0.05,
        )
        conv = events.first("+convert-to-slave", old, t_back)
        out["convert"] = (conv if conv is not None else t_conv) - t_back
    except BenchError:
        out["convert"] = None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--down-after", default="1000,5000")
    parser.add_argument("--failures", default="kill,sleep")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the work directories")
    args = parser.parse_args(argv)
    info = machine()
    kinds = args.kinds.split(",")
    combos = [(int(da), f) for da in args.down_after.split(",") for f in args.failures.split(",")]
    records: list[dict[str, object]] = []
    for rep in range(args.reps):
        for da, failure in combos:
            order = kinds if rep % 2 == 0 else kinds[::-1]
            for kind in order:
                rec = run_trial(kind, da, failure, args.keep)
                rec["rep"] = rep
                emit(rec)
                records.append(rec)
    keys = ("down_after_ms", "failure")
    rows = summarize(records, keys, METRICS)
    text = table(rows, keys, dict.fromkeys(METRICS, "s"))
    print(text)
    params = {
        "reps": args.reps,
        "combos": combos,
        "kinds": kinds,
        "write_interval_s": WRITE_INTERVAL_S,
        "failover_timeout_ms": FAILOVER_TIMEOUT_MS,
    }
    path = write_results(
        "failover", args.out, info=info, params=params, records=records, rows=rows, text_table=text
    )
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
