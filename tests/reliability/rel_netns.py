"""Linux network namespaces as "boxes" for partition tests (issue 8 item 1).

Layout made by :class:`Lab` (everything named after a per-lab tag, so two labs never
touch each other, and nothing is added to the caller's own network namespace):

* ``<tag>-sw``: a namespace holding one bridge ``br0`` (the switch);
* ``<tag>-b<i>``: one namespace per box, with ``lo`` and ``eth0`` = ``10.77.0.<i+1>/24``,
  the inner end of a veth pair whose outer end is a port of ``br0``.

A partition disables a box's bridge port (``bridge link set dev ... state 0``): its
frames are dropped silently, both ways, while every interface stays up, which is what
a pulled cable between two switches looks like to TCP (no RST, no ICMP, retransmits
until timeouts). Healing sets the port back to forwarding.

The sentinels are pysentinel, or the reference redis-sentinel when
``PYSENTINEL_INTEROP_IMPL=redis-sentinel`` (as for the interop harness).

Processes run inside a box through ``ip netns exec`` (which execs: the pid we hold is
the program's own), each stopped by that pid at teardown; then every namespace this lab
created is deleted by name. Needs root and the ``ip`` and ``bridge`` tools (Debian
package ``iproute2``); their absence is a test failure, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
from harness import (
    REDIS_SENTINEL,
    REPO_ROOT,
    STOP_TIMEOUT_S,
    WaitTimeout,
    binary,
    sentinel_impl,
    tail,
)

SUBNET = "10.77.0"
REDIS_PORT = 6379
SENTINEL_PORT = 26379
CLI_TIMEOUT_S = 5.0
_counter = 0


def require_tools() -> None:
    """Fail clearly when the namespace tests cannot run here."""
    missing = [tool for tool in ("ip", "bridge") if shutil.which(tool) is None]
    if missing:
        raise AssertionError(
            f"{missing} not found: the partition tests need the Debian package iproute2"
        )
    if os.geteuid() != 0:
        raise AssertionError("the partition tests create network namespaces: run them as root")


def _run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr}")
    return done.stdout


@attrs.define
class Proc:
    """A process started in a box."""

    box: int
    what: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def running(self) -> bool:
        return self.popen.poll() is None


class Lab:
    """A switch and ``boxes`` boxes; see the module docstring."""

    def __init__(self, workdir: Path, boxes: int) -> None:
        global _counter
        require_tools()
        _counter += 1
        self.tag = f"psr{os.getpid() % 100000}{_counter}"
        assert len(self.tag) + 2 <= 15, self.tag  # interface names: <tag>v<i>, <tag>p<i>
        self.dir = workdir
        self.boxes = boxes
        self.namespaces: list[str] = []
        self.procs: list[Proc] = []
        self._files: list[object] = []

    # --- topology ---

    def ns(self, box: int) -> str:
        return f"{self.tag}-b{box}"

    @property
    def switch(self) -> str:
        return f"{self.tag}-sw"

    def ip(self, box: int) -> str:
        return f"{SUBNET}.{box + 1}"

    def _port(self, box: int) -> str:
        return f"{self.tag}p{box}"

    def create(self) -> None:
        self._add_ns(self.switch)
        _run("ip", "-n", self.switch, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", self.switch, "link", "set", "br0", "up")
        for box in range(self.boxes):
            ns, inner, outer = self.ns(box), f"{self.tag}v{box}", self._port(box)
            self._add_ns(ns)
            # Created in the switch namespace, so nothing ever appears in ours.
            _run(
                "ip", "-n", self.switch, "link", "add", outer, "type", "veth", "peer", "name", inner
            )
            _run("ip", "-n", self.switch, "link", "set", inner, "netns", ns)
            _run("ip", "-n", ns, "link", "set", inner, "name", "eth0")
            _run("ip", "-n", ns, "addr", "add", f"{self.ip(box)}/24", "dev", "eth0")
            _run("ip", "-n", ns, "link", "set", "eth0", "up")
            _run("ip", "-n", self.switch, "link", "set", outer, "master", "br0")
            _run("ip", "-n", self.switch, "link", "set", outer, "up")

    def _add_ns(self, name: str) -> None:
        _run("ip", "netns", "add", name)
        self.namespaces.append(name)
        _run("ip", "-n", name, "link", "set", "lo", "up")

    def cut(self, box: int) -> None:
        """Isolate ``box``: its bridge port drops every frame, both ways."""
        _run("bridge", "-n", self.switch, "link", "set", "dev", self._port(box), "state", "0")

    def heal(self, box: int) -> None:
        _run("bridge", "-n", self.switch, "link", "set", "dev", self._port(box), "state", "3")

    # --- processes ---

    def spawn(self, box: int, what: str, argv: Sequence[str], cwd: Path) -> Proc:
        cwd.mkdir(parents=True, exist_ok=True)
        log = cwd / f"{what}.out"
        out = open(log, "ab")  # noqa: SIM115 - closed in close()
        self._files.append(out)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        popen = subprocess.Popen(
            ["ip", "netns", "exec", self.ns(box), *argv],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        proc = Proc(box, what, popen, log)
        self.procs.append(proc)
        return proc

    def redis_server(self, box: int, args: Sequence[str] = ()) -> Proc:
        d = self.dir / f"box{box}" / "redis"
        return self.spawn(
            box,
            "redis-server",
            [
                shutil.which("redis-server") or "redis-server",
                "--port", str(REDIS_PORT), "--bind", self.ip(box), "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(d),
                "--logfile", str(d / "redis.log"), "--repl-diskless-sync-delay", "0",
                "--protected-mode", "no",
                *args,
            ],
            d,
        )  # fmt: skip

    def sentinel(self, box: int, lines: Sequence[str]) -> Proc:
        d = self.dir / f"box{box}" / "sentinel"
        d.mkdir(parents=True, exist_ok=True)
        conf = d / "sentinel.conf"
        head = [
            f"port {SENTINEL_PORT}",
            f"bind {self.ip(box)} 127.0.0.1",
            f'dir "{d}"',
            f'logfile "{d / "sentinel.log"}"',
            "loglevel verbose",
        ]
        conf.write_text("\n".join([*head, *lines]) + "\n")
        if sentinel_impl() == REDIS_SENTINEL:
            argv = [binary("redis-sentinel"), str(conf)]
        else:
            argv = [sys.executable, "-m", "pysentinel", str(conf)]
        return self.spawn(box, "sentinel", argv, d)

    def sentinel_conf(self, box: int) -> Path:
        return self.dir / f"box{box}" / "sentinel" / "sentinel.conf"

    def sentinel_log(self, box: int) -> Path:
        return self.dir / f"box{box}" / "sentinel" / "sentinel.log"

    def cli(self, box: int, host_box: int, port: int, *args: str) -> str:
        """``redis-cli`` run inside ``box`` against ``host_box``'s address; its stdout
        (stripped), or an ``ERROR: ...`` text when it could not connect in time."""
        try:
            done = subprocess.run(
                ["ip", "netns", "exec", self.ns(box), "redis-cli", "-h", self.ip(host_box),
                 "-p", str(port), *args],
                capture_output=True, text=True, timeout=CLI_TIMEOUT_S, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return "ERROR: timeout"
        if done.returncode != 0 and not done.stdout:
            return f"ERROR: {done.stderr.strip()}"
        return done.stdout.strip()

    def wait_until(self, predicate: object, timeout: float, what: str) -> object:
        assert callable(predicate)
        deadline = time.monotonic() + timeout
        last: object = None
        while True:
            last = predicate()
            if last:
                return last
            if time.monotonic() > deadline:
                raise WaitTimeout(
                    f"timed out after {timeout} s waiting for {what}; last {last!r}\n"
                    + self.describe()
                )
            time.sleep(0.1)

    def describe(self) -> str:
        parts = []
        for box in range(self.boxes):
            parts.append(f"--- box {box} sentinel log ---\n{tail(self.sentinel_log(box), 30)}")
        for proc in self.procs:
            state = "running" if proc.running else f"exited {proc.popen.returncode}"
            parts.append(f"--- box {proc.box} {proc.what} [{state}] ---\n{tail(proc.log, 8)}")
        return "\n".join(parts)

    # --- teardown ---

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.popen.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.popen.pid, signal.SIGCONT)
                    os.kill(proc.popen.pid, signal.SIGTERM)
                try:
                    proc.popen.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(proc.popen.pid, signal.SIGKILL)
                    proc.popen.wait()
        for f in self._files:
            f.close()  # type: ignore[attr-defined]
        for name in reversed(self.namespaces):
            subprocess.run(
                ["ip", "netns", "del", name], capture_output=True, check=False, timeout=30
            )
        self.namespaces.clear()


@contextlib.contextmanager
def lab(workdir: Path, boxes: int) -> Iterator[Lab]:
    the_lab = Lab(workdir, boxes)
    try:
        the_lab.create()
        yield the_lab
    finally:
        the_lab.close()
