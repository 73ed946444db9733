"""Scale: one sentinel, and three, monitoring N = 10, 100 and 500 masters.

We use real redis-server processes, not many monitor names over a few servers
(several names on one server would multiply the hello traffic on it, since every
subscriber of every name receives every hello, and nothing like that happens in a
real deployment): for each N, N masters and N replicas (one per master), all with
``hz 1`` to keep their own CPU down, 2N processes in all. The servers are started
once per N and reused by every sentinel run of that N. Each run starts the
sentinels (of one kind; the kinds alternate) with ``sentinel monitor m<i> ...`` for
every master (quorum 1 with one sentinel, 2 with three; default timeouts) and
reports:

* ``discovery_s``: from starting the sentinels until the last of them has logged
  ``+slave`` for every replica and ``+sentinel`` for every peer of every master
  (read from the sentinels' own log lines, which carry millisecond stamps);
* ``cpu_pct``: CPU time (user + system, /proc/<pid>/stat) of one sentinel over a
  steady-state window after discovery (default 20 s after 5 s of settling), as
  a percentage of one core; the mean over the sentinels of the run;
* ``rss_mib``: VmRSS at the end of the window, the mean over the sentinels.

Usage: ``python3 bench/scale.py [--n 10,100,500] [--sentinels 1,3] [--reps 1]
[--window 20] [--out DIR]``; the default takes about ten minutes.
"""

from __future__ import annotations

import argparse
import datetime
import re
import statistics
import sys
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    HOST,
    KINDS,
    RESULTS,
    BenchError,
    Procs,
    bench_env,
    cpu_seconds,
    emit,
    free_port,
    machine,
    memory_kib,
    start_redis,
    start_sentinel,
    summarize,
    table,
    wait_redis,
    wait_until,
    write_results,
)

METRICS = ("discovery_s", "cpu_pct", "rss_mib")
SETTLE_S = 5.0
#: A redis log line: ``pid:role dd Mon yyyy hh:mm:ss.mmm <level> message``.
LOG_LINE = re.compile(r"^\d+:\w (\d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3}) . (.*)$")


def start_servers(procs: Procs, n: int) -> list[int]:
    """N masters with one replica each (``hz 1``); returns the master ports."""
    masters = _start_many(procs, [None] * n)
    replicas = _start_many(procs, list(masters))
    _PAIRS[tuple(masters)] = replicas
    for r in replicas:
        wait_until(f"replica {r} in sync", lambda p=r: _synced(p), 120, 0.1)  # type: ignore[misc]
    return masters


#: master ports -> replica ports, for ``restore_roles``.
_PAIRS: dict[tuple[int, ...], list[int]] = {}


def _synced(port: int) -> bool:
    with redis.Redis(host=HOST, port=port, decode_responses=True) as c:
        status: object = c.info("replication").get("master_link_status")
        return status == "up"


def restore_roles(masters: list[int]) -> int:
    """Undo any failover a previous run made (a sentinel that fell behind may declare
    healthy masters down and fail them over): every master a master again, every
    replica replicating its own master. Returns how many servers had to be fixed.
    """
    fixed = 0
    for m, r in zip(masters, _PAIRS[tuple(masters)], strict=True):
        with redis.Redis(host=HOST, port=m, decode_responses=True) as c:
            if c.info("replication").get("role") != "master":
                c.execute_command("REPLICAOF", "NO", "ONE")
                fixed += 1
        with redis.Redis(host=HOST, port=r, decode_responses=True) as c:
            info = c.info("replication")
            if info.get("role") != "slave" or int(info.get("master_port", 0)) != m:
                c.execute_command("REPLICAOF", HOST, str(m))
                fixed += 1
    if fixed:
        for r in _PAIRS[tuple(masters)]:
            wait_until(f"replica {r} in sync", lambda p=r: _synced(p), 120, 0.1)  # type: ignore[misc]
    return fixed


def _start_many(procs: Procs, replicaof: list[int | None]) -> list[int]:
    """Start one server per entry (all at once), then wait for each; a server that
    could not bind its port (someone took it meanwhile) is started again on another.
    """
    started = []
    for master in replicaof:
        port = free_port()
        started.append((start_redis(procs, port, replicaof=master, extra=["hz 1"]), port))
    ports = []
    for (first_proc, first_port), master in zip(started, replicaof, strict=True):
        proc, port = first_proc, first_port
        for _attempt in range(5):
            try:
                wait_redis(proc, port, timeout_s=60)
                break
            except BenchError:
                procs.stop(proc)
                port = free_port()
                proc = start_redis(procs, port, replicaof=master, extra=["hz 1"])
        else:
            raise BenchError(f"could not start a redis-server (last port {port})")
        ports.append(port)
    return ports


def log_times(path: Path) -> tuple[list[float], list[float]]:
    """Wall-clock times of the ``+slave`` and ``+sentinel`` lines of a sentinel log."""
    slaves: list[float] = []
    peers: list[float] = []
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return slaves, peers
    for line in text.splitlines():
        m = LOG_LINE.match(line)
        if not m:
            continue
        msg = m.group(2)
        if msg.startswith("+slave slave "):
            slaves.append(_stamp(m.group(1)))
        elif msg.startswith("+sentinel sentinel "):
            peers.append(_stamp(m.group(1)))
    return slaves, peers


def _stamp(text: str) -> float:
    """A log stamp (local time) as seconds since the epoch."""
    dt = datetime.datetime.strptime(text, "%d %b %Y %H:%M:%S.%f")
    return dt.timestamp()


def run(
    procs: Procs,
    kind: str,
    n_sent: int,
    masters: list[int],
    *,
    window_s: float,
    discovery_timeout_s: float,
) -> dict[str, object]:
    """Start ``n_sent`` sentinels of ``kind`` over ``masters``, measure, stop them."""
    n = len(masters)
    quorum = 1 if n_sent == 1 else 2
    monitors = [f"sentinel monitor m{i} {HOST} {p} {quorum}" for i, p in enumerate(masters)]
    ports = [free_port() for _ in range(n_sent)]
    tag = f"{kind}-{n}-{n_sent}-{time.monotonic_ns()}"
    started_wall = time.time()
    sentinels = [
        start_sentinel(procs, kind, p, monitors, f"sentinel-{tag}-{i}") for i, p in enumerate(ports)
    ]
    logs = [procs.workdir / f"sentinel-{tag}-{i}.log" for i in range(n_sent)]
    record: dict[str, object] = {"kind": kind, "n_masters": n, "n_sentinels": n_sent}
    try:

        def discovered() -> bool:
            for s in sentinels:
                if s.poll() is not None:
                    raise BenchError(f"{kind} exited with {s.returncode}")
            for log in logs:
                slaves, peers = log_times(log)
                if len(slaves) < n or len(peers) < n * (n_sent - 1):
                    return False
            return True

        try:
            wait_until("discovery of every replica and peer", discovered, discovery_timeout_s, 0.5)
            last = 0.0
            for log in logs:
                slaves, peers = log_times(log)
                last = max(last, *slaves, *peers)
            record["discovery_s"] = last - started_wall
        except BenchError as exc:
            # Not discovered in time: say so, and still measure CPU and memory.
            record["discovery_s"] = None
            record["error"] = str(exc)
            counts = [log_times(log) for log in logs]
            record["discovered_each"] = [[len(a), len(b)] for a, b in counts]
        time.sleep(SETTLE_S)
        cpu0 = [cpu_seconds(s.pid) for s in sentinels]
        t0 = time.monotonic()
        time.sleep(window_s)
        cpu1 = [cpu_seconds(s.pid) for s in sentinels]
        elapsed = time.monotonic() - t0
        pcts = [(b - a) / elapsed * 100 for a, b in zip(cpu0, cpu1, strict=True)]
        rss = [memory_kib(s.pid)["VmRSS"] / 1024 for s in sentinels]
        record["cpu_pct"] = statistics.mean(pcts)
        record["cpu_pct_each"] = pcts
        record["rss_mib"] = statistics.mean(rss)
        record["rss_mib_each"] = rss
        texts = [log.read_text(errors="replace") for log in logs]
        record["sdown_events"] = sum(t.count(" +sdown ") for t in texts)
        record["try_failover_events"] = sum(t.count(" +try-failover ") for t in texts)
        record["switch_master_events"] = sum(t.count(" +switch-master ") for t in texts)
    except BenchError as exc:
        record["error"] = str(exc)
    finally:
        for s in sentinels:
            procs.stop(s)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", default="10,100,500", help="numbers of masters")
    parser.add_argument("--sentinels", default="1,3", help="numbers of sentinels")
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--window", type=float, default=20.0, help="steady-state window, s")
    parser.add_argument(
        "--discovery-timeout", type=float, default=90.0, help="give up discovery after, s"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the work directories")
    args = parser.parse_args(argv)
    info = machine()
    records: list[dict[str, object]] = []
    for n in (int(x) for x in args.n.split(",")):
        with bench_env(f"scale{n}", keep=args.keep) as procs:
            t = time.monotonic()
            masters = start_servers(procs, n)
            print(f"# {2 * n} redis-servers up in {time.monotonic() - t:.1f} s", flush=True)
            i = 0
            for rep in range(args.reps):
                for n_sent in (int(x) for x in args.sentinels.split(",")):
                    order = KINDS if i % 2 == 0 else KINDS[::-1]
                    i += 1
                    for kind in order:
                        fixed = restore_roles(masters)
                        rec = run(
                            procs,
                            kind,
                            n_sent,
                            masters,
                            window_s=args.window,
                            discovery_timeout_s=args.discovery_timeout,
                        )
                        rec["rep"] = rep
                        rec["roles_restored_before"] = fixed
                        emit(rec)
                        records.append(rec)
    keys = ("n_masters", "n_sentinels")
    rows = summarize(records, keys, METRICS)
    text = table(rows, keys, {"discovery_s": "s", "cpu_pct": "% of a core", "rss_mib": "MiB"})
    print(text)
    params = {
        "n": args.n,
        "sentinels": args.sentinels,
        "reps": args.reps,
        "window_s": args.window,
        "settle_s": SETTLE_S,
        "discovery_timeout_s": args.discovery_timeout,
        "servers": "real redis-server processes, hz 1, one replica per master",
    }
    path = write_results(
        "scale", args.out, info=info, params=params, records=records, rows=rows, text_table=text
    )
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
