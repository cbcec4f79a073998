"""The analyzers on the ground-truth transcripts of the generated sample calls.

The truth files (tools/make_sample_calls.py) carry the findings each call was built to
contain; running the analyzers on the exact utterances must give them, one to one, with
the same category, rule, severity and speaker, at the same time (analyzers.truth.covers).
"""

import json
from pathlib import Path

import pytest

from analyzers.analyze import analyze
from analyzers.model import CallTruth, Finding, Transcript, from_dict
from analyzers.truth import describe, match_findings
from conftest import missing, or_missing, truth_files
from flows.batch.metadata import read_call_meta
from lexicons import load_pack

SAMPLES = truth_files()
#: The analyzers see the truth's own utterances, so their findings' times are the truth's;
#: 0.05 s absorbs the truth's rounding (1e-4 s) and is far below any gap between utterances.
TRUTH_TOLERANCE_S = 0.05


def truth_audio(path: Path) -> Path:
    return path.with_name(json.loads(path.read_text(encoding="utf-8"))["audio"])


# No truth files: one placeholder test that fails under CI and is skipped elsewhere.
@pytest.mark.parametrize("path", or_missing(SAMPLES, "no sample_audio/*.json"), ids=lambda p: p.stem)
def test_sample_truth_findings_and_rates(path):
    truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
    t = Transcript(truth.call_id, truth.duration_s, truth.layout, truth.utterances)
    # the direction from the call's metadata sidecar, as the pipeline reads it
    a = analyze(t, load_pack(), read_call_meta(truth_audio(path)).direction)
    _, missing, unexpected = match_findings(a.findings, truth.expected_findings, TRUTH_TOLERANCE_S)
    assert not missing and not unexpected, (
        f"missing {[describe(f) for f in missing]}; unexpected {[describe(f) for f in unexpected]}")
    if truth.agent_chars_per_min is not None:
        assert a.agent_chars_per_min == pytest.approx(truth.agent_chars_per_min, abs=0.5)
    if truth.customer_chars_per_min is not None:
        assert a.customer_chars_per_min == pytest.approx(truth.customer_chars_per_min, abs=0.5)
    for hold in truth.holds:
        assert any(f.category == "hold" and abs(f.start_s - hold.start_s) < 0.1 and abs(f.end_s - hold.end_s) < 0.1
                   for f in a.findings)


def _f(rule="hello", start=1.0, end=2.0, severity="major", speaker="agent"):
    return Finding("greeting_missing", rule, severity, speaker, start, end)


def test_findings_are_matched_one_to_one_with_severity_speaker_and_time():
    two = [_f(), _f()]
    pairs, missing, unexpected = match_findings([_f()], two, 0.1)
    assert len(pairs) == 1 and len(missing) == 1 and not unexpected  # two expected are not met by one
    pairs, missing, unexpected = match_findings(two, [_f()], 0.1)
    assert len(pairs) == 1 and not missing and len(unexpected) == 1  # nor one by two
    for wrong in (_f(severity="minor"), _f(speaker="customer"), _f(rule="service_offer"),
                  _f(start=1.5, end=2.5), _f(start=0.5, end=1.5), _f(start=5.0, end=6.0)):
        assert match_findings([wrong], [_f()], 0.1)[0] == [], wrong
    # a wider span (where a missing greeting was looked for) holds the truth's utterance,
    # a phrase's span lies inside it
    assert len(match_findings([_f(start=0.95, end=9.0)], [_f()], 0.1)[0]) == 1
    assert len(match_findings([_f(start=1.4, end=1.6)], [_f()], 0.1)[0]) == 1
    # the pairing that lets every expected finding be met is found, whatever the order
    wide, narrow = _f(start=0.0, end=9.0), _f(start=1.0, end=2.0)
    pairs, missing, _ = match_findings([narrow, wide], [_f(start=1.0, end=2.0), _f(start=5.0, end=6.0)], 0.1)
    assert len(pairs) == 2 and not missing


def test_the_call_scripted_from_the_standards_model_lines_grades_a():
    """README: call08 "is scripted from the standard's model lines and grades A"."""
    [path] = [p for p in SAMPLES if p.stem == "call08_standard_script"] or [None]
    if path is None:
        missing("no sample_audio/call08_standard_script.json")
    truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
    t = Transcript(truth.call_id, truth.duration_s, truth.layout, truth.utterances)
    a = analyze(t, load_pack(), read_call_meta(truth_audio(path)).direction)
    assert a.grade == "A" and a.score == 100 and not a.flagged, (a.score, a.flag_reasons)
    assert {f.category for f in a.findings} == {"hold"}  # an announced hold is shown, not graded
