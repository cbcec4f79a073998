"""flows.diarize: mono speech split into agent/customer agrees with the truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analyzers.model import CallTruth, SpeechSpan, from_dict
from flows.audio import load_call
from flows.diarize import Diarization, diarize, swap_speakers
from flows.vad import detect_speech

SAMPLES = Path(__file__).resolve().parent.parent / "sample_audio"
RATE = 16000
FRAME_S = 0.01


def _truths() -> list[CallTruth]:
    out = []
    for jf in sorted(SAMPLES.glob("*.json")):
        truth = from_dict(CallTruth, json.loads(jf.read_text()))
        if (SAMPLES / truth.audio).exists():
            out.append(truth)
    return out


TRUTHS = _truths()


def _mask(spans, n: int) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    for a, b in spans:
        m[int(round(a / FRAME_S)) : int(round(b / FRAME_S))] = True
    return m


def _agreement(truth: CallTruth, result: Diarization, duration_s: float) -> float:
    """Share of one-speaker truth speech time that the diarization gives to that speaker."""
    n = int(np.ceil(duration_s / FRAME_S)) + 1
    t = {s: _mask([(u.start_s, u.end_s) for u in truth.utterances if u.speaker == s], n) for s in ("agent", "customer")}
    d = {s: _mask([(x.start_s, x.end_s) for x in result.spans if x.speaker == s], n) for s in ("agent", "customer")}
    only_agent, only_customer = t["agent"] & ~t["customer"], t["customer"] & ~t["agent"]
    right = (only_agent & d["agent"]) | (only_customer & d["customer"])
    return right.sum() / max(1, (only_agent | only_customer).sum())


def _mono(truth: CallTruth) -> tuple[np.ndarray, float]:
    audio = load_call(SAMPLES / truth.audio, sample_rate_hz=RATE, agent_channel=truth.agent_channel or "left")
    if audio.layout == "mono":
        return audio.channels["mixed"], audio.duration_s
    return audio.channels["agent"] + audio.channels["customer"], audio.duration_s


@pytest.mark.parametrize("truth", TRUTHS or [None], ids=[t.call_id for t in TRUTHS] or ["none"])
def test_sample_call_attribution(truth):
    if truth is None:
        pytest.skip(f"no sample calls in {SAMPLES} yet")
    mix, duration_s = _mono(truth)

    result = diarize(mix, RATE, detect_speech(mix, RATE))

    assert result.speakers == 2
    assert 0.0 <= result.confidence <= 1.0
    assert _agreement(truth, result, duration_s) >= 0.90


def test_deterministic_and_inside_speech():
    if not TRUTHS:
        pytest.skip(f"no sample calls in {SAMPLES} yet")
    mix, _ = _mono(TRUTHS[0])
    speech = detect_speech(mix, RATE)
    first, second = diarize(mix, RATE, speech), diarize(mix, RATE, speech)
    assert first == second
    assert first.spans[0].speaker == "agent"  # the first voice heard is the agent
    covered = sum(s.duration_s for s in first.spans)
    assert covered == pytest.approx(sum(b - a for a, b in speech), abs=0.05)
    for s in first.spans:
        assert any(a - 1e-6 <= s.start_s and s.end_s <= b + 1e-6 for a, b in speech)
    # SpeechSpan input gives the same answer as (start, end) pairs
    assert diarize(mix, RATE, [SpeechSpan("unknown", a, b) for a, b in speech]) == first


def test_swap_speakers():
    d = Diarization((SpeechSpan("agent", 0.0, 1.0), SpeechSpan("customer", 1.5, 2.0)), 0.8)
    swapped = swap_speakers(d)
    assert [s.speaker for s in swapped.spans] == ["customer", "agent"]
    assert swapped.confidence == 0.8
    assert swap_speakers(swapped) == d


def test_no_speech():
    result = diarize(np.zeros(RATE, dtype=np.float32), RATE, [])
    assert result.spans == () and result.confidence == 0.0


def test_one_short_span_is_one_speaker():
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(2 * RATE)).astype(np.float32)
    result = diarize(x, RATE, [(0.5, 1.2)])
    assert result.speakers == 1
    assert [s.speaker for s in result.spans] == ["agent"]
    assert result.confidence <= 0.2


def test_rejects_stereo_array():
    with pytest.raises(ValueError, match="1-D"):
        diarize(np.zeros((RATE, 2), dtype=np.float32), RATE, [(0.0, 1.0)])


def test_long_calls_are_featurised_in_blocks_with_the_same_answer(monkeypatch):
    """Blocks keep a 2-hour call's frame matrices small; they must not change the split."""
    import flows.diarize as dz

    if not TRUTHS:
        pytest.skip(f"no sample calls in {SAMPLES} yet")
    truth = TRUTHS[1]
    mix, duration_s = _mono(truth)
    speech = detect_speech(mix, RATE)
    whole = diarize(mix, RATE, speech)
    monkeypatch.setattr(dz, "_BLOCK_S", 20.0)
    windows, _ = dz._windows(speech)
    assert len(dz._blocks(windows, duration_s)) >= 3
    blocked = diarize(mix, RATE, speech)
    assert _agreement(truth, blocked, duration_s) >= 0.90
    moved = sum(min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
                for a in whole.spans for b in blocked.spans if a.speaker != b.speaker and a.end_s > b.start_s and b.end_s > a.start_s)
    assert moved <= 0.02 * sum(s.duration_s for s in whole.spans)
