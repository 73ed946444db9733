"""docs/architecture.md stays true to the code.

* The failover diagram (the ```` ```mermaid failover ```` block) equals the one the core
  generates from its transition table, and its arrows are exactly
  ``pysentinel.core.failover.TRANSITIONS``: change the table and this fails until the
  doc is regenerated (paste the output of ``state_diagram()``).
* The data-flow flowchart names modules that exist, and each arrow joins two modules
  where one imports the other.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from docrun import DOCS, REPO_ROOT, Block, parse_blocks

from pysentinel.core.failover import TRANSITIONS, state_diagram
from pysentinel.core.instance import FailoverState

PAGE = DOCS / "architecture.md"


def _mermaid(option: str | None) -> list[Block]:
    return [
        b
        for b in parse_blocks(PAGE)
        if b.lang == "mermaid" and (option is None or option in b.options)
    ]


def test_docs_architecture_failover_diagram_is_generated() -> None:
    (block,) = _mermaid("failover")
    assert block.text == state_diagram(), (
        "docs/architecture.md's failover diagram is stale; replace it with the output of "
        "pysentinel.core.failover.state_diagram():\n" + state_diagram()
    )


def test_docs_architecture_failover_diagram_matches_table() -> None:
    (block,) = _mermaid("failover")
    arrows = set()
    for line in block.text.splitlines():
        m = re.match(r"\s*(\w+) --> (\w+)", line)
        if m:
            arrows.add((FailoverState(m.group(1)), FailoverState(m.group(2))))
    assert arrows == set(TRANSITIONS)


def _module_file(name: str) -> Path:
    path = REPO_ROOT / (name.replace(".", "/") + ".py")
    return path if path.exists() else REPO_ROOT / name.replace(".", "/") / "__init__.py"


def _imports(path: Path) -> set[Path]:
    """Module files ``path`` imports (``import``, ``from``, ``importlib.import_module``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.add(node.args[0].value)
    return {f.resolve() for f in map(_module_file, names) if f.exists()}


def test_docs_architecture_flowchart_follows_imports() -> None:
    (block,) = [b for b in _mermaid(None) if b.text.startswith("flowchart")]
    nodes: dict[str, str] = {}
    for m in re.finditer(r"(\w+)\[\(?([^\]\)]+)\)?\]", block.text):
        nodes[m.group(1)] = m.group(2)
    modules = {key: REPO_ROOT / label for key, label in nodes.items() if label.endswith(".py")}
    assert len(modules) >= 8
    for key, path in modules.items():
        assert path.exists(), f"{nodes[key]} does not exist"
    edges = re.findall(r"(\w+)(?:\[[^\]]*\])? --> (\w+)", block.text)
    checked = 0
    for a, b in edges:
        if a in modules and b in modules:
            pa, pb = modules[a].resolve(), modules[b].resolve()
            assert pb in _imports(pa) or pa in _imports(pb), f"{nodes[a]} --> {nodes[b]}"
            checked += 1
    assert checked >= 8
