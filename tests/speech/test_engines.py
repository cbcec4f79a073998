"""The faster-whisper engine (issue #7 item 2): same weights, same outputs downstream.

Whisper runs for real here (no mocks): faster-whisper on the real clips, compared with
openai-whisper's output for the same audio (conftest.real_hypotheses), and one sample call
redone by the engine the session's sample run (conftest.sample_run, the default engine) did
not use.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from analyzers.cer import pooled_cer, to_simplified
from conftest import SAMPLES, transcribe_real_clips
from flows.speech.engines import faster as fw_engine
from flows.storage.cache import file_sha256, transcript_key
from flows.batch.pipeline import PipelineConfig
from flows.speech.transcribe import (
    DecoderOptions,
    GatingOptions,
    ModelNotConfigured,
    _decode_segments,
    _gate,
    load_model,
    resolve_model_ref,
)

#: Pooled CER on the real clips may be at most this much above openai-whisper's
#: (measured: +0.7 points with int8, 27 vs 26 of 151 characters; the issue's target is 1).
CER_MARGIN = 0.02
#: The sample call whose findings are compared (stereo, five banned phrases, greeting and
#: closing).
CALL = "call03_banned_phrases"
#: How many finding rule_ids may differ between the engines on CALL. Measured: 0 since a
#: segment's first word goes with its neighbour across a cut (transcribe._word_pieces);
#: before, 2: faster-whisper dated 感 of 感谢您的来电 into the cut-out silence before it and
#: the agent's previous utterance got it, so thanks_goodbye fired on 谢您的来电. One is
#: allowed for a word heard differently (the engines decode with different kernels), and one
#: more on CPUs whose int8 kernels are AVX-512: on the AMD machine of 2026-12-06 the faster
#: engine hears call03's 不知道 as 不知等 (dont_know) and its reply to thanks differently
#: (reply_to_thanks), the tests running the kernels users get (docs/decisions.md).
FINDINGS_MAX_DIFFERENT = 2


def _pooled(hyps) -> float:
    return pooled_cer((hyp, ref) for _, ref, hyp in hyps)


# -- without a model ------------------------------------------------------------------

def test_cache_key_differs_by_engine_and_compute_type():
    keys = {}
    for engine, compute_type in [("openai", "int8"), ("faster", "int8"), ("faster", "float32")]:
        cfg = PipelineConfig(out_dir="unused", engine=engine, compute_type=compute_type)
        ref = "whisper-base.pt" if engine == "openai" else "/models/faster-whisper-base"
        keys[engine, compute_type] = transcript_key("0" * 64, cfg.transcript_settings(ref))
    assert len(set(keys.values())) == 3
    # openai's settings are those from before engines existed: old caches stay valid
    openai = PipelineConfig(out_dir="unused").transcript_settings("whisper-base.pt")
    assert "engine" not in openai and openai["model"] == "whisper-base.pt"
    faster = PipelineConfig(out_dir="unused", engine="faster").transcript_settings("/m/faster-whisper-base")
    assert faster["engine"] == "faster" and faster["model"] == "faster-whisper-base+ct2-int8"
    # Batched decoding is another transcript (another key); sequential keeps the old key.
    assert "batch_size" not in faster["asr"]
    batched = PipelineConfig(out_dir="unused", engine="faster", decoder=DecoderOptions(batch_size=8))
    assert batched.transcript_settings("/m/faster-whisper-base")["asr"]["batch_size"] == 8


def test_batch_size_needs_the_faster_engine_and_a_positive_size():
    with pytest.raises(ValueError, match="batch_size needs the faster engine"):
        PipelineConfig(out_dir="unused", decoder=DecoderOptions(batch_size=8))
    with pytest.raises(ValueError, match="batch_size must be 1 or more"):
        PipelineConfig(out_dir="unused", engine="faster", decoder=DecoderOptions(batch_size=0))


def test_faster_engine_without_a_model_is_a_clear_error(tmp_path, monkeypatch, capsys):
    from flows.cli import main

    monkeypatch.delenv(fw_engine.MODEL_ENV, raising=False)
    monkeypatch.setattr(fw_engine, "DEFAULT_MODEL_DIR", tmp_path / "not-fetched")
    monkeypatch.setenv("CALLQA_MODEL_DIR", str(tmp_path / "models"))  # no conversion there either
    with pytest.raises(ModelNotConfigured, match="CALLQA_FW_MODEL"):
        resolve_model_ref(None, "faster")
    with pytest.raises(ModelNotConfigured, match="not a CTranslate2"):
        resolve_model_ref(str(tmp_path), "faster")  # a folder without model.bin
    with pytest.raises(ModelNotConfigured, match="unknown engine"):
        resolve_model_ref(None, "kaldi")
    sample = str(SAMPLES / f"{CALL}.mp3")
    assert main(["run", sample, "--out", str(tmp_path / "out"), "--engine", "faster", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "callqa model convert" in err and "fetch_fw_model" in err
    assert not (tmp_path / "out" / "calls").exists()  # refused before any audio


# -- with the model ------------------------------------------------------------------

e2e = pytest.mark.e2e


@pytest.fixture(scope="module")
def fw(fw_model_path):
    return load_model(fw_model_path, "faster")


@pytest.fixture(scope="module")
def short_clip():
    from flows.speech.audio import load_call
    from flows.speech.vad import detect_speech
    from conftest import REAL_CLIPS as REAL

    audio = load_call(REAL / "fireredasr" / "TEST_NET_Y0000000000_-KTKHdZ2fb8_S00000.wav")
    samples = audio.channels["mixed"]
    gated, _ = _gate(samples, detect_speech(samples, audio.sample_rate_hz), GatingOptions())
    return gated


@e2e
def test_segments_have_openai_whispers_shape(fw, model_path, short_clip):
    opts = DecoderOptions()
    openai_model = load_model(model_path)
    reference = _decode_segments(openai_model, short_clip, opts)
    segments = _decode_segments(fw, short_clip, opts)
    assert segments and reference
    assert set(segments[0]) >= {"text", "words", "no_speech_prob", "avg_logprob", "compression_ratio"}
    assert set(segments[0]) == set(reference[0])
    duration_s = len(short_clip) / 16000
    for seg in segments:
        assert isinstance(seg["text"], str) and seg["words"]
        for w in seg["words"]:
            assert set(w) == set(reference[0]["words"][0]) == {"word", "start", "end", "probability"}
            assert 0 <= w["start"] <= w["end"] <= duration_s + 0.5
            assert 0 <= w["probability"] <= 1
    text = to_simplified("".join(s["text"] for s in segments))
    assert text == to_simplified("".join(s["text"] for s in reference))  # same weights, same words here


@e2e
def test_faster_engine_is_deterministic(fw, short_clip):
    opts = DecoderOptions(temperature=(0.4,))  # sampling only: the seed is what makes it repeat
    first = _decode_segments(fw, short_clip, opts)
    assert first == _decode_segments(fw, short_clip, opts)


@e2e
def test_real_clips_cer_is_within_margin_of_openai(fw, real_hypotheses):
    faster = transcribe_real_clips(fw, False)
    assert [p for p, _, _ in faster] == [p for p, _, _ in real_hypotheses]
    assert _pooled(faster) <= _pooled(real_hypotheses) + CER_MARGIN, [
        (p.name, o, f) for (p, _, o), (_, _, f) in zip(real_hypotheses, faster) if o != f
    ]
    text = "".join(h for _, _, h in faster)
    assert to_simplified(text) == text  # OpenCC runs downstream of either engine


@e2e
def test_batched_decoding_on_real_clips(fw, real_hypotheses):
    """--batch-size: clips decoded in batches by faster-whisper's batched pipeline, then the
    same guards, OpenCC and time mapping. Measured (bench/bench_batched.py, beam 5): pooled
    CER 15.9 % against 17.9 % sequential and 17.2 % openai-whisper."""
    fw_engine._batched.cache_clear()
    batched = transcribe_real_clips(fw, DecoderOptions(batch_size=4))
    assert fw_engine._batched.cache_info().misses == 1  # the batched pipeline did the decoding
    assert _pooled(batched) <= _pooled(real_hypotheses) + CER_MARGIN, [
        (p.name, o, b) for (p, _, o), (_, _, b) in zip(real_hypotheses, batched) if o != b
    ]
    text = "".join(h for _, _, h in batched)
    assert text and to_simplified(text) == text


@e2e
def test_batched_words_stay_in_the_recordings_clock(fw, short_clip):
    segments = _decode_segments(fw, short_clip, DecoderOptions(batch_size=4))
    duration_s = len(short_clip) / 16000
    words = [w for seg in segments for w in seg["words"]]
    assert words
    assert all(0 <= w["start"] <= w["end"] <= duration_s + 0.5 for w in words)
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)


def _read(out: Path, name: str) -> list[dict]:
    return ds.dataset(out / name, format="parquet", partitioning="hive").to_table().to_pylist()


@e2e
def test_the_other_engine_gives_the_same_findings_on_a_sample_call(sample_run, model_path, fw_model_path, tmp_path):
    """The session's sample run used the default engine (faster wherever its model is
    present, as under `make test`); openai-whisper, the reference, redoes one call here."""
    from flows.cli import main
    from flows.speech.engines import default_engine

    [ran] = [r for r in _read(sample_run["out"], "calls") if r["call_id"] == CALL]
    if default_engine()[0] == "faster":
        assert ran["model_version"] == "faster-whisper-base+ct2-int8"
    other = (["--engine", "openai", "--model", model_path] if ran["model_version"].startswith("faster-")
             else ["--engine", "faster", "--model", fw_model_path])
    sample = next(p for p in SAMPLES.glob(f"{CALL}.*") if p.suffix != ".json")
    out = tmp_path / "out"
    cache = tmp_path / "cache"  # never the shared test cache: the other engine must run here
    assert main(["run", str(sample), "--out", str(out), "--cache-dir", str(cache), "--quiet", *other]) == 0
    [row] = _read(out, "calls")
    assert row["status"] == "ok", row["error"]
    assert row["model_version"] != ran["model_version"]
    assert row["transcript_key"] != ran["transcript_key"]  # the caches never mix
    assert row["audio_sha256"] == ran["audio_sha256"] == file_sha256(sample)
    assert [p.stem for p in cache.glob("*.json")] == [row["transcript_key"]]

    def rules(rows):
        return Counter(r["rule_id"] for r in rows if r["call_id"] == CALL)

    here, there = rules(_read(out, "findings")), rules(_read(sample_run["out"], "findings"))
    assert sum(there.values()) >= 5  # a call with findings, or the comparison says nothing
    different = sum(((here - there) + (there - here)).values())
    assert different <= FINDINGS_MAX_DIFFERENT, (here, there)


# -- the engine interface (issue 19 item 2) --------------------------------------------

def test_every_registered_engine_implements_the_protocol_under_its_name():
    from flows.speech.engines import ENGINES, AsrEngine, UnknownEngine, get_engine

    assert set(ENGINES) == {"openai", "faster"}
    for name, engine in ENGINES.items():
        assert isinstance(engine, AsrEngine) and engine.name == name and get_engine(name) is engine
    assert [n for n, e in ENGINES.items() if e.batches] == ["faster"]
    with pytest.raises(UnknownEngine, match=r"unknown engine 'kaldi' \(one of openai, faster\)"):
        get_engine("kaldi")
    assert issubclass(UnknownEngine, ModelNotConfigured)  # the CLI's exit 2 path


def test_a_loaded_model_is_decoded_by_the_engine_that_loaded_it(monkeypatch):
    from flows.speech import engines

    seen = []

    class Fake:
        name, batches = "fake", False

        def decode_segments(self, model, audio, opts):
            seen.append((model.engine, len(audio), opts.beam_size))
            return []

    monkeypatch.setitem(engines.ENGINES, "fake", Fake())
    model = type("M", (), {"engine": "fake"})()
    assert _decode_segments(model, __import__("numpy").zeros(1600, "float32"), DecoderOptions(beam_size=2)) == []
    assert seen == [("fake", 1600, 2)]


# -- lanes: a call's whisper passes side by side ---------------------------------------

class _LaneModel:
    """A model with `lanes` lanes whose engine records which thread decoded which audio."""

    engine = "lanes"

    def __init__(self, lanes: int) -> None:
        self.lanes = lanes


def test_jobs_meet_their_lane_in_order_and_come_back_in_job_order(monkeypatch):
    import threading
    import time

    import numpy as np

    from flows.speech import engines
    from flows.speech.transcribe import SpeechJob, transcribe_jobs

    seen, busy = [], []

    class Engine:
        name, batches = "lanes", False

        def decode_segments(self, model, audio, opts, lane=0):
            busy.append(lane)
            time.sleep(0.05)  # long enough for the other lane to start meanwhile
            seen.append((lane, int(audio.max()), threading.current_thread().name))
            busy.remove(lane)
            return [{"text": "x", "words": [{"word": str(int(audio.max())), "start": 0.0, "end": 0.2}]}]

    monkeypatch.setitem(engines.ENGINES, "lanes", Engine())
    jobs = [SpeechJob(np.full(16000, i + 1, np.float32), [(0.0, 1.0)]) for i in range(5)]
    words = transcribe_jobs(_LaneModel(2), jobs)
    assert [[w.text for w in ws] for ws in words] == [["1"], ["2"], ["3"], ["4"], ["5"]]
    by_lane = {lane: [job for lane_, job, _ in seen if lane_ == lane] for lane in (0, 1)}
    assert by_lane == {0: [1, 3, 5], 1: [2, 4]}  # job i on lane i mod 2, in order
    assert all(name.startswith("callqa-asr-lane") for *_, name in seen)
    seen.clear()
    assert [[w.text for w in ws] for ws in transcribe_jobs(_LaneModel(1), jobs[:2])] == [["1"], ["2"]]
    assert {name for *_, name in seen} == {threading.current_thread().name}  # one lane: this thread


def test_a_failing_lane_fails_the_call(monkeypatch):
    import numpy as np

    from flows.speech import engines
    from flows.speech.transcribe import SpeechJob, transcribe_jobs

    class Engine:
        name, batches = "lanes", False

        def decode_segments(self, model, audio, opts, lane=0):
            if lane == 1:
                raise RuntimeError("lane 1 broke")
            return []

    monkeypatch.setitem(engines.ENGINES, "lanes", Engine())
    jobs = [SpeechJob(np.ones(16000, np.float32), [(0.0, 1.0)]) for _ in range(2)]
    with pytest.raises(RuntimeError, match="lane 1 broke"):
        transcribe_jobs(_LaneModel(2), jobs)


@e2e
def test_two_lanes_hear_what_one_hears(fw_model_path, short_clip, monkeypatch):
    """The real model on two lanes, two jobs side by side: the same words as one lane
    decoding them one after another."""
    import numpy as np

    from flows.speech.transcribe import SpeechJob, transcribe_jobs

    samples = np.asarray(short_clip, np.float32)
    duration_s = len(samples) / 16000
    jobs = [SpeechJob(samples, [(0.0, duration_s)]), SpeechJob(samples, [(0.0, duration_s / 2)])]
    monkeypatch.setattr(fw_engine, "_cpu_threads", None)
    fw_engine.set_cpu_threads(2)
    two = load_model(fw_model_path, "faster")
    fw_engine.set_cpu_threads(1)
    one = load_model(fw_model_path, "faster")
    assert (two.lanes, one.lanes) == (2, 1)
    side_by_side = transcribe_jobs(two, jobs)
    assert side_by_side == transcribe_jobs(one, jobs)
    assert side_by_side[0] and side_by_side[0] != side_by_side[1]
