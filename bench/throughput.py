"""Request throughput on the sentinel port: redis-benchmark against each kind of sentinel.

Setup: two redis-servers (one per sentinel, so the two sentinels never meet through
hello messages) and one pysentinel and one redis-sentinel, each monitoring its own
server as ``mymaster`` with quorum 1. Both sentinels run for the whole benchmark;
the runs alternate between them. For each command (``PING`` and
``SENTINEL get-master-addr-by-name mymaster``), each client count (``-c 50``,
``-c 1``) and each pipeline depth (``-P 1``, ``-P 16``) we run ``redis-benchmark
--csv`` and report:

* ``rps``: requests per second, as redis-benchmark prints it;
* ``cpu_us_per_req``: the sentinel's user+system CPU time during the run (from
  ``/proc/<pid>/stat``, 10 ms ticks) divided by the number of requests;
* ``rss_after_mib``: the sentinel's resident set right after the run.

Per sentinel, once: ``rss_idle_mib`` (VmRSS after start-up and 2 s of idling) and
``rss_peak_mib`` (VmHWM at the end: the largest RSS the process ever had).

The number of requests of each run is sized from a short warm-up run so that a run
takes about ``--seconds`` (default 2) seconds. Usage: ``python3 bench/throughput.py
[--reps 3] [--seconds 2] [--out DIR]``; the default takes about two minutes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    HOST,
    KINDS,
    RESULTS,
    BenchError,
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

COMMANDS = {
    "PING": ["PING"],
    "get-master-addr-by-name": ["SENTINEL", "get-master-addr-by-name", "mymaster"],
}
CLIENTS = (50, 1)
PIPELINES = (1, 16)
METRICS = ("rps", "cpu_us_per_req", "rss_after_mib")
ONCE_METRICS = ("rss_idle_mib", "rss_peak_mib")


def redis_benchmark(port: int, command: list[str], clients: int, pipeline: int, n: int) -> float:
    """Run redis-benchmark once; return its requests per second."""
    argv = ["redis-benchmark", "-h", HOST, "-p", str(port), "-c", str(clients)]
    argv += ["-P", str(pipeline), "-n", str(n), "--csv", *command]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    if "Error" in out.stdout or "Error" in out.stderr or out.returncode != 0:
        raise BenchError(f"redis-benchmark failed: {out.stdout} {out.stderr}")
    lines = [line for line in out.stdout.splitlines() if line.startswith('"') and "rps" not in line]
    if not lines:
        raise BenchError(f"no CSV line in redis-benchmark's output: {out.stdout!r}")
    return float(lines[-1].split(",")[1].strip('"'))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=2.0, help="target length of one run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    info = machine()
    records: list[dict[str, object]] = []
    with bench_env("throughput", keep=args.keep) as procs:
        sentinel: dict[str, tuple[int, int]] = {}  # kind -> (pid, port)
        for kind in KINDS:
            rport, sport = free_port(), free_port()
            wait_redis(start_redis(procs, rport, name=f"redis-{kind}"), rport)
            monitors = [f"sentinel monitor mymaster {HOST} {rport} 1"]
            proc = start_sentinel(procs, kind, sport, monitors, f"sentinel-{kind}")
            wait_redis(proc, sport)
            sentinel[kind] = (proc.pid, sport)
        for kind, (_pid, sport) in sentinel.items():
            wait_until(
                f"{kind} answering get-master-addr-by-name",
                lambda p=sport: _answers(p),  # type: ignore[misc]
                20,
                0.1,
            )
        time.sleep(2)
        idle = {kind: memory_kib(pid)["VmRSS"] / 1024 for kind, (pid, _) in sentinel.items()}
        estimate: dict[tuple[str, str, int, int], float] = {}
        for rep in range(args.reps):
            for cmd_name, command in COMMANDS.items():
                for clients in CLIENTS:
                    for pipeline in PIPELINES:
                        order = KINDS if rep % 2 == 0 else KINDS[::-1]
                        for kind in order:
                            pid, sport = sentinel[kind]
                            key = (kind, cmd_name, clients, pipeline)
                            if key not in estimate:
                                warm = max(2000, 200 * clients * pipeline // 10)
                                estimate[key] = redis_benchmark(
                                    sport, command, clients, pipeline, warm
                                )
                            n = max(2000, int(estimate[key] * args.seconds))
                            cpu0 = cpu_seconds(pid)
                            rps = redis_benchmark(sport, command, clients, pipeline, n)
                            cpu1 = cpu_seconds(pid)
                            estimate[key] = rps
                            rec: dict[str, object] = {
                                "kind": kind,
                                "command": cmd_name,
                                "clients": clients,
                                "pipeline": pipeline,
                                "rep": rep,
                                "requests": n,
                                "rps": rps,
                                "cpu_us_per_req": (cpu1 - cpu0) * 1e6 / n,
                                "rss_after_mib": memory_kib(pid)["VmRSS"] / 1024,
                            }
                            emit(rec)
                            records.append(rec)
        for kind, (pid, _) in sentinel.items():
            rec = {
                "kind": kind,
                "command": "-",
                "clients": "-",
                "pipeline": "-",
                "rss_idle_mib": idle[kind],
                "rss_peak_mib": memory_kib(pid)["VmHWM"] / 1024,
            }
            emit(rec)
            records.append(rec)
    keys = ("command", "clients", "pipeline")
    rows = summarize([r for r in records if "rps" in r], keys, METRICS)
    rows += summarize([r for r in records if "rss_idle_mib" in r], keys, ONCE_METRICS)
    units = {
        "rps": "req/s",
        "cpu_us_per_req": "us",
        "rss_after_mib": "MiB",
        "rss_idle_mib": "MiB",
        "rss_peak_mib": "MiB",
    }
    text = table(rows, keys, units)
    print(text)
    params = {"reps": args.reps, "seconds_per_run": args.seconds, "commands": COMMANDS}
    path = write_results(
        "throughput",
        args.out,
        info=info,
        params=params,
        records=records,
        rows=rows,
        text_table=text,
    )
    print(f"results: {path}")
    return 0


def _answers(port: int) -> bool:
    argv = ["redis-cli", "-h", HOST, "-p", str(port), "SENTINEL", "get-master-addr-by-name"]
    out = subprocess.run([*argv, "mymaster"], capture_output=True, text=True, check=False)
    return out.returncode == 0 and HOST in out.stdout


if __name__ == "__main__":
    sys.exit(main())
