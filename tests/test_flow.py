"""The Prefect flows in Prefect's local ephemeral mode (no server configured)."""

from __future__ import annotations

import pyarrow.dataset as ds
import pytest
from prefect.testing.utilities import prefect_test_harness

from flows.flow import qa_batch, qa_reprocess

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", autouse=True)
def harness():
    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_batch_flow_processes_good_and_bad_recordings(sample_run, tmp_path):
    good = sample_run["inputs"] / "call01_compliant.wav"
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEfmt garbage")
    out = tmp_path / "out"
    summary = qa_batch([str(good), str(bad)], str(out), max_workers=2, cache_dir=str(sample_run["cache"]))
    assert summary["ok"] == 1 and summary["errors"] == 1
    calls = {r["call_id"]: r for r in ds.dataset(out / "calls", format="parquet").to_table().to_pylist()}
    assert calls["call01_compliant"]["status"] == "ok"
    assert calls["broken"]["status"] == "error" and "broken.wav" in calls["broken"]["error"]

    again = qa_batch([str(good), str(bad)], str(out), cache_dir=str(sample_run["cache"]))
    assert again["skipped"] == 1 and again["errors"] == 1  # error rows are retried each night

    redone = qa_reprocess(str(out), cache_dir=str(sample_run["cache"]))
    assert redone["ok"] == 1
