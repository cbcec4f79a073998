"""Several recordings at once on one machine (`--workers`, flows.batch.parallel)."""

from __future__ import annotations

import os

import pyarrow.dataset as ds
import pytest

from flows.batch.parallel import WorkerCrashed, imap_unordered, torch_threads_per_worker
from analyzers.model import RUN_VARYING_COLUMNS


def _square_or_die(n: int) -> int:
    if n == 3:
        os._exit(1)  # what the OOM killer or a crash in native code looks like to the pool
    if n == 5:
        raise ValueError("five")
    return n * n


def test_a_dying_worker_costs_only_its_own_item():
    results = dict(imap_unordered(_square_or_die, list(range(8)), workers=2))
    assert sorted(results) == list(range(8))
    assert isinstance(results[3], WorkerCrashed)
    assert isinstance(results[5], ValueError)
    assert {n: r for n, r in results.items() if n not in (3, 5)} == {n: n * n for n in (0, 1, 2, 4, 6, 7)}


def test_torch_threads_share_the_cores():
    cores = len(os.sched_getaffinity(0))
    assert torch_threads_per_worker(1) == cores
    assert torch_threads_per_worker(cores) == 1
    assert torch_threads_per_worker(cores * 4) == 1


def _table(out, name: str) -> list[dict]:
    rows = ds.dataset(out / name, format="parquet").to_table().to_pylist()
    return sorted(({k: v for k, v in r.items() if k not in RUN_VARYING_COLUMNS} for r in rows),
                  key=lambda r: repr(sorted(r.items())))


@pytest.mark.e2e
def test_run_with_two_workers_writes_the_sequential_rows(sample_run, tmp_path):
    """`callqa run --workers 2` over the sample calls and the bad files: the same rows as
    the sequential run, bad files included (error rows)."""
    from flows.cli import main

    out = tmp_path / "out"
    argv = ["run", str(sample_run["inputs"]), "--out", str(out), "--cache-dir", str(sample_run["cache"]),
            "--quiet", "--workers", "2"]
    assert main(argv) == 0
    for name in ("calls", "utterances", "findings", "scores"):
        assert _table(out, name) == _table(sample_run["out"], name), name

    assert main(["reprocess", "--out", str(out), "--cache-dir", str(sample_run["cache"]),
                 "--quiet", "--workers", "2"]) == 0
    for name in ("calls", "utterances", "findings", "scores"):
        assert _table(out, name) == _table(sample_run["out"], name), name


def test_workers_must_be_positive(capsys):
    from flows.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["run", "x.wav", "--out", "o", "--workers", "0"])
    assert exc.value.code == 2
    assert "must be 1 or more" in capsys.readouterr().err


@pytest.mark.e2e
def test_threads_sharing_one_model_transcribe_as_one_thread_does(model_path):
    """qa_batch's thread runner shares one whisper model between tasks. Whisper keeps its
    decoder cache in hooks on the shared layers, so unguarded concurrent decodes raised
    KeyError or changed the text; flows.speech.transcribe serialises them."""
    from concurrent.futures import ThreadPoolExecutor

    from conftest import SAMPLES
    from flows.speech.audio import load_call
    from flows.speech.transcribe import DecoderOptions, load_model, transcribe_speech

    opts = DecoderOptions(beam_size=None)
    model = load_model(model_path)
    jobs = []
    for name in ("call02_no_greeting_closing.wav", "call06_slow_agent.mp3"):
        audio = load_call(str(SAMPLES / name))
        channel = "agent" if audio.layout == "stereo" else "mixed"
        jobs.append((audio.channels[channel], [(0.0, 8.0)]))  # a few seconds keep it quick

    def words(job):
        return [w.text for w in transcribe_speech(model, job[0], job[1], opts)]

    alone = [words(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(words, jobs))
    assert all(alone) and together == alone
