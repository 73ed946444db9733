"""Run the fenced blocks of the docs the way a reader would, and compare their output.

The conventions this module enforces are written for doc authors in ``docs/README.md``
("How these pages are tested"); keep the two in step. In short:

* ```` ```sh ```` and ```` ```python ```` blocks are *runnable*. All runnable blocks of one
  page run in order in **one** bash session (so ``cd``, variables and files carry over,
  as when a reader pastes them into one terminal). Its stdout and stderr are a pty, so
  ``redis-cli`` formats replies as it does in a terminal. Each block is sourced from a
  file with stdin from ``/dev/null``; a command that fails outside a condition (bash's
  ``ERR`` trap) fails the test. ``python`` blocks run as ``python3 <file>`` in that
  session.
* ```` ```sh root ```` blocks change the machine (``apt-get``, ``systemctl``): they are
  syntax-checked with ``bash -n`` and each command must start with a known admin program;
  they are not run.
* A ```` ```text ```` block right after a runnable block is that block's expected
  output. See :func:`matches` for what may differ.
* The ports listed in :data:`DOC_PORTS` are replaced, in runnable blocks and expected
  output, by free loopback ports the test picks. ``TMPDIR`` points into pytest's
  temporary directory, so ``mktemp -d`` makes a directory the test removes.
* Processes are found by their pid files (``*.pid`` under the session's temporary
  directory, read after every block) and by ``jobs -p`` of the session; teardown stops
  each by pid (SIGTERM, then SIGKILL after a deadline). Nothing is stopped by name.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import random
import re
import select
import shlex
import signal
import socket
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import attrs

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"

#: Ports the docs use, replaced by free ports when the test runs them. Pick doc ports
#: that no other number in a block could be mistaken for.
DOC_PORTS: tuple[int, ...] = (16379, 16380, 16381, 26379, 26380, 26381, 26382)

#: Admin programs a ``sh root`` block may call (it is never run).
ROOT_PROGRAMS = frozenset(
    {"sudo", "apt-get", "systemctl", "install", "cp", "mkdir", "chown", "useradd", "journalctl"}
)

#: Default deadline of one runnable block, seconds (``timeout=N`` in the info string).
BLOCK_TIMEOUT_S = 30.0
#: How long a process may take to exit after SIGTERM before it gets SIGKILL.
STOP_TIMEOUT_S = 10.0

RUNNABLE = ("sh", "python")
#: Pages other engineers own and test with their own suites.
FOREIGN_PAGES = frozenset({"deviations.md", "simulator.md", "reliability.md"})
KNOWN_LANGS = ("sh", "python", "text", "conf", "ini", "mermaid")

_FENCE = re.compile(r"^(`{3,})(.*)$")


@attrs.frozen
class Block:
    """One fenced block of a page."""

    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    options: tuple[str, ...]
    text: str

    def option(self, name: str) -> str | None:
        """The value of ``name=value`` in the info string, or ``""`` for a bare flag."""
        for opt in self.options:
            key, _, value = opt.partition("=")
            if key == name:
                return value
        return None

    @property
    def where(self) -> str:
        try:
            name = self.path.relative_to(REPO_ROOT)
        except ValueError:
            name = self.path
        return f"{name}:{self.line}"


def parse_blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, in order."""
    blocks: list[Block] = []
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info = m.group(1), m.group(2).split()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].rstrip() != fence:
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise AssertionError(f"{path}:{start + 1}: unclosed code fence")
        lang = info[0] if info else ""
        blocks.append(Block(path, start + 1, lang, tuple(info[1:]), "\n".join(body) + "\n"))
        i += 1
    return blocks


def doc_pages() -> list[Path]:
    """The Markdown pages under docs/."""
    return sorted(DOCS.glob("*.md"))


# --------------------------------------------------------------------------------------
# Ports


_handed_out: set[int] = set()


def free_port() -> int:
    """A loopback port nobody listens on, below the ephemeral range, not handed out yet."""
    rng = random.Random()
    for _ in range(1000):
        port = rng.randrange(20_000, 32_000)
        if port in _handed_out or port in DOC_PORTS:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise AssertionError("no free port found")


def substitute_ports(text: str, ports: dict[int, int]) -> str:
    """Replace each doc port (as a whole number) by its test port."""
    for doc_port, port in ports.items():
        text = re.sub(rf"(?<![\d.]){doc_port}(?!\d)", str(port), text)
    return text


# --------------------------------------------------------------------------------------
# Output comparison

_RUN_ID = re.compile(r"\b[0-9a-f]{40}\b")
_LOG_PREFIX = re.compile(r"^\d+:X \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} ", flags=re.MULTILINE)
_SIGNAL_PREFIX = re.compile(r"^\d+:signal-handler \(\d+\) ", flags=re.MULTILINE)
_MKTEMP_DIR = re.compile(r"(?:/[^\s\"']*)?/tmp\.[A-Za-z0-9]{10}")
_PID_FIELD = re.compile(r"\bpid=\d+")
_DIGITS = re.compile(r"\d+")


def normalize(text: str, *, volatile: bool) -> list[str]:
    """The lines of ``text`` with run ids, log prefixes and temp dirs made generic."""
    text = text.replace("\r", "")
    text = _RUN_ID.sub("<id>", text)
    text = _LOG_PREFIX.sub("<pid>:X <time> ", text)
    text = _SIGNAL_PREFIX.sub("<pid>:signal-handler (<time>) ", text)
    text = _MKTEMP_DIR.sub("<tmpdir>", text)
    text = _PID_FIELD.sub("pid=<pid>", text)
    if volatile:
        text = _DIGITS.sub("<n>", text)
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


def matches(
    expected: str, actual: str, options: tuple[str, ...], ports: dict[int, int] | None = None
) -> bool:
    """Whether ``actual`` output fits the ``expected`` block.

    Both sides are normalised (:func:`normalize`): 40-hex run ids, the
    ``<pid>:X <date time>`` prefix of log lines, ``pid=<n>`` and ``mktemp -d``
    directories never have to match. With the ``volatile`` option every number may
    differ (replies full of timings); with ``sorted`` the order of lines (and blank
    lines) does not matter. A line ``...`` in the expected block stands for any number
    of lines, including none.

    A doc port (a key of ``ports``) in the expected block matches itself or the test's
    port: output that echoes a command's arguments shows the substituted port, output
    that quotes fixed text (a help message) shows the doc's.
    """
    volatile = "volatile" in options
    if "sorted" in options:
        # Sort what the ports will really be (the test's ports sort differently).
        expected = substitute_ports(expected, ports or {})
    want = normalize(expected, volatile=volatile)
    got = normalize(actual, volatile=volatile)
    if "sorted" in options:
        want = sorted(w for w in want if w)
        got = sorted(g for g in got if g)

    def line_pattern(line: str) -> str:
        escaped = re.escape(line)
        for doc_port, port in (ports or {}).items():
            escaped = re.sub(rf"(?<![\d.]){doc_port}(?!\d)", f"(?:{doc_port}|{port})", escaped)
        return escaped + "\n"

    pattern = "".join("(?:.*\n)*?" if w == "..." else line_pattern(w) for w in want)
    return re.fullmatch(pattern, "".join(g + "\n" for g in got)) is not None


def explain_mismatch(expected: str, actual: str, options: tuple[str, ...]) -> str:
    volatile = "volatile" in options
    diff = difflib.unified_diff(
        normalize(expected, volatile=volatile),
        normalize(actual, volatile=volatile),
        "expected (docs)",
        "actual",
        lineterm="",
    )
    return "\n".join(diff) + "\n--- raw output ---\n" + actual


# --------------------------------------------------------------------------------------
# The shell session


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def stop_pid(pid: int) -> None:
    """SIGTERM ``pid``, wait for it with a deadline, then SIGKILL."""
    if not alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@attrs.define
class BlockResult:
    output: str
    failures: list[str]


class Session:
    """One bash process with a pty for output; runs blocks and tracks what they start."""

    DONE = "__DOCRUN_DONE__"
    ERR = "__DOCRUN_ERR__"

    def __init__(self, workdir: Path, ports: dict[int, int]) -> None:
        self.workdir = workdir
        self.ports = ports
        self.tracked: dict[int, str] = {}  # pid -> cmdline when first seen
        self.count = 0
        self._buffer = b""
        env = dict(os.environ)
        env.update({"TMPDIR": str(workdir), "LC_ALL": "C.UTF-8", "TERM": "dumb"})
        env.pop("PROMPT_COMMAND", None)
        master, slave = os.openpty()
        attrs_ = termios.tcgetattr(slave)
        attrs_[1] &= ~termios.ONLCR  # oflag: keep \n as \n
        attrs_[3] &= ~termios.ECHO  # lflag: no echo
        termios.tcsetattr(slave, termios.TCSANOW, attrs_)
        self.master = master
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=slave,
            stderr=slave,
            cwd=workdir,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self._send(f"trap 'echo \"{self.ERR} $? $BASH_COMMAND\"' ERR\n")

    def _send(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def _read_until(self, marker: bytes, deadline: float) -> bytes:
        while marker not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(self._buffer.decode(errors="replace"))
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise EOFError(self._buffer.decode(errors="replace"))
                self._buffer += chunk
        head, _, rest = self._buffer.partition(marker)
        self._buffer = rest
        return head

    def run(self, block: Block) -> BlockResult:
        """Run one runnable block; returns its output and any failed commands."""
        self.count += 1
        n = self.count
        text = substitute_ports(block.text, self.ports)
        suffix = "py" if block.lang == "python" else "sh"
        script = self.workdir / f".docrun-{n}.{suffix}"
        script.write_text(text, encoding="utf-8")
        if block.lang == "python":
            command = f"python3 {shlex.quote(str(script))} </dev/null"
        else:
            command = f". {shlex.quote(str(script))} </dev/null"
        marker = f"{self.DONE}{n}__"
        self._send(f"{command}\n__docrun_status=$?; echo; echo {marker} $__docrun_status\n")
        timeout = float(block.option("timeout") or BLOCK_TIMEOUT_S)
        try:
            raw = self._read_until(f"\n{marker} ".encode(), time.monotonic() + timeout)
            status_line = self._read_until(b"\n", time.monotonic() + 5)
        except TimeoutError as exc:
            self.track()
            raise AssertionError(
                f"{block.where}: block did not finish within {timeout:.0f} s; output so far:\n{exc}"
            ) from None
        finally:
            script.unlink(missing_ok=True)
        self.track()
        output = raw.decode(errors="replace")
        failures = [line for line in output.splitlines() if line.startswith(self.ERR)]
        if status_line.strip() not in (b"0", b""):
            failures.append(f"exit status {status_line.strip().decode()}")
        output = "\n".join(line for line in output.splitlines() if not line.startswith(self.ERR))
        return BlockResult(output, failures)

    def track(self) -> None:
        """Remember the pids in every pid file under the work dir."""
        for pidfile in self.workdir.rglob("*.pid"):
            with contextlib.suppress(OSError, ValueError):
                pid = int(pidfile.read_text().strip())
                if pid not in self.tracked and alive(pid):
                    self.tracked[pid] = _cmdline(pid)

    def close(self) -> None:
        """Stop every process the blocks started (by pid), then the shell."""
        with contextlib.suppress(Exception):
            self._send(f"echo {self.DONE}jobs $(jobs -p) {self.DONE}end\n")
            self._read_until(f"{self.DONE}jobs".encode(), time.monotonic() + 5)
            jobs = self._read_until(f"{self.DONE}end".encode(), time.monotonic() + 5)
            for word in jobs.split():
                self.tracked.setdefault(int(word), _cmdline(int(word)))
        self.track()
        for pid, cmdline in self.tracked.items():
            # Guard against pid reuse: only a process that still runs the same program.
            if alive(pid) and _cmdline(pid) == cmdline:
                stop_pid(pid)
        stop_pid(self.proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        os.close(self.master)


@contextlib.contextmanager
def session(workdir: Path) -> Iterator[Session]:
    ports = {p: free_port() for p in DOC_PORTS}
    s = Session(workdir, ports)
    try:
        yield s
    finally:
        s.close()


def check_root_block(block: Block) -> list[str]:
    """Problems with a ``sh root`` block: bash syntax, and programs it may call."""
    problems: list[str] = []
    result = subprocess.run(
        ["bash", "-n"], check=False, input=block.text, capture_output=True, text=True, timeout=10
    )
    if result.returncode != 0:
        problems.append(f"{block.where}: bash -n: {result.stderr.strip()}")
    joined = block.text.replace("\\\n", " ")
    for raw_line in joined.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        for part in re.split(r"&&|\|\||;", line):
            words = shlex.split(part)
            if words and words[0] not in ROOT_PROGRAMS:
                problems.append(f"{block.where}: {words[0]!r} is not an admin program")
    return problems


def run_page(page: Path, workdir: Path, *, update: bool = False) -> list[str]:
    """Run every runnable block of ``page``; returns the problems found.

    With ``update``, an output block that no longer matches is rewritten in the page with
    the actual output (doc ports and ``/tmp`` put back) instead of being a problem: that
    is how the outputs in the docs are captured (``python tests/docs/docrun.py --update
    docs/PAGE.md``). Review the diff before committing it.
    """
    blocks = parse_blocks(page)
    problems: list[str] = []
    replacements: list[tuple[Block, str]] = []
    with session(workdir) as s:
        previous: Block | None = None
        result: BlockResult | None = None
        for block in blocks:
            if is_run(block):
                result = s.run(block)
                problems += [f"{block.where}: {f}" for f in result.failures]
                if problems:
                    problems.append(f"{block.where}: output:\n{result.output}")
                    break
                previous = block
                continue
            if block.lang == "text" and previous is not None and result is not None:
                ok = matches(block.text, result.output, block.options, s.ports)
                if update and not ok:
                    replacements.append((block, _as_doc_output(result.output, s, workdir)))
                elif not ok:
                    expected = substitute_ports(block.text, s.ports)
                    problems.append(
                        f"{block.where}: output of {previous.where} differs:\n"
                        + explain_mismatch(expected, result.output, block.options)
                    )
                    break
            previous, result = None, None
    if replacements:
        _rewrite_blocks(page, replacements)
    return problems


def _as_doc_output(output: str, s: Session, workdir: Path) -> str:
    """Actual output as the docs show it: doc ports, ``/tmp`` instead of pytest's dir."""
    for doc_port, port in s.ports.items():
        output = re.sub(rf"(?<![\d.]){port}(?!\d)", str(doc_port), output)
    output = output.replace(str(workdir), "/tmp").replace("\r", "")
    lines = [line.rstrip() for line in output.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def _rewrite_blocks(page: Path, replacements: list[tuple[Block, str]]) -> None:
    lines = page.read_text(encoding="utf-8").split("\n")
    for block, text in sorted(replacements, key=lambda r: -r[0].line):
        start = block.line  # index of the first body line
        end = start + block.text.count("\n")
        lines[start:end] = text.rstrip("\n").split("\n")
    page.write_text("\n".join(lines), encoding="utf-8")


def is_run(block: Block) -> bool:
    """Whether the docs test runs ``block`` in the page's session."""
    return block.lang in RUNNABLE and "root" not in block.options


if __name__ == "__main__":
    import sys
    import tempfile

    for name in sys.argv[2:] if sys.argv[1:2] == ["--update"] else sys.argv[1:]:
        with tempfile.TemporaryDirectory() as tmp:
            found = run_page(Path(name).resolve(), Path(tmp), update=sys.argv[1] == "--update")
        print(f"{name}: " + ("OK" if not found else "\n".join(found)))
