"""Fixtures of the reliability tests (issue 8).

The process tests reuse the interop harness (tests/interop/harness.py, read-only) for
loopback processes; the namespace tests use :mod:`rel_netns`. Helper modules in this
folder are named ``rel_*`` so that they never clash with other test folders' modules
(the test tree has no packages).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
for _path in (_HERE, _HERE.parent / "interop"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from harness import Interop, interop_env  # noqa: E402


@pytest.fixture
def procs_env(tmp_path: Path) -> Iterator[Interop]:
    """Loopback processes through the interop harness; all stopped by pid at teardown."""
    with interop_env(tmp_path) as env:
        yield env
