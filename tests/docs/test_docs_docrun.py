"""The docs runner itself: what it accepts, what it catches, and that it cleans up."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from docrun import alive, matches, parse_blocks, run_page, substitute_ports


def test_docrun_matches_normalises_ids_log_prefix_and_tmpdirs() -> None:
    expected = (
        "sentinel myid 26d6c9b4cb2d7b1b62f4f8c1e4d9b1bd0a6c3d55\n"
        "9379:X 25 Nov 2026 07:04:31.488 # +switch-master m 127.0.0.1 1 127.0.0.1 2\n"
        'dir "/tmp/tmp.Yb1yNq0ubt"\n'
    )
    actual = (
        "sentinel myid 0123456789abcdef0123456789abcdef01234567\n"
        "12:X 01 Jan 2027 00:00:00.000 # +switch-master m 127.0.0.1 1 127.0.0.1 2\n"
        'dir "/x/pytest-1/test0/tmp.AbCdEfGh12"\r\n\n'
    )
    assert matches(expected, actual, ())
    assert not matches(expected, actual.replace("+switch-master", "+sdown"), ())


def test_docrun_matches_volatile_sorted_and_ellipsis() -> None:
    assert matches(
        '1) "last-ping-reply"\n2) "393"\n', '1) "last-ping-reply"\n2) "7"\n', ("volatile",)
    )
    assert not matches('1) "a"\n', '1) "b"\n', ("volatile",))
    assert matches("a\nb\n", "b\na\n", ("sorted",))
    assert not matches("a\nb\n", "b\na\n", ())
    assert matches("first\n...\nlast\n", "first\nx\ny\nlast\n", ())
    assert matches("first\n...\nlast\n", "first\nlast\n", ())
    assert not matches("first\n...\nlast\n", "first\nx\n", ())


def test_docrun_substitute_ports_whole_numbers_only() -> None:
    ports = {16379: 21001, 26380: 21002}
    text = "redis-cli -p 16379 x 163790 1.16379 26380\n"
    assert substitute_ports(text, ports) == "redis-cli -p 21001 x 163790 1.16379 21002\n"


def _page(tmp_path: Path, body: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(body, encoding="utf-8")
    return page


def test_docrun_parse_blocks_reads_info_strings(tmp_path: Path) -> None:
    page = _page(tmp_path, "x\n```sh timeout=5\necho hi\n```\n\n```text volatile\nhi\n```\n")
    blocks = parse_blocks(page)
    assert [(b.lang, b.options, b.text, b.line) for b in blocks] == [
        ("sh", ("timeout=5",), "echo hi\n", 2),
        ("text", ("volatile",), "hi\n", 6),
    ]
    assert blocks[0].option("timeout") == "5"


@pytest.mark.interop
def test_docrun_session_keeps_state_and_checks_output(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    page = _page(
        tmp_path,
        '```sh\ncd "$(mktemp -d)"\nX=16379\n```\n'
        '```sh\necho "port $X in $PWD"\n[ -t 1 ] && echo tty\n```\n'
        "```text\nport 16379 in /tmp/tmp.AAAAAAAAAA\ntty\n```\n"
        "```python\nprint('from python', 6 * 7)\n```\n"
        "```text\nfrom python 42\n```\n",
    )
    # The doc port was substituted: the output names the test's port, so the expected
    # block (substituted the same way) matches, and the session's cwd carried over.
    assert run_page(page, work) == []


@pytest.mark.interop
def test_docrun_reports_wrong_output_and_failed_commands(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    wrong = _page(tmp_path, "```sh\necho one\n```\n```text\ntwo\n```\n")
    problems = run_page(wrong, work)
    assert len(problems) == 1 and "differs" in problems[0]
    assert "-two" in problems[0] and "+one" in problems[0]
    failing = _page(tmp_path, "```sh\nfalse\necho after\n```\n")
    problems = run_page(failing, work)
    assert problems and "__DOCRUN_ERR__ 1 false" in problems[0]


@pytest.mark.interop
def test_docrun_block_deadline(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    page = _page(tmp_path, "```sh timeout=1\nsleep 20\n```\n")
    with pytest.raises(AssertionError, match="did not finish within 1 s"):
        run_page(page, work)


@pytest.mark.interop
def test_docrun_stops_processes_by_pid(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    page = _page(
        tmp_path,
        "```sh\nsleep 60 &\necho $! > job.txt\n"
        "sh -c 'echo $$ > sleeper.pid; exec sleep 60' >/dev/null 2>&1 &\n"
        "for i in $(seq 200); do [ -s sleeper.pid ] && break; sleep 0.1; done\n```\n",
    )
    assert run_page(page, work) == []
    pids = [int((work / name).read_text()) for name in ("job.txt", "sleeper.pid")]
    # Stopped by pid; a zombie waiting for init to reap it counts as stopped.
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still running: {pids}"
        time.sleep(0.05)


def test_docrun_matches_doc_port_or_test_port() -> None:
    ports = {26380: 21002}
    # Output that echoes a substituted argument, and fixed text quoting the doc port.
    assert matches("port 26380\n", "port 21002\n", (), ports)
    assert matches("--port 26380\n", "--port 26380\n", (), ports)
    assert not matches("port 26380\n", "port 21003\n", (), ports)
    # Sorted blocks are compared with the test's ports in place.
    assert matches("a 26380\nb 26381\n", "b 21004\na 21002\n", ("sorted",), {**ports, 26381: 21004})
    assert matches("pid=123 x\n", "pid=999 x\n", ())
