"""The code stays readable in pieces: no module over 500 lines, no function over 80
(outside tests/, which holds fixtures rather than the product; tools/ and bench/ are held to
it too, since QA engineers read and change them)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("analyzers", "flows", "lexicons", "bench", "tools")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules():
    for pkg in PACKAGES:
        yield from sorted((ROOT / pkg).rglob("*.py"))


def _long_functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                yield f"{path.relative_to(ROOT)}:{node.lineno} {node.name}() {lines} lines"


def test_the_checked_packages_exist():
    assert all((ROOT / pkg).is_dir() for pkg in PACKAGES)
    assert sum(1 for _ in _modules()) > 50


def test_no_module_over_500_lines():
    long = [f"{p.relative_to(ROOT)} {n} lines" for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert not long, "modules over 500 lines:\n" + "\n".join(long)


def test_no_function_over_80_lines():
    long = [line for p in _modules() for line in _long_functions(p)]
    assert not long, "functions over 80 lines:\n" + "\n".join(long)
