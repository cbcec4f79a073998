"""Who spoke when in a mono call: split its speech into two voices, agent and customer.

Stereo calls need none of this (the channel is the speaker). For a mono mix:

1. The speech spans (from `flows.speech.vad`) are cut into overlapping windows of
   `WINDOW_S` (shorter spans are one window).
2. Each window gets a voice vector: means and standard deviations of MFCC 1-19
   over its louder 70 % of frames (telephone band, 100-4000 Hz; c0, the loudness, is
   left out because gain differs between lines and calls) and the median log-f0 of
   its louder frames (YIN: a median needs no pyin). Features are z-scored over the call.
3. The vectors are whitened by the *within-span* covariance: a VAD span is nearly
   always one speaker's turn, so how windows vary inside a span is what the words
   do, not who speaks; dividing that out leaves the between-speaker differences
   (without it k-means splits by what is said). A ridge of `WHITEN_RIDGE` keeps it stable.
4. Two clusters by k-means with a deterministic farthest-point start.
5. Every 10 ms frame inside the speech takes the vote of the windows covering it (a tie
   keeps the speaker of the frame before); speaker runs shorter than `MIN_TURN_S` are
   absorbed by their neighbours, and the spans are split where the speaker changes.
6. The cluster heard first is named "agent" (agents open the call); the caller can
   correct that from the greeting text with `swap_speakers`.

Confidence (0-1): the windows are projected onto the line through the two cluster
centres; with the separation d' = |m1 - m2| / pooled sd along that line, each window's
posterior for its own cluster under two equal-variance Gaussians is
`p = sigmoid(d' * |z|)` (z in sd units from the midpoint), and the confidence is the
mean of `2p - 1` over windows: ~0 when the clusters overlap, ->1 when well apart.
When d' is below `MIN_SEPARATION` or the smaller cluster holds under `MIN_SHARE` of
the speech, the call is treated as one voice: every span goes to "agent",
`speakers` is 1 and the confidence is capped at `SINGLE_SPEAKER_CONFIDENCE`.

Known limit: after whitening, k-means also finds d' of 3-6 in single-speaker audio
(it splits between turns by content), so one-voice detection only triggers on very
lopsided or inseparable clusters, and the confidence says how cleanly the windows
split, not proof that there are two voices.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from analyzers.model import AGENT, CUSTOMER, SpeechSpan, other_party
from flows.speech import spectral

#: Analysis window (s) and hop (s) for the voice vectors: long enough for stable
#: MFCC statistics, short enough to follow quick turns.
WINDOW_S = 1.0
HOP_S = 0.5
#: Speaker runs inside a speech span shorter than this (s) are absorbed by their
#: neighbours; one window's vote is not enough to claim a turn.
MIN_TURN_S = 0.8
#: Below this cluster separation (d', see module doc) there is one voice, not two.
MIN_SEPARATION = 2.0
#: If the smaller cluster has less than this share of the speech, it is one voice.
MIN_SHARE = 0.05
SINGLE_SPEAKER_CONFIDENCE = 0.2
#: Ridge added to the within-span covariance (features are z-scored, so in units of
#: the total variance) before whitening.
WHITEN_RIDGE = 0.5
#: Share of each window's frames, the quietest, left out of its MFCC statistics.
QUIET_FRAMES_PERCENTILE = 30.0

_FRAME_S = 0.01
_N_MFCC = 20


@dataclass(frozen=True)
class Diarization:
    """Speech spans with a speaker each, and how sure the split is.

    `spans` are sorted by start, speaker "agent" or "customer"; `confidence` is in
    [0, 1] (see module doc); `speakers` is 2, or 1 when only one voice was found.
    """

    spans: tuple[SpeechSpan, ...]
    confidence: float
    speakers: int = 2
    #: The split or the roles may be wrong: one voice heard, voices close, or the two
    #: methods disagreeing (flows.speech.diarize_embed.diarize_call). Findings are marked.
    uncertain: bool = False
    #: Which voice vectors made the split: "mfcc" or "embed".
    method: str = "mfcc"


def swap_speakers(diarization: Diarization) -> Diarization:
    """The same diarization with "agent" and "customer" exchanged."""
    spans = tuple(dataclasses.replace(s, speaker=other_party(s.speaker)) for s in diarization.spans)
    return dataclasses.replace(diarization, spans=spans)


def diarize(
    samples: np.ndarray,
    sample_rate_hz: int,
    speech_spans: list[tuple[float, float]] | tuple[SpeechSpan, ...] | list[SpeechSpan],
) -> Diarization:
    """Assign the speech of a mono call to two speakers.

    `samples` is the 1-D mono mix at `sample_rate_hz` (Hz); `speech_spans` are where
    someone speaks, as `(start_s, end_s)` pairs or `SpeechSpan`s (speaker ignored).
    """
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"samples must be 1-D (a mono mix), got shape {samples.shape}")
    duration_s = len(samples) / sample_rate_hz
    spans = sorted(
        (max(0.0, float(a)), min(duration_s, float(b)))
        for a, b in (_as_pair(s) for s in speech_spans)
    )
    spans = [(a, b) for a, b in spans if b > a]
    if not spans:
        return Diarization((), 0.0, 0)

    windows, span_ids = _windows(spans)
    if len(windows) < 2:
        return _single(spans, 0.0)
    features = _whiten(_features(samples, sample_rate_hz, windows), span_ids)

    labels, confidence, separation = _two_clusters(features)
    weights = np.array([b - a for a, b in windows])
    share = min(weights[labels == 0].sum(), weights[labels == 1].sum()) / weights.sum()
    if separation < MIN_SEPARATION or share < MIN_SHARE:
        return _single(spans, confidence)

    out = _label_spans(spans, windows, labels)
    first = out[0][2]  # the cluster heard first is the agent
    result = tuple(SpeechSpan(AGENT if lab == first else CUSTOMER, a, b) for a, b, lab in out)
    return Diarization(result, round(float(confidence), 3), 2)


def _as_pair(span) -> tuple[float, float]:
    if isinstance(span, SpeechSpan):
        return span.start_s, span.end_s
    start_s, end_s = span
    return start_s, end_s


def _single(spans: list[tuple[float, float]], confidence: float) -> Diarization:
    conf = min(float(confidence), SINGLE_SPEAKER_CONFIDENCE)
    return Diarization(tuple(SpeechSpan(AGENT, a, b) for a, b in spans), round(conf, 3), 1)


def _windows(
    spans: list[tuple[float, float]], window_s: float = WINDOW_S, hop_s: float = HOP_S, min_s: float = 0.0
) -> tuple[list[tuple[float, float]], np.ndarray]:
    """Analysis windows (start_s, end_s) of `window_s`, `hop_s` apart, covering every span
    (a span up to `window_s` long is one window; one shorter than `min_s` gets none), and
    each one's span index."""
    out, ids = [], []
    for k, (a, b) in enumerate(spans):
        if b - a < min_s:
            continue
        if b - a <= window_s:
            out.append((a, b))
            ids.append(k)
            continue
        n = int(np.ceil((b - a - window_s) / hop_s)) + 1
        starts = np.linspace(a, b - window_s, n)  # evenly spread, last one ends at b
        out.extend((float(s), float(s) + window_s) for s in starts)
        ids.extend([k] * n)
    return out, np.array(ids)


def _whiten(x: np.ndarray, span_ids: np.ndarray) -> np.ndarray:
    """`x` whitened by its within-span covariance plus a ridge (see module doc)."""
    residuals = [x[span_ids == k] - x[span_ids == k].mean(axis=0) for k in np.unique(span_ids)]
    residuals = [r for r in residuals if len(r) > 1]
    if not residuals:  # only one-window spans: nothing to learn the word variation from
        return x
    r = np.concatenate(residuals)
    cov = (r.T @ r) / max(1, len(r) - 1) + WHITEN_RIDGE * np.eye(x.shape[1])
    eigval, eigvec = np.linalg.eigh(cov)
    return x @ (eigvec @ np.diag(eigval**-0.5) @ eigvec.T)


#: Frame features are computed over blocks of this many seconds (plus a margin), not
#: the whole recording: the MFCCs' 80 dB floor is relative to the block's loudest frame,
#: so one loud moment does not reshape an hour of features. A call shorter than one
#: block is computed in one piece.
_BLOCK_S = 300.0
_BLOCK_MARGIN_S = 5.0


def _frame_features(samples: np.ndarray, sample_rate_hz: int) -> tuple[np.ndarray, ...]:
    """(loudness, mfcc[1:], f0_hz, rms) per `_FRAME_S` frame of `samples` (librosa's
    mfcc, yin and rms, computed by `flows.speech.spectral` without importing librosa)."""
    hop = max(1, round(_FRAME_S * sample_rate_hz))
    n_fft = 1 << int(np.ceil(np.log2(0.025 * sample_rate_hz)))
    fmax_hz = min(4000.0, sample_rate_hz / 2)
    mfcc = spectral.mfcc(samples, sample_rate_hz, _N_MFCC, n_fft, hop, n_mels=40, fmin_hz=100.0, fmax_hz=fmax_hz)
    # YIN needs two periods of the lowest f0 per frame: 60 Hz -> 33 ms, so 40 ms frames.
    yin_frame = 1 << int(np.ceil(np.log2(0.04 * sample_rate_hz)))
    f0_hz = spectral.yin(samples, 60.0, 400.0, sample_rate_hz, yin_frame, hop)
    rms = spectral.rms(samples, yin_frame, hop)
    n = min(mfcc.shape[1], len(f0_hz), len(rms))
    return mfcc[0, :n], mfcc[1:, :n], f0_hz[:n], rms[:n]


def _blocks(windows: list[tuple[float, float]], total_s: float) -> list[tuple[float, float, list[int]]]:
    """(start_s, end_s, window indices): windows grouped by the block their start lies in."""
    if total_s <= _BLOCK_S + _BLOCK_MARGIN_S:
        return [(0.0, total_s, list(range(len(windows))))]
    groups: dict[int, list[int]] = {}
    for k, (a, _) in enumerate(windows):
        groups.setdefault(int(a // _BLOCK_S), []).append(k)
    return [
        (max(0.0, b * _BLOCK_S - _BLOCK_MARGIN_S), min(total_s, (b + 1) * _BLOCK_S + _BLOCK_MARGIN_S), ks)
        for b, ks in sorted(groups.items())
    ]


def _features(samples: np.ndarray, sample_rate_hz: int, windows: list[tuple[float, float]]) -> np.ndarray:
    """One z-scored voice vector per window (see module doc)."""
    rows: list[np.ndarray] = [np.empty(0)] * len(windows)
    pitch = np.full(len(windows), np.nan)
    for block_start_s, block_end_s, ks in _blocks(windows, len(samples) / sample_rate_hz):
        # Block edges are whole frames, so frame k of a block is frame k + offset overall.
        offset = int(round(block_start_s / _FRAME_S))
        lo = int(round(offset * _FRAME_S * sample_rate_hz))
        loudness, mfcc, f0_hz, rms = _frame_features(
            samples[lo : int(block_end_s * sample_rate_hz)], sample_rate_hz
        )
        n = len(loudness)
        for k in ks:
            a, b = windows[k]
            i = int(a / _FRAME_S) - offset
            j = max(i + 1, min(n, int(np.ceil(b / _FRAME_S)) - offset))
            keep = loudness[i:j] >= np.percentile(loudness[i:j], QUIET_FRAMES_PERCENTILE)
            block = mfcc[:, i:j][:, keep]
            rows[k] = np.concatenate([block.mean(axis=1), block.std(axis=1)])
            # Voiced frames are the louder half of a speech window; their median f0 is
            # robust to YIN's octave slips and to the unvoiced frames it still labels.
            loud = rms[i:j] >= np.median(rms[i:j])
            f0 = f0_hz[i:j][loud]
            pitch[k] = float(np.median(np.log(f0))) if len(f0) else np.nan
    pitch[np.isnan(pitch)] = np.nanmedian(pitch) if np.any(~np.isnan(pitch)) else 0.0
    x = np.column_stack([np.array(rows), pitch])
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 1e-9, sd, 1.0)


def _two_clusters(x: np.ndarray, iterations: int = 50) -> tuple[np.ndarray, float, float]:
    """k-means (k=2) labels, confidence and separation d' (see module doc)."""
    # Deterministic farthest-point start: the window farthest from the mean, then the
    # one farthest from that.
    a = int(np.argmax(((x - x.mean(axis=0)) ** 2).sum(axis=1)))
    b = int(np.argmax(((x - x[a]) ** 2).sum(axis=1)))
    centres = np.stack([x[a], x[b]])
    labels = np.zeros(len(x), dtype=int)
    for _ in range(iterations):
        d = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        new = np.argmin(d, axis=1)
        if np.all(new == labels) and _ > 0:
            break
        labels = new
        for k in (0, 1):
            if np.any(labels == k):
                centres[k] = x[labels == k].mean(axis=0)
    if not (np.any(labels == 0) and np.any(labels == 1)):
        return labels, 0.0, 0.0

    axis = centres[1] - centres[0]
    norm = np.linalg.norm(axis)
    if norm < 1e-9:
        return labels, 0.0, 0.0
    proj = (x - (centres[0] + centres[1]) / 2) @ (axis / norm)
    resid = np.concatenate([proj[labels == k] - proj[labels == k].mean() for k in (0, 1)])
    sd = max(float(resid.std()), 1e-9)
    separation = norm / sd
    margin = np.abs(proj) / sd  # distance from the midpoint in sd units
    posterior = 1.0 / (1.0 + np.exp(-separation * margin))
    confidence = float(np.mean(2 * posterior - 1))
    return labels, confidence, float(separation)


def _label_spans(
    spans: list[tuple[float, float]], windows: list[tuple[float, float]], labels: np.ndarray
) -> list[tuple[float, float, int]]:
    """Split the spans where the frame-level vote of the windows changes speaker."""
    out: list[tuple[float, float, int]] = []
    w = np.array(windows)
    for a, b in spans:
        inside = np.nonzero((w[:, 0] < b) & (w[:, 1] > a))[0]
        n = max(1, int(round((b - a) / _FRAME_S)))
        t = a + (np.arange(n) + 0.5) * _FRAME_S
        votes = np.zeros((n, 2))
        for k in inside:
            covered = (t >= w[k, 0]) & (t < w[k, 1])
            votes[covered, labels[k]] += 1
        runs = _runs(_vote(votes))
        runs = _absorb_short(runs, int(round(MIN_TURN_S / _FRAME_S)))
        for i, j, lab in runs:
            start_s = a + i * _FRAME_S
            end_s = b if j == n else a + j * _FRAME_S
            out.append((round(start_s, 3), round(end_s, 3), int(lab)))
    return out


def _vote(votes: np.ndarray) -> np.ndarray:
    """Each frame's cluster: the one most windows covering it chose.

    A tie is no evidence of a change, so it keeps the cluster of the last decided frame
    (the first decided one at a span's start); broken by cluster index, a span's last
    window alone would claim a run long enough to survive MIN_TURN_S (docs/decisions.md,
    "Word timings").
    """
    labels = np.argmax(votes, axis=1)
    decided = votes[:, 0] != votes[:, 1]
    if not decided.any():
        return labels
    last = np.maximum.accumulate(np.where(decided, np.arange(len(labels)), -1))
    last[last < 0] = int(np.argmax(decided))
    return labels[last]


def _runs(labels: np.ndarray) -> list[list[int]]:
    """[start, end, label] runs of equal labels (end exclusive)."""
    runs: list[list[int]] = []
    for i, lab in enumerate(labels):
        if runs and runs[-1][2] == lab:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1, int(lab)])
    return runs


def _absorb_short(runs: list[list[int]], min_frames: int) -> list[list[int]]:
    """Give runs shorter than `min_frames` to a neighbour, shortest first, then re-join."""
    runs = [r[:] for r in runs]
    while len(runs) > 1:
        lengths = [r[1] - r[0] for r in runs]
        k = int(np.argmin(lengths))
        if lengths[k] >= min_frames:
            break
        if k == 0:
            nb = 1
        elif k == len(runs) - 1:
            nb = k - 1
        else:
            nb = k - 1 if lengths[k - 1] >= lengths[k + 1] else k + 1
        runs[k][2] = runs[nb][2]
        merged: list[list[int]] = []
        for r in runs:
            if merged and merged[-1][2] == r[2]:
                merged[-1][1] = r[1]
            else:
                merged.append(r)
        runs = merged
    return runs
