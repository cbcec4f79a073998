"""A resemblyzer-embedding variant of `flows.diarize`, for measurement only (issue 18 item 1).

Not wired into the pipeline: tools/measure_diarization_set.py compares it with
`flows.diarize.diarize` on the set of tools/make_diarization_set.py. It needs the
`resemblyzer` package (its pretrained GE2E voice encoder ships inside the wheel, so
nothing is downloaded) and torch.

Same shape as `flows.diarize.diarize`, only the voice vector differs:

1. Speech spans cut into windows of WINDOW_S, hop HOP_S (shorter spans are one window,
   padded by the encoder).
2. Each window: resemblyzer's 256-d d-vector (L2-normalised), on the window's audio at
   16 kHz. No whitening: the encoder was trained to ignore what is said.
3. Two clusters by spherical k-means (cosine), farthest-point start.
4. One voice when the cosine between the two cluster centres is above SAME_VOICE_COS
   (one person's windows split in two still point the same way) or the smaller
   cluster holds under MIN_SHARE of the speech.
5. Frame vote, short runs absorbed, first heard = agent: `flows.diarize._label_spans`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from analyzers.model import AGENT, CUSTOMER, SpeechSpan
from flows.diarize import Diarization, _as_pair, _label_spans, _single

WINDOW_S = 1.5
HOP_S = 0.75
#: Spans shorter than this (s) carry too little voice for a d-vector; they take the
#: speaker of the nearest window instead.
MIN_WINDOW_S = 0.4
#: Chosen before measuring the mixes, from whole-clip cosines of the real clips: the
#: same person 0.84 (wenet long/mid), different people 0.37-0.73. Two centres of one
#: voice's windows are closer than two clips of it.
SAME_VOICE_COS = 0.85
MIN_SHARE = 0.05
ENCODER_RATE_HZ = 16000


@lru_cache(maxsize=1)
def _encoder():
    import torch
    from resemblyzer import VoiceEncoder

    # One thread: with torch's default (one per core) on a busy 2-core machine each
    # 1.5 s window took ~4 s (threads spin waiting for each other), with one ~0.07 s.
    torch.set_num_threads(1)
    return VoiceEncoder("cpu", verbose=False)


def diarize_embed(samples: np.ndarray, sample_rate_hz: int, speech_spans) -> Diarization:
    """Like `flows.diarize.diarize`, with resemblyzer d-vectors as the voice vectors."""
    import librosa

    samples = np.asarray(samples, dtype=np.float32)
    duration_s = len(samples) / sample_rate_hz
    spans = sorted((max(0.0, float(a)), min(duration_s, float(b))) for a, b in (_as_pair(s) for s in speech_spans))
    spans = [(a, b) for a, b in spans if b > a]
    if not spans:
        return Diarization((), 0.0, 0)
    if sample_rate_hz != ENCODER_RATE_HZ:
        samples = librosa.resample(samples, orig_sr=sample_rate_hz, target_sr=ENCODER_RATE_HZ)
    windows = _windows(spans)
    if len(windows) < 2:
        return _single(spans, 0.0)
    enc = _encoder()
    vecs = []
    for a, b in windows:
        wav = samples[int(a * ENCODER_RATE_HZ) : int(b * ENCODER_RATE_HZ)]
        peak = float(np.max(np.abs(wav))) or 1.0
        vecs.append(enc.embed_utterance(wav / peak * 0.5))  # level does not matter to who speaks
    x = np.array(vecs)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    labels, centre_cos = _two_clusters(x)
    weights = np.array([b - a for a, b in windows])
    share = min(weights[labels == 0].sum(), weights[labels == 1].sum()) / weights.sum()
    confidence = float(np.clip((SAME_VOICE_COS - centre_cos) / SAME_VOICE_COS, 0.0, 1.0))
    if centre_cos > SAME_VOICE_COS or share < MIN_SHARE:
        return _single(spans, confidence)
    windows, labels = _cover_short_spans(spans, windows, labels)
    out = _label_spans(spans, windows, labels)
    first = out[0][2]
    result = tuple(SpeechSpan(AGENT if lab == first else CUSTOMER, a, b) for a, b, lab in out)
    return Diarization(result, round(confidence, 3), 2)


def _windows(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    for a, b in spans:
        if b - a < MIN_WINDOW_S:
            continue
        if b - a <= WINDOW_S:
            out.append((a, b))
            continue
        n = int(np.ceil((b - a - WINDOW_S) / HOP_S)) + 1
        out.extend((float(s), float(s) + WINDOW_S) for s in np.linspace(a, b - WINDOW_S, n))
    return out


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
