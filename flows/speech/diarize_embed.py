"""Who spoke when in a mono call, from speaker embeddings; and the choice between methods.

`diarize_embed` has the shape of `flows.speech.diarize.diarize` (MFCC + pitch); only the voice
vector and the one-voice test differ:

1. Speech spans cut into windows of `WINDOW_S`, hop `HOP_S` (spans shorter than a
   window are one window; under `MIN_WINDOW_S` none, see `_cover_short_spans`).
2. Each window: a d-vector of resemblyzer's GE2E voice encoder (`flows.speech.voice_encoder`).
   No whitening: the encoder was trained to ignore what is said.
3. Two clusters by spherical k-means (cosine), farthest-point start.
4. One voice when the cosine between the two cluster centres is above
   `SAME_VOICE_COS`, or the smaller cluster holds under `MIN_VOICE_S` of speech.
5. Frame vote, short runs absorbed, first heard = agent: `flows.speech.diarize._label_spans`.

`diarize_call` is what the pipeline calls (`--diarizer`, default "auto"): the embedding
split; where it hears two close voices (centre cosine above `CLOSE_VOICES_COS`), or one
voice in a call long enough to be a conversation, the MFCC split if that finds two,
marked uncertain. Why both: the encoder separates real
people (docs/diarization.md: DER 8-12 % against 26-35 % for MFCC) but hears a voice
and a pitch- and formant-shifted copy of it (synthetic test calls) as one person,
which MFCC + pitch separates. A one-voice result is also uncertain: with one voice
there is no evidence of which role it plays.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from analyzers.model import AGENT, CUSTOMER, SpeechSpan
from flows.speech.diarize import Diarization, _as_pair, _label_spans, _single, _windows, diarize
from flows.speech.voice_encoder import RATE_HZ as ENCODER_RATE_HZ
from flows.speech.voice_encoder import embed_windows

WINDOW_S = 1.5
HOP_S = 0.75
#: Spans shorter than this (s) carry too little voice for a d-vector; they take the
#: speaker of the nearest window instead.
MIN_WINDOW_S = 0.4
#: Two cluster centres closer than this are one voice. Chosen before measuring the
#: mixes, from whole-clip cosines of the real clips: the same person 0.84, different
#: people 0.37-0.73.
SAME_VOICE_COS = 0.85
#: Centres closer than this but under SAME_VOICE_COS: two voices, alike enough that the
#: split is marked uncertain (real pairs measured 0.59-0.84, most under 0.80).
CLOSE_VOICES_COS = 0.80
#: The smaller cluster must hold this much speech (s) to be a second voice: on the real
#: one-voice clips k-means puts up to 2.3 s into a second cluster; the smaller speaker of
#: the two-voice mixes had 5.2 s or more.
MIN_VOICE_S = 4.0
#: The MFCC fallback is only tried on this much speech (s) or more: a conversation, not
#: a prompt or a short one-voice recording, which MFCC + pitch always splits.
FALLBACK_MIN_SPEECH_S = 30.0
DIARIZERS = ("auto", "embed", "mfcc")


def diarize_call(samples: np.ndarray, sample_rate_hz: int, speech_spans, method: str = "auto") -> Diarization:
    """Split a mono call's speech between agent and customer with `method` (see module doc)."""
    if method not in DIARIZERS:
        raise ValueError(f"diarizer must be one of {', '.join(DIARIZERS)}, not {method!r}")
    if method == "mfcc":
        d = diarize(samples, sample_rate_hz, speech_spans)
        return dataclasses.replace(d, uncertain=d.speakers < 2, method="mfcc")
    e = diarize_embed(samples, sample_rate_hz, speech_spans)
    if method == "embed" or (e.speakers == 2 and not e.uncertain):
        return e
    speech_s = sum(s.end_s - s.start_s for s in e.spans)
    # Voices close to the encoder (two, but alike) or one voice in a conversation's
    # worth of speech: the MFCC split, if it finds two voices, marked uncertain.
    if e.speakers == 2 or speech_s >= FALLBACK_MIN_SPEECH_S:
        m = diarize(samples, sample_rate_hz, speech_spans)
        if m.speakers == 2:
            return dataclasses.replace(m, uncertain=True, method="mfcc")
    return e


def diarize_embed(samples: np.ndarray, sample_rate_hz: int, speech_spans) -> Diarization:
    """Like `flows.speech.diarize.diarize`, with voice-encoder d-vectors as the voice vectors."""
    import librosa

    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"samples must be 1-D (a mono mix), got shape {samples.shape}")
    duration_s = len(samples) / sample_rate_hz
    spans = sorted((max(0.0, float(a)), min(duration_s, float(b))) for a, b in (_as_pair(s) for s in speech_spans))
    spans = [(a, b) for a, b in spans if b > a]
    if not spans:
        return Diarization((), 0.0, 0, uncertain=True, method="embed")
    windows, _ = _windows(spans, WINDOW_S, HOP_S, MIN_WINDOW_S)
    if len(windows) < 2:
        return _one_voice(spans, 0.0)
    if sample_rate_hz != ENCODER_RATE_HZ:
        samples = librosa.resample(samples, orig_sr=sample_rate_hz, target_sr=ENCODER_RATE_HZ)
    x = embed_windows(samples, windows)
    labels, centre_cos = _two_clusters(x)
    weights = np.array([b - a for a, b in windows])
    share = min(weights[labels == 0].sum(), weights[labels == 1].sum()) / weights.sum()
    minor_s = share * sum(b - a for a, b in spans)
    confidence = float(np.clip((SAME_VOICE_COS - centre_cos) / SAME_VOICE_COS, 0.0, 1.0))
    if centre_cos > SAME_VOICE_COS or minor_s < MIN_VOICE_S:
        return _one_voice(spans, confidence)
    windows, labels = _cover_short_spans(spans, windows, labels)
    out = _label_spans(spans, windows, labels)
    first = out[0][2]
    result = tuple(SpeechSpan(AGENT if lab == first else CUSTOMER, a, b) for a, b, lab in out)
    return Diarization(result, round(confidence, 3), 2, uncertain=centre_cos > CLOSE_VOICES_COS, method="embed")


def _one_voice(spans: list[tuple[float, float]], confidence: float) -> Diarization:
    return dataclasses.replace(_single(spans, confidence), uncertain=True, method="embed")


def _cover_short_spans(spans, windows, labels):
    """Spans too short for a window of their own get one, labelled like the nearest window:
    with no window over them the frame vote is empty and would always say cluster 0."""
    w = np.array(windows)
    extra, extra_labels = [], []
    for a, b in spans:
        if not np.any((w[:, 0] < b) & (w[:, 1] > a)):
            mid = (a + b) / 2
            extra.append((a, b))
            extra_labels.append(labels[int(np.argmin(np.abs((w[:, 0] + w[:, 1]) / 2 - mid)))])
    return list(windows) + extra, np.concatenate([labels, np.array(extra_labels, dtype=int)])


def _two_clusters(x: np.ndarray, iterations: int = 50) -> tuple[np.ndarray, float]:
    """Spherical k-means (k=2) labels and the cosine between the two centres."""
    m = x.mean(axis=0)
    a = int(np.argmin(x @ m))  # the window least like the average
    b = int(np.argmin(x @ x[a]))  # and the one least like that
    centres = np.stack([x[a], x[b]])
    labels = np.full(len(x), -1)
    for _ in range(iterations):
        new = np.argmax(x @ centres.T, axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for k in (0, 1):
            if np.any(labels == k):
                c = x[labels == k].mean(axis=0)
                centres[k] = c / (np.linalg.norm(c) or 1.0)
    if not (np.any(labels == 0) and np.any(labels == 1)):
        return np.zeros(len(x), dtype=int), 1.0
    return labels, float(centres[0] @ centres[1])
