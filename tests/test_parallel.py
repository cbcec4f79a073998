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


class _Timeline:
    """Fake prepare/finish steps for flows.batch.parallel._in_order that log when each ran."""

    def __init__(self, audio_s: float = 60.0, bad: str = "") -> None:
        import threading
        import time

        self.events: list[tuple[str, str, str]] = []  # (step, call id, thread name)
        self.lock = threading.Lock()
        self.audio_s, self.bad, self.time = audio_s, bad, time

    def log(self, step: str, call_id: str) -> None:
        import threading

        with self.lock:
            self.events.append((step, call_id, threading.current_thread().name))

    def prepare(self, rec, cfg, pack):
        from flows.batch.pipeline import Prepared

        self.log("prepare", rec.call_id)
        p = Prepared(rec)
        if rec.call_id == self.bad:
            p.error = ValueError("unreadable")
        else:
            p.heard = type("Heard", (), {"audio": type("Audio", (), {"duration_s": self.audio_s})()})()
        return p

    def finish(self, p, cfg, pack, store=None):
        from flows.batch.pipeline import error_result

        self.log("finish-start", p.rec.call_id)
        self.time.sleep(0.2)  # whisper's turn: the helper prepares the next meanwhile
        self.log("finish-end", p.rec.call_id)
        return error_result(p.rec, p.error) if p.error else p.rec.call_id

    def order(self, step: str) -> list[str]:
        return [c for s, c, _ in self.events if s == step]

    def index(self, step: str, call_id: str) -> int:
        return self.events.index(next(e for e in self.events if e[:2] == (step, call_id)))


def _in_order_with(monkeypatch, timeline: _Timeline, engine: str = "faster", n: int = 4) -> list:
    from flows.batch import parallel
    from flows.batch.pipeline import PipelineConfig, Recording

    monkeypatch.setattr(parallel, "prepare_recording", timeline.prepare)
    monkeypatch.setattr(parallel, "finish_recording", timeline.finish)
    monkeypatch.setattr(parallel, "process_recording",
                        lambda rec, cfg, pack, store=None: timeline.finish(timeline.prepare(rec, cfg, pack), cfg, pack))
    monkeypatch.setattr(parallel, "prepare_analysis", lambda pack: timeline.log("prepare-analysis", ""))
    todo = [Recording(f"/calls/c{k}.wav", f"c{k}") for k in range(n)]
    return list(parallel._in_order(todo, PipelineConfig(out_dir="unused", engine=engine), None, store=None))


def test_the_next_call_is_prepared_while_this_one_is_finished(monkeypatch):
    t = _Timeline()
    results = _in_order_with(monkeypatch, t)
    assert results == ["c0", "c1", "c2", "c3"]  # in order, one each
    assert t.order("prepare") == t.order("finish-start") == ["c0", "c1", "c2", "c3"]
    for k in range(1, 4):  # call k's preparation began before call k-1's finish ended
        assert t.index("prepare", f"c{k}") < t.index("finish-end", f"c{k - 1}")
    assert {th for s, _, th in t.events if s == "prepare"} != {th for s, _, th in t.events if s == "finish-start"}
    # the analyzers' set-up ran, before any call was finished (no two threads building it)
    assert t.index("prepare-analysis", "") < t.index("finish-start", "c0")


def test_a_bad_recording_in_the_lookahead_gets_its_error_row_in_turn(monkeypatch):
    t = _Timeline(bad="c1")
    results = _in_order_with(monkeypatch, t)
    assert [r if isinstance(r, str) else (r.call_id, r.status, r.error) for r in results] == [
        "c0", ("c1", "error", "ValueError: unreadable"), "c2", "c3"]


def test_no_lookahead_beside_a_long_recording(monkeypatch):
    from flows.batch import parallel

    t = _Timeline(audio_s=parallel.LOOKAHEAD_MAX_S + 1)
    assert _in_order_with(monkeypatch, t) == ["c0", "c1", "c2", "c3"]
    for k in range(1, 4):  # only one recording's audio held at a time
        assert t.index("prepare", f"c{k}") > t.index("finish-end", f"c{k - 1}")


def test_no_lookahead_beside_a_torch_decoder(monkeypatch):
    """openai-whisper decodes on torch, whose thread count speech detection changes."""
    t = _Timeline()
    assert _in_order_with(monkeypatch, t, engine="openai") == ["c0", "c1", "c2", "c3"]
    for k in range(1, 4):
        assert t.index("prepare", f"c{k}") > t.index("finish-end", f"c{k - 1}")
    assert not t.order("prepare-analysis") and len({th for _, _, th in t.events}) == 1  # all in this thread
