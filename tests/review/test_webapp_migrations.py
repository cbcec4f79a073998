"""An existing review database (schema 0001, as issue 20 left it) upgrades to the newest
schema on start, on SQLite and PostgreSQL, keeping its users, reviews and audit rows:
sessions, disabled users, one appeal per finding (an older duplicate kept, marked), the
audit chain, flag reasons."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from flows.review.webapp import auditlog, db
from flows.review.webapp.main import create_app
from webapp_data import build_output
from webapp_support import PASSWORD, db_url, pg_cluster, sign_in  # noqa: F401


def test_a_schema_0001_database_upgrades_and_keeps_its_data(tmp_path, db_url):  # noqa: F811
    from argon2 import PasswordHasher
    from fastapi.testclient import TestClient

    out = build_output(tmp_path)
    engine = db.make_engine(db_url or db.default_url(out))
    cfg = db.alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (id, name, role, password_hash, created_at) "
                             "VALUES (1, 'rita', 'reviewer', :h, '2026-11-01')"), {"h": PasswordHasher().hash(PASSWORD)})
        for aid in (1, 2):  # the double appeal issue 34 #4 could leave
            conn.execute(sa.text("INSERT INTO appeals (id, call_id, finding_id, agent_user_id, reason, state, created_at) "
                                 "VALUES (:i, 'c_worst', 'f1', 1, 'r', 'open', '2026-11-02')"), {"i": aid})
        for n in (1, 2):
            conn.execute(sa.text("INSERT INTO audit (id, at, user_name, action) VALUES (:i, :at, 'rita', 'login')"),
                         {"i": n, "at": f"2026-11-0{n}T00:00:00+00:00"})
    engine.dispose()
    app = create_app(out, db_url)
    engine = app.state.engine
    with engine.connect() as conn:
        states = dict(conn.execute(sa.text("SELECT id, state FROM appeals ORDER BY id")).all())
        reasons = conn.execute(sa.text("SELECT flag_reasons FROM calls WHERE call_id = 'c_worst'")).scalar()
    assert states == {1: "open", 2: "duplicate"}
    assert reasons and "[" in reasons  # ingest on start filled the new column
    result = auditlog.verify(engine)
    assert result.ok and result.rows == 2, result.problems
    assert sign_in(TestClient(app), "rita").status_code == 200  # a server-side session now
    assert auditlog.verify(engine).rows == 3
    engine.dispose()
