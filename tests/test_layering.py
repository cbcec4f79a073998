"""The import contracts of .importlinter hold: analyzers and lexicons import nothing from
flows, flows is layered by concern (entry points, batch and review, speech and storage),
speech imports no rule module, the rule pack and the rules sit below batch, and no package
of flows has an import cycle."""

from __future__ import annotations

import ast
import configparser
import subprocess
import sys
from pathlib import Path

from conftest import need_file

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint = need_file(Path(sys.executable).parent / "lint-imports", "pip install -e '.[test]' (import-linter)")
    run = subprocess.run([str(lint), str(ROOT / ".importlinter")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    names = [config[s]["name"] for s in config.sections() if s.startswith("importlinter:contract:")]
    assert {"speech imports no rule module (analyzers' rules, the rule pack)",
            "rule pack and rules below batch: flows.batch > lexicons > analyzers.rules"} <= set(names)
    assert "BROKEN" not in run.stdout
    assert [name for name in names if f"{name} KEPT" not in run.stdout] == [], run.stdout[-3000:]


def _imports(path: Path) -> set[str]:
    """Top names of the modules a Python file imports (anywhere in it, functions included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_tests_of_tools_import_tools():
    """Product tests stand on the product: what they need of tools/ lives in analyzers/ or
    in tests' own helpers; tests/tools/ tests the tools themselves."""
    files = [p for p in (ROOT / "tests").rglob("*.py") if "tools" not in p.relative_to(ROOT / "tests").parts[:-1]]
    assert len(files) > 50
    offenders = sorted(str(p.relative_to(ROOT)) for p in files if "tools" in _imports(p))
    assert offenders == []
    assert "tools" in _imports(ROOT / "tests" / "tools" / "test_make_diarization_set.py")  # the walk sees imports
