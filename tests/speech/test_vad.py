"""flows.speech.vad: speech found where it is, not in noise or holds; silero as silero_vad runs it, without torch."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import flows.speech.vad as vad
from analyzers.model import SpeechSpan
from flows.speech.audio import CallAudio, load_call
from flows.speech.vad import call_speech_spans, detect_speech, silences

from conftest import SHARED, need_file, need_tool

#: A real recording, annotated: speech only from 0.77 s to 5.98 s.
REAL = SHARED / "audio" / "real" / "funasr" / "llamacpp_sample.wav"
RATE = 16000
METHODS = ["silero", "energy"]


@pytest.fixture(scope="module")
def real() -> np.ndarray:
    """The real clip's samples; the tests that take it fail under CI without it (conftest.missing)."""
    need_tool("ffmpeg")
    return load_call(need_file(REAL, "the real clips live in ../shared (or $CALLQA_SHARED)"),
                     sample_rate_hz=RATE).channels["mixed"]


def _noise(duration_s: float, dbfs: float = -50.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (10 ** (dbfs / 20) * rng.standard_normal(int(duration_s * RATE))).astype(np.float32)


def _cut(x: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    return x[int(start_s * RATE) : int(end_s * RATE)]


@pytest.mark.parametrize("method", METHODS)
def test_real_sample_speech_boundaries(real, method):
    # Annotated: speech only from 0.77 s to 5.98 s.
    spans = detect_speech(real, RATE, method=method)
    assert spans
    assert spans[0][0] == pytest.approx(0.77, abs=0.3)
    assert spans[-1][1] == pytest.approx(5.98, abs=0.3)
    assert all(0.77 - 0.3 <= a < b <= 5.98 + 0.3 for a, b in spans)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dbfs", [-50.0, -30.0])
def test_pure_noise_is_not_speech(method, dbfs):
    assert detect_speech(_noise(8.0, dbfs), RATE, method=method) == []


@pytest.mark.parametrize("method", METHODS)
def test_digital_silence_is_not_speech(method):
    assert detect_speech(np.zeros(5 * RATE, dtype=np.float32), RATE, method=method) == []


@pytest.mark.parametrize("method", METHODS)
def test_empty_input(method):
    assert detect_speech(np.zeros(0, dtype=np.float32), RATE, method=method) == []


@pytest.mark.parametrize("method", METHODS)
def test_gap_between_speech_is_found(real, method):
    # speech 0..2.3 s, a 7 s "hold" of -50 dBFS line noise, speech again 9.3..11.6 s
    speech = _cut(real, 3.6, 5.9)
    x = np.concatenate([speech, _noise(7.0), speech]) + _noise(9.3 + 2.3, seed=2)[: 2 * len(speech) + 7 * RATE]
    spans = detect_speech(x, RATE, method=method)
    gaps = silences(spans, len(x) / RATE, min_silence_s=6.0)
    assert len(gaps) == 1
    gap_start_s, gap_end_s = gaps[0]
    assert gap_start_s == pytest.approx(2.3, abs=0.3)
    assert gap_end_s == pytest.approx(9.3, abs=0.3)


@pytest.mark.parametrize("method", METHODS)
def test_comma_pause_does_not_split_speech(real, method):
    speech = _cut(real, 3.6, 5.9)
    x = np.concatenate([speech, _noise(0.35), speech])
    spans = detect_speech(x, RATE, method=method)
    assert len(spans) == 1
    assert spans[0][1] - spans[0][0] > 4.0


def test_other_sample_rates(real):
    import librosa

    x = librosa.resample(real, orig_sr=RATE, target_sr=44100)
    spans = detect_speech(x, 44100)
    assert spans[0][0] == pytest.approx(0.77, abs=0.3)
    assert spans[-1][1] == pytest.approx(5.98, abs=0.3)


def test_speech_detection_leaves_torch_alone():
    """No torch import (1.2 s of every run) and so no thread count to restore: importing
    silero_vad would set torch to one thread."""
    import subprocess

    code = ("import sys, numpy as np; from flows.speech.vad import detect_speech; "
            "x = (0.01 * np.random.default_rng(1).standard_normal(16000)).astype(np.float32); "
            "detect_speech(x, 16000, method='silero'); "
            "assert 'torch' not in sys.modules and 'silero_vad' not in sys.modules, 'torch imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=vad.__file__.rsplit("/flows/", 1)[0])
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("rate", [16000, 8000])
def test_silero_probabilities_and_stretches_are_silero_vads_own(real, rate):
    """The same windows, state and arithmetic as silero_vad's OnnxWrapper and
    get_speech_timestamps: equal probabilities and sample stretches on a real clip with
    line noise before and after (and at 8 kHz, telephone audio)."""
    import librosa
    from silero_vad import get_speech_timestamps, load_silero_vad

    x = np.concatenate([_noise(1.3), real, _noise(2.1, seed=2)])
    if rate != RATE:
        x = librosa.resample(x, orig_sr=RATE, target_sr=rate).astype(np.float32)
    theirs_model = load_silero_vad(onnx=True)
    with torch.inference_mode():
        theirs = get_speech_timestamps(torch.from_numpy(x), theirs_model, threshold=vad.SILERO_THRESHOLD,
                                       sampling_rate=rate, min_speech_duration_ms=150,
                                       min_silence_duration_ms=500, speech_pad_ms=0)
        window = 512 if rate == 16000 else 256
        theirs_model.reset_states()
        their_probs = [theirs_model(torch.from_numpy(np.pad(x[i:i + window], (0, max(0, i + window - len(x))))), rate).item()
                       for i in range(0, len(x), window)]
    with vad._silero() as ours_model:
        probs = ours_model.probabilities(x, rate)
    assert probs == their_probs
    ours = vad.speech_stretches(probs, window, len(x), vad.SILERO_THRESHOLD, rate * 150 / 1000, rate * 500 / 1000)
    assert ours == [(s["start"], s["end"]) for s in theirs] and ours


def test_speech_stretches_end_after_the_minimum_silence_and_drop_short_ones():
    p = [0.9, 0.9, 0.4, 0.1, 0.1, 0.9, 0.2, 0.2, 0.2, 0.2, 0.95, 0.1]
    # window 10: speech 0..; a dip of 2 windows (20) < 30 silence keeps it; 4 windows end it at 60
    assert vad.speech_stretches(p, 10, 120, 0.5, 5, 30) == [(0, 60), (100, 120)]
    assert vad.speech_stretches(p, 10, 120, 0.5, 25, 30) == [(0, 60)]  # 20 samples of speech dropped
    assert vad.speech_stretches([0.1] * 5, 10, 50, 0.5, 5, 30) == []


def test_model_is_loaded_once():
    detect_speech(_noise(0.5), RATE)
    model = vad._silero_model
    detect_speech(_noise(0.5), RATE)
    assert vad._silero_model is model


def test_bad_arguments():
    with pytest.raises(ValueError, match="method"):
        detect_speech(_noise(1.0), RATE, method="webrtc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="1-D"):
        detect_speech(np.zeros((RATE, 2), dtype=np.float32), RATE)


def test_silences():
    speech = [(1.0, 2.0), (1.5, 3.0), (10.0, 11.0)]
    assert silences(speech, 12.0) == [(0.0, 1.0), (3.0, 10.0), (11.0, 12.0)]
    assert silences(speech, 12.0, min_silence_s=6.0) == [(3.0, 10.0)]
    assert silences([], 5.0) == [(0.0, 5.0)]


@pytest.mark.parametrize("agent_channel", ["agent", "customer"])
def test_call_speech_spans_labels_channels(real, agent_channel):
    speech = _cut(real, 0.9, 6.0)
    quiet = _noise(len(speech) / RATE)
    talking = {"agent": speech, "customer": quiet}
    if agent_channel == "customer":
        talking = {"agent": quiet, "customer": speech}
    audio = CallAudio("x.wav", "pcm_s16le", RATE, 2, RATE, len(speech) / RATE, "stereo", talking)

    spans = call_speech_spans(audio)

    assert spans and all(isinstance(s, SpeechSpan) for s in spans)
    assert {s.speaker for s in spans} == {agent_channel}
    assert list(spans) == sorted(spans, key=lambda s: s.start_s)


def test_a_stereo_calls_channels_are_detected_at_once_with_the_same_spans(real):
    a, b = _cut(real, 0.9, 6.0), _cut(real, 0.0, 5.1)
    audio = CallAudio("x.wav", "pcm_s16le", RATE, 2, RATE, len(a) / RATE, "stereo", {"agent": a, "customer": b})
    spans = call_speech_spans(audio)
    alone = {ch: [SpeechSpan(ch, s, e) for s, e in detect_speech(x, RATE)] for ch, x in (("agent", a), ("customer", b))}
    assert sorted(spans, key=lambda s: (s.speaker, s.start_s)) == alone["agent"] + alone["customer"]
    assert vad._silero_model in vad._silero_idle  # every model lent is back


def test_call_speech_spans_mono_is_unknown(real):
    audio = CallAudio("x.wav", "pcm_s16le", RATE, 1, RATE, len(real) / RATE, "mono", {"mixed": real})
    assert {s.speaker for s in call_speech_spans(audio)} == {"unknown"}


def _with_tone(x: np.ndarray, start_s: float, end_s: float, dbfs: float) -> np.ndarray:
    x = x.copy()
    t = np.arange(int((end_s - start_s) * RATE)) / RATE
    x[int(start_s * RATE) : int(start_s * RATE) + len(t)] += (
        10 ** (dbfs / 20) * np.sqrt(2) * np.sin(2 * np.pi * 220 * t)
    ).astype(np.float32)
    return x


def test_edges_widen_over_a_syllable_that_silero_missed():
    # 具体: 具 (1.0-1.3 s), a 40 ms stop closure, then the speech silero did find (1.34-2.5).
    x = _with_tone(_with_tone(_noise(4.0), 1.0, 1.3, -15.0), 1.34, 2.5, -20.0)
    [(start_s, end_s)] = vad._widen_to_energy([(1.5, 2.4)], x, RATE)
    assert start_s == pytest.approx(1.0, abs=0.03)
    assert end_s == pytest.approx(2.5, abs=0.03)
    # widening stops at the neighbouring segment and at max_widen_s
    [(start_s, _)] = vad._widen_to_energy([(1.5, 2.4)], x, RATE, max_widen_s=0.3)
    assert start_s == pytest.approx(1.2, abs=0.01)
    # never past the neighbouring segment's own edge (segments that meet are merged later)
    first, second = vad._widen_to_energy([(0.5, 1.1), (1.5, 2.4)], x, RATE)
    assert first[1] <= 1.5 and second[0] >= 1.1


def test_edges_do_not_widen_past_a_real_pause_or_into_faint_sound():
    base = _with_tone(_noise(4.0), 1.5, 2.5, -20.0)
    # a 0.3 s pause is a pause, however loud what lies before it
    x = _with_tone(base, 0.9, 1.2, -15.0)
    [(start_s, _)] = vad._widen_to_energy([(1.5, 2.5)], x, RATE)
    assert start_s == pytest.approx(1.5, abs=0.03)
    # past a short dip, a sound only 8 dB over the floor is no onset (breath, line noise)
    x = _with_tone(base, 1.0, 1.46, -42.0)
    [(start_s, _)] = vad._widen_to_energy([(1.5, 2.5)], x, RATE)
    assert start_s == pytest.approx(1.5, abs=0.03)
    # nothing to widen into: silero's own edges stay
    [(start_s, end_s)] = vad._widen_to_energy([(1.5, 2.5)], base, RATE)
    assert (start_s, end_s) == (pytest.approx(1.5, abs=0.03), pytest.approx(2.5, abs=0.03))


def test_edges_follow_a_local_noise_floor():
    # The line gets noisy (-30 dBFS) for the 2 s before the speech: a floor for the whole
    # channel (-50 dBFS) would take that noise for speech and widen over all of it.
    x = _noise(6.0)
    x[int(1.0 * RATE) : int(3.0 * RATE)] += _noise(2.0, dbfs=-30.0, seed=2)
    x = _with_tone(x, 3.0, 4.0, -15.0)
    [(start_s, _)] = vad._widen_to_energy([(3.0, 4.0)], x, RATE)
    assert start_s == pytest.approx(3.0, abs=0.03)
    assert vad._widen_to_energy([], x, RATE) == []
