"""The import contracts of .importlinter hold: analyzers and lexicons import nothing from
flows, and the modules of flows import each other without cycles (issue 19 item 4)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import need_file

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept():
    lint = need_file(Path(sys.executable).parent / "lint-imports", "pip install -e '.[test]' (import-linter)")
    run = subprocess.run([str(lint), "--config", str(ROOT / ".importlinter")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "BROKEN" not in run.stdout and run.stdout.count("KEPT") == 3
