"""The workspace keeps FastAPI's full-stack shape (issue 36): routes reach the database
only through queries/service (no SQL or Parquet in a route handler), sign-in and CSRF
come from dependencies (no hand-made check in a route), no module over 500 lines and no
function over 80."""

from __future__ import annotations

import ast
from pathlib import Path

WEBAPP = Path(__file__).resolve().parents[2] / "flows" / "review" / "webapp"


def _modules():
    return sorted(p for p in WEBAPP.rglob("*.py") if "migrations" not in p.parts)


def test_no_module_over_500_lines_and_no_function_over_80():
    for path in _modules():
        text = path.read_text(encoding="utf-8")
        assert text.count("\n") <= 500, path
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert node.end_lineno - node.lineno + 1 <= 80, (path, node.name)


def test_route_handlers_hold_no_sql_and_no_hand_made_auth_checks():
    for path in sorted((WEBAPP / "routes").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        imported = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
                    for a in n.names} | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not imported & {"pyarrow", "pyarrow.parquet", "sqlalchemy"}, path
        assert "db." not in text, path
        assert "csrf_ok" not in text or path.name == "login.py", path
        assert "sessions.read" not in text, path
