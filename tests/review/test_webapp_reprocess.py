"""A verdict survives `callqa reprocess` after a rule-pack edit: a finding still found
keeps its verdict (same finding_id, from the cached transcript's unchanged times); one
the edited pack no longer finds is kept as orphaned, with its verdict, and shown."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient

from flows.cli import main
from flows.review.webapp import service
from flows.review.webapp.main import create_app
from flows.review.webapp.ingest import ingest
from lexicons import PACKS_DIR
from webapp_data import build_output
from webapp_support import add_users, sign_in


def test_a_verdict_survives_reprocess_after_a_rule_pack_edit(tmp_path):
    pack = tmp_path / "pack"
    shutil.copytree(PACKS_DIR / "zh-CN", pack)
    out = build_output(tmp_path, lexicon=pack)
    app = create_app(out, lexicon=str(pack))
    engine = app.state.engine
    users = add_users(engine)
    rita = users["rita"]

    def found() -> dict[str, dict]:
        with engine.connect() as conn:
            return {f["rule_id"]: f for f in service.call_findings(conn, "c_worst")}

    before = found()
    service.claim(engine, rita, "c_worst")
    service.set_verdict(engine, rita, "c_worst", before["wei"]["finding_id"], "rejected", "line noise")
    service.set_verdict(engine, rita, "c_worst", before["dont_know"]["finding_id"], "confirmed", "said it")

    # the edit: 不知道 is no longer a banned phrase (the dont_know rule now wants 不知道啊)
    phrases = pack / "phrases.yaml"
    text = phrases.read_text(encoding="utf-8")
    edit = ("phrases: [不知道]\n    severity: major\n    allow: [不知道您]",
            "phrases: [不知道啊]\n    severity: major\n    allow: [不知道啊您]")
    assert edit[0] in text
    phrases.write_text(text.replace(*edit), encoding="utf-8")
    assert main(["reprocess", "--out", str(out), "--lexicon", str(pack), "--no-report", "--quiet"]) == 0
    taken = ingest(engine, out)
    assert taken.calls_taken == 4  # every call was rewritten by reprocess

    after = found()
    assert after["wei"]["finding_id"] == before["wei"]["finding_id"]
    assert after["wei"]["present"] and after["wei"]["verdict"] == "rejected"
    assert after["wei"]["verdict_note"] == "line noise"
    assert not after["dont_know"]["present"] and after["dont_know"]["verdict"] == "confirmed"  # orphaned, kept
    assert after["blame_shifting"]["finding_id"] == before["blame_shifting"]["finding_id"]

    c = TestClient(app)
    assert sign_in(c, "rita").status_code == 200
    page = c.get("/calls/c_worst").text
    row = page[page.index(f'id="rv-{after["dont_know"]["finding_id"]}"'):]
    row = row[:row.index("</tr>")]
    assert "orphaned" in row and "confirmed" in row
    engine.dispose()
