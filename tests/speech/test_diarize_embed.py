"""flows.speech.diarize_embed without the encoder: centring, resegmentation, and when the MFCC
split of close voices is kept (the d-vectors must bear it out)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import flows.speech.diarize_embed as de
from analyzers.model import SpeechSpan
from flows.speech.diarize import Diarization

RATE = 16000


def _close_voices(times, speaker_of, seed=0, offset=0.35, noise=0.05):
    """Unit d-vectors for windows: a large part every window shares (line, channel, what
    any voice sounds like to the encoder) plus a small part per speaker and noise."""
    rng = np.random.default_rng(seed)
    dims = rng.normal(size=(3, 256))
    common, voice = dims[0], dims[1:]
    common /= np.linalg.norm(common)
    voice /= np.linalg.norm(voice, axis=1, keepdims=True)
    x = np.stack([common + offset * voice[speaker_of(t)] + noise * rng.normal(size=256) for t in times])
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_viterbi_changes_once_and_ignores_a_blip():
    scores = np.zeros((100, 2))
    scores[:50, 0] = 1.0
    scores[50:, 1] = 1.0
    scores[20:22] = [0.0, 1.0]  # two frames for the other voice: less than the penalty
    path = de._viterbi(scores, penalty=de.SWITCH_PENALTY)
    assert path.tolist() == [0] * 50 + [1] * 50
    assert de._viterbi(scores, penalty=0.0)[20:22].tolist() == [1, 1]


def test_resegmentation_puts_the_change_where_the_evidence_turns():
    # one span, speaker 0 until 3.2 s, speaker 1 after; windows as the diarizer cuts them
    spans = [(0.0, 6.0), (6.5, 6.8)]  # the second is too short for a window of its own
    windows, _ = de._windows(spans, de.WINDOW_S, de.HOP_S, de.MIN_WINDOW_S)
    mid = [(a + b) / 2 for a, b in windows]
    x = _close_voices(mid, lambda t: int(t > 3.2))
    y = de._centred(x)
    labels, _ = de._two_clusters(y)
    out = de._resegment(spans, windows, y, labels)
    runs = [(a, b, lab) for a, b, lab in out]
    assert len(runs) == 3 and runs[0][2] != runs[1][2]
    assert runs[0][1] == pytest.approx(3.2, abs=0.5)
    assert runs[2][2] == runs[1][2]  # the short span: the nearest window's voice, not cluster 0
    assert runs[0][0] == 0.0 and runs[1][1] == 6.0 and runs[2][:2] == (6.5, 6.8)


def test_centring_takes_out_what_every_window_shares():
    x = _close_voices(range(40), lambda t: t % 2, offset=0.3)
    labels, raw_cos = de._two_clusters(x)
    assert raw_cos > 0.8  # close to the encoder, as the sample calls and similar pitch
    y = de._centred(x)
    assert np.allclose(np.linalg.norm(y, axis=1), 1.0)
    c = de._centres(y, de._two_clusters(y)[0])
    assert c[0] @ c[1] < -0.9


def _embedded(x, windows, spans):
    labels, cos = de._two_clusters(x)
    w = np.array([b - a for a, b in windows])
    minor = min(w[labels == 0].sum(), w[labels == 1].sum()) / w.sum() * sum(b - a for a, b in spans)
    return de._Embedded(spans, windows, x, cos, minor)


def _alternating_turns(total_s=60.0, turn_s=3.0):
    """Spans of one turn each, two voices taking turns; windows as the diarizer cuts them."""
    spans = [(t + 0.2, t + turn_s) for t in np.arange(0.0, total_s, turn_s)]
    windows, _ = de._windows(spans, de.WINDOW_S, de.HOP_S, de.MIN_WINDOW_S)
    return spans, windows


def test_a_split_that_runs_across_the_voices_is_not_borne_out():
    spans, windows = _alternating_turns()
    voice = lambda t: int(t // 3.0) % 2  # noqa: E731
    em = _embedded(_close_voices([(a + b) / 2 for a, b in windows], voice), windows, spans)
    right = Diarization(tuple(SpeechSpan("agent" if voice(a) == 0 else "customer", a, b) for a, b in spans), 0.9)
    assert de._corroborates(em, right)
    # a split by something else than the voice (here: the first or second half of each turn)
    halves = Diarization(tuple(s for a, b in spans for s in (SpeechSpan("agent", a, (a + b) / 2), SpeechSpan("customer", (a + b) / 2, b))), 0.9)
    assert not de._corroborates(em, halves)


@pytest.mark.parametrize("offset", [0.42, 0.3], ids=["close", "one-by-cosine"])
@pytest.mark.parametrize("mfcc_follows_the_voices", [True, False])
def test_close_voices_take_the_mfcc_split_only_when_the_d_vectors_bear_it_out(monkeypatch, mfcc_follows_the_voices, offset):
    spans, windows = _alternating_turns()
    voice = lambda t: int(t // 3.0) % 2  # noqa: E731
    monkeypatch.setattr(de, "embed_windows", lambda samples, ws: _close_voices([(a + b) / 2 for a, b in ws], voice, offset=offset))
    if mfcc_follows_the_voices:
        mfcc_spans = tuple(SpeechSpan("agent" if voice(a) == 0 else "customer", a, b) for a, b in spans)
    else:
        mfcc_spans = tuple(SpeechSpan("agent" if k < len(spans) // 2 else "customer", a, b) for k, (a, b) in enumerate(spans))
    monkeypatch.setattr(de, "diarize", lambda *args: Diarization(mfcc_spans, 0.95, 2))

    em = de._embed(np.zeros(61 * RATE, dtype=np.float32), RATE, spans)
    if offset > 0.4:  # two voices, close: the embeddings alone would mark the split
        assert de.CLOSE_VOICES_COS < em.centre_cos <= de.SAME_VOICE_COS
    else:  # "one voice" by the centres' cosine, in a conversation's worth of speech
        assert em.centre_cos > de.SAME_VOICE_COS and em.minor_s >= de.MIN_VOICE_S
        assert em.speech_s >= de.FALLBACK_MIN_SPEECH_S
    d = de.diarize_call(np.zeros(61 * RATE, dtype=np.float32), RATE, spans)
    assert d.speakers == 2 and d.uncertain
    assert d.method == ("mfcc" if mfcc_follows_the_voices else "embed")
    by_voice = {voice(s.start_s): s.speaker for s in d.spans}
    if not mfcc_follows_the_voices:  # the embedding split follows the voices
        assert all(by_voice[voice(s.start_s)] == s.speaker for s in d.spans)
        assert d.spans[0].speaker == "agent"


@pytest.mark.parametrize("total_s", [9.0, 12.0, 30.0])
def test_close_voices_need_a_call_s_worth_of_speech(total_s):
    # Close voices (centre cosine between CLOSE_VOICES_COS and SAME_VOICE_COS) with a
    # voice's worth in the smaller cluster: two voices only in CLOSE_MIN_SPEECH_S of speech
    # or more; far voices are two in a short recording too.
    spans = [(0.0, total_s)]
    windows, _ = de._windows(spans, de.WINDOW_S, de.HOP_S, de.MIN_WINDOW_S)
    x = np.eye(len(windows), 256)
    close = de._Embedded(spans, windows, x, 0.84, de.MIN_VOICE_S + 0.5)
    far = dataclasses.replace(close, centre_cos=0.7)
    assert close.speech_s == pytest.approx(total_s)
    assert close.two_voices == (total_s >= de.CLOSE_MIN_SPEECH_S)
    assert far.two_voices
