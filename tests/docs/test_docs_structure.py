"""Every fenced block of docs/ is of a kind the docs test knows how to check.

No process is started here: runnable blocks are run by test_docs_run.py, this file
checks the blocks nothing runs (config files, admin commands) and the page layout rules
of docs/README.md.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from docrun import (
    FOREIGN_PAGES,
    KNOWN_LANGS,
    RUNNABLE,
    Block,
    check_root_block,
    doc_pages,
    is_run,
    parse_blocks,
)

from pysentinel.__main__ import main as pysentinel_main


def own_pages() -> list[Path]:
    return [p for p in doc_pages() if p.name not in FOREIGN_PAGES]


def all_blocks() -> list[Block]:
    return [b for page in own_pages() for b in parse_blocks(page)]


def test_docs_pages_exist() -> None:
    names = {p.name for p in own_pages()}
    assert {
        "README.md",
        "quickstart.md",
        "configuration.md",
        "commands.md",
        "architecture.md",
        "operations.md",
    } <= names


@pytest.mark.parametrize("block", all_blocks(), ids=lambda b: b.where)
def test_docs_block_kind_known(block: Block) -> None:
    assert block.lang in KNOWN_LANGS, f"{block.where}: unknown fence {block.lang!r}"


def test_docs_text_blocks_follow_a_runnable_block() -> None:
    for page in own_pages():
        previous: Block | None = None
        for block in parse_blocks(page):
            if block.lang == "text":
                assert previous is not None and is_run(previous), (
                    f"{block.where}: a text block must be the output of the sh/python "
                    "block right before it"
                )
            previous = block


@pytest.mark.parametrize(
    "block",
    [b for b in all_blocks() if b.lang == "sh" and "root" in b.options],
    ids=lambda b: b.where,
)
def test_docs_root_blocks_are_valid(block: Block) -> None:
    assert check_root_block(block) == []


@pytest.mark.parametrize(
    "block", [b for b in all_blocks() if b.lang == "conf"], ids=lambda b: b.where
)
def test_docs_conf_blocks_load(block: Block, tmp_path: Path) -> None:
    """A config shown in the docs is accepted by ``pysentinel check``."""
    conf = tmp_path / "sentinel.conf"
    conf.write_text(block.text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = pysentinel_main(["check", str(conf)])
    assert status == 0, f"{block.where}:\n{out.getvalue()}{err.getvalue()}"


def test_docs_every_page_has_a_runnable_or_checked_block() -> None:
    for page in own_pages():
        if page.name in ("README.md",):
            continue
        kinds = {b.lang for b in parse_blocks(page)}
        assert kinds & {*RUNNABLE, "conf", "ini", "mermaid"}, page.name
