"""Run the docs: every sh/python block of every page, output compared with its text block.

Each page runs in its own bash session in a temporary directory (docrun.py; the rules
are in docs/README.md). A page that breaks — a command that fails, output that no longer
matches, a wait that does not end — fails its test with the block's location.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from docrun import FOREIGN_PAGES, doc_pages, is_run, parse_blocks, run_page

PROGRAMS = ("redis-server", "redis-cli", "redis-sentinel", "pysentinel", "python3")


def runnable_pages() -> list[Path]:
    return [
        p
        for p in doc_pages()
        if p.name not in FOREIGN_PAGES and any(is_run(b) for b in parse_blocks(p))
    ]


@pytest.mark.interop
@pytest.mark.parametrize("page", runnable_pages(), ids=lambda p: p.name)
def test_docs_page_runs(page: Path, tmp_path: Path) -> None:
    missing = [p for p in PROGRAMS if shutil.which(p) is None]
    assert not missing, (
        f"the docs need {missing} on PATH (Debian: redis-server redis-sentinel redis-tools)"
    )
    problems = run_page(page, tmp_path)
    assert not problems, "\n".join(problems)
