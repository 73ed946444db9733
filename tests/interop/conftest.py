"""Fixtures of the interop tests (the process harness lives in harness.py)."""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Interop, interop_env


@pytest.fixture
def interop(tmp_path: Path) -> Iterator[Interop]:
    """Start processes through this; every one is stopped by pid at teardown."""
    with interop_env(tmp_path) as env:
        yield env


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure, attach the tail of every process's log to the report."""
    report = yield
    env = getattr(item, "funcargs", {}).get("interop")
    if report.failed and isinstance(env, Interop):
        report.sections.append(("interop process logs", env.describe()))
    return report
