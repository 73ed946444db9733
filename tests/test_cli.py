"""The ``pysentinel`` command line, in-process (``main([...])``) and as a subprocess."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pysentinel import __version__
from pysentinel.__main__ import main

GOOD = (
    "port 26390\n"
    "sentinel monitor mymaster 127.0.0.1 6379 2\n"
    "sentinel known-replica mymaster 127.0.0.1 6380\n"
    "sentinel known-sentinel mymaster 127.0.0.1 26380 " + "b" * 40 + "\n"
)
LOG_LINE = re.compile(r"^\d+:X \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} # ")


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pysentinel", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    expected = f"pysentinel {__version__} (redis-sentinel 7.0.15 compatible)\n"
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == expected
    done = _run("--version")
    assert (done.returncode, done.stdout) == (0, expected)


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Usage: pysentinel FILE")
    assert "pysentinel check FILE" in out
    assert _run("--help").stdout == out


def test_cli_check_describes_masters(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sentinel.conf"
    path.write_text(GOOD)
    assert main(["check", str(path), "--sentinel"]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"{path}: OK, port 26390, 1 master(s)\n"
        "master mymaster 127.0.0.1:6379 quorum 2\n"
        "  replica 127.0.0.1:6380\n"
        f"  sentinel 127.0.0.1:26380 {'b' * 40}\n"
    )
    done = _run("check", "sentinel.conf", "--port", "1", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.startswith(f"{path}: OK, port 1, 1 master(s)\n")


def test_cli_bad_config_prints_fatal_banner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sentinel.conf"
    path.write_text("port 26390\nsentinel monitor m 127.0.0.1 6379 0\n")
    banner = (
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
        "Reading the configuration file, at line 2\n"
        ">>> 'sentinel monitor m 127.0.0.1 6379 0'\n"
        "Quorum must be 1 or greater.\n"
    )
    for argv in (["check", str(path)], [str(path)], ["--config", str(path)]):
        assert main(argv) == 1
        assert capsys.readouterr().err == banner
    done = _run(str(path), "--sentinel")
    assert (done.returncode, done.stderr) == (1, banner)
    assert "Traceback" not in done.stdout + done.stderr


def test_cli_bad_override_line_number(tmp_path: Path) -> None:
    path = tmp_path / "sentinel.conf"
    path.write_text("port 1\n")
    done = _run(str(path), "--port", "abc")
    assert done.returncode == 1
    assert "at line 3\n>>> 'port \"abc\"'\nargument couldn't be parsed into an integer\n" in (
        done.stderr
    )


def test_cli_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.conf"
    done = _run(str(missing))
    assert done.returncode == 1
    assert LOG_LINE.match(done.stdout)
    assert done.stdout.endswith(
        f"# Fatal error, can't open config file '{missing}': No such file or directory\n"
    )
    # A relative path is reported absolute.
    done = _run("nope.conf", cwd=tmp_path)
    assert f"'{missing}'" in done.stdout


def test_cli_no_config_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "26390"]) == 1
    out = capsys.readouterr().out
    assert LOG_LINE.match(out)
    assert out.endswith("# Sentinel needs config file on disk to save state. Exiting...\n")
    done = _run()
    assert done.returncode == 1
    assert done.stdout.endswith("Sentinel needs config file on disk to save state. Exiting...\n")


def test_cli_config_not_writable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sentinel.conf"
    path.write_text(GOOD)
    path.chmod(0o444)
    if os.geteuid() == 0:
        # Root passes access(W_OK) on a 0444 file: answer as the kernel would for
        # any other user.
        real_access = os.access

        def access(p: str, mode: int) -> bool:
            if p == str(path) and mode == os.W_OK:
                return False
            return real_access(p, mode)

        monkeypatch.setattr(os, "access", access)
    assert main([str(path)]) == 1
    assert capsys.readouterr().out.endswith(
        f"# Sentinel config file {path} is not writable: Permission denied. Exiting...\n"
    )


def test_cli_hands_off_to_runtime_or_says_it_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sentinel.conf"
    path.write_text(GOOD)
    if importlib.util.find_spec("pysentinel.runtime.driver") is None:
        assert main([str(path)]) == 1
        assert capsys.readouterr().err == (
            "pysentinel: the runtime is not available in this build; cannot monitor\n"
        )
        return
    # The runtime exists: check what main() hands it, without starting a server.
    from pysentinel.runtime import driver

    calls: list[tuple[object, str]] = []

    def fake_run(config: object, config_path: str) -> int:
        calls.append((config, config_path))
        return 7

    monkeypatch.setattr(driver, "run_sentinel", fake_run)
    monkeypatch.chdir(tmp_path)
    assert main(["sentinel.conf", "--port", "26391", "--sentinel"]) == 7
    ((config, config_path),) = calls
    assert config_path == str(path)
    assert getattr(config, "port") == 26391  # noqa: B009
