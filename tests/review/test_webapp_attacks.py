"""Issue 34's probes that got through, as tests, on SQLite and PostgreSQL: each of these
was possible on the workspace before the fix (the races are in test_webapp_races.py,
the audit chain in test_webapp_audit.py)."""

from __future__ import annotations

import sqlalchemy as sa
import pytest
from fastapi.testclient import TestClient

from flows.review.webapp import db, service
from flows.review.webapp.main import create_app
from webapp_data import build_output
from webapp_support import PASSWORD, add_users, csrf_of, db_url, pg_cluster, sign_in  # noqa: F401


@pytest.fixture
def ws(tmp_path, db_url):  # noqa: F811
    out = build_output(tmp_path)
    app = create_app(out, db_url)
    users = add_users(app.state.engine)
    yield app, users
    app.state.engine.dispose()


def signed_in(app, name: str, **kw) -> TestClient:
    c = TestClient(app, **kw)
    assert sign_in(c, name).status_code in (200, 303)
    return c


def manual_findings(app, call_id: str) -> list[dict]:
    with app.state.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(db.findings).where(
            db.findings.c.call_id == call_id, db.findings.c.origin == "manual")).mappings()]


# 1 ------------------------------------------------------------------ times a form takes

@pytest.mark.parametrize("start, end", [("0", "1e308"), ("0", "inf"), ("nan", ""), ("-1", "2"), ("5", "4"),
                                        ("1", "100000"), ("1e308", "")])
def test_an_added_finding_outside_the_call_is_refused(ws, start, end):
    app, users = ws
    service.claim(app.state.engine, users["rita"], "c_worst")
    rita = signed_in(app, "rita", follow_redirects=False)
    token = csrf_of(rita.get("/calls/c_worst").text)
    r = rita.post("/calls/c_worst/add-finding", data={"category": "raised_voice", "severity": "major",
                                                      "start_s": start, "end_s": end, "note": "x", "csrf": token})
    assert r.status_code == 400, r.text
    assert manual_findings(app, "c_worst") == []


def test_a_stored_finding_out_of_bounds_does_not_break_the_call_page(ws):
    app, users = ws
    with app.state.engine.begin() as conn:
        for n, end in enumerate((float("inf"), 1e7)):
            conn.execute(db.findings.insert().values(
                call_id="c_worst", finding_id=f"m-bad{n}", category="raised_voice", rule_id="manual",
                severity="major", speaker="agent", start_s=0.0, end_s=end, origin="manual", present=True))
    for name in ("rita", "ann", "sue"):
        page = signed_in(app, name).get("/calls/c_worst")
        assert page.status_code == 200, name
        assert "m-bad0" in page.text and "inf" not in page.text.split('id="review"')[1].split("</section>")[0]
