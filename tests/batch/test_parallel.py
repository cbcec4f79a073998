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

    def __init__(self, audio_s: float = 60.0, bad: str = "", prepare_s: float = 0.0) -> None:
        import threading
        import time

        self.events: list[tuple[str, str, str]] = []  # (step, call id, thread name)
        self.lock = threading.Lock()
        self.audio_s, self.bad, self.time, self.prepare_s = audio_s, bad, time, prepare_s

    def log(self, step: str, call_id: str) -> None:
        import threading

        with self.lock:
            self.events.append((step, call_id, threading.current_thread().name))

    def prepare(self, rec, plan, on_miss=None):
        from flows.batch.pipeline import Prepared

        self.log("prepare", rec.call_id)
        if on_miss is not None:
            on_miss()
        self.time.sleep(self.prepare_s)
        self.log("prepared", rec.call_id)
        p = Prepared(rec)
        if rec.call_id == self.bad:
            p.error = ValueError("unreadable")
        else:
            p.heard = type("Heard", (), {"audio": type("Audio", (), {"duration_s": self.audio_s})()})()
        return p

    def finish(self, p, plan, store=None, decode=None, write=True):
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
    from flows.batch.pipeline import PipelineConfig, Recording, RunPlan

    monkeypatch.setattr(parallel, "prepare_recording", timeline.prepare)
    monkeypatch.setattr(parallel, "finish_recording", timeline.finish)
    monkeypatch.setattr(parallel, "process_recording",
                        lambda rec, plan, store=None: timeline.finish(timeline.prepare(rec, plan), plan))
    monkeypatch.setattr(parallel, "prepare_analysis", lambda pack: timeline.log("prepare-analysis", ""))
    monkeypatch.setattr(RunPlan, "load_model", lambda self: timeline.log("load-model", self.model_ref))
    todo = [Recording(f"/calls/c{k}.wav", f"c{k}") for k in range(n)]
    store = type("Store", (), {"write": lambda self, result: None})()  # written as returned
    plan = RunPlan.for_model(PipelineConfig(out_dir="unused", engine=engine), "model")
    outcomes = list(parallel._in_order(todo, plan, store=store))
    assert [rec for rec, _ in outcomes] == todo  # each result with its recording
    return [result for _, result in outcomes]


def test_the_next_calls_are_prepared_while_these_are_finished(monkeypatch):
    t = _Timeline()
    results = _in_order_with(monkeypatch, t, n=5)
    assert results == ["c0", "c1", "c2", "c3", "c4"]  # in order, one each
    assert t.order("prepare") == ["c0", "c1", "c2", "c3", "c4"]  # one after another
    # finished two at a time: c0 and c1 side by side, then c2 and c3, then c4
    for a, b in (("c0", "c1"), ("c2", "c3")):
        assert t.index("finish-start", b) < t.index("finish-end", a)
    assert t.index("finish-start", "c2") > max(t.index("finish-end", "c0"), t.index("finish-end", "c1"))
    for k in (2, 4):  # the next group's preparation began before this group's finish ended
        assert t.index("prepare", f"c{k}") < t.index("finish-end", f"c{k - 1}")
    assert {th for s, _, th in t.events if s == "prepare"} != {th for s, _, th in t.events if s == "finish-start"}
    # the analyzers' set-up ran, before any call was finished (no two threads building it)
    assert t.index("prepare-analysis", "") < t.index("finish-start", "c0")
    # the model was loaded once, as the first recording missed the cache, in a helper
    assert t.order("load-model") == ["model"]
    assert t.index("prepare", "c0") < t.index("load-model", "model")


def test_a_call_is_finished_while_the_next_of_its_group_is_prepared(monkeypatch):
    t = _Timeline(prepare_s=0.3)
    assert _in_order_with(monkeypatch, t) == ["c0", "c1", "c2", "c3"]
    for a, b in (("c0", "c1"), ("c2", "c3")):
        assert t.index("finish-start", a) < t.index("prepared", b)


def test_a_bad_recording_in_the_lookahead_gets_its_error_row_in_turn(monkeypatch):
    t = _Timeline(bad="c1")
    results = _in_order_with(monkeypatch, t)
    assert [r if isinstance(r, str) else (r.call_id, r.status, r.error) for r in results] == [
        "c0", ("c1", "error", "ValueError: unreadable"), "c2", "c3"]


def test_no_lookahead_beside_a_long_recording(monkeypatch):
    from flows.batch import parallel

    t = _Timeline(audio_s=parallel.LOOKAHEAD_MAX_S / 2 + 1)  # a group of two is over the limit
    assert _in_order_with(monkeypatch, t) == ["c0", "c1", "c2", "c3"]
    # the second group is prepared only once the first is finished
    assert t.index("prepare", "c2") > max(t.index("finish-end", "c0"), t.index("finish-end", "c1"))


def test_no_lookahead_beside_a_torch_decoder(monkeypatch):
    """openai-whisper decodes on torch, whose thread count speech detection changes."""
    t = _Timeline()
    assert _in_order_with(monkeypatch, t, engine="openai") == ["c0", "c1", "c2", "c3"]
    for k in range(1, 4):
        assert t.index("prepare", f"c{k}") > t.index("finish-end", f"c{k - 1}")
    assert not t.order("prepare-analysis") and len({th for _, _, th in t.events}) == 1  # all in this thread


def test_job_lanes_balance_speech_and_depend_on_the_jobs_only():
    import numpy as np

    from flows.speech.transcribe import SpeechJob, job_lanes

    def job(speech_s: float) -> SpeechJob:
        return SpeechJob(np.zeros(16000, np.float32), [(0.0, speech_s)])

    # two calls' passes (agent, customer, agent, customer): each agent pass gets a lane
    assert job_lanes([job(44), job(22), job(34), job(18)], 2) == [0, 1, 1, 0]
    assert job_lanes([job(5)] * 5, 2) == [0, 1, 0, 1, 0]  # equal: job i on lane i mod 2
    assert job_lanes([job(10), job(30)], 2) == [1, 0]
    assert job_lanes([job(10), job(30)], 1) == [0, 0]


class _FakeAsr:
    """An AsrGroup's model loader and flows.batch.asr_group's transcribe_job, recording
    what each lane decoded and when."""

    def __init__(self, monkeypatch, fail_job: float | None = None, fail_load: bool = False) -> None:
        import threading

        from flows.batch import asr_group

        self.decoded: list[tuple[int, float, float]] = []  # (lane, speech s, time started)
        self.fail_job, self.fail_load = fail_job, fail_load
        self.lock = threading.Lock()
        monkeypatch.setattr(asr_group, "transcribe_job", self.transcribe)

    def load(self):
        from flows.speech.transcribe import ModelLoadError

        if self.fail_load:
            raise ModelLoadError("no model")
        return type("Model", (), {"lanes": 2})()

    def transcribe(self, model, job, decoder, gating, lane):
        import time

        speech_s = job.speech_spans_s[0][1]
        with self.lock:
            self.decoded.append((lane, speech_s, time.perf_counter()))
        time.sleep(0.05)
        if speech_s == self.fail_job:
            raise RuntimeError("lane broke")
        return [f"w{speech_s:g}"]

    def lane(self, lane: int) -> list[float]:
        return [speech_s for k, speech_s, _ in self.decoded if k == lane]


def _group_members(monkeypatch, passes: list[list[float] | None], delays_s: list[float] | None = None, **fake):
    """Run an AsrGroup with one thread per call; `passes[i]`: call i's passes' speech
    seconds, or None for a call that needs no whisper; `delays_s[i]`: how long call i is
    prepared before it hands its passes in. (results, arrival times, fake)."""
    import time

    import numpy as np

    from flows.batch.asr_group import AsrGroup
    from flows.speech.transcribe import SpeechJob
    from flows.speech.transcript import SpeechOptions

    asr = _FakeAsr(monkeypatch, **fake)
    group = AsrGroup(len(passes), SpeechOptions(), asr.load)
    arrived = [0.0] * len(passes)

    def member(i: int):
        m = group.member(i)
        try:
            time.sleep((delays_s or [0.0] * len(passes))[i])
            arrived[i] = time.perf_counter()
            if passes[i] is None:
                return None
            return m([SpeechJob(np.zeros(16000, np.float32), [(0.0, s)]) for s in passes[i]])
        except Exception as exc:  # noqa: BLE001
            return exc
        finally:
            m.done()

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(passes)) as pool:
        results = list(pool.map(member, range(len(passes))))
    return results, arrived, asr


def test_an_asr_group_decodes_its_calls_passes_over_the_lanes(monkeypatch):
    results, _, asr = _group_members(monkeypatch, [[3.0, 1.0], None, [2.0, 2.5]])
    # call 0: 3 s to lane 0, 1 s to lane 1; call 2 (planned after it): 2.5 s to the lane
    # with less speech (1), then 2 s to lane 0 (3 s against 3.5 s)
    assert asr.lane(0) == [3.0, 2.0] and asr.lane(1) == [1.0, 2.5]
    (words0, share0), none, (words2, share2) = results
    assert none is None
    assert words0 == [["w3"], ["w1"]] and words2 == [["w2"], ["w2.5"]]
    assert share2 == pytest.approx(share0 * 4.5 / 4.0) and share0 > 0.04  # ASR time, shared by speech seconds


def test_the_first_call_is_decoded_while_the_next_is_prepared_and_the_plan_ignores_timing(monkeypatch):
    results, arrived, asr = _group_members(monkeypatch, [[3.0, 1.0], [2.0, 2.5]], delays_s=[0.0, 0.3])
    first = min(t for _, _, t in asr.decoded)
    assert first < arrived[1] - 0.2  # call 0's passes began long before call 1 came in
    plan = (asr.lane(0), asr.lane(1))
    results2, _, asr2 = _group_members(monkeypatch, [[3.0, 1.0], [2.0, 2.5]], delays_s=[0.3, 0.0])
    assert (asr2.lane(0), asr2.lane(1)) == plan == ([3.0, 2.0], [1.0, 2.5])  # call 1 came first: same plan
    assert [r[0] for r in results] == [r[0] for r in results2]


def test_a_failing_pass_fails_only_its_call_and_a_model_failure_all(monkeypatch):
    from flows.speech.transcribe import ModelLoadError

    results, _, _ = _group_members(monkeypatch, [[3.0], [2.0, 1.0]], fail_job=1.0)
    assert results[0][0] == [["w3"]]
    assert isinstance(results[1], RuntimeError) and "lane broke" in str(results[1])
    results, _, _ = _group_members(monkeypatch, [[3.0], [2.0]], fail_load=True)
    assert all(isinstance(r, ModelLoadError) for r in results)
    results, _, asr = _group_members(monkeypatch, [None, None])
    assert results == [None, None] and asr.decoded == []  # nothing to hear: no model loaded


def test_the_same_audio_twice_in_a_group_is_heard_once(monkeypatch):
    """Two copies of one recording prepared together (both missed the cache): the second
    is finished after the first, on its own, so that it reads the first's transcript from
    the cache."""
    import time
    from concurrent.futures import Future

    from flows.batch import parallel
    from flows.batch.pipeline import PipelineConfig, Prepared, Recording, RunPlan

    seen = []

    def finish(p, plan, decode=None, write=True):
        seen.append((p.rec.call_id, "start", decode))
        time.sleep(0.1)
        seen.append((p.rec.call_id, "end", decode))
        return p.rec.call_id

    def ready(p: Prepared) -> Future:
        f = Future()
        f.set_result(p)
        return f

    monkeypatch.setattr(parallel, "finish_recording", finish)
    cfg = RunPlan.for_model(PipelineConfig(out_dir="unused", engine="faster"), "model")
    copies = [ready(Prepared(Recording(f"/calls/{name}.wav", name), key="same-audio")) for name in ("a", "b")]
    assert parallel._finish_group(copies, cfg) == ["a", "b"]
    assert [(call, step) for call, step, _ in seen] == [("a", "start"), ("a", "end"), ("b", "start"), ("b", "end")]
    assert seen[2][2] is None  # the copy decodes nothing with the group
    seen.clear()
    pair = [ready(Prepared(Recording(f"/calls/{name}.wav", name), key=name)) for name in ("a", "b")]
    assert parallel._finish_group(pair, cfg) == ["a", "b"]
    assert [(call, step) for call, step, _ in seen][:2] in ([("a", "start"), ("b", "start")], [("b", "start"), ("a", "start")])
    assert all(decode is not None for _, _, decode in seen)


@pytest.mark.e2e
def test_two_copies_of_a_recording_in_one_run_are_transcribed_once(fw_model_path, tmp_path):
    """`callqa run` (faster engine, calls finished in pairs) over two copies of one real
    clip: both rows ok with the same words, and the second took the first's transcript
    from the cache (no ASR time of its own)."""
    import shutil

    from flows.cli import main
    from tests.conftest import REAL_CLIPS, need_file

    clip = need_file(REAL_CLIPS / "funasr" / "asr_example.wav", "../shared/audio/real")
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("copy1", "copy2"):
        shutil.copy(clip, inputs / f"{name}.wav")
    out = tmp_path / "out"
    assert main(["run", str(inputs), "--out", str(out), "--model", fw_model_path, "--engine", "faster",
                 "--quiet", "--no-report"]) == 0
    calls = {r["call_id"]: r for r in ds.dataset(out / "calls", format="parquet").to_table().to_pylist()}
    assert [calls[c]["status"] for c in ("copy1", "copy2")] == ["ok", "ok"]
    assert calls["copy1"]["asr_s"] and calls["copy2"]["asr_s"] is None
    texts = {c: [r["text"] for r in ds.dataset(out / "utterances", format="parquet").to_table().to_pylist()
                 if r["call_id"] == c] for c in ("copy1", "copy2")}
    assert texts["copy1"] and texts["copy1"] == texts["copy2"]
