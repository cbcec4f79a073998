"""The analyzers on the ground-truth transcripts of the generated sample calls.

The truth files (tools/make_sample_calls.py) carry the findings each call was
built to contain; running the analyzers on the exact utterances must give them.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

from analyzers.analyze import analyze
from analyzers.model import CallTruth, Transcript, from_dict
from conftest import or_missing
from flows.batch.metadata import read_call_meta
from lexicons import load_pack
from tools.sample_set import truth_paths  # noqa: E402

SAMPLES = truth_paths()


def truth_audio(path: Path) -> Path:
    return path.with_name(json.loads(path.read_text(encoding="utf-8"))["audio"])


# No truth files: one placeholder test that fails under CI and is skipped elsewhere.
@pytest.mark.parametrize("path", or_missing(SAMPLES, "no sample_audio/*.json"), ids=lambda p: p.stem)
def test_sample_truth_findings_and_rates(path):
    truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
    t = Transcript(truth.call_id, truth.duration_s, truth.layout, truth.utterances)
    # the direction from the call's metadata sidecar, as the pipeline reads it
    a = analyze(t, load_pack(), read_call_meta(truth_audio(path)).direction)
    # by category AND rule: one finding per missing part of the greeting or closing
    want = Counter((f.category, f.rule_id) for f in truth.expected_findings)
    got = Counter((f.category, f.rule_id) for f in a.findings)
    assert got == want
    if truth.agent_chars_per_min is not None:
        assert a.agent_chars_per_min == pytest.approx(truth.agent_chars_per_min, abs=0.5)
    if truth.customer_chars_per_min is not None:
        assert a.customer_chars_per_min == pytest.approx(truth.customer_chars_per_min, abs=0.5)
    for hold in truth.holds:
        assert any(f.category == "hold" and abs(f.start_s - hold.start_s) < 0.1 and abs(f.end_s - hold.end_s) < 0.1
                   for f in a.findings)
