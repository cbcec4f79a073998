"""The report shows why a call is flagged and its scorecard (issue #17 item 4)."""

from __future__ import annotations

from analyzers.analyze import analyze
from flows.batch.pipeline import call_result
from flows.review.report import build_report
from flows.storage.store import ResultStore
from lexicons import load_pack
from transcripts import A, C, conversation


def test_flag_reasons_and_the_scorecard_are_on_the_pages(tmp_path):
    t = conversation([(A, "喂，你说什么？"), (C, "我的快递怎么还没到？"), (A, "这是快递公司的问题，跟我们没有关系。")])
    t = type(t)(**{**t.__dict__, "call_id": "bad <call>"})
    analysis = analyze(t, load_pack("zh-CN"))
    assert analysis.flagged and analysis.flag_reasons
    result = call_result(t, analysis, source=str(tmp_path / "x.wav"), audio_sha256="0", key="k")
    ResultStore(tmp_path / "out").write(result)
    table = ResultStore(tmp_path / "out").read("scores").to_pylist()
    assert {r["item_id"] for r in table} == {i.item_id for i in analysis.items}
    assert any(not r["automatic"] and r["grade"] == "" for r in table)  # manual items are ungraded
    findings = ResultStore(tmp_path / "out").read("findings").to_pylist()
    for row in table:  # finding_refs name the findings table's finding_index
        assert set(row["finding_refs"]) <= {f["finding_index"] for f in findings}
    calls = ResultStore(tmp_path / "out").read("calls").to_pylist()
    assert calls[0]["flag_reasons"] == list(analysis.flag_reasons)

    report = build_report(tmp_path / "out")
    index = report.index.read_text(encoding="utf-8")
    page = next((report.index.parent / "calls").glob("*.html")).read_text(encoding="utf-8")
    for reason in analysis.flag_reasons:
        escaped = reason.replace("<", "&lt;").replace(">", "&gt;")
        assert escaped in index and escaped in page
    assert 'id="scorecard"' in page and "规范用语" in page and "人工评分" in page
    assert "bad &lt;call&gt;" in index and "<call>" not in index
