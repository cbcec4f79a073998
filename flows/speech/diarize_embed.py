"""Who spoke when in a mono call, from speaker embeddings; and the choice between methods.

`diarize_embed` has the shape of `flows.speech.diarize.diarize` (MFCC + pitch); the voice
vectors, the one-voice test and the frame labelling differ:

1. Speech spans cut into windows of `WINDOW_S`, hop `HOP_S` (spans shorter than a
   window are one window; under `MIN_WINDOW_S` none: they take the nearest window's
   scores in step 5).
2. Each window: a d-vector of resemblyzer's GE2E voice encoder (`flows.speech.voice_encoder`).
3. One voice or two: spherical k-means (cosine, farthest-point start) on the d-vectors
   as they come; one voice when the cosine between the two cluster centres is above
   `SAME_VOICE_COS`, or the smaller cluster holds under `MIN_VOICE_S` of speech, or the
   centres are close (above `CLOSE_VOICES_COS`) in under `CLOSE_MIN_SPEECH_S` of speech.
4. Who speaks where: the call's mean d-vector is subtracted and the vectors
   renormalised before a second spherical k-means. Every window of a call shares the
   line, the channel and much of what any voice sounds like to the encoder (raw
   cosines between two people are 0.6-0.9); taking that common part out leaves the
   part that differs between the two voices, so close voices separate better.
   (Not used for step 3: centred, any two clusters point opposite ways.)
5. Resegmentation (`_resegment`): each 10 ms frame scores the two centred cluster
   centres by the mean cosine of the windows covering it (weighted towards the windows
   centred nearest the frame), and a two-state Viterbi
   path with a switch penalty (`SWITCH_PENALTY`) picks the speaker per frame, inside
   each speech span. Instead of a window majority vote (`flows.speech.diarize._label_spans`)
   a change falls where the windows' evidence turns. First heard = agent.

`diarize_call` is what the pipeline calls (`--diarizer`, default "auto"): the embedding
split; where it hears two close voices (raw centre cosine above `CLOSE_VOICES_COS`), or
one voice in a call long enough to be a conversation, the MFCC split, marked uncertain,
**if the d-vectors corroborate it** (`_corroborates`); if they do not, the embedding
split, marked uncertain (for a "one voice" call only when its smaller cluster has
`MIN_VOICE_S` of speech). Why both: the encoder separates real people
(docs/diarization.md) but hears a voice and a pitch- and formant-shifted copy of it
(the synthetic sample calls) as one person, which MFCC + pitch separates; MFCC + pitch
also splits one voice by what is said (every one-voice clip of the real set), and
then the d-vectors do not line up with its split. A one-voice result is uncertain:
with one voice there is no evidence of which role it plays.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from analyzers.model import AGENT, CUSTOMER, SpeechSpan
from flows.speech.diarize import Diarization, _as_pair, _runs, _single, _windows, diarize
from flows.speech.voice_encoder import RATE_HZ as ENCODER_RATE_HZ
from flows.speech.voice_encoder import embed_windows

WINDOW_S = 1.5
#: Window hop (s): a finer one splits no better for far more encoder time (docs/diarization.md).
HOP_S = 0.75
#: Spans shorter than this (s) carry too little voice for a d-vector; they take the
#: speaker of the nearest window instead.
MIN_WINDOW_S = 0.4
#: Two cluster centres closer than this are one voice: above the real clips' cosines
#: between different people (docs/decisions.md).
SAME_VOICE_COS = 0.85
#: Centres closer than this but under SAME_VOICE_COS: two voices, alike enough that the
#: split is marked uncertain (docs/diarization.md).
CLOSE_VOICES_COS = 0.80
#: The smaller cluster must hold this much speech (s) to be a second voice: more than
#: k-means puts into a second cluster of one voice (docs/diarization.md).
MIN_VOICE_S = 4.0
#: Close voices (centre cosine above CLOSE_VOICES_COS) in less speech than this (s) are
#: one voice: with under ~16 windows the centre cosine of one voice's k-means split moves
#: by up to 0.2 between a clip and its telephone copy (the WenetSpeech meeting clip:
#: 0.906 clean, 0.848 telephone, 4-5 s in the smaller cluster), while every two-voice mix
#: measured has 14.6 s of speech or more (docs/diarization.md, telephone audio).
CLOSE_MIN_SPEECH_S = 12.0
#: The MFCC fallback is only tried on this much speech (s) or more: a conversation, not
#: a prompt or a short one-voice recording, which MFCC + pitch always splits.
FALLBACK_MIN_SPEECH_S = 30.0
#: Cost of a speaker change in the resegmentation, in frame-cosine units: a change needs
#: the other centre ahead by this much summed over the frames after it (the centred
#: centres are nearly opposite, so a frame clearly of one voice scores ~1 apart: a few
#: frames); the result is flat over a wide range of it (docs/diarization.md).
SWITCH_PENALTY = 2.0
#: The MFCC split of close voices is kept only when it separates the d-vectors at least
#: this share as well as their own best split does (d' ratio, `_corroborates`): between
#: the calls where MFCC is right and the pairs where it is not (docs/diarization.md).
CORROBORATION = 0.5
DIARIZERS = ("auto", "embed", "mfcc")

_FRAME_S = 0.01


@dataclass(frozen=True)
class _Embedded:
    """What the encoder made of a call's speech (`_embed`)."""

    spans: list[tuple[float, float]]
    windows: list[tuple[float, float]]
    x: np.ndarray  # d-vectors, one per window
    centre_cos: float  # cosine between the two raw cluster centres
    minor_s: float  # speech (s) in the smaller raw cluster

    @property
    def speech_s(self) -> float:
        return sum(b - a for a, b in self.spans)

    @property
    def two_voices(self) -> bool:
        if self.centre_cos > CLOSE_VOICES_COS and self.speech_s < CLOSE_MIN_SPEECH_S:
            return False  # close voices in a short recording: too few windows to tell
        return self.centre_cos <= SAME_VOICE_COS and self.minor_s >= MIN_VOICE_S

    @property
    def confidence(self) -> float:
        return float(np.clip((SAME_VOICE_COS - self.centre_cos) / SAME_VOICE_COS, 0.0, 1.0))


def diarize_call(samples: np.ndarray, sample_rate_hz: int, speech_spans, method: str = "auto") -> Diarization:
    """Split a mono call's speech between agent and customer with `method` (see module doc)."""
    if method not in DIARIZERS:
        raise ValueError(f"diarizer must be one of {', '.join(DIARIZERS)}, not {method!r}")
    if method == "mfcc":
        d = diarize(samples, sample_rate_hz, speech_spans)
        return dataclasses.replace(d, uncertain=d.speakers < 2, method="mfcc")
    em = _embed(samples, sample_rate_hz, speech_spans)
    e = _split(em)
    if method == "embed" or (e.speakers == 2 and not e.uncertain) or em is None:
        return e
    # Voices close to the encoder (two, but alike) or one voice in a conversation's
    # worth of speech: the MFCC split if it finds two voices and the d-vectors bear it
    # out; else the embedding split. Marked uncertain either way.
    if e.speakers == 2 or em.speech_s >= FALLBACK_MIN_SPEECH_S:
        m = diarize(samples, sample_rate_hz, speech_spans)
        if m.speakers == 2:
            if _corroborates(em, m):
                return dataclasses.replace(m, uncertain=True, method="mfcc")
            if e.speakers == 1 and em.minor_s >= MIN_VOICE_S:
                # MFCC hears two voices but not where the d-vectors differ, and the
                # encoder's smaller cluster holds a voice's worth of speech: two voices,
                # placed by the encoder (docs/diarization.md: the TTS pairs far03/04).
                return dataclasses.replace(_two(em), uncertain=True)
    return e


def diarize_embed(samples: np.ndarray, sample_rate_hz: int, speech_spans) -> Diarization:
    """Like `flows.speech.diarize.diarize`, with voice-encoder d-vectors as the voice vectors."""
    return _split(_embed(samples, sample_rate_hz, speech_spans))


def _embed(samples: np.ndarray, sample_rate_hz: int, speech_spans) -> _Embedded | None:
    """The call's windows, d-vectors and raw two-cluster statistics; None without speech."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"samples must be 1-D (a mono mix), got shape {samples.shape}")
    duration_s = len(samples) / sample_rate_hz
    spans = sorted((max(0.0, float(a)), min(duration_s, float(b))) for a, b in (_as_pair(s) for s in speech_spans))
    spans = [(a, b) for a, b in spans if b > a]
    if not spans:
        return None
    windows, _ = _windows(spans, WINDOW_S, HOP_S, MIN_WINDOW_S)
    if len(windows) < 2:
        return _Embedded(spans, windows, np.zeros((len(windows), 256)), 1.0, 0.0)
    if sample_rate_hz != ENCODER_RATE_HZ:  # the pipeline decodes at 16 kHz: never there
        import librosa

        samples = librosa.resample(samples, orig_sr=sample_rate_hz, target_sr=ENCODER_RATE_HZ)
    x = embed_windows(samples, windows)
    labels, centre_cos = _two_clusters(x)
    weights = np.array([b - a for a, b in windows])
    share = min(weights[labels == 0].sum(), weights[labels == 1].sum()) / weights.sum()
    return _Embedded(spans, windows, x, centre_cos, share * sum(b - a for a, b in spans))


def _split(em: _Embedded | None) -> Diarization:
    """The embedding diarization: one voice or two by the raw test (module doc, step 3)."""
    if em is None:
        return Diarization((), 0.0, 0, uncertain=True, method="embed")
    if not em.two_voices:
        return _one_voice(em.spans, em.confidence)
    return _two(em)


def _two(em: _Embedded) -> Diarization:
    """Two voices: centred d-vectors, k-means, resegmentation (module doc, steps 4-5)."""
    y = _centred(em.x)
    labels, _ = _two_clusters(y)
    out = _resegment(em.spans, em.windows, y, labels)
    first = out[0][2]
    result = tuple(SpeechSpan(AGENT if lab == first else CUSTOMER, a, b) for a, b, lab in out)
    return Diarization(result, round(em.confidence, 3), 2, uncertain=em.centre_cos > CLOSE_VOICES_COS, method="embed")


def _one_voice(spans: list[tuple[float, float]], confidence: float) -> Diarization:
    return dataclasses.replace(_single(spans, confidence), uncertain=True, method="embed")


def _centred(x: np.ndarray) -> np.ndarray:
    """d-vectors less the call's mean, renormalised (module doc, step 4)."""
    y = x - x.mean(axis=0)
    return y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-9)


def _centres(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    c = np.stack([x[labels == k].mean(axis=0) if np.any(labels == k) else np.zeros(x.shape[1]) for k in (0, 1)])
    return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-9)


def _resegment(spans, windows, x: np.ndarray, labels: np.ndarray, penalty: float = SWITCH_PENALTY):
    """(start_s, end_s, cluster) runs: per speech span, the two-state Viterbi path over
    10 ms frames whose score is the mean cosine, over the windows covering the frame
    (weighted by how near the frame is to each window's middle), to each cluster centre;
    `penalty` per change. A span (or its frames) with no window
    over it takes the scores of the nearest window: its speaker, not always cluster 0."""
    scores = x @ _centres(x, labels).T  # windows x 2
    w = np.array(windows)
    mids = w.mean(axis=1)
    out: list[tuple[float, float, int]] = []
    for a, b in spans:
        n = max(1, int(round((b - a) / _FRAME_S)))
        t = a + (np.arange(n) + 0.5) * _FRAME_S
        covers = (t[:, None] >= w[None, :, 0]) & (t[:, None] < w[None, :, 1])  # frames x windows
        count = covers.sum(axis=1)
        # A window speaks most for the frames at its middle: weights fall linearly to its
        # edges (a small floor keeps a frame that only window edges cover scored).
        half = (w[:, 1] - w[:, 0]) / 2
        weight = covers * (np.clip(1.0 - np.abs(t[:, None] - mids[None, :]) / half[None, :], 0.0, None) + 1e-3)
        frame = weight @ scores / np.maximum(weight.sum(axis=1), 1e-9)[:, None]
        if not count.any():
            frame[:] = scores[int(np.argmin(np.abs(mids - (a + b) / 2)))]
        elif not count.all():
            have = np.nonzero(count)[0]
            near = have[np.abs(np.arange(n)[:, None] - have[None, :]).argmin(axis=1)]
            frame = frame[near]
        path = _viterbi(frame, penalty)
        for i, j, lab in _runs(path):
            out.append((round(a + i * _FRAME_S, 3), round(b if j == n else a + j * _FRAME_S, 3), int(lab)))
    return out


def _viterbi(frame_scores: np.ndarray, penalty: float) -> np.ndarray:
    """Best two-state path through (frames x 2) scores with `penalty` per change."""
    n = len(frame_scores)
    back = np.zeros((n, 2), dtype=int)
    total = frame_scores[0].astype(float).copy()
    for i in range(1, n):
        switched = total[::-1] - penalty
        back[i] = np.where(total >= switched, [0, 1], [1, 0])
        total = np.maximum(total, switched) + frame_scores[i]
    path = np.zeros(n, dtype=int)
    path[-1] = int(np.argmax(total))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def _separation(x: np.ndarray, labels: np.ndarray) -> float:
    """d' of a two-way labelling of `x`: the distance between the two means over the
    pooled standard deviation along the line through them (0 if a side is empty)."""
    if not (np.any(labels == 0) and np.any(labels == 1)):
        return 0.0
    axis = x[labels == 1].mean(axis=0) - x[labels == 0].mean(axis=0)
    norm = float(np.linalg.norm(axis))
    if norm < 1e-12:
        return 0.0
    p = x @ (axis / norm)
    spread = np.concatenate([p[labels == k] - p[labels == k].mean() for k in (0, 1)]).std()
    return norm / max(float(spread), 1e-9)


def _window_labels(windows, diarization: Diarization) -> np.ndarray:
    """Each window's speaker (0 agent, 1 customer) in `diarization`: the one with most of its time."""
    out = np.zeros(len(windows), dtype=int)
    for k, (a, b) in enumerate(windows):
        held = {AGENT: 0.0, CUSTOMER: 0.0}
        for s in diarization.spans:
            held[s.speaker] = held.get(s.speaker, 0.0) + max(0.0, min(b, s.end_s) - max(a, s.start_s))
        out[k] = int(held[CUSTOMER] > held[AGENT])
    return out


def _corroborates(em: _Embedded, other: Diarization) -> bool:
    """Whether the d-vectors bear out `other`'s split: its windows separate in the centred
    d-vector space at least `CORROBORATION` times as well (d') as the d-vectors' own
    k-means split does. MFCC + pitch splits a voice by what is said too; such a split
    runs across the d-vectors, which follow who speaks."""
    if len(em.windows) < 2:
        return True
    y = _centred(em.x)
    own = _separation(y, _two_clusters(y)[0])
    return _separation(y, _window_labels(em.windows, other)) >= CORROBORATION * own


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
