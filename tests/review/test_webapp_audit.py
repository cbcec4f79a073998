"""The audit log is a hash chain (issue 34 #11), on SQLite and PostgreSQL: a row changed
after the triggers were dropped, a backdated row, a row slipped in, a missing trigger
and a rewritten tail are all found by `auditlog.verify` (`callqa db verify`), and an
older database gets its chain on upgrade."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from flows.review.webapp import auditlog, db, service
from flows.review.webapp.main import create_app
from webapp_data import build_output
from webapp_support import add_users, db_url, pg_cluster  # noqa: F401


@pytest.fixture
def engine(tmp_path, db_url):  # noqa: F811
    app = create_app(build_output(tmp_path), db_url)
    users = add_users(app.state.engine)
    service.claim(app.state.engine, users["rita"], "c_worst")
    service.release(app.state.engine, users["rita"], "c_worst")
    yield app.state.engine
    app.state.engine.dispose()


def _drop_triggers(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(sa.text("DROP TRIGGER audit_no_update"))
        conn.execute(sa.text("DROP TRIGGER audit_no_delete"))
    else:
        conn.execute(sa.text("DROP TRIGGER audit_append_only ON audit"))


def test_an_untouched_log_verifies(engine):
    result = auditlog.verify(engine)
    assert result.ok and result.rows == 8 and len(result.head) == 64  # 6 users added, claim, release
    assert auditlog.verify(engine, expect_head=result.head).ok


def test_a_row_changed_after_dropping_the_triggers_is_found(engine):
    head = auditlog.verify(engine).head
    with engine.begin() as conn:
        _drop_triggers(conn)
        conn.execute(db.audit.update().where(db.audit.c.action == "claim").values(user_name="rob"))
    result = auditlog.verify(engine, expect_head=head)
    assert not result.ok
    assert any("changed after it was written" in p for p in result.problems)
    assert any("trigger" in p for p in result.problems)


def test_a_backdated_or_slipped_in_row_is_found(engine):
    a = db.audit.c
    with engine.connect() as conn:
        last = conn.execute(sa.select(a.id, a.row_hash).order_by(a.id.desc()).limit(1)).one()
    # the forger knows the algorithm: a well-hashed row, but dated last year
    row = {"id": last.id + 1, "at": "2025-01-01T00:00:00+00:00", "user_id": None, "user_name": "sue",
           "action": "appeal_decision", "call_id": "c_worst", "target": "x", "before": None, "after": None}
    with engine.begin() as conn:
        conn.execute(db.audit.insert().values(**row, prev_hash=last.row_hash,
                                              row_hash=auditlog.row_hash(last.row_hash, row)))
    assert any("dated 2025-01-01" in p for p in auditlog.verify(engine).problems)
    with engine.begin() as conn:  # and one with an id of its own, not in the chain
        conn.execute(db.audit.insert().values(**{**row, "id": 1000, "at": "2099-01-01"}, prev_hash="f" * 64,
                                              row_hash="e" * 64))
    problems = auditlog.verify(engine).problems
    assert any("expected id" in p for p in problems) and any("does not follow" in p for p in problems)


def test_a_rewritten_tail_no_longer_holds_a_head_recorded_earlier(engine):
    head = auditlog.verify(engine).head
    a = db.audit.c
    with engine.begin() as conn:  # rewrite the last row and its hashes consistently
        _drop_triggers(conn)
        last = dict(conn.execute(sa.select(db.audit).order_by(a.id.desc()).limit(1)).mappings().one())
        forged = {**last, "user_name": "rob"}
        conn.execute(db.audit.update().where(a.id == last["id"]).values(
            user_name="rob", row_hash=auditlog.row_hash(last["prev_hash"], forged)))
    assert [p for p in auditlog.verify(engine).problems if "trigger" not in p] == []  # consistent on its own
    assert any("no longer in the chain" in p for p in auditlog.verify(engine, expect_head=head).problems)


def test_an_older_database_gets_its_chain_on_upgrade(tmp_path):
    from alembic import command

    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = db.alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    with engine.begin() as conn:
        for n in (5, 9, 12):  # ids with gaps, as an older server left them
            conn.execute(sa.text("INSERT INTO audit (id, at, user_name, action) VALUES (:i, :at, 'rita', 'claim')"),
                         {"i": n, "at": f"2026-11-{n:02d}T00:00:00+00:00"})
    db.upgrade(engine)
    result = auditlog.verify(engine)
    assert result.rows == 3 and result.ok, result.problems
    engine.dispose()


def test_emptying_the_log_at_once_is_refused(engine):
    """TRUNCATE (PostgreSQL) and a DELETE of every row (SQLite's truncate) are refused by the
    database itself, for the app's own connection; the log is whole and verifies after."""
    before = auditlog.verify(engine)
    if engine.dialect.name == "postgresql":
        statements = ["TRUNCATE audit", "TRUNCATE TABLE audit RESTART IDENTITY CASCADE"]
    else:
        statements = ["DELETE FROM audit"]
    for stmt in statements:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(sa.text(stmt))
    after = auditlog.verify(engine)
    assert after.ok and after.rows == before.rows == 8 and after.head == before.head
    if engine.dialect.name == "postgresql":  # the refusal is the statement trigger's, no other
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TRIGGER audit_no_truncate ON audit"))
            conn.execute(sa.text("TRUNCATE audit"))
            assert conn.execute(sa.text("SELECT count(*) FROM audit")).scalar_one() == 0
