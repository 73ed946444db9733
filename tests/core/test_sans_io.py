"""The core never touches the world (STYLE rule 1): walk its imports."""

from __future__ import annotations

import ast
import pathlib

import pysentinel.core

FORBIDDEN = {
    "trio",
    "socket",
    "os",
    "time",
    "asyncio",
    "subprocess",
    "select",
    "selectors",
    "threading",
    "signal",
}
CORE_DIR = pathlib.Path(pysentinel.core.__file__).parent


def _core_modules() -> list[pathlib.Path]:
    return sorted(CORE_DIR.rglob("*.py"))


def test_core_has_modules() -> None:
    assert len(_core_modules()) >= 5


def test_core_imports_nothing_that_does_io() -> None:
    offenders: list[str] = []
    for path in _core_modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
                if node.module == "random":
                    # `from random import Random` is the type; functions are global state.
                    bad = [a.name for a in node.names if a.name != "Random"]
                    if bad:
                        offenders.append(f"{path.name}: from random import {bad}")
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.name}: import {name}")
            if isinstance(node, ast.AsyncFunctionDef | ast.Await):
                offenders.append(f"{path.name}:{node.lineno}: async code")
    assert offenders == []


def test_core_uses_no_module_level_random() -> None:
    offenders: list[str] = []
    for path in _core_modules():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "random"
                and node.attr != "Random"
            ):
                offenders.append(f"{path.name}:{node.lineno}: random.{node.attr}")
    assert offenders == []
