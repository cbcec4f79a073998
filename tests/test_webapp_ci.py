"""Under CI a missing PostgreSQL fails the review workspace's PostgreSQL tests instead of
skipping them (tests/conftest.py: missing); elsewhere they skip with the reason. And the
wheel carries the workspace's templates and migrations."""

from __future__ import annotations

from test_ci_inputs import _check


def test_missing_postgresql_fails_under_ci(tmp_path):
    _check(tmp_path, ["tests/test_webapp_review.py::test_queue_filters_and_paging[postgresql]"],
           {"CALLQA_PG_BIN": str(tmp_path / "no-postgres")}, "PostgreSQL binaries not found")


def test_the_wheel_carries_the_workspace_templates_and_migrations(tmp_path):
    import shutil
    import subprocess
    import sys
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(root / name, src / name)
    for name in ("analyzers", "flows", "lexicons"):
        shutil.copytree(root / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    names = set(zipfile.ZipFile(next((tmp_path / "dist").glob("callqa-*.whl"))).namelist())
    assert {"flows/review/webapp/app.py", "flows/review/webapp/templates/review_call.html", "flows/review/webapp/templates/wstyle.css",
            "flows/review/webapp/migrations/env.py", "flows/review/webapp/migrations/versions/0001_review_workspace.py"} <= names
