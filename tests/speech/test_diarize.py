"""flows.speech.diarize: mono speech split into agent/customer agrees with the truth."""

from __future__ import annotations

import numpy as np
import pytest

from analyzers.model import SpeechSpan
import flows.speech.diarize as dz
from conftest import SAMPLES, or_missing, require
from flows.speech.diarize import Diarization, diarize, swap_speakers
from flows.speech.diarize_embed import diarize_call
from flows.speech.vad import detect_speech
from mixes import agreement, mono_mix, sample_truths

RATE = 16000
TRUTHS = sample_truths()


@pytest.mark.parametrize("method", ["auto", "mfcc"])
@pytest.mark.parametrize("truth", or_missing(TRUTHS, f"no sample calls in {SAMPLES}"), ids=lambda t: t.call_id)
def test_sample_call_attribution(truth, method):
    mix, duration_s = mono_mix(truth, SAMPLES)

    result = diarize_call(mix, RATE, detect_speech(mix, RATE), method=method)
    if method == "auto":
        # The sample voices are one TTS voice and a pitch/formant-shifted copy: the speaker
        # encoder finds them alike, so the MFCC split is used and the call is marked.
        assert result.uncertain and result.method == "mfcc"

    assert result.speakers == 2
    assert 0.0 <= result.confidence <= 1.0
    # Measured 94.8-99.4 % (call06's slow agent the lowest); 92.9-99.4 % before ties in
    # the window vote kept the speaker (see test_a_tied_vote_keeps_the_speaker).
    assert agreement(truth, result, duration_s) >= 0.94


def test_a_tied_vote_keeps_the_speaker():
    # frames covered by windows of both clusters equally: no evidence of a change
    votes = np.array([[1, 1], [2, 0], [1, 1], [1, 1], [0, 1], [1, 1]])
    assert dz._vote(votes).tolist() == [0, 0, 0, 0, 1, 1]
    assert dz._vote(np.array([[1, 1], [1, 1]])).tolist() == [0, 0]  # nothing decided


def test_deterministic_and_inside_speech():
    require(TRUTHS, f"no sample calls in {SAMPLES}")
    mix, _ = mono_mix(TRUTHS[0], SAMPLES)
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

    require(len(TRUTHS) >= 2, f"fewer than 2 sample calls in {SAMPLES}")
    truth = TRUTHS[1]
    mix, duration_s = mono_mix(truth, SAMPLES)
    speech = detect_speech(mix, RATE)
    whole = diarize(mix, RATE, speech)
    monkeypatch.setattr(dz, "_BLOCK_S", 20.0)
    windows, _ = dz._windows(speech)
    assert len(dz._blocks(windows, duration_s)) >= 3
    blocked = diarize(mix, RATE, speech)
    assert agreement(truth, blocked, duration_s) >= 0.90
    moved = sum(min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
                for a in whole.spans for b in blocked.spans if a.speaker != b.speaker and a.end_s > b.start_s and b.end_s > a.start_s)
    assert moved <= 0.02 * sum(s.duration_s for s in whole.spans)
