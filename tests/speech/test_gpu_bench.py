"""The GPU bench's parts that run anywhere (issue 21 item 6): the model copied in parts,
clips cut at gating's silences, several calls' clips decoded in shared batches (on the CPU)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bench_gpu_batch as bench  # noqa: E402
from flows.speech.engines.faster import clip_bounds  # noqa: E402


def test_the_model_travels_in_checked_parts(tmp_path, monkeypatch):
    model = tmp_path / "model"
    model.mkdir()
    rng = np.random.default_rng(0)
    (model / "model.bin").write_bytes(rng.bytes(2500))
    (model / "config.json").write_text("{}")
    monkeypatch.setattr(bench, "PART_BYTES", 1000)
    manifest = bench.split_model(model, tmp_path / "parts", part_bytes=1000)
    assert len(manifest["files"]["model.bin"]["parts"]) == 3
    assert all(p.stat().st_size <= 1000 for p in (tmp_path / "parts").glob("*.part*"))
    joined = bench.join_model(tmp_path / "parts", tmp_path / "joined")
    assert (joined / "model.bin").read_bytes() == (model / "model.bin").read_bytes()
    part = tmp_path / "parts" / "model.bin.part001"
    part.write_bytes(b"x" + part.read_bytes()[1:])
    with pytest.raises(SystemExit, match="damaged"):
        bench.join_model(tmp_path / "parts", tmp_path / "again")


def test_clips_are_cut_in_gatings_silences_and_never_exceed_30_s():
    sr = 16000
    speech = lambda s: np.full(int(s * sr), 0.1, np.float32)  # noqa: E731
    gap = np.zeros(int(0.5 * sr), np.float32)
    audio = np.concatenate([speech(20), gap, speech(15), gap, speech(40)])
    bounds = clip_bounds(audio, sr)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(audio)
    assert all(b - a <= 30 * sr for a, b in bounds)
    assert all(bounds[i][1] == bounds[i + 1][0] for i in range(len(bounds) - 1))
    first_cut = bounds[0][1] / sr
    assert 20.0 < first_cut < 20.5  # inside the first gap, not at 30 s through speech
    assert clip_bounds(speech(10), sr) == [(0, 10 * sr)]


@pytest.mark.e2e
@pytest.mark.xfail(strict=False, reason=(
    "open defect found 2026-12-06 on an AMD AVX-512 CPU (also at 3b8f848, where it last passed on "
    "Intel): decoded in shared batches, call01's agent channel loses its middle clip (66 of 111 "
    "characters differ from the same job decoded alone); the bench's batched path, not `callqa run`'s"))
def test_several_calls_in_shared_batches_give_each_call_its_own_words(fw_model_path):
    from analyzers.cer import char_errors
    from flows.speech.transcribe import DecoderOptions, join_words, load_model, transcribe_many, transcribe_speech

    calls = bench.workload(2)  # call01 (stereo) and call02 (mono): three channels
    jobs = [job for _, _, js in calls for job in js]
    fw = load_model(fw_model_path, "faster")
    together = transcribe_many(fw, jobs, DecoderOptions(), batch_size=8)
    assert len(together) == len(jobs) == 3
    for (samples, spans), words in zip(jobs, together):
        alone = transcribe_speech(fw, samples, spans, DecoderOptions(batch_size=8))
        assert words and alone
        # each job's words lie in its own recording's time and speech, not in another call's
        duration_s = len(samples) / 16000
        assert all(0 <= w.start_s <= w.end_s <= duration_s for w in words)
        errors, total = char_errors(join_words(words), join_words(alone))
        assert errors / total <= 0.2, (join_words(words), join_words(alone))
