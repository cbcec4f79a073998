"""Two server processes on one database (the documented team set-up), on SQLite and
PostgreSQL, as real processes: the same appeal posted to both at once is taken once, and
a supervisor and an admin deciding one appeal at once give one decision (issue 34 #4)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from flows.review.webapp import db, queries, service
from flows.review.webapp.main import create_app
from webapp_data import build_output
from webapp_support import add_users, csrf_of, db_url, pg_cluster, sign_in  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
SERVER = """
import sys, uvicorn
from flows.review.webapp.main import create_app
out, url, port = sys.argv[1], sys.argv[2] or None, int(sys.argv[3])
uvicorn.run(create_app(out, url, ingest_on_start=False), host="127.0.0.1", port=port, log_level="warning")
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not start")


@pytest.fixture
def two_servers(tmp_path, db_url):  # noqa: F811
    out = build_output(tmp_path)
    app = create_app(out, db_url)
    engine = app.state.engine
    users = add_users(engine)
    for call_id in ("c_worst", "c_mid"):  # finalised: every present finding confirmed, appealable
        service.claim(engine, users["rita"], call_id)
        with engine.connect() as conn:
            manual = [i["item_id"] for i in queries.call_items(conn, call_id) if not i["automatic"]]
        service.set_grades(engine, users["rita"], call_id, {i: "C" for i in manual})
        service.finalise(engine, users["rita"], call_id, app.state.ws.pack.scorecard)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
    procs, bases = [], []
    for _ in range(2):
        port = _port()
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(out), db_url or "", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(proc)
        bases.append(f"http://127.0.0.1:{port}")
    try:
        for proc, base in zip(procs, bases):
            _wait(int(base.rsplit(":", 1)[1]), proc)
        yield app, users, bases
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        engine.dispose()


def _client(base: str, name: str) -> httpx.Client:
    c = httpx.Client(base_url=base, follow_redirects=True, timeout=60)
    assert sign_in(c, name).status_code == 200
    return c


def _at_once(*posts) -> list[int]:
    """Run the posts at the same moment from threads; their status codes."""
    barrier, codes = threading.Barrier(len(posts)), [0] * len(posts)

    def go(i, post):
        barrier.wait()
        codes[i] = post().status_code
    threads = [threading.Thread(target=go, args=(i, p)) for i, p in enumerate(posts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


def _confirmed(engine) -> list[tuple[str, str]]:
    v = db.verdicts.c
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(v.call_id, v.finding_id).where(v.verdict == "confirmed",
                                                                                         v.call_id.in_(["c_worst", "c_mid"])))]


def test_one_appeal_posted_to_two_servers_at_once_is_taken_once(two_servers):
    app, users, (a, b) = two_servers
    ann_a, ann_b = _client(a, "ann"), _client(b, "ann")
    found = _confirmed(app.state.engine)
    assert len(found) >= 5
    for call_id, fid in found:
        posts = []
        for c in (ann_a, ann_b):
            token = csrf_of(c.get(f"/calls/{call_id}").text)
            posts.append(lambda c=c, t=token: c.post(f"/calls/{call_id}/appeal",
                                                     data={"finding_id": fid, "reason": "客户先骂人", "csrf": t}))
        codes = _at_once(*posts)
        assert sorted(codes) == [200, 409], (fid, codes)
    a_ = db.appeals.c
    with app.state.engine.connect() as conn:
        per_finding = conn.execute(sa.select(a_.finding_id, sa.func.count()).group_by(a_.call_id, a_.finding_id)).all()
    assert len(per_finding) == len(found) and {n for _, n in per_finding} == {1}


def test_one_appeal_decided_on_two_servers_at_once_gets_one_decision(two_servers):
    app, users, (a, b) = two_servers
    engine = app.state.engine
    found = _confirmed(engine)
    ids = [service.appeal(engine, users["ann"], call_id, fid, "客户先骂人") for call_id, fid in found]
    sue, ada = _client(a, "sue"), _client(b, "ada")
    for aid in ids:
        posts = []
        for c, decision in ((sue, "overturned"), (ada, "upheld")):
            token = csrf_of(c.get("/appeals").text)
            posts.append(lambda c=c, d=decision, t=token: c.post(f"/appeals/{aid}/decide",
                                                                 data={"decision": d, "note": "n", "csrf": t}))
        codes = _at_once(*posts)
        assert sorted(codes) == [200, 409], (aid, codes)
    au, ap, v = db.audit.c, db.appeals.c, db.verdicts.c
    with engine.connect() as conn:
        decisions = conn.execute(sa.select(au.target, sa.func.count()).where(au.action == "appeal_decision")
                                 .group_by(au.call_id, au.target)).all()
        states = conn.execute(sa.select(ap.state, v.verdict).select_from(
            db.appeals.join(db.verdicts, sa.and_(v.call_id == ap.call_id, v.finding_id == ap.finding_id)))).all()
    assert len(decisions) == len(ids) and {n for _, n in decisions} == {1}
    # an upheld appeal's finding stands; an overturned one's is rejected
    assert all((s, vd) in {("upheld", "confirmed"), ("overturned", "rejected")} for s, vd in states), states
