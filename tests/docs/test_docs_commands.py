"""docs/commands.md covers the whole command table of pysentinel.core.cmdtable.

Every top-level command and every SENTINEL subcommand has its own heading and is run by
some block of the page (the blocks themselves are run by test_docs_run.py); every
subcommand of ACL, CLIENT and COMMAND is at least named. A command added to the table
without docs fails here.
"""

from __future__ import annotations

import re

import pytest
from docrun import DOCS, is_run, parse_blocks

from pysentinel.core.cmdtable import COMMANDS

PAGE = DOCS / "commands.md"


def _headings() -> set[str]:
    return {
        m.group(1).strip()
        for m in re.finditer(r"^###\s+(.+)$", PAGE.read_text(encoding="utf-8"), re.MULTILINE)
    }


def _run_text() -> str:
    return "\n".join(b.text for b in parse_blocks(PAGE) if is_run(b)).lower()


TOP = [spec.fullname for spec in COMMANDS]
SENTINEL_SUBS = [
    sub.subname for spec in COMMANDS if spec.fullname == "sentinel" for sub in spec.subcommands
]
OTHER_SUBS = [
    (spec.fullname, sub.subname)
    for spec in COMMANDS
    if spec.fullname in ("acl", "client", "command")
    for sub in spec.subcommands
]


def test_docs_commands_table_is_complete() -> None:
    assert len(TOP) == 15 and len(SENTINEL_SUBS) == 21


@pytest.mark.parametrize("name", [n for n in TOP if n != "sentinel"])
def test_docs_commands_top_level_documented(name: str) -> None:
    assert name.upper() in _headings(), f"no '### {name.upper()}' heading"
    assert re.search(rf"\b{re.escape(name)}\b", _run_text()), f"no block runs {name}"


@pytest.mark.parametrize("sub", SENTINEL_SUBS)
def test_docs_commands_sentinel_subcommand_documented(sub: str) -> None:
    assert f"SENTINEL {sub.upper()}" in _headings(), f"no '### SENTINEL {sub.upper()}'"
    assert re.search(rf"sentinel {re.escape(sub)}\b", _run_text()), f"no block runs {sub}"


@pytest.mark.parametrize(("container", "sub"), OTHER_SUBS)
def test_docs_commands_subcommand_named_and_run(container: str, sub: str) -> None:
    text = PAGE.read_text(encoding="utf-8")
    section = text.split(f"### {container.upper()}\n", 1)[1].split("\n### ", 1)[0]
    assert f"`{sub.upper()}`" in section, f"{container} {sub} is not named"
    assert re.search(rf"\b{container} {re.escape(sub)}\b", _run_text()), (
        f"no block runs {container} {sub}"
    )
