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


# 2, 3 -------------------------------------------------------------- secrets and sessions

def test_the_database_files_are_private_and_the_signing_key_alone_signs_nothing(ws, tmp_path):
    import os
    import stat

    from flows.review.webapp import auth

    app, users = ws
    engine = app.state.engine
    if engine.dialect.name == "sqlite":
        db_file = tmp_path / "out" / db.DB_FILE
        signed_in(app, "rita")  # a write: the -wal and -shm files exist now
        found = [p for p in (db_file, db_file.with_name(db_file.name + "-wal"), db_file.with_name(db_file.name + "-shm"))
                 if p.exists()]
        assert len(found) == 3
        for p in found:
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
    # whoever has the key signs a cookie for the admin: it is still no session
    forged, _ = auth.Sessions(db.secret_key(engine)).issue(users["ada"]["id"])
    c = TestClient(app, follow_redirects=False)
    c.cookies.set(auth.SESSION_COOKIE, forged)
    assert c.get("/audit").status_code == 303 and c.get("/api/queue").status_code == 401


def test_an_existing_database_file_is_made_private_on_start(tmp_path):
    import os
    import stat

    out = build_output(tmp_path)
    db_file = out / db.DB_FILE
    db_file.touch(mode=0o644)
    os.chmod(db_file, 0o644)
    app = create_app(out)
    assert stat.S_IMODE(os.stat(db_file).st_mode) == 0o600
    app.state.engine.dispose()


def test_a_copied_cookie_is_dead_after_sign_out(ws):
    from flows.review.webapp import auth

    app, _ = ws
    rita = signed_in(app, "rita")
    copy = TestClient(app, follow_redirects=False)
    copy.cookies.set(auth.SESSION_COOKIE, rita.cookies[auth.SESSION_COOKIE])
    assert copy.get("/api/queue").status_code == 200
    token = csrf_of(rita.get("/queue").text)
    assert rita.post("/logout", data={"csrf": token}).status_code == 200
    assert copy.get("/api/queue").status_code == 401
    assert copy.get("/queue").status_code == 303


def test_a_password_change_or_disabling_ends_every_session(ws):
    from flows.review.webapp import accounts

    app, _ = ws
    engine = app.state.engine
    rita, rob = signed_in(app, "rita"), signed_in(app, "rob")
    assert accounts.set_password(engine, "rita", "a much better secret 2") == 1
    assert rita.get("/api/queue").status_code == 401
    assert sign_in(TestClient(app), "rita").status_code == 401  # the old password
    assert sign_in(TestClient(app), "rita", "a much better secret 2").status_code == 200
    assert accounts.disable_user(engine, "rob") == 1
    assert rob.get("/api/queue").status_code == 401
    assert sign_in(TestClient(app), "rob").status_code == 401
    with engine.connect() as conn:
        listed = {u["name"]: u for u in accounts.list_users(conn)}
    assert listed["rob"]["disabled_at"] and not listed["rita"]["disabled_at"] and listed["rita"]["sessions"] == 1
    with pytest.raises(service.NotFound):
        accounts.disable_user(engine, "nobody")


# 7 ------------------------------------------------------------------ password policy

@pytest.mark.parametrize("weak", ["weak4weak4", " " * 8, " " * 14, "password1234", "Password123!", "qwertyuiop123",
                                  "woaini1314woaini1314", "abcabcabcabcabc", "rita-is-my-name-1"])
def test_weak_passwords_are_refused(tmp_path, weak):
    from flows.review.webapp import accounts, auth

    with pytest.raises(ValueError):
        auth.check_password(weak, "rita")
    engine = db.make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    db.upgrade(engine)
    with pytest.raises(service.BadInput):
        accounts.add_user(engine, "rita", "reviewer", weak)
    auth.check_password(PASSWORD, "rita")  # a passphrase is fine


# 5, 6 -------------------------------------------------------------- a real server

@pytest.fixture
def live(tmp_path):
    """A factory: the workspace served by uvicorn (main.uvicorn_config) in a thread."""
    import socket
    import threading
    import time

    import uvicorn

    from flows.review.webapp.main import uvicorn_config

    out = build_output(tmp_path)
    started = []

    def start(**settings):
        app = create_app(out, **settings)
        if not started:
            add_users(app.state.engine)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        srv = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port))
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not srv.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        started.append((srv, thread, app))
        return f"http://127.0.0.1:{port}"
    yield start
    for srv, thread, app in started:
        srv.should_exit = True
        thread.join(10)
        app.state.engine.dispose()


def _login(base: str, name: str, password: str, forwarded: str | None = None) -> int:
    import httpx

    with httpx.Client(base_url=base, follow_redirects=True,
                      headers={"X-Forwarded-For": forwarded} if forwarded else {}) as c:
        return sign_in(c, name, password).status_code


def test_a_forged_forwarded_for_header_does_not_escape_the_login_throttle(live):
    from flows.review.webapp import auth

    base = live()
    for n in range(auth.MAX_FAILURES):  # a spray: a new name and a new "address" each time
        assert _login(base, f"user{n}", "wrong password", f"10.0.0.{n}") == 401
    assert _login(base, "rita", PASSWORD, "10.0.0.99") == 429


def test_forwarded_for_is_believed_from_the_proxies_named(live):
    from flows.review.webapp import auth

    base = live(forwarded_allow_ips="127.0.0.1")
    for n in range(auth.MAX_FAILURES):
        assert _login(base, f"user{n}", "wrong password", "10.0.0.1") == 401
    assert _login(base, "rita", PASSWORD, "10.0.0.1") == 429  # that client is throttled
    assert _login(base, "rita", PASSWORD, "10.0.0.2") == 200  # another behind the proxy is not


def test_password_hashing_does_not_block_other_requests(live, monkeypatch):
    import threading
    import time

    import httpx

    from flows.review.webapp import auth

    base = live()
    rita = httpx.Client(base_url=base, follow_redirects=True)
    assert sign_in(rita, "rita").status_code == 200
    real = auth.verify_password

    def slow(stored_hash, password):  # a hash that takes a second, as under a flood
        time.sleep(1.0)
        return real(stored_hash, password)
    monkeypatch.setattr(auth, "verify_password", slow)
    t = threading.Thread(target=_login, args=(base, "rob", "wrong password"))
    t.start()
    time.sleep(0.3)
    t0 = time.perf_counter()
    assert rita.get("/api/queue").status_code == 200
    took = time.perf_counter() - t0
    t.join(10)
    assert took < 0.5, took


# 8, 10 -------------------------------------------------------------- the recording

def test_a_recording_replaced_by_a_symlink_out_of_its_folder_is_not_served(ws, tmp_path):
    app, _ = ws
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$secret-hash:19000:0:99999:7:::\n")
    wav = tmp_path / "audio" / "c_worst.wav"
    rita = signed_in(app, "rita")
    assert rita.get("/audio/c_worst").status_code == 200  # the real recording, first
    wav.unlink()
    wav.symlink_to(secret)
    for name in ("rita", "ann"):
        r = signed_in(app, name).get("/audio/c_worst")
        assert r.status_code == 404 and "secret-hash" not in r.text, name
    page = rita.get("/calls/c_worst").text
    assert "recording not found" in page and str(secret) not in page
    # a link to another recording in the same folder is still that folder's recording
    wav.unlink()
    wav.symlink_to(tmp_path / "audio" / "c_mid.wav")
    assert rita.get("/audio/c_worst").status_code == 200


def test_a_call_whose_id_ends_in_audio_opens(ws):
    app, _ = ws
    with app.state.engine.begin() as conn:
        row = dict(conn.execute(sa.select(db.calls).where(db.calls.c.call_id == "c_other")).mappings().one())
        conn.execute(db.calls.insert().values({**row, "call_id": "south/2026/audio"}))
    r = signed_in(app, "rita").get("/calls/south/2026/audio")
    assert r.status_code == 200 and 'id="call-id">south/2026/audio<' in r.text


# 9, 12, 13 ------------------------------------------------------- what pages show

def test_a_link_cannot_put_its_own_words_in_the_message_banner(ws):
    app, _ = ws
    rita = signed_in(app, "rita")
    page = rita.get("/queue", params={"msg": "Your session expired: sign in at evil.example"}).text
    assert "evil.example" not in page and 'id="msg"' not in page
    assert "review finalised" in rita.get("/queue", params={"msg": "finalised"}).text  # our own, by key


def test_a_phone_number_typed_in_a_note_is_masked_everywhere(ws, tmp_path):
    import pyarrow.parquet as pq

    from flows.review.webapp.export import export_reviews

    app, users = ws
    engine = app.state.engine
    service.claim(engine, users["rita"], "c_worst")
    fid = next(iter(service.call_findings(engine.connect(), "c_worst")))["finding_id"]
    rita = signed_in(app, "rita")
    token = csrf_of(rita.get("/calls/c_worst").text)
    notes = {"verdict": "客户电话 13812345678 回访, 或 138-1234-5678", "add": "call back on 138 1234 5678 / 一三八一二三四五六七八"}
    rita.post("/calls/c_worst/verdict", data={"finding_id": fid, "verdict": "confirmed", "note": notes["verdict"],
                                              "csrf": token})
    rita.post("/calls/c_worst/add-finding", data={"category": "raised_voice", "severity": "major", "start_s": "1",
                                                  "note": notes["add"], "csrf": token})
    texts = [rita.get("/calls/c_worst").text, signed_in(app, "ada").get("/audit").text]
    export_reviews(engine, tmp_path / "out")
    texts += [str(pq.read_table(tmp_path / "out" / "reviews" / f"{t}.parquet").to_pylist())
              for t in ("verdicts", "audit")]
    with engine.connect() as conn:
        texts.append(str(conn.execute(sa.select(db.audit.c.after)).all()))
    for text in texts:
        for number in ("13812345678", "138 1234 5678", "138-1234-5678", "一三八一二三四", "12345678"):
            assert number not in text, number
    assert "*******5678" in texts[0]


def test_pages_do_not_show_the_servers_folders_but_to_an_admin(ws, tmp_path):
    app, _ = ws
    out = str((tmp_path / "out").resolve())
    audio = str((tmp_path / "audio").resolve())
    for name, path in (("ann", "/calls/c_worst"), ("rita", "/calls/c_worst"), ("rita", "/queue"), ("sue", "/audit")):
        page = signed_in(app, name).get(path).text
        assert out not in page and audio not in page and str(tmp_path) not in page, (name, path)
    assert out in signed_in(app, "ada").get("/queue").text
