"""bench/compare_findings.py: the rows of two checkouts compared both ways."""

from __future__ import annotations

from bench.compare_findings import compare, dump, make_calls


def _row(detail: str, category: str = "complaint_apology_missing") -> list:
    return ["c1", "inbound", "off", "finding", category, "apology_first", "major", "agent", 1.0, 2.0, "嗯", detail, False]


def test_equal_rows_are_identical(capsys):
    rows = [_row("x"), ["c1", "inbound", "off", "analysis", 90.0, "B", [], True, True, 0, 0, 0]]
    assert compare(rows, list(reversed(rows)), []) == 0
    assert "identical" in capsys.readouterr().out


def test_a_changed_detail_or_a_missing_row_differs(capsys):
    assert compare([_row("x")], [_row("y")], []) == 1
    out = capsys.readouterr().out
    assert "only before" in out and "only after" in out and "DIFFERENT (1 only before, 1 only after)" in out
    assert compare([_row("x"), _row("x")], [_row("x")], []) == 1  # a multiset: a lost duplicate counts


def test_ignore_detail_ignores_only_that_category():
    assert compare([_row("x")], [_row("y")], ["complaint_apology_missing"]) == 0
    assert compare([_row("x", "followup_time_missing")], [_row("y", "followup_time_missing")],
                   ["complaint_apology_missing"]) == 1


def test_dump_gives_a_row_per_analysis_and_per_finding(tmp_path):
    import json
    from dataclasses import asdict

    calls = make_calls(tmp_path / "night", 0)[:2]
    (tmp_path / "calls.json").write_text(json.dumps([asdict(t) for t in calls], ensure_ascii=False), encoding="utf-8")
    rows = dump(tmp_path / "calls.json", ["off"], tmp_path / "cache")
    assert [r[:4] for r in rows if r[3] == "analysis"] == [
        [c.call_id, d, "off", "analysis"] for c in calls for d in ("inbound", "outbound")]
    assert any(r[3] == "finding" and r[11] for r in rows)  # the detail is compared
