"""Shared helpers of the benchmark scripts in ``bench/`` (not a test module).

Every script runs pysentinel and redis-sentinel 7.0.15 side by side on 127.0.0.1,
with ports picked here (bound to port 0 and released), and stops every process it
started by its pid (SIGTERM, then SIGKILL after a deadline). Results are printed as
JSON lines and written to ``bench/results/<date>-<name>.json`` with a table of
medians, min-max and the ratio pysentinel / redis-sentinel (``.txt`` beside it).

The helpers are deliberately plain: subprocess, socket, /proc. The only client
library used is redis-py (for pub/sub and the Sentinel client of the failover bench).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
HOST = "127.0.0.1"
#: The two kinds of sentinel compared, in the order the tables show them.
KINDS = ("pysentinel", "redis-sentinel")
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: How long a process gets to exit after SIGTERM before it gets SIGKILL.
STOP_GRACE_S = 5.0


class BenchError(RuntimeError):
    """A process did not start, or an expected condition never came true."""


#: Ports are drawn from here: below the kernel's ephemeral range (32768-60999 by
#: default, where bind(0) and outgoing connections take theirs) and away from the
#: 20000s that the interop tests use, so that we rarely meet anyone else's port.
PORT_RANGE = (10_000, 20_000)
_used_ports: set[int] = set()
_port_rng = random.Random()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago and not handed out before."""
    while True:
        port = _port_rng.randrange(*PORT_RANGE)
        if port in _used_ports:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
        _used_ports.add(port)
        return port


def wait_until(
    what: str, predicate: Callable[[], bool], timeout_s: float, step_s: float = 0.02
) -> float:
    """Poll ``predicate`` until it is true; return the monotonic time it became true.

    Raises:
        BenchError: still false after ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return time.monotonic()
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(step_s)


def resp_command(*args: str | int) -> bytes:
    """One command in RESP multibulk form."""
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def ping(port: int, timeout_s: float = 0.5) -> bool:
    """True when something on ``port`` answers PING with +PONG."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout_s) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Procs:
    """The processes one benchmark started; ``stop_all`` stops each by its pid."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, argv: Sequence[str], log_name: str) -> subprocess.Popen[bytes]:
        """Start ``argv`` with stdout and stderr going to ``workdir/log_name``."""
        with open(self.workdir / log_name, "ab") as log:
            proc = subprocess.Popen(
                list(argv), stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
            )
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        """Signal one process by pid, wait for it, SIGKILL it after the grace period."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, sig)
            try:
                proc.wait(STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        """Stop every process still on the list: SIGTERM to all, then wait for each."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)
        for proc in reversed(list(self.procs)):
            self.stop(proc)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def bench_env(name: str, keep: bool = False) -> Iterator[Procs]:
    """A temporary work directory and a process list that is emptied on exit."""
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    procs = Procs(workdir)
    # SIGTERM (from `timeout`, say) must unwind through the finally below, or the
    # processes we started would outlive us.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield procs
    finally:
        procs.stop_all()
        if not keep:
            for p in sorted(workdir.rglob("*"), reverse=True):
                if p.is_dir():
                    p.rmdir()
                else:
                    p.unlink()
            workdir.rmdir()


def start_redis(
    procs: Procs,
    port: int,
    *,
    replicaof: int | None = None,
    extra: Sequence[str] = (),
    name: str | None = None,
) -> subprocess.Popen[bytes]:
    """A redis-server with a config file (so CONFIG REWRITE works) on ``port``."""
    name = name or f"redis-{port}"
    conf = procs.workdir / f"{name}.conf"
    lines = [
        f"port {port}",
        f"bind {HOST}",
        "save ''",
        "appendonly no",
        f"dir {procs.workdir}",
        f"dbfilename {name}.rdb",
        "enable-debug-command local",
        "repl-diskless-sync yes",
        "repl-diskless-sync-delay 0",
        *extra,
    ]
    if replicaof is not None:
        lines.append(f"replicaof {HOST} {replicaof}")
    if not conf.exists():
        conf.write_text("\n".join(lines) + "\n")
    proc = procs.spawn(["redis-server", str(conf)], f"{name}.log")
    return proc


def wait_redis(proc: subprocess.Popen[bytes], port: int, timeout_s: float = 10.0) -> None:
    """Wait until the server on ``port`` answers PING (and its process is alive)."""

    def up() -> bool:
        if proc.poll() is not None:
            raise BenchError(f"process {proc.pid} on port {port} exited with {proc.returncode}")
        return ping(port)

    wait_until(f"PING on port {port}", up, timeout_s)


def sentinel_argv(kind: str, conf: Path) -> list[str]:
    """How each kind of sentinel is started."""
    if kind == "pysentinel":
        return [sys.executable, "-m", "pysentinel", str(conf)]
    if kind == "redis-sentinel":
        return ["redis-sentinel", str(conf)]
    raise ValueError(kind)


def start_sentinel(
    procs: Procs, kind: str, port: int, monitors: Sequence[str], name: str
) -> subprocess.Popen[bytes]:
    """A sentinel of ``kind`` on ``port``; ``monitors`` are extra config lines."""
    conf = procs.workdir / f"{name}.conf"
    lines = [f"port {port}", f"bind {HOST}", f"dir {procs.workdir}", *monitors]
    conf.write_text("\n".join(lines) + "\n")
    env_argv = sentinel_argv(kind, conf)
    return procs.spawn(env_argv, f"{name}.log")


# --- /proc ------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (resolution 1/CLK_TCK)."""
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def machine() -> dict[str, object]:
    """Cores, CPU model and memory of this machine, and the load average now."""
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "mem_mib": mem_kib // 1024,
        "kernel": platform.release(),
        "loadavg_start": loadavg(),
    }


def _first_line(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(list(argv), capture_output=True, text=True, timeout=10, check=False)
    except OSError as exc:
        return f"unavailable ({exc})"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else ""


def versions() -> dict[str, str]:
    """Versions of everything the numbers depend on."""
    import hiredis
    import redis
    import trio

    import pysentinel

    commit = _first_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"])
    return {
        "python": sys.version.split()[0],
        "trio": trio.__version__,
        "hiredis": str(hiredis.__version__),
        "redis-py": redis.__version__,
        "pysentinel": pysentinel.__version__,
        "pysentinel_commit": commit,
        "redis-server": _first_line(["redis-server", "--version"]),
        "redis-sentinel": _first_line(["redis-sentinel", "--version"]),
        "redis-benchmark": _first_line(["redis-benchmark", "--version"]),
    }


# --- results ----------------------------------------------------------------------


def emit(record: dict[str, object]) -> None:
    """Print one result as a JSON line."""
    print(json.dumps(record, sort_keys=True), flush=True)


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def summarize(
    records: Sequence[dict[str, object]], group_keys: Sequence[str], metrics: Sequence[str]
) -> list[dict[str, object]]:
    """Median, min and max of each metric per group and kind, and the ratio of medians.

    Records must carry ``kind`` (one of KINDS) and the ``group_keys``; a metric whose
    value is None in a record (the event never came) is counted in ``missing``; a
    metric a record does not have at all is not counted.
    """
    groups: dict[tuple[str, ...], dict[str, dict[str, list[float]]]] = {}
    missing: dict[tuple[tuple[str, ...], str, str], int] = {}
    for r in records:
        key = tuple(str(r[k]) for k in group_keys)
        per_kind = groups.setdefault(key, {})
        for m in metrics:
            if m not in r:
                continue
            v = r[m]
            if isinstance(v, int | float):
                per_kind.setdefault(m, {}).setdefault(str(r["kind"]), []).append(float(v))
            else:
                mk = (key, m, str(r["kind"]))
                missing[mk] = missing.get(mk, 0) + 1
    rows: list[dict[str, object]] = []
    for key, per_metric in groups.items():
        for m in metrics:
            row: dict[str, object] = dict(zip(group_keys, key, strict=True))
            row["metric"] = m
            med: dict[str, float] = {}
            for kind in KINDS:
                values = per_metric.get(m, {}).get(kind, [])
                miss = missing.get((key, m, kind), 0)
                if values:
                    med[kind] = statistics.median(values)
                    row[kind] = {
                        "median": med[kind],
                        "min": min(values),
                        "max": max(values),
                        "n": len(values),
                        "missing": miss,
                    }
                elif miss:
                    row[kind] = {"n": 0, "missing": miss}
            if len(med) == 2 and med["redis-sentinel"] != 0:
                row["ratio"] = med["pysentinel"] / med["redis-sentinel"]
            if any(kind in row for kind in KINDS):
                rows.append(row)
    return rows


def table(
    rows: Sequence[dict[str, object]], group_keys: Sequence[str], units: dict[str, str]
) -> str:
    """A fixed-width text table of ``summarize`` rows."""
    head = [
        *group_keys,
        "metric",
        "pysentinel median [min-max]",
        "redis-sentinel median [min-max]",
        "py/redis",
    ]
    body: list[list[str]] = []
    for row in rows:
        cells = [str(row[k]) for k in group_keys]
        metric = str(row["metric"])
        cells.append(f"{metric} ({units[metric]})" if metric in units else metric)
        for kind in KINDS:
            cell = row.get(kind)
            if not isinstance(cell, dict):
                cells.append("-")
                continue
            text = "-"
            if cell.get("n"):
                text = f"{_fmt(cell['median'])} [{_fmt(cell['min'])}-{_fmt(cell['max'])}]"
            if cell.get("missing"):
                text += f" ({cell['missing']} missing)"
            cells.append(text)
        ratio = row.get("ratio")
        cells.append(f"{ratio:.2f}" if isinstance(ratio, float) else "-")
        body.append(cells)
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [head, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def write_results(
    name: str,
    out_dir: Path,
    *,
    info: dict[str, object],
    params: dict[str, object],
    records: Sequence[dict[str, object]],
    rows: Sequence[dict[str, object]],
    text_table: str,
) -> Path:
    """Write ``<date>-<name>.json`` and ``.txt`` into ``out_dir``; return the JSON path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    info = dict(info)
    info["loadavg_end"] = loadavg()
    stem = f"{now:%Y-%m-%d}-{name}"
    doc = {
        "name": name,
        "finished_utc": now.isoformat(timespec="seconds"),
        "machine": info,
        "versions": versions(),
        "params": params,
        "summary": list(rows),
        "records": list(records),
    }
    path = out_dir / f"{stem}.json"
    path.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    header = (
        f"# {name}, finished {doc['finished_utc']}; {info['cores']} cores, {info['cpu_model']}; "
        f"load average start {info['loadavg_start']} end {info['loadavg_end']}\n"
        f"# params {json.dumps(params, sort_keys=True)}\n"
    )
    (out_dir / f"{stem}.txt").write_text(header + text_table)
    return path
