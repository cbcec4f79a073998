"""Must show (issue 32): a rule written only in YAML runs in `run` and `reprocess` and
appears in the findings, the scorecard, the report and the review workspace."""

import shutil

from fastapi.testclient import TestClient

from flows.cli.main import main
from flows.review.webapp import queries, service
from flows.review.webapp.main import create_app
from flows.storage.store import ResultStore
from lexicons import PACKS_DIR
from runs import byo_inputs
from webapp_support import add_users, sign_in

RULE = """rules:
  - id: parcel_eta
    find: {role: agent, phrases: [包裹]}
    severity: minor
    item: knowledge
    message: 测试规则：客服提到了包裹
    examples: {hit: ["您的包裹明天到。"], miss: ["您的订单明天到。"]}
"""


def _hits(out):
    rows = ResultStore(out).read("findings").to_pylist()
    return sorted((r["call_id"], r["finding_index"]) for r in rows if r["rule_id"] == "parcel_eta"
                  and r["category"] == "pack_rule")


def test_a_rule_written_only_in_yaml_runs_in_run_and_reprocess_and_shows_everywhere(tmp_path, capsys):
    pack, inputs, out = tmp_path / "pack", tmp_path / "in", tmp_path / "out"
    shutil.copytree(PACKS_DIR / "zh-CN", pack)
    (pack / "custom_rules.yaml").write_text(RULE, encoding="utf-8")
    byo_inputs(inputs, copies=1)  # call01, call04, call07 with their transcripts: no whisper
    assert main(["rules", "check", str(pack)]) == 0
    assert main(["run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet",
                 "--rule-pack", str(pack)]) == 0
    hits = _hits(out)
    assert [c for c, _ in hits] == ["call01_compliant_0"]  # 您的包裹预计明天上午送到
    scores = {(r["call_id"], r["item_id"]): r for r in ResultStore(out).read("scores").to_pylist()}
    knowledge = scores[("call01_compliant_0", "knowledge")]
    assert knowledge["grade"] == "B" and hits[0][1] in knowledge["finding_refs"]
    assert scores[("call04_holds_0", "knowledge")]["grade"] == "A"

    assert main(["report", str(out)]) == 0
    page = next((out / "report").rglob("*call01_compliant_0*.html")).read_text(encoding="utf-8")
    assert "测试规则：客服提到了包裹" in page and "parcel_eta" in page

    db = f"sqlite:///{tmp_path / 'review.db'}"
    app = create_app(out, db, lexicon=str(pack))
    try:
        users = add_users(app.state.engine)
        client = TestClient(app)
        assert sign_in(client, "rita").status_code == 200
        shown = client.get("/calls/call01_compliant_0")
        assert shown.status_code == 200 and "测试规则：客服提到了包裹" in shown.text
        # a reviewer rejects the rule's finding: `rules try` reports it at the rule's hits
        with app.state.engine.connect() as conn:
            fid = next(f["finding_id"] for f in queries.call_findings(conn, "call01_compliant_0")
                       if f["rule_id"] == "parcel_eta")
        service.claim(app.state.engine, users["rita"], "call01_compliant_0")
        service.set_verdict(app.state.engine, users["rita"], "call01_compliant_0", fid, "rejected")
    finally:
        app.state.engine.dispose()
    capsys.readouterr()
    assert main(["rules", "try", "parcel_eta", "--out", str(out), "--rule-pack", str(pack), "--db", db]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[:2] == [f"3 calls in {out}", "parcel_eta: would flag 1 of 3 calls (1 hits)"]
    assert "call01_compliant_0" in shown[2] and "您的包裹预计明天上午送到" in shown[2]
    assert shown[3] == "verdicts at these places: 1 findings judged, 1 rejected (100%), 0 confirmed"
    # a pack's rules tried at once: here the default pack's (on three sample calls: none)
    assert main(["rules", "try", "zh-CN", "--out", str(out), "--db", db]) == 0
    tried = capsys.readouterr().out
    assert "polite_address: would flag 0 of 3 calls (0 hits)" in tried and "arguing:" in tried

    # the rule edited in the YAML, the calls re-analysed from their cached transcripts
    (pack / "custom_rules.yaml").write_text(RULE.replace("[包裹]", "[订单号]"), encoding="utf-8")
    assert main(["reprocess", "--out", str(out), "--rule-pack", str(pack), "--quiet", "--no-report"]) == 0
    assert sorted({c for c, _ in _hits(out)}) == ["call01_compliant_0", "call04_holds_0", "call07_overtalk_0"]


INTENT_RULE = """rules:
  - id: hold_said
    find: {role: agent, intent: hold_notice}
    severity: info
    message: 测试规则：客服请客户稍等（按意思）
    examples:
      hit: [{A: 您先别挂，我去系统里翻一下记录。, intent: hold_notice}]
      miss: ["A: 您的订单明天到。"]
"""


def _rule_hits(out, rule_id):
    rows = ResultStore(out).read("findings").to_pylist()
    return sorted({r["call_id"] for r in rows if r["rule_id"] == rule_id and r["category"] == "pack_rule"})


def test_a_yaml_only_intent_rule_reads_the_runs_meaning_decisions_in_run_and_reprocess(tmp_path):
    pack, inputs, out = tmp_path / "pack", tmp_path / "in", tmp_path / "out"
    shutil.copytree(PACKS_DIR / "zh-CN", pack)
    (pack / "custom_rules.yaml").write_text(INTENT_RULE, encoding="utf-8")
    byo_inputs(inputs, copies=1)  # call01, call04, call07 with their transcripts: no whisper
    assert main(["run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet",
                 "--rule-pack", str(pack)]) == 0
    assert {r["status"] for r in ResultStore(out).read("calls").to_pylist()} == {"ok"}  # no RuleError row
    # call01's 好的，请您稍等，我帮您查询一下 and call04's 可以的，请稍等 mean a hold notice; call07 has none
    assert _rule_hits(out, "hold_said") == ["call01_compliant_0", "call04_holds_0"]
    # the rule now reads another intent: reprocess fits it and reads the cached embeddings
    (pack / "custom_rules.yaml").write_text(INTENT_RULE.replace("hold_said", "bye_said")
                                            .replace("hold_notice", "farewell"), encoding="utf-8")
    assert main(["reprocess", "--out", str(out), "--rule-pack", str(pack), "--quiet", "--no-report"]) == 0
    # every call ends 感谢您的来电，祝您生活愉快，再见！
    assert _rule_hits(out, "bye_said") == ["call01_compliant_0", "call04_holds_0", "call07_overtalk_0"]
    assert _rule_hits(out, "hold_said") == []
