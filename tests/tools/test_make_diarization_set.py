"""tools/make_diarization_set.py: the set builder's timeline on tones (no real audio)."""

from __future__ import annotations

import numpy as np
import pytest

from tools import make_diarization_set as mk

RATE = mk.RATE_HZ


# --- set builder on tones ----------------------------------------------------------


def _tone_clip(speaker: str, f0_hz: float, bursts: list[tuple[float, float]], total_s: float) -> mk.Clip:
    """A clip of `total_s` with a tone in each (start, end) burst and silence between."""
    y = np.zeros(int(total_s * RATE), np.float32)
    for a, b in bursts:
        t = np.arange(int((b - a) * RATE)) / RATE
        y[int(a * RATE) : int(a * RATE) + len(t)] = 0.3 * np.sin(2 * np.pi * f0_hz * t)
    return mk.Clip(f"{speaker}.wav", speaker, y, tuple(mk.speech_regions(y)), f0_hz)


A = _tone_clip("A", 200.0, [(0.2, 1.4), (1.9, 3.5), (4.0, 5.2), (5.8, 7.6)], 8.0)
B = _tone_clip("B", 120.0, [(0.1, 0.9), (1.3, 2.6)], 3.0)


def test_speech_regions_find_the_bursts():
    assert len(A.regions) == 4
    for (a, b), (ta, tb) in zip(A.regions, [(0.2, 1.4), (1.9, 3.5), (4.0, 5.2), (5.8, 7.6)]):
        assert a == pytest.approx(ta, abs=0.05) and b == pytest.approx(tb, abs=0.05)


def test_median_pitch_of_a_tone():
    assert mk.median_pitch_hz(A.samples) == pytest.approx(200.0, rel=0.03)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mix_timeline_invariants(seed):
    mix, segs = mk.build_mix(A, B, np.random.default_rng(seed))
    duration = len(mix) / RATE
    assert segs == sorted(segs, key=lambda s: (s["start_s"], s["end_s"]))
    assert {s["speaker"] for s in segs} == {"A", "B"}
    assert segs[0]["speaker"] == "A"  # the first clip opens
    for s in segs:
        assert 0.0 <= s["start_s"] < s["end_s"] <= duration
    for spk in ("A", "B"):  # one voice never overlaps itself
        own = [s for s in segs if s["speaker"] == spk]
        assert all(x["end_s"] < y["start_s"] for x, y in zip(own, own[1:]))
        # each voice has at least MIN_VOICE_S of speech (short clips repeat)
        assert sum(s["end_s"] - s["start_s"] for s in own) >= mk.MIN_VOICE_S - 1.0
    # turns alternate: more than a handful of speaker changes
    changes = sum(x["speaker"] != y["speaker"] for x, y in zip(segs, segs[1:]))
    assert changes >= 4
    # speech where the truth says so, silence elsewhere
    speech = np.zeros(len(mix), bool)
    for s in segs:
        speech[int(s["start_s"] * RATE) : int(s["end_s"] * RATE)] = True
    assert np.sqrt(np.mean(mix[speech] ** 2)) > 0.1
    assert np.max(np.abs(mix[~speech]), initial=0.0) < 0.05


def test_the_mix_is_deterministic():
    m1, s1 = mk.build_mix(A, B, np.random.default_rng(5))
    m2, s2 = mk.build_mix(A, B, np.random.default_rng(5))
    assert s1 == s2 and np.array_equal(m1, m2)


def test_single_is_one_speaker_after_the_lead():
    mix, segs = mk.single(A)
    assert {s["speaker"] for s in segs} == {"A"}
    assert segs[0]["start_s"] == pytest.approx(mk.LEAD_S + 0.2, abs=0.05)
    assert len(mix) == len(A.samples) + 2 * int(mk.LEAD_S * RATE)


def test_pairs_never_pair_one_person_with_themselves():
    clips = [
        _tone_clip("P", 200.0, [(0.1, 1.0)], 1.2),
        mk.Clip("P2.wav", "P", A.samples, A.regions, 205.0),  # same person, another clip
        _tone_clip("Q", 210.0, [(0.1, 1.0)], 1.2),
        _tone_clip("R", 100.0, [(0.1, 1.0)], 1.2),
    ]
    pairs = mk.choose_pairs(clips)
    assert pairs and all(a.speaker != b.speaker for _, a, b in pairs)
    kinds = {kind for kind, _, _ in pairs}
    assert kinds == {"similar", "different"}
