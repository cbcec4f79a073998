"""What reviewers stumbled on (issue 34), on SQLite and PostgreSQL: new output reaches
the queue without `callqa db ingest`, a finalised call with a new critical finding is
back in the queue, the header of a finalised call shows its final grade, the queue shows
why a call is flagged and who has it, and an added finding's note shows once."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from flows.review.webapp import db, queries, service
from flows.review.webapp.main import create_app
from transcripts import A, C
from webapp_data import CALLS, build_output
from webapp_support import add_users, db_url, pg_cluster, sign_in  # noqa: F401


@pytest.fixture
def ws(tmp_path, db_url):  # noqa: F811
    out = build_output(tmp_path)
    app = create_app(out, db_url)
    users = add_users(app.state.engine)
    yield app, users, tmp_path
    app.state.engine.dispose()


def signed_in(app, name: str) -> TestClient:
    c = TestClient(app)
    assert sign_in(c, name).status_code == 200
    return c


def finalise(app, users, call_id: str) -> None:
    engine = app.state.engine
    service.claim(engine, users["rita"], call_id)
    with engine.connect() as conn:
        manual = [i["item_id"] for i in queries.call_items(conn, call_id) if not i["automatic"]]
    service.set_grades(engine, users["rita"], call_id, {i: "B" for i in manual})
    service.finalise(engine, users["rita"], call_id, app.state.ws.pack.scorecard)


def test_new_output_reaches_the_queue_without_db_ingest(ws):
    app, users, base = ws
    rita = signed_in(app, "rita")
    assert "c_new" not in [c["call_id"] for c in rita.get("/api/queue").json()["calls"]]
    build_output(base, {"c_new": ("A2", "李雷", "south", "2026-12-02T09:00:00+08:00", CALLS["c_worst"][4])})
    assert "c_new" in [c["call_id"] for c in rita.get("/api/queue").json()["calls"]]
    assert rita.get("/calls/c_new").status_code == 200


def test_a_finalised_call_with_a_new_critical_finding_is_back_in_the_queue(ws):
    app, users, base = ws
    finalise(app, users, "c_other")
    rita = signed_in(app, "rita")
    assert "c_other" not in [c["call_id"] for c in rita.get("/api/queue").json()["calls"]]
    lines = CALLS["c_other"][4] + [(C, "那怎么办？"), (A, "是您使用不当，跟我们没关系。")]
    build_output(base, {"c_other": (*CALLS["c_other"][:4], lines)})  # a rerun with a new critical finding
    queue = {c["call_id"]: c for c in rita.get("/api/queue").json()["calls"]}
    assert "c_other" in queue and queue["c_other"]["critical_count"] >= 1
    call = rita.get("/api/calls/c_other").json()
    assert call["call"]["review_state"] == "open"
    new = [f for f in call["findings"] if f["severity"] == "critical" and f["verdict"] is None]
    assert new  # to be judged
    with app.state.engine.connect() as conn:
        assert conn.execute(sa.select(db.audit.c.user_name).where(db.audit.c.action == "reopen")).scalar() == "system"
    # a rerun that adds nothing critical leaves a finalised call alone
    finalise(app, users, "c_worst")
    build_output(base, {"c_worst": CALLS["c_worst"]})
    assert "c_worst" not in [c["call_id"] for c in rita.get("/api/queue").json()["calls"]]


def test_a_finalised_calls_header_shows_its_final_grade(ws):
    app, users, _ = ws
    finalise(app, users, "c_worst")
    page = signed_in(app, "rita").get("/calls/c_worst").text
    head = page[page.index('class="callhead"'):]
    head = head[:head.index("</div>")]
    with app.state.engine.connect() as conn:
        call = queries.visible_call(conn, users["rita"], "c_worst")
    assert call["final_grade"] != call["grade"]
    assert f'<span class="grade" title="grade">{call["final_grade"]}</span>' in head
    assert "flagged for review" not in head and f"final, machine {call['grade']}" in head


def test_the_queue_shows_why_a_call_is_flagged_and_who_has_it(ws):
    app, users, _ = ws
    service.claim(app.state.engine, users["rob"], "c_worst")
    page = signed_in(app, "rita").get("/queue").text
    row = re.search(r'<tr class="qrow" data-call="c_worst">(.*?)</tr>', page, re.S).group(1)
    assert "rob" in row
    assert 'class="why"' in row and re.search(r'class="why">[^<]*\w', row)


def test_an_added_findings_note_shows_once_and_every_finding_says_why(ws):
    app, users, _ = ws
    service.claim(app.state.engine, users["rita"], "c_worst")
    service.add_finding(app.state.engine, users["rita"], "c_worst", "raised_voice", 1.0, 2.0, "major", "shouts 大声")
    page = signed_in(app, "rita").get("/calls/c_worst").text
    panel = page[page.index('id="review-findings"'):]
    panel = panel[:panel.index("</table>")]
    assert panel.count("shouts 大声") == 1
    for row in re.findall(r'<tr class="rv-finding.*?</tr>', panel, re.S):
        text = re.search(r'<td class="text">(.*?)</td>', row, re.S).group(1)
        assert re.sub(r"<[^>]+>", "", text).strip(), row
