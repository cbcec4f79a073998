"""docs/claims.md: every promise of the README and the docs' headline claims beside the tests
that back it (issue 37). A row fails when its quote has left the doc it names (the doc
changed: the claim needs a look) or when a test it names no longer exists (found by AST, so
nothing is imported)."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = ROOT / "docs" / "claims.md"
#: The docs whose claims the table must cover (README all of them, the others their headlines).
COVERED = ("README.md", "docs/reliability.md", "docs/review-workspace.md", "docs/rule-packs.md")


def rows(text: str) -> list[tuple[int, list[str], list[str]]]:
    """(line number in the file, header, cells) of every table row under a header row."""
    out, header = [], None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if header is None:
            header = cells
        elif not set(line) <= set("|-: "):
            out.append((n, header, cells))
    return out


@cache
def _defined(path: Path) -> frozenset[str]:
    """`name` and `Class::name` of every function a test module defines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(f"{node.name}::{f.name}" for f in node.body
                         if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return frozenset(names)


def node_problem(node_id: str, root: Path) -> str | None:
    """Why `node_id` (path[::Class]::function[param]) names no test, or None."""
    path, _, rest = node_id.partition("::")
    file = root / path
    if not (path.startswith("tests/") and path.endswith(".py") and file.is_file()):
        return f"no test file {path}"
    name = re.sub(r"\[[^\]]*\]$", "", rest)
    if name and name not in _defined(file):
        return f"{path} defines no {name}"
    return None


def problems(text: str, root: Path = ROOT) -> list[str]:
    found = []
    for n, header, cells in rows(text):
        if len(cells) != len(header):
            found.append(f"claims.md:{n}: {len(cells)} cells for {len(header)} columns")
            continue
        row = dict(zip(header, cells))
        doc = root / row["where"]
        if not (row["where"].endswith(".md") and doc.is_file()):
            found.append(f"claims.md:{n}: {row['where']!r} is not a doc")
        elif not row["quote"] or row["quote"] not in doc.read_text(encoding="utf-8"):
            found.append(f"claims.md:{n}: {row['where']} no longer says {row['quote']!r}")
        if "tests" in row:
            ids = [t.strip() for t in row["tests"].split(", ") if t.strip()]
            found += [f"claims.md:{n}: {p}" for p in (node_problem(t, root) for t in ids or ["-"]) if p]
        elif not (root / row["measured by"]).is_file():
            found.append(f"claims.md:{n}: no script {row['measured by']}")
    return found


def test_every_claim_still_stands_in_its_doc_and_every_test_it_names_exists():
    text = CLAIMS.read_text(encoding="utf-8")
    assert problems(text) == []
    docs = {cells[1] for _, header, cells in rows(text) if header[:2] == ["claim", "where"]}
    assert set(COVERED) <= docs
    assert sum(1 for _, header, _ in rows(text) if "tests" in header) >= 60


def test_a_moved_quote_or_a_missing_test_is_reported(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def test_a():\n    pass\n\nclass TestB:\n    def test_c(self):\n        pass\n")
    (tmp_path / "DOC.md").write_text("first line\nthe tool is fast\n")
    table = ("| claim | where | quote | tests |\n|---|---|---|---|\n"
             "| fast | DOC.md | is fast | tests/test_x.py::test_a[p1], tests/test_x.py::TestB::test_c |\n"
             "| moved | DOC.md | is slow | tests/test_x.py::test_a |\n"
             "| gone | DOC.md | fast | tests/test_x.py::test_gone, tests/test_y.py::test_a, tests/test_x.py::test_c |\n"
             "| nowhere | NODOC.md | fast | tests/test_x.py |\n"
             "\n| claim | where | quote | measured by |\n|---|---|---|---|\n"
             "| speed | DOC.md | fast | bench/none.py |\n")
    assert problems(table, tmp_path) == [
        "claims.md:4: DOC.md no longer says 'is slow'",
        "claims.md:5: tests/test_x.py defines no test_gone",
        "claims.md:5: no test file tests/test_y.py",
        "claims.md:5: tests/test_x.py defines no test_c",
        "claims.md:6: 'NODOC.md' is not a doc",
        "claims.md:10: no script bench/none.py",
    ]
