"""bench/compare_findings.py: the rows of two checkouts compared both ways."""

from __future__ import annotations

import json
from dataclasses import asdict

from bench.compare_findings import compare, dump, make_calls


def _row(detail: str, category: str = "complaint_apology_missing") -> list:
    return ["c1", "inbound", "off", "finding", {"category": category, "rule_id": "apology_first", "start_s": "1.0",
                                                 "text": "嗯", "detail": detail}]


def _analysis(score: str = "90.0") -> list:
    return ["c1", "inbound", "off", "analysis", {"score": score, "grade": "B", "greeting_ok": True}]


def test_equal_rows_are_identical(capsys):
    rows = [_row("x"), _analysis()]
    assert compare(rows, list(rows), []) == 0
    assert "identical; in the same order" in capsys.readouterr().out


def test_a_changed_detail_or_a_missing_row_differs(capsys):
    assert compare([_row("x")], [_row("y")], []) == 1
    out = capsys.readouterr().out
    assert "only before" in out and "only after" in out and "DIFFERENT (1 only before, 1 only after)" in out
    assert compare([_row("x"), _row("x")], [_row("x")], []) == 1  # a multiset: a lost duplicate counts
    assert compare([_analysis("90.0")], [_analysis("90.00000000000001")], []) == 1  # every bit of a float


def test_order_counts_unless_any_order(capsys):
    rows = [_row("x"), _analysis()]
    assert compare(rows, list(reversed(rows)), []) == 1
    assert "NOT in the same order" in capsys.readouterr().out
    assert compare(rows, list(reversed(rows)), [], any_order=True) == 0


def test_ignore_detail_ignores_only_that_category():
    assert compare([_row("x")], [_row("y")], ["complaint_apology_missing"]) == 0
    assert compare([_row("x", "followup_time_missing")], [_row("y", "followup_time_missing")],
                   ["complaint_apology_missing"]) == 1


def test_dump_gives_every_field_of_each_analysis_finding_and_intent_hit(tmp_path):
    calls = make_calls(tmp_path / "night", 0, long=1)
    calls = calls[:2] + calls[-1:]  # two sample truths and one five-minute call
    (tmp_path / "calls.json").write_text(json.dumps([asdict(t) for t in calls], ensure_ascii=False), encoding="utf-8")
    rows = dump(tmp_path / "calls.json", ["off", "on"], tmp_path / "cache")
    assert [r[:4] for r in rows if r[3] == "analysis"] == [
        [c.call_id, d, m, "analysis"] for c in calls for d in ("inbound", "outbound") for m in ("off", "on")]
    assert any(r[3] == "finding" and r[4]["detail"] for r in rows)  # the detail is compared
    assert all(isinstance(r[4]["start_s"], str) for r in rows if r[3] == "finding")  # floats by repr
    intents = [r for r in rows if r[3] == "intent"]
    assert intents and all(r[2] == "on" and r[4]["intent"] for r in intents)
    assert {"score", "grade", "greeting_ok", "closing_ok"} <= rows[-1][4].keys()
