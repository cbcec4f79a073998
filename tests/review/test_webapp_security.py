"""The review workspace's security, on SQLite and PostgreSQL: no page or API for an
anonymous user, an agent cannot reach another agent's call, a form without its CSRF
token changes nothing, transcript text is shown as text, filter values are not SQL, the
audit log cannot be edited, failed sign-ins are throttled, sessions are signed and expire."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from flows.review.webapp import auth, db, service
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


def signed_in(app, name: str) -> TestClient:
    c = TestClient(app)
    assert sign_in(c, name).status_code == 200
    return c


def concrete(path: str) -> str:
    return re.sub(r"\{call_id(:path)?\}", "c_worst", path).replace("{appeal_id}", "1")


def test_every_page_and_api_refuses_an_anonymous_user(ws):
    app, _ = ws
    c = TestClient(app, follow_redirects=False)
    routes = [(m, r.path) for r in app.routes if hasattr(r, "methods") for m in r.methods if m != "HEAD"]
    assert len(routes) >= 20
    for method, path in routes:
        if path == "/login":
            continue
        r = c.request(method, concrete(path))
        if method == "GET" and not path.startswith("/api/"):
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path)
        else:
            assert r.status_code == 401, (method, path, r.status_code)
        assert "c_worst" not in r.text and "王芳" not in r.text


def test_an_agent_cannot_reach_another_agents_call(ws):
    app, _ = ws
    bob = signed_in(app, "bob")  # agent A2; c_worst is A1's
    for path in ("/calls/c_worst", "/api/calls/c_worst", "/calls/c_worst/audio"):
        r = bob.get(path)
        assert r.status_code == 404, path
        assert "王芳" not in r.text and "不知道" not in r.text
    token = csrf_of(bob.get("/my").text)
    fid = next(iter(service.call_findings(app.state.engine.connect(), "c_worst")))["finding_id"]
    r = bob.post("/calls/c_worst/appeal", data={"finding_id": fid, "reason": "x", "csrf": token})
    assert r.status_code == 404
    assert "c_worst" not in bob.get("/my").text and "c_other" in bob.get("/my").text
    # agents get no queue, trends, appeals or audit either
    for path in ("/queue", "/api/queue", "/trends", "/appeals", "/audit"):
        assert bob.get(path).status_code == 403, path
    assert bob.get("/calls/c_other").status_code == 200


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(ws):
    app, _ = ws
    rita = signed_in(app, "rita")
    for data in ({}, {"csrf": "forged"}):
        r = rita.post("/calls/c_worst/claim", data=data)
        assert r.status_code == 403 and "CSRF" in r.text
    with app.state.engine.connect() as conn:
        assert conn.execute(sa.select(db.calls.c.claimed_by).where(db.calls.c.call_id == "c_worst")).scalar() is None
    # another session's token is no good either
    rob = signed_in(app, "rob")
    r = rita.post("/calls/c_worst/claim", data={"csrf": csrf_of(rob.get("/queue").text)})
    assert r.status_code == 403
    # the sign-in form has its own token too
    c = TestClient(app)
    assert c.post("/login", data={"name": "rita", "password": PASSWORD}).status_code == 403


def test_a_transcript_with_a_script_tag_is_shown_as_text(ws):
    app, _ = ws
    page = signed_in(app, "rita").get("/calls/c_worst").text
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(" in page


@pytest.mark.parametrize("value", ["north' OR '1'='1", "x'; DROP TABLE calls; --", "1 UNION SELECT * FROM users"])
def test_filter_values_with_sql_are_harmless(ws, value):
    app, _ = ws
    rita = signed_in(app, "rita")
    for key in ("team", "agent", "date", "category", "grade"):
        r = rita.get("/api/queue", params={key: value})
        assert r.status_code == 200 and r.json() == {"total": 0, "calls": []}, key
        assert rita.get("/queue", params={key: value, "page": "x"}).status_code == 200
    with app.state.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.calls)).scalar_one() == 4


def test_no_role_can_edit_the_audit_log(ws):
    app, users = ws
    service.claim(app.state.engine, users["rita"], "c_worst")
    sue = signed_in(app, "ada")  # even an admin
    token = csrf_of(sue.get("/audit").text)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = sue.request(method, "/audit", data={"csrf": token})
        assert r.status_code in (404, 405), method
    rita = signed_in(app, "rita")
    assert rita.get("/audit").status_code == 403  # reviewers do not even read it
    # and the database itself refuses, whoever connects
    for stmt in (db.audit.update().values(user_name="nobody"), db.audit.delete()):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with app.state.engine.begin() as conn:
                conn.execute(stmt)
    with app.state.engine.connect() as conn:
        assert conn.execute(sa.select(db.audit.c.user_name).where(db.audit.c.action == "claim")).scalar() == "rita"


def test_failed_sign_ins_are_throttled(ws):
    app, _ = ws
    c = TestClient(app)
    for _ in range(auth.MAX_FAILURES):
        assert sign_in(c, "rita", "wrong password").status_code == 401
    r = sign_in(c, "rita")  # the right password, too late
    assert r.status_code == 429 and "too many" in r.text
    assert sign_in(TestClient(app), "nobody", "x" * 9).status_code == 429  # same client address


def test_sessions_are_signed_and_expire(ws):
    app, _ = ws
    rita = signed_in(app, "rita")
    cookie = rita.cookies[auth.SESSION_COOKIE]
    tampered = TestClient(app, follow_redirects=False)
    tampered.cookies.set(auth.SESSION_COOKIE, cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB"))
    assert tampered.get("/queue").status_code == 303
    sessions = auth.Sessions(b"k", max_age_s=-1)  # every session is already too old
    value, _ = sessions.issue(1)
    assert sessions.read(value) is None
    assert auth.Sessions(b"k").read(value) is not None
    assert auth.Sessions(b"other key").read(value) is None


def test_the_server_binds_to_localhost_unless_told():
    from flows.cli import _parser

    assert _parser().parse_args(["serve"]).host == "127.0.0.1"


def test_sign_in_redirects_only_to_this_server(ws):
    from flows.review.webapp.pages import local as _local

    assert _local("/calls/c1") == "/calls/c1"
    for bad in ("//evil.example/x", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/a\\b"):
        assert _local(bad) == "/", bad
    app, _ = ws
    c = TestClient(app, follow_redirects=False)
    page = c.get("/login", params={"next": "//evil.example/"})
    assert 'name="next" value="/"' in page.text
    r = c.post("/login", data={"name": "rita", "password": PASSWORD, "csrf": csrf_of(page.text),
                               "next": "//evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/"
