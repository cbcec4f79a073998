"""Every route leaves the same output folder (issue 35 items 3 and 5).

After a `callqa run`, a `callqa reprocess`, the Prefect flows `qa_batch` (threads and a
local dask cluster) and `qa_reprocess`, OUT/report/ is rewritten and OUT/last-run.json
names a new run; the review workspace takes in the new calls on its next page. The dask
route's first run on a fresh Prefect home prints no traceback: its workers report to the
flow's one temporary server, and Prefect's telemetry is off. The recordings carry their
transcripts (runs.byo_inputs): no whisper runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from flows.storage.store import LAST_RUN_FILE, ResultStore
from runs import ROOT, byo_inputs, run_cli

#: No model is loaded for supplied transcripts; a name that needs no file.
MODEL = ("--model", "base", "--engine", "openai")
STALE = "<!-- stale: written before the route ran -->"


@pytest.fixture(scope="module", autouse=True)
def harness():
    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="module")
def base_output(tmp_path_factory):
    """A CLI run over one copy of the three stereo calls, then `callqa report`: (inputs, out)."""
    base = tmp_path_factory.mktemp("routes")
    inputs, out = base / "in", base / "out"
    byo_inputs(inputs, copies=1)
    proc = run_cli("run", str(inputs), "--out", str(out), *MODEL, "--quiet")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("report", str(out))
    assert proc.returncode == 0, proc.stderr
    return inputs, out


def _copy(base_output, tmp_path: Path) -> tuple[Path, Path, dict]:
    """The base output (and its inputs, at new paths, plus a second copy of each call) with a
    stale report index; returns (inputs, out, last-run record before the route)."""
    inputs, out = base_output
    new_in, new_out = tmp_path / "in", tmp_path / "out"
    byo_inputs(new_in, copies=2)  # *_0 as the base run had, *_1 new
    shutil.copytree(out, new_out)
    index = new_out / "report" / "index.html"
    index.write_text(index.read_text(encoding="utf-8") + STALE, encoding="utf-8")
    return new_in, new_out, json.loads((new_out / LAST_RUN_FILE).read_text(encoding="utf-8"))


def _flow_dask_subprocess(inputs: Path, out: Path, home: Path) -> subprocess.CompletedProcess:
    """qa_batch on a local dask cluster of two workers, in a process of its own with a fresh
    Prefect home and Prefect's defaults (no analytics setting): a first run as a user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PYTHONPATH=str(ROOT),
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")
    code = ("from flows.flow import qa_batch\n"
            f"print(qa_batch([{str(inputs)!r}], {str(out)!r}, runner='dask', max_workers=2))\n")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)


def _route(name: str, inputs: Path, out: Path, tmp_path: Path) -> str:
    """Run `name` over the folder; returns what it printed (subprocess routes)."""
    from flows.flow import qa_batch, qa_reprocess

    if name == "cli-run":
        proc = run_cli("run", str(inputs), "--out", str(out), "--quiet")
    elif name == "cli-reprocess":
        proc = run_cli("reprocess", "--out", str(out), "--quiet")
    elif name == "flow-dask":
        proc = _flow_dask_subprocess(inputs, out, tmp_path / "prefect-home")
    elif name == "flow-batch":
        return str(qa_batch([str(inputs)], str(out)))
    else:
        return str(qa_reprocess(str(out)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


#: route: (the record's kind, calls it processed: a run all six, the three base calls being at new
#: paths (moved) and three new; a reprocess the three calls the folder has)
ROUTES = {"cli-run": ("run", 6), "cli-reprocess": ("reprocess", 3), "flow-batch": ("run", 6),
          "flow-reprocess": ("reprocess", 3), "flow-dask": ("run", 6)}


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_rewrites_the_report_and_records_a_new_run(base_output, tmp_path, route):
    inputs, out, before = _copy(base_output, tmp_path)
    printed = _route(route, inputs, out, tmp_path)
    kind, calls = ROUTES[route]
    index = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert STALE not in index, f"{route} left the report as it was:\n{printed[-2000:]}"
    ids = ResultStore(out).calls_by_id()
    total = 6 if kind == "run" else 3  # a run adds the *_1 copies
    assert len(ids) == total and all(call_id in index for call_id in ids)  # every call listed
    assert len(list((out / "report" / "calls").glob("*.html"))) == total
    after = json.loads((out / LAST_RUN_FILE).read_text(encoding="utf-8"))
    assert after["run_id"] != before["run_id"] and after["kind"] == kind
    assert after["ok"] == calls and after["errors"] == 0 and after["finished_at"] >= after["started_at"]
    if route == "flow-dask":  # issue 35 item 5: a first dask run prints no foreign traceback
        assert "Traceback" not in printed and "database is locked" not in printed, printed[-3000:]
        assert printed.count("Starting temporary server") == 1, printed[-3000:]  # the workers share it


def test_the_workspace_shows_the_new_calls_after_a_prefect_run(base_output, tmp_path):
    import sqlalchemy as sa
    from fastapi.testclient import TestClient

    from flows.flow import qa_batch
    from flows.review.webapp import db
    from flows.review.webapp.main import create_app
    from webapp_support import add_users, sign_in

    inputs, out, _ = _copy(base_output, tmp_path)
    new = [f"{p.stem}" for p in sorted(inputs.glob("*_1.wav"))]
    app = create_app(out, None)
    try:
        add_users(app.state.engine)
        rita = TestClient(app)
        assert sign_in(rita, "rita").status_code == 200
        assert rita.get("/calls/call01_compliant_0").status_code == 200
        assert len(new) == 3 and all(rita.get(f"/calls/{c}").status_code == 404 for c in new)
        assert qa_batch([str(inputs)], str(out))["ok"] == 6
        pages = {c: rita.get(f"/calls/{c}") for c in new}  # the page's own look takes them in
        assert all(r.status_code == 200 and c in r.text for c, r in pages.items())
        with app.state.engine.connect() as conn:
            taken = dict(conn.execute(sa.select(db.calls.c.call_id, db.calls.c.processed_at)).all())
        assert taken == {c: r["processed_at"] for c, r in ResultStore(out).calls_by_id().items()}
    finally:
        app.state.engine.dispose()


def test_a_new_run_record_alone_makes_the_workspace_look_again(base_output, tmp_path):
    """Where the calls/ folder's time stamp does not move (coarse or cached on a network
    file system), the run's record still does."""
    from flows.review.webapp import db
    from flows.review.webapp.ingest import OutputWatch, ingest

    inputs, out, _ = _copy(base_output, tmp_path)
    engine = db.make_engine(f"sqlite:///{tmp_path / 'review.db'}")
    try:
        db.upgrade(engine)
        ingest(engine, out)
        watch = OutputWatch(out)
        watch.mark()
        assert watch.refresh(engine) is None  # nothing changed: nothing read
        stamp = (out / "calls").stat()
        proc = run_cli("run", str(inputs), "--out", str(out), "--quiet", "--no-report")
        assert proc.returncode == 0, proc.stderr
        os.utime(out / "calls", ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # the folder looks unchanged
        taken = watch.refresh(engine)
        assert taken is not None and taken.calls_taken == 6 and taken.calls_seen == 6
    finally:
        engine.dispose()
