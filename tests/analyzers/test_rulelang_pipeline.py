"""Must show (issue 32): a rule written only in YAML runs in `run` and `reprocess` and
appears in the findings, the scorecard, the report and the review workspace."""

import shutil

from fastapi.testclient import TestClient

from flows.cli.main import main
from flows.review.webapp.app import create_app
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


def test_a_rule_written_only_in_yaml_runs_in_run_and_reprocess_and_shows_everywhere(tmp_path):
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

    app = create_app(out, f"sqlite:///{tmp_path / 'review.db'}", lexicon=str(pack))
    try:
        add_users(app.state.engine)
        client = TestClient(app)
        assert sign_in(client, "rita").status_code == 200
        shown = client.get("/calls/call01_compliant_0")
        assert shown.status_code == 200 and "测试规则：客服提到了包裹" in shown.text
    finally:
        app.state.engine.dispose()

    # the rule edited in the YAML, the calls re-analysed from their cached transcripts
    (pack / "custom_rules.yaml").write_text(RULE.replace("[包裹]", "[订单号]"), encoding="utf-8")
    assert main(["reprocess", "--out", str(out), "--rule-pack", str(pack), "--quiet", "--no-report"]) == 0
    assert sorted({c for c, _ in _hits(out)}) == ["call01_compliant_0", "call04_holds_0", "call07_overtalk_0"]
