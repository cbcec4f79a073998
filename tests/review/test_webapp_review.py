"""The review workspace's workflow through its HTTP interface, on SQLite and PostgreSQL:
queue order and filters, claiming, verdicts, an added finding, manual grades, the final
score, an appeal and its decision, rule precision, the audit log and the export."""

from __future__ import annotations

import re

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from flows.storage.store import ResultStore
from flows.review.webapp import db, queries, service
from flows.review.webapp.main import create_app
from flows.review.webapp.ingest import ingest
from webapp_data import build_output
from webapp_support import add_users, csrf_of, db_url, pg_cluster, sign_in  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def ws(tmp_path, db_url):  # noqa: F811
    out = build_output(tmp_path)
    app = create_app(out, db_url)
    users = add_users(app.state.engine)
    yield app, out, users
    app.state.engine.dispose()


def client_for(app, name: str) -> TestClient:
    c = TestClient(app)
    r = sign_in(c, name)
    assert r.status_code == 200, r.text
    return c


def post(c: TestClient, path: str, data: dict | None = None, page: str | None = None):
    token = csrf_of(c.get(page or path.rsplit("/", 1)[0]).text)
    return c.post(path, data={**(data or {}), "csrf": token})


def findings_of(app, call_id: str) -> dict[str, dict]:
    with app.state.engine.connect() as conn:
        return {f["finding_id"]: f for f in service.call_findings(conn, call_id)}


def precision(c: TestClient, rule: str) -> tuple[int, int]:
    data = c.get("/api/trends").json()
    row = next(r for r in data["precision"] if r[0] == rule)
    return row[2], row[3]  # reviewed, rejected


def test_the_review_of_a_call_from_queue_to_appeal(ws):
    app, out, users = ws
    rita = client_for(app, "rita")
    queue = rita.get("/api/queue").json()
    # worst first: the call with a critical finding, then by score; unflagged calls never
    assert [c["call_id"] for c in queue["calls"]] == ["c_worst", "c_other"]
    assert queue["total"] == 2
    found = findings_of(app, "c_worst")
    wei = next(f for f in found.values() if f["rule_id"] == "wei")
    blame = next(f for f in found.values() if f["rule_id"] == "blame_shifting")

    # not claimed: no verdict
    r = post(rita, "/calls/c_worst/verdict", {"finding_id": wei["finding_id"], "verdict": "rejected"}, "/calls/c_worst")
    assert r.status_code == 409 and "claim" in r.text
    assert post(rita, "/calls/c_worst/claim", page="/calls/c_worst").status_code == 200
    # a second reviewer cannot take it
    rob = client_for(app, "rob")
    r = post(rob, "/calls/c_worst/claim", page="/calls/c_worst")
    assert r.status_code == 409 and "rita" in r.text

    r = post(rita, "/calls/c_worst/verdict", {"finding_id": wei["finding_id"], "verdict": "rejected",
                                              "note": "greeting 喂 on a bad line"}, "/calls/c_worst")
    assert r.status_code == 200
    post(rita, "/calls/c_worst/verdict", {"finding_id": blame["finding_id"], "verdict": "confirmed"}, "/calls/c_worst")
    top = lambda: dict(map(tuple, rita.get("/api/trends").json()["top"]))  # noqa: E731
    assert "raised_voice" not in top()  # and now cached
    r = post(rita, "/calls/c_worst/add-finding", {"category": "raised_voice", "severity": "major", "start_s": "3.5",
                                                  "note": "shouts at 0:03"}, "/calls/c_worst")
    assert r.status_code == 200 and "added by a reviewer" in r.text
    assert top()["raised_voice"] == 1  # the cached top findings were recomputed
    # finalising needs every manual item graded
    r = post(rita, "/calls/c_worst/finalise", page="/calls/c_worst")
    assert r.status_code == 400 and "grade every manual item" in r.text
    with app.state.engine.connect() as conn:
        manual = [i["item_id"] for i in service.call_items(conn, "c_worst") if not i["automatic"]]
    assert manual  # the zh-CN pack has items no recording can judge
    assert post(rita, "/calls/c_worst/grades", {f"grade-{i}": "C" for i in manual}, "/calls/c_worst").status_code == 200
    r = post(rita, "/calls/c_worst/finalise", page="/calls/c_worst")
    assert r.status_code == 200 and 'id="final"' in r.text
    call = rita.get("/api/calls/c_worst").json()["call"]
    assert call["review_state"] == "final"
    # the final score: manual C (3 of 5) joins the mean and the rejected 喂 no longer counts,
    # so it differs from the machine's; the added raised_voice finding counts
    assert call["final_score"] is not None and call["final_score"] != call["score"]
    after_review = call["final_score"]
    assert precision(rita, "wei") == (1, 1) and precision(rita, "blame_shifting") == (1, 0)
    assert precision(rita, "dont_know")[1] == 0  # confirmed on finalise, nobody rejected it

    # the agent sees only their calls and appeals the confirmed critical finding
    ann = client_for(app, "ann")
    assert sorted(re.findall(r'class="myrow" data-call="([^"]+)"', ann.get("/my").text)) == ["c_mid", "c_worst"]
    r = post(ann, "/calls/c_worst/appeal", {"finding_id": blame["finding_id"], "reason": "客户先骂人"}, "/calls/c_worst")
    assert r.status_code == 200 and "appeal sent" in r.text
    r = post(ann, "/calls/c_worst/appeal", {"finding_id": blame["finding_id"], "reason": "again"}, "/calls/c_worst")
    assert r.status_code == 409

    # a supervisor overturns it: the finding is rejected, the score and the precision follow
    sue = client_for(app, "sue")
    page = sue.get("/appeals").text
    appeal_id = re.search(r'data-appeal="(\d+)" data-rule="blame_shifting"', page).group(1)
    r = sue.post(f"/appeals/{appeal_id}/decide", data={"decision": "overturned", "note": "recording backs the agent",
                                                       "csrf": csrf_of(page)})
    assert r.status_code == 200
    call = sue.get("/api/calls/c_worst").json()["call"]
    assert call["final_score"] > after_review
    assert precision(sue, "blame_shifting") == (1, 1)
    assert "no open appeals" in sue.get("/appeals").text

    # the audit log has every change, who and before/after
    with app.state.engine.connect() as conn:
        actions = [r.action for r in conn.execute(sa.select(db.audit.c.action).order_by(db.audit.c.id))]
    for a in ("claim", "verdict", "add_finding", "grade", "verdict_on_finalise", "finalise", "appeal",
              "appeal_decision", "verdict_by_appeal", "rescore_after_appeal"):
        assert a in actions
    assert "recording backs the agent" in sue.get("/audit").text

    # export: Parquet that joins with the output's calls on call_id
    from flows.cli import main

    assert main(["export", "reviews", "--out", str(out)] + ([] if app.state.engine.dialect.name == "sqlite"
                                                            else ["--db", app.state.engine.url.render_as_string(False)])) == 0
    verdicts = pq.read_table(out / "reviews" / "verdicts.parquet").to_pylist()
    appeals = pq.read_table(out / "reviews" / "appeals.parquet").to_pylist()
    assert {v["finding_id"]: v["verdict"] for v in verdicts}[blame["finding_id"]] == "rejected"
    assert appeals[0]["state"] == "overturned" and appeals[0]["agent"] == "ann" and appeals[0]["decided_by"] == "sue"
    assert pq.read_table(out / "reviews" / "audit.parquet").num_rows == len(actions)
    calls = {r["call_id"] for r in ResultStore(out).read("calls").to_pylist()}
    assert {v["call_id"] for v in verdicts} <= calls


def test_queue_filters_and_paging(ws):
    app, _, _ = ws
    rita = client_for(app, "rita")
    ids = lambda **q: [c["call_id"] for c in rita.get("/api/queue", params=q).json()["calls"]]  # noqa: E731
    assert ids(team="south") == ["c_other"]
    assert ids(agent="A1") == ["c_worst"]
    assert ids(date="2026-11-30") == ["c_other"]
    assert ids(category="complaint_apology_missing") == ["c_worst", "c_other"]
    assert ids(grade="D") == ["c_worst"]
    assert ids(page="2") == []
    with app.state.engine.connect() as conn:
        rows, total = queries.queue(conn, {}, page=2, page_size=1)
    assert [r["call_id"] for r in rows] == ["c_other"] and total == 2


def test_ingest_is_idempotent_and_keeps_reviews(ws):
    app, out, users = ws
    engine = app.state.engine
    again = ingest(engine, out)
    assert again.calls_taken == 0 and again.calls_seen == 4
    service.claim(engine, users["rita"], "c_other")
    fid = next(iter(findings_of(app, "c_other")))
    service.set_verdict(engine, users["rita"], "c_other", fid, "rejected", "no")
    # the same call written again (a new run): taken in again, the verdict stays
    store = ResultStore(out)
    with engine.begin() as conn:
        conn.execute(db.calls.update().where(db.calls.c.call_id == "c_other").values(processed_at="old"))
    assert ingest(engine, out).calls_taken == 1
    f = findings_of(app, "c_other")[fid]
    assert f["verdict"] == "rejected" and f["present"]
    with engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(db.findings)).scalar_one()
    assert n == store.read("findings").num_rows
