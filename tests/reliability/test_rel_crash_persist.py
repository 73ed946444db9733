"""Crash-safe persistence (issue 8 item 3): SIGKILL while the config is being rewritten.

Each iteration starts ``python -m pysentinel`` on the file the previous iteration's
kill left behind, pipelines ``SENTINEL SET mymaster down-after-milliseconds <v>
failover-timeout <v>`` with ever-increasing ``v`` (every one of them flushes the config:
spec §2.7), and SIGKILLs the process after a seeded random delay of a few
milliseconds, while rewrites are in flight. After every kill the file must:

* load without error (``config.load``);
* hold one state a command produced: both options equal (one command, one flush: no
  half-applied rewrite), and equal either to the last value whose ``+OK`` we read (the
  reply is sent only after the flush: an acknowledged value is durable) or to a value
  sent after it (flushed, but killed before the reply reached us);
* keep everything else (port, the monitor line) as it was.

A leftover ``sentinel.conf.XXXXXX`` temporary file after a kill proves the kill landed
inside a rewrite (between mkstemp and rename); we count them, then delete them.

``PYSENTINEL_CRASH_LANES`` > 1 runs independent sentinels (own dirs and ports) in
threads; on the shared 2-core CI machine one lane was fastest (start-up is CPU-bound).
Iteration count and time budget come from ``PYSENTINEL_CRASH_ITERATIONS`` (default
200) and ``PYSENTINEL_CRASH_SECONDS`` (default 120): the test fails if the budget runs
out before the count is reached. 200 kills take about 45 s on the CI machine; the budget
is only a bound for a pathologically slow machine.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import attrs
import hiredis
import pytest
from harness import HOST, REPO_ROOT, free_port, pack

from pysentinel import config as config_module

pytestmark = pytest.mark.interop

ITERATIONS = int(os.environ.get("PYSENTINEL_CRASH_ITERATIONS", "200"))
BUDGET_S = float(os.environ.get("PYSENTINEL_CRASH_SECONDS", "120"))
LANES = int(os.environ.get("PYSENTINEL_CRASH_LANES", "1"))
SEED = int(os.environ.get("PYSENTINEL_CRASH_SEED", "8"))
#: Kill between 0 and this many seconds after the first SET was sent.
MAX_KILL_DELAY_S = 0.04
#: Values start above every default so that no rewrite drops the lines (spec §2.8).
FIRST_VALUE = 200_000
START_TIMEOUT_S = 15.0


@attrs.define
class LaneResult:
    iterations: int = 0
    sets_sent: int = 0
    sets_acked: int = 0
    kills_inside_rewrite: int = 0
    start_seconds: list[float] = attrs.Factory(list)
    failure: str | None = None


def _wait_ping(port: int, proc: subprocess.Popen[bytes], log: Path) -> socket.socket:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise AssertionError(
                f"sentinel exited with {proc.returncode}: {log.read_text()[-2000:]}"
            )
        try:
            sock = socket.create_connection((HOST, port), timeout=5)
            sock.sendall(b"PING\r\n")
            if sock.recv(7) == b"+PONG\r\n":
                return sock
            sock.close()
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"sentinel :{port} did not answer in {START_TIMEOUT_S} s")
        time.sleep(0.005)


def _values(conf: Path) -> tuple[int, int, int, str]:
    cfg = config_module.load(str(conf))
    (master,) = cfg.masters
    return master.down_after_ms, master.failover_timeout_ms, cfg.port, repr(master.addr)


class Lane:
    def __init__(
        self, workdir: Path, rng: random.Random, stop_at: float, abort: threading.Event
    ) -> None:
        self.dir = workdir
        self.dir.mkdir()
        self.port = free_port()
        self.conf = self.dir / "sentinel.conf"
        self.log = self.dir / "sentinel.log"
        self.rng = rng
        self.stop_at = stop_at
        #: Set by the test when it is being torn down (failure, pytest timeout).
        self.abort = abort
        self.result = LaneResult()
        dead_port = free_port()  # nothing listens there: the master is simply down
        self.conf.write_text(
            f"port {self.port}\nbind {HOST}\n"
            f'dir "{self.dir}"\nlogfile "{self.log}"\n'
            f"sentinel monitor mymaster {HOST} {dead_port} 1\n"
            f"sentinel down-after-milliseconds mymaster {FIRST_VALUE}\n"
            f"sentinel failover-timeout mymaster {FIRST_VALUE}\n"
        )
        self.acked = FIRST_VALUE
        #: Replies read in the current iteration (they answer ``sent`` in order).
        self._acked_count = 0
        self.next_value = FIRST_VALUE + 1
        self.expected_rest = _values(self.conf)[2:]
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), self.env.get("PYTHONPATH", "")) if p
        )

    def check_file(self, sent_after_ack: list[int]) -> None:
        down_after, failover_timeout, *rest = _values(self.conf)
        assert tuple(rest) == self.expected_rest, (rest, self.conf.read_text())
        assert down_after == failover_timeout, f"half-applied rewrite:\n{self.conf.read_text()}"
        assert down_after in (self.acked, *sent_after_ack), (
            f"file holds {down_after}; last acknowledged {self.acked}, "
            f"sent since {sent_after_ack}:\n{self.conf.read_text()}"
        )
        # What is on disk is now the value every later check starts from.
        self.acked = down_after

    def one_iteration(self) -> None:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "pysentinel", str(self.conf)],
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self.env,
        )
        try:
            sock = _wait_ping(self.port, proc, self.log)
            self.result.start_seconds.append(time.monotonic() - started)
            sent: list[int] = []
            reader = hiredis.Reader()
            sock.setblocking(False)
            kill_at = time.monotonic() + self.rng.uniform(0, MAX_KILL_DELAY_S)
            while time.monotonic() < kill_at:
                if len(sent) - self._acked_count < 4:
                    v = self.next_value
                    self.next_value += 1
                    sock.sendall(
                        pack(["SENTINEL", "SET", "mymaster", "down-after-milliseconds", str(v),
                              "failover-timeout", str(v)])
                    )  # fmt: skip
                    sent.append(v)
                    self.result.sets_sent += 1
                try:
                    chunk = sock.recv(4096)
                except BlockingIOError:
                    chunk = b""
                if chunk:
                    reader.feed(chunk)
                    while (reply := reader.gets()) is not False:
                        assert reply == b"OK", reply
                        self.acked = sent[self._acked_count]
                        self._acked_count += 1
                        self.result.sets_acked += 1
                time.sleep(0.0005)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            sock.close()
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
        unacked = sent[self._acked_count :]
        self._acked_count = 0
        temps = [p for p in self.dir.iterdir() if p.name.startswith("sentinel.conf.")]
        if temps:
            self.result.kills_inside_rewrite += 1
            for p in temps:
                p.unlink()
        self.check_file(unacked)
        self.result.iterations += 1

    def run(self, iterations: int) -> None:
        try:
            while (
                self.result.iterations < iterations
                and time.monotonic() < self.stop_at
                and not self.abort.is_set()
            ):
                self.one_iteration()
        except BaseException as exc:  # reported by the main thread
            self.result.failure = f"{type(exc).__name__}: {exc}"


def test_crash_persist_sigkill_during_rewrites(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    started = time.monotonic()
    stop_at = started + BUDGET_S
    abort = threading.Event()
    lanes = [
        Lane(tmp_path / f"lane-{n}", random.Random(rng.random()), stop_at, abort)
        for n in range(LANES)
    ]
    share = [ITERATIONS // LANES + (1 if n < ITERATIONS % LANES else 0) for n in range(LANES)]
    threads = [
        threading.Thread(target=lane.run, args=(n,)) for lane, n in zip(lanes, share, strict=True)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        # On any way out (a pytest timeout included) the lanes stop after their current
        # iteration, whose own finally kills its sentinel by pid.
        abort.set()
        for t in threads:
            t.join(timeout=30)
    elapsed = time.monotonic() - started
    results = [lane.result for lane in lanes]
    failures = [r.failure for r in results if r.failure]
    assert not failures, failures
    total = sum(r.iterations for r in results)
    starts = sorted(s for r in results for s in r.start_seconds)
    sent = sum(r.sets_sent for r in results)
    acked = sum(r.sets_acked for r in results)
    inside = sum(r.kills_inside_rewrite for r in results)
    print(
        f"crash-persist: {total} kills in {elapsed:.1f} s over {LANES} lanes; "
        f"{sent} SETs sent, {acked} acked; {inside} kills left a temp file (inside a rewrite); "
        f"start-up median {starts[len(starts) // 2]:.2f} s, max {starts[-1]:.2f} s"
    )
    assert total >= ITERATIONS, f"only {total} of {ITERATIONS} kills within {BUDGET_S} s"
