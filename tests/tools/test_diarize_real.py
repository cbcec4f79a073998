"""Mono diarization on real voices (issue 18): the set of tools/make_diarization_set.py
built from ../shared/audio/real, split by `diarize_call` as the pipeline does (its VAD,
the default "auto" diarizer). Figures and their history: docs/diarization.md.

Here in tests/tools/ because only that tool builds this input (pairs of real people,
turn-taking, truth segments); the measures are analyzers.diarization_metrics'."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analyzers.diarization_metrics import COLLAR_S, der, role_accuracy_parts
from flows.speech.audio import load_call
from flows.speech.diarize import Diarization
from flows.speech.diarize_embed import diarize_call
from flows.speech.vad import detect_speech
from flows.speech.voice_encoder import embed_windows
from tests.conftest import REAL_CLIPS, need_file
from tools import make_diarization_set as mk
from tools.asr_eval_set import telephone_copy

RATE_HZ = 16000  # the pipeline's rate (the set is written at 8 kHz)


@pytest.fixture(scope="module")
def set_dir(tmp_path_factory):
    need_file(REAL_CLIPS / "REFERENCES.tsv", "the real clips of ../shared/audio/real")
    out = tmp_path_factory.mktemp("diarset")
    mk.main([str(out), "--real", str(REAL_CLIPS)])
    return out


def _diarized(wav) -> Diarization:
    mix = load_call(wav, sample_rate_hz=RATE_HZ).channels["mixed"]
    return diarize_call(mix, RATE_HZ, detect_speech(mix, RATE_HZ))


@pytest.fixture(scope="module")
def diar_set(set_dir):
    metas = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(set_dir.glob("*.json"))]
    return [(meta, _diarized(set_dir / f"{meta['name']}.wav")) for meta in metas]


def _pooled(results, kind: str) -> tuple[float, float]:
    """DER (+-0.25 s collar) and role accuracy pooled over the recordings of `kind`."""
    err = total = right = alone = 0.0
    for meta, d in results:
        if meta["kind"] != kind:
            continue
        ref = [(s["speaker"], s["start_s"], s["end_s"]) for s in meta["segments"]]
        hyp = [(s.speaker, s.start_s, s.end_s) for s in d.spans]
        x = der(ref, hyp, COLLAR_S)
        err += x["miss"] + x["fa"] + x["confusion"]
        total += x["total"]
        roles = {meta["first_speaker"]: "agent"} | {s: "customer" for s in meta["speakers"] if s != meta["first_speaker"]}
        r, a = role_accuracy_parts(ref, hyp, roles)
        right, alone = right + r, alone + a
    return err / total, right / alone


def test_no_one_voice_recording_is_split(diar_set):
    singles = [(m, d) for m, d in diar_set if m["kind"] == "single"]
    assert len(singles) == 14
    split = [m["name"] for m, d in singles if d.speakers == 2]
    assert split == []
    # one voice is no evidence of a role: each is marked for review
    assert all(d.uncertain for _, d in singles)


def test_two_real_voices_are_found_in_every_mix(diar_set):
    mixes = [(m, d) for m, d in diar_set if m["kind"] != "single"]
    assert len(mixes) == 15
    assert [m["name"] for m, d in mixes if d.speakers != 2] == []
    # The embeddings split them, except voices close to the encoder (centre cosine above
    # CLOSE_VOICES_COS: one similar-pitch mix), which take the MFCC split and are marked.
    assert all(d.method == "embed" or d.uncertain for _, d in mixes)
    assert sum(d.method == "embed" for _, d in mixes) >= 14


def test_different_pitch_pairs_meet_the_der_target(diar_set):
    # 8.2 % with a window vote on raw d-vectors, 5.0 % with centred d-vectors and the
    # resegmentation (2026-12-01, docs/diarization.md)
    der_c, role_acc = _pooled(diar_set, "different")
    assert der_c <= 0.08, f"DER {der_c:.1%}"
    assert role_acc >= 0.88


def test_similar_pitch_pairs(diar_set):
    # 12.1 % measured on 2026-12-01, 10.5 % with centred d-vectors and the
    # resegmentation (target 10 %, see docs/diarization.md); the bound guards against
    # a regression towards MFCC's 26 %.
    der_c, role_acc = _pooled(diar_set, "similar")
    assert der_c <= 0.13, f"DER {der_c:.1%}"
    assert role_acc >= 0.80


def test_a_telephone_copy_of_one_voice_stays_one_voice(tmp_path):
    # The WenetSpeech meeting clip's telephone copy was split in two (centre cosine 0.848
    # against 0.906 clean, 4.2 s in the smaller cluster): close voices in 10.8 s of speech.
    clip = need_file(REAL_CLIPS / "fireredasr" / "TEST_MEETING_T0000000001_S00000.wav", "the meeting clip")
    for wav in (clip, telephone_copy(clip, tmp_path / "meeting.wav")):
        d = _diarized(wav)
        assert (d.speakers, d.uncertain) == (1, True), wav


def test_telephone_copies_of_two_voices_are_split_with_roles_right(set_dir, tmp_path):
    # 5.1 % and 92.8 % on the different-pitch mixes' telephone copies (clean: 5.0 %, 92.6 %)
    results = []
    for path in sorted(set_dir.glob("different*.json")):
        meta = json.loads(path.read_text(encoding="utf-8"))
        wav = telephone_copy(set_dir / f"{meta['name']}.wav", tmp_path / f"{meta['name']}.wav")
        results.append((meta, _diarized(wav)))
    assert len(results) == 8
    assert [m["name"] for m, d in results if d.speakers != 2] == []
    der_c, role_acc = _pooled(results, "different")
    assert der_c <= 0.08, f"DER {der_c:.1%}"
    assert role_acc >= 0.88


def test_voice_vectors_tell_people_apart():
    """Two windows of one speaker are closer than windows of two speakers."""
    clips = mk.load_clips(REAL_CLIPS)
    by_pitch = sorted((c for c in clips if sum(b - a for a, b in c.regions) > 6.0), key=lambda c: c.pitch_hz)
    low, high = by_pitch[0], by_pitch[-1]

    def two_windows(c):
        (a, b), (x, y) = max(c.regions, key=lambda r: r[1] - r[0]), min(c.regions, key=lambda r: -r[0])
        return [(a, min(b, a + 1.5)), (x, min(y, x + 1.5))]

    import librosa

    def at_16k(c):
        return librosa.resample(c.samples, orig_sr=mk.RATE_HZ, target_sr=16000)

    v_low = embed_windows(at_16k(low), two_windows(low))
    v_high = embed_windows(at_16k(high), two_windows(high))
    assert np.allclose(np.linalg.norm(v_low, axis=1), 1.0, atol=1e-4)
    same = float(v_low[0] @ v_low[1])
    other = float(v_low[0] @ v_high[0])
    assert same > other + 0.1
