"""tools/make_tts_diarization_set.py: the pure parts (voices, dialogue, timeline, truth).

No TTS: a fake synthesiser gives a tone per line, 0.3 s a character at tempo 1.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tools import make_diarization_set as real
from tools import make_tts_diarization_set as mk

RATE = mk.RATE_HZ


def fake_say(text: str, voice: mk.Voice) -> np.ndarray:
    chars = sum("\u4e00" <= c <= "\u9fff" for c in text)
    n = int(chars * 0.3 / voice.speed * RATE)
    t = np.arange(n) / RATE
    return 0.3 * np.sin(2 * np.pi * 200.0 * voice.pitch * t)


# --- voices -------------------------------------------------------------------------


def test_voices_are_not_the_sample_voices_and_pairs_differ():
    mk.check_voices(mk.PAIRS)
    for a, b in mk.PAIRS:
        assert a.id != b.id
    with pytest.raises(AssertionError):
        mk.check_voices([(mk.Voice(1.2, 0.88, 1.0), mk.Voice(1.0, 1.1, 1.0))])  # the sample customer's pitch


def test_pairs_cover_close_and_far_pitch_speeds():
    assert 8 <= len(mk.PAIRS) <= 12
    kinds = [mk.kind_of(a, b) for a, b in mk.PAIRS]
    assert kinds.count("tts_close") >= 1 and kinds.count("tts_far") >= 4
    for (a, b), kind in zip(mk.PAIRS, kinds):
        assert (mk.pitch_ratio(a, b) < mk.CLOSE_RATIO) == (kind == "tts_close")
    speeds = {v.speed for p in mk.PAIRS for v in p}
    assert min(speeds) <= 0.9 and max(speeds) >= 1.2


def test_duration_ratio_undoes_the_formant_stretch():
    assert mk.Voice(1.0, 1.0, 1.0).duration_ratio == pytest.approx(mk.BASE_DURATION)
    assert mk.Voice(1.0, 0.8, 1.0).duration_ratio == pytest.approx(mk.BASE_DURATION * 0.8, abs=0.01)
    assert mk.Voice(1.0, 1.0, 1.25).duration_ratio < mk.Voice(1.0, 1.0, 0.85).duration_ratio


def test_median_pitch_of_a_tone():
    t = np.arange(2 * RATE) / RATE
    for hz in (130.0, 262.0, 317.0):
        assert mk.median_pitch_hz(0.3 * np.sin(2 * np.pi * hz * t)) == pytest.approx(hz, rel=0.01)


# --- a recording ----------------------------------------------------------------------


@pytest.mark.parametrize("k", [0, 1, 7])
def test_recording_timeline(k):
    agent, customer = mk.PAIRS[k]
    y, meta, placed = mk.build_pair(k, agent, customer, seed=3, synth=fake_say)
    # the format of tools/make_diarization_set.py
    assert list(meta) == ["name", "kind", "sample_rate_hz", "duration_s", "speakers", "first_speaker", "segments"]
    assert meta["kind"] == mk.kind_of(agent, customer) and meta["name"].startswith(meta["kind"])
    assert meta["first_speaker"] == agent.id and set(meta["speakers"]) == {agent.id, customer.id}
    json.dumps(meta)
    segs = meta["segments"]
    assert segs == sorted(segs, key=lambda s: (s["start_s"], s["end_s"]))
    assert segs == real.merge_segments(segs)  # no voice overlaps itself
    assert meta["duration_s"] == pytest.approx(len(y) / RATE, abs=1e-3)
    assert mk.CALL_S[0] - 5 <= meta["duration_s"] <= mk.CALL_S[1] + 5

    turns = [p for p in placed if not p["backchannel"]]
    assert [p["role"] for p in turns] == ["agent", "customer"] * (len(turns) // 2) + ["agent"] * (len(turns) % 2)
    for p in turns:
        assert mk.TURN_S[0] <= len(p["audio"]) / RATE <= mk.TURN_S[1]
    assert len({p["text"] for p in turns}) == len(turns)  # no line twice in a call
    for a, b in zip(turns, turns[1:]):
        gap = (b["start"] - a["start"] - len(a["audio"])) / RATE
        assert mk.GAP_S[0] - 1e-3 <= gap <= mk.GAP_S[1] or mk.OVERLAP_S[0] - 1e-3 <= -gap <= mk.OVERLAP_S[1]
    for bc in (p for p in placed if p["backchannel"]):
        assert bc["text"] in mk.BACKCHANNELS
        host = [p for p in turns if p["start"] < bc["start"] < p["start"] + len(p["audio"])]
        assert len(host) == 1 and host[0]["role"] != bc["role"]
        h = host[0]
        assert len(h["audio"]) > mk.LONG_TURN_S * RATE
        assert bc["start"] + len(bc["audio"]) <= h["start"] + len(h["audio"]) - mk.BACKCHANNEL_MARGIN_S * RATE
    # speech where the truth says so, silence elsewhere
    speech = np.zeros(len(y), bool)  # times are rounded to 1 ms: +-4 samples
    inner = np.zeros(len(y), bool)
    for s in segs:
        a, b = int(round(s["start_s"] * RATE)), int(round(s["end_s"] * RATE))
        speech[max(0, a - 4) : b + 4] = True
        inner[a + 4 : b - 4] = True
    assert np.max(np.abs(y[~speech]), initial=0.0) == 0.0
    assert np.sqrt(np.mean(y[inner] ** 2)) > 0.05


def test_overlap_and_backchannel_shares_over_many_turns():
    rng = np.random.default_rng(1)
    roles = ["agent", "customer"] * 300
    turns = [(r, str(i), np.ones(int(rng.uniform(*mk.TURN_S) * RATE))) for i, r in enumerate(roles)]
    placed = mk.place(turns, lambda role: ("嗯", np.ones(int(0.4 * RATE))), rng)
    turns_ = [p for p in placed if not p["backchannel"]]
    overlaps = sum(b["start"] < a["start"] + len(a["audio"]) for a, b in zip(turns_, turns_[1:]))
    long_turns = sum(len(p["audio"]) > mk.LONG_TURN_S * RATE for p in turns_)
    backchannels = sum(p["backchannel"] for p in placed)
    assert 0.15 <= overlaps / (len(turns_) - 1) <= 0.25
    assert 0.18 <= backchannels / long_turns <= 0.32


def test_levels_and_determinism():
    a = mk.build_pair(4, *mk.PAIRS[4], seed=9, synth=fake_say)
    b = mk.build_pair(4, *mk.PAIRS[4], seed=9, synth=fake_say)
    assert a[1] == b[1] and np.array_equal(a[0], b[0])
    for spk in a[1]["speakers"].values():
        assert abs(spk["gain_db"]) <= mk.GAIN_DB + 0.01
    c = mk.build_pair(4, *mk.PAIRS[4], seed=10, synth=fake_say)
    assert c[1]["segments"] != a[1]["segments"]
