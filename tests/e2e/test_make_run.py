"""Issue 35 item 5, must-show: `make run` on a fresh clone prints no traceback and no leak
report, and every line it prints ends with a newline (nothing glued to the next command).

`make run` itself (fixture make_run: a fresh HOME, so its model step converts the shared
checkpoint for the default engine, then `callqa run sample_audio/ --out out/` and `callqa
report out/`), real whisper; the session's sample_run starts from its transcripts.
"""

from __future__ import annotations

import re

import pytest

from flows.storage.store import ResultStore
from runs import SAMPLES


@pytest.mark.e2e
def test_make_run_on_a_fresh_clone_prints_no_traceback_or_leak_report(make_run):
    log = make_run["log"]
    assert make_run["returncode"] == 0, log[-4000:]
    for word in ("Traceback", "nanobind", "leaked"):
        assert word not in log, f"{word!r} in the output of make run:\n{log[-4000:]}"
    assert log.endswith("\n"), log[-500:]
    # the model step (not echoed: its lines say what it did) converted the checkpoint, where
    # the leak reports came from; each command make echoes starts a line of its own, so no
    # line of the step before it was left unfinished
    lines = log.splitlines()
    assert any(line.startswith("linked: ") for line in lines), log[-4000:]
    assert any(line.startswith("converted ") for line in lines), log[-4000:]
    for command in ("callqa run sample_audio/ --out out/", "callqa report out/"):
        echoed = [line for line in lines if command in line]
        assert echoed, f"make run did not run {command!r}:\n{log[-4000:]}"
        assert all(re.fullmatch(r"\S*/" + re.escape(command), line) for line in echoed), echoed
    # and it did its work: every sample call has a row (ok), the report has a page each
    rows = ResultStore(make_run["out"]).calls_by_id()
    stems = {p.stem for p in SAMPLES.glob("*.wav")} | {p.stem for p in SAMPLES.glob("*.mp3")}
    assert set(rows) == stems and all(r["status"] == "ok" for r in rows.values())
    assert "faster-whisper" in next(iter(rows.values()))["model_version"]  # the default engine
    pages = list((make_run["out"] / "report" / "calls").glob("*.html"))
    assert len(pages) == len(stems) and (make_run["out"] / "report" / "index.html").is_file()
