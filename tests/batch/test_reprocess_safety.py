"""`reprocess` never destroys a good result (#16 item 2).

A call whose cached transcript is gone (cache cleaned, disk moved) keeps its rows; the
summary, stderr and exit status (4) name it and say why. Recordings carry their
transcripts, so no whisper runs.
"""

from __future__ import annotations

import shutil

import pytest

from runs import byo_inputs, run_cli, snapshot


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_call_without_its_cached_transcript_keeps_its_rows(tmp_path, workers):
    inputs, out, cache = tmp_path / "in", tmp_path / "out", tmp_path / "cache"
    calls = byo_inputs(inputs, copies=1)
    run = run_cli("run", str(inputs), "--out", str(out), "--cache-dir", str(cache), "--model", "base",
                  "--vad", "energy", "--quiet")
    assert run.returncode == 0, run.stderr
    before = snapshot(out)
    assert len(before["calls"]) == len(calls) and before["utterances"] and before["findings"]

    shutil.rmtree(cache)
    proc = run_cli("reprocess", "--out", str(out), "--cache-dir", str(cache), "--workers", workers, "--quiet")
    assert proc.returncode == 4, (proc.stdout, proc.stderr)
    assert f"0 ok, 0 errors, 0 already current, {len(calls)} not reprocessed (rows kept)" in proc.stdout
    for call in calls:
        assert f"callqa: {call.stem} not reprocessed (its rows are kept): no cached transcript" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(out) == before


def test_only_the_calls_that_cannot_be_reprocessed_are_left_as_they_were(tmp_path):
    inputs, out, cache = tmp_path / "in", tmp_path / "out", tmp_path / "cache"
    byo_inputs(inputs, copies=1)
    assert run_cli("run", str(inputs), "--out", str(out), "--cache-dir", str(cache), "--model", "base",
                   "--vad", "energy", "--quiet").returncode == 0
    from flows.storage.store import ResultStore

    rows = ResultStore(out).calls_by_id()
    lost = sorted(rows)[0]
    (cache / f"{rows[lost]['transcript_key']}.json").unlink()
    proc = run_cli("reprocess", "--out", str(out), "--cache-dir", str(cache), "--no-mask", "--quiet")
    assert proc.returncode == 4 and f"{lost} not reprocessed" in proc.stderr, proc.stderr
    assert f"{len(rows) - 1} ok, 0 errors" in proc.stdout
    after = ResultStore(out).calls_by_id()
    assert after[lost] == rows[lost]  # untouched, still masked as it was
    for call_id in set(rows) - {lost}:
        assert '"mask_pii":false' in after[call_id]["settings"]
