"""Diarization measures over time spans: DER, role accuracy and agreement with a truth.

Pure: lists of (speaker, start_s, end_s) in, numbers out, on FRAME_S frames. Used by the
diarization tests and by tools/measure_diarization_set.py, tools/measure_diarize.py.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

FRAME_S = 0.01
COLLAR_S = 0.25  # NIST md-eval's +-0.25 s around every reference boundary

Segment = tuple[str, float, float]  # speaker, start_s, end_s


def frame_mask(spans: Iterable[tuple[float, float]], n_frames: int) -> np.ndarray:
    """True on the FRAME_S frames inside any of `spans` (start_s, end_s)."""
    m = np.zeros(n_frames, dtype=bool)
    for a, b in spans:
        m[int(round(a / FRAME_S)) : int(round(b / FRAME_S))] = True
    return m


def _matrix(segments: list[Segment], n: int) -> tuple[list[str], np.ndarray]:
    """Speakers and an (n frames x speakers) bool matrix: frame i's centre inside a segment."""
    speakers = sorted({s for s, _, _ in segments})
    m = np.zeros((n, len(speakers)), dtype=bool)
    t = (np.arange(n) + 0.5) * FRAME_S
    for spk, a, b in segments:
        m[(t >= a) & (t < b), speakers.index(spk)] = True
    return speakers, m


def der(reference: list[Segment], hypothesis: list[Segment], collar_s: float = 0.0) -> dict[str, float]:
    """Missed, false alarm and confusion seconds, reference speech seconds and their DER.

    Frames within `collar_s` of a reference segment's start or end are not scored.
    Speakers are mapped one to one to maximise the time both say is that speaker's
    (Hungarian assignment); an unmapped hypothesis speaker is always a confusion.
    """
    from scipy.optimize import linear_sum_assignment

    end = max([b for _, _, b in reference + hypothesis] + [0.0])
    n = int(np.ceil(end / FRAME_S)) + 1
    _, r = _matrix(reference, n)
    _, h = _matrix(hypothesis, n)
    scored = np.ones(n, dtype=bool)
    if collar_s > 0:
        t = (np.arange(n) + 0.5) * FRAME_S
        for _, a, b in reference:
            for edge in (a, b):
                scored &= ~((t >= edge - collar_s) & (t < edge + collar_s))
    r, h = r[scored], h[scored]
    n_ref, n_sys = r.sum(axis=1), h.sum(axis=1)
    correct = np.zeros(len(r))
    if r.shape[1] and h.shape[1]:
        common = r.T.astype(float) @ h.astype(float)
        rows, cols = linear_sum_assignment(-common)
        for i, j in zip(rows, cols):
            correct += r[:, i] & h[:, j]
    miss = np.maximum(0, n_ref - n_sys).sum() * FRAME_S
    fa = np.maximum(0, n_sys - n_ref).sum() * FRAME_S
    confusion = (np.minimum(n_ref, n_sys) - correct).sum() * FRAME_S
    total = n_ref.sum() * FRAME_S
    return {"miss": miss, "fa": fa, "confusion": confusion, "total": total,
            "der": (miss + fa + confusion) / total if total else 0.0}  # fmt: skip


def role_accuracy_parts(reference: list[Segment], hypothesis: list[Segment], roles: dict[str, str]) -> tuple[float, float]:
    """(seconds of one-speaker reference speech given the right role, seconds of it)."""
    end = max([b for _, _, b in reference + hypothesis] + [0.0])
    n = int(np.ceil(end / FRAME_S)) + 1
    rs, r = _matrix(reference, n)
    hs, h = _matrix(hypothesis, n)
    alone = r.sum(axis=1) == 1
    right = np.zeros(n, dtype=bool)
    for k, spk in enumerate(rs):
        role = roles[spk]
        if role in hs:
            right |= r[:, k] & h[:, hs.index(role)] & alone
    return right.sum() * FRAME_S, alone.sum() * FRAME_S


def agreement(truth: list[Segment], found: list[Segment], duration_s: float) -> float:
    """Share of one-speaker truth speech time (agent or customer) given to that speaker."""
    n = int(np.ceil(duration_s / FRAME_S)) + 1
    t = {s: frame_mask([(a, b) for who, a, b in truth if who == s], n) for s in ("agent", "customer")}
    d = {s: frame_mask([(a, b) for who, a, b in found if who == s], n) for s in ("agent", "customer")}
    only_agent, only_customer = t["agent"] & ~t["customer"], t["customer"] & ~t["agent"]
    right = (only_agent & d["agent"]) | (only_customer & d["customer"])
    return float(right.sum() / max(1, (only_agent | only_customer).sum()))
