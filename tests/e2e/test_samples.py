"""The sample calls: ground truth validates and matches the audio files (issue 2)."""

from __future__ import annotations

import json

import pytest

from analyzers.model import CATEGORIES, ModelError
from conftest import SAMPLES, load_truth, or_missing, truth_files
from flows.speech.audio import load_call


def test_there_are_enough_varied_sample_calls(truths):
    assert len(truths) >= 6
    layouts = {t.layout for t in truths.values()}
    codecs = {t.codec for t in truths.values()}
    assert layouts == {"stereo", "mono"}
    assert {"pcm_mulaw", "mp3"} <= codecs
    assert all(t.sample_rate_hz == 8000 for t in truths.values())
    total_bytes = sum(p.stat().st_size for p in SAMPLES.iterdir())
    assert total_bytes < 10 * 1024 * 1024


def test_samples_cover_every_scenario(truths):
    expected = [f for t in truths.values() for f in t.expected_findings]
    cats = {f.category for f in expected}
    assert {"greeting_missing", "closing_missing", "banned_phrase", "hold", "hold_notice_missing",
            "hold_apology_missing", "speech_rate_fast", "speech_rate_slow", "overtalk"} <= cats
    assert cats <= set(CATEGORIES)
    assert sum(f.category == "overtalk" for f in expected) >= 2
    # one compliant call (nothing above minor: call01's script predates the 礼貌用语 and
    # 确认客户信息 points of 003 §四.2(1), which it misses; issue 17), a 4 s pause that is
    # not a hold
    assert any(all(f.severity in ("info", "minor") for f in t.expected_findings) for t in truths.values())
    assert any(3.5 <= p.duration_s < 6 for t in truths.values() for p in t.pauses)
    rates = [t.agent_chars_per_min for t in truths.values()]
    assert max(rates) > 250 and min(rates) < 125


@pytest.mark.parametrize("path", or_missing(truth_files(), f"no {SAMPLES}/*.json"), ids=lambda p: p.stem)
def test_sample_call_matches_its_ground_truth(path):
    truth = load_truth(path)
    audio = load_call(SAMPLES / truth.audio)
    assert audio.source_sample_rate_hz == truth.sample_rate_hz
    assert audio.source_channels == truth.channels
    assert audio.codec == truth.codec
    assert audio.layout == truth.layout
    # mp3 encoders pad a frame or two
    assert audio.duration_s == pytest.approx(truth.duration_s, abs=0.08)
    for u in truth.utterances:
        assert 0 <= u.start_s < u.end_s <= truth.duration_s
    for hold in truth.holds:
        assert hold.duration_s >= 6.0
        speaking = [u for u in truth.utterances if u.start_s < hold.end_s and u.end_s > hold.start_s]
        assert not speaking, f"someone speaks inside hold {hold}"


def test_ground_truth_validation_names_the_field(tmp_path):
    data = json.loads(truth_files()[0].read_text(encoding="utf-8"))
    data["utterances"][1]["speaker"] = "robot"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ModelError, match=r"utterances\[1\]\.speaker"):
        load_truth(bad)
