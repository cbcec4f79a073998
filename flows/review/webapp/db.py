"""The review database: tables, engine and migrations.

The tables are SQLAlchemy Core (no ORM: the pages are a few queries each, and the
benchmark's 100,000 calls want set-based SQL). Their shape is fixed by the Alembic
migrations in `migrations/versions/`; `upgrade(engine)` runs them on every start (and
`callqa db upgrade` by hand), so an older database upgrades itself.

SQLite (the embedded default, OUT/review.db) runs in WAL mode so that pages read while
an ingest writes; PostgreSQL (`--db postgresql+psycopg://…`) is for a team.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy import event

DB_FILE = "review.db"
MIGRATIONS = Path(__file__).with_name("migrations")

metadata = sa.MetaData()

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(80), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("agent_id", sa.String(80)),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("disabled_at", sa.String(40)),  # set: cannot sign in, sessions revoked
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("sid_hash", sa.String(64), primary_key=True),  # sha256 of the cookie's session id
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("expires_at", sa.String(40), nullable=False),
    sa.Column("revoked_at", sa.String(40)),
)

calls = sa.Table(
    "calls", metadata,
    sa.Column("call_id", sa.String(300), primary_key=True),
    sa.Column("source", sa.Text),
    sa.Column("status", sa.String(10)),
    sa.Column("agent_id", sa.String(80)),
    sa.Column("agent_name", sa.String(120)),
    sa.Column("team", sa.String(80)),
    sa.Column("started_at", sa.String(40)),
    sa.Column("queue", sa.String(80)),
    sa.Column("direction", sa.String(10)),
    sa.Column("duration_s", sa.Float),
    sa.Column("score", sa.Float),
    sa.Column("grade", sa.String(4)),
    sa.Column("flagged", sa.Boolean),
    sa.Column("critical_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("priority", sa.Integer, nullable=False, server_default="1"),  # 0: a critical finding
    sa.Column("call_date", sa.String(10)),
    sa.Column("call_week", sa.String(10)),
    sa.Column("processed_at", sa.String(40)),
    sa.Column("lexicon_version", sa.String(80)),
    sa.Column("flag_reasons", sa.Text),  # JSON list, from the output's calls
    # review state: open -> final; claimed_by marks the one reviewer working on it
    sa.Column("review_state", sa.String(10), nullable=False, server_default="open"),
    sa.Column("claimed_by", sa.Integer),
    sa.Column("claimed_at", sa.String(40)),
    sa.Column("final_score", sa.Float),
    sa.Column("final_grade", sa.String(4)),
    sa.Column("finalised_by", sa.Integer),
    sa.Column("finalised_at", sa.String(40)),
)

findings = sa.Table(
    "findings", metadata,
    sa.Column("call_id", sa.String(300), primary_key=True),
    sa.Column("finding_id", sa.String(40), primary_key=True),
    sa.Column("finding_index", sa.Integer),
    sa.Column("category", sa.String(40), nullable=False),
    sa.Column("rule_id", sa.String(80), nullable=False),
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("speaker", sa.String(10)),
    sa.Column("start_s", sa.Float, nullable=False),
    sa.Column("end_s", sa.Float, nullable=False),
    sa.Column("text", sa.Text),
    sa.Column("detail", sa.Text),
    # rule: from the output folder; manual: added by a reviewer
    sa.Column("origin", sa.String(10), nullable=False, server_default="rule"),
    # false: the latest output no longer has this finding (kept, with its verdict: orphaned)
    sa.Column("present", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("note", sa.Text),
    sa.Column("created_by", sa.Integer),
)

scores = sa.Table(
    "scores", metadata,
    sa.Column("call_id", sa.String(300), primary_key=True),
    sa.Column("item_id", sa.String(80), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("name", sa.String(120)),
    sa.Column("weight", sa.Float, nullable=False),
    sa.Column("automatic", sa.Boolean, nullable=False),
    sa.Column("points", sa.Integer),
    sa.Column("grade", sa.String(4)),
)

verdicts = sa.Table(
    "verdicts", metadata,
    sa.Column("call_id", sa.String(300), primary_key=True),
    sa.Column("finding_id", sa.String(40), primary_key=True),
    sa.Column("rule_id", sa.String(80), nullable=False),  # the finding's, for rule precision
    sa.Column("category", sa.String(40), nullable=False),
    sa.Column("verdict", sa.String(10), nullable=False),  # confirmed | rejected
    sa.Column("note", sa.Text),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
)

grades = sa.Table(
    "grades", metadata,
    sa.Column("call_id", sa.String(300), primary_key=True),
    sa.Column("item_id", sa.String(80), primary_key=True),
    sa.Column("grade", sa.String(4), nullable=False),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
)

appeals = sa.Table(
    "appeals", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("call_id", sa.String(300), nullable=False),
    sa.Column("finding_id", sa.String(40), nullable=False),
    sa.Column("agent_user_id", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),  # open | upheld | overturned
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("decided_by", sa.Integer),
    sa.Column("decided_at", sa.String(40)),
    sa.Column("decision_note", sa.Text),
    sa.Index("appeals_one_per_finding", "call_id", "finding_id", unique=True),
)

audit = sa.Table(
    "audit", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("user_id", sa.Integer),
    sa.Column("user_name", sa.String(80), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("call_id", sa.String(300)),
    sa.Column("target", sa.String(120)),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Column("prev_hash", sa.String(64)),  # the row before's row_hash (auditlog.py)
    sa.Column("row_hash", sa.String(64)),
)

app_settings = sa.Table(
    "app_settings", metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def default_url(out_dir: str | os.PathLike[str]) -> str:
    return f"sqlite:///{Path(out_dir).resolve() / DB_FILE}"


def make_engine(url: str) -> sa.Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # per connection: SQLite forgets them
            dbapi_conn.isolation_level = None  # transactions begin in _begin below, not in the driver
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # a write takes the write lock before its first read (BEGIN IMMEDIATE), so that two
            # processes never both read "open" and both write; reads stay concurrent
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")

        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            private_files(Path(path))
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


WRITE = "callqa_write"


@contextmanager
def write(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A read-modify-write transaction: on SQLite it holds the write lock from its start;
    on PostgreSQL the rows it must decide on are read FOR UPDATE (queries.py)."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            yield conn


def private_files(path: Path) -> None:
    """The database file (and its -wal, -shm, -journal) readable by its owner only: it holds
    password hashes and the key that signs cookies. SQLite gives the -wal and -shm files
    the main file's mode, so the main file is made 0600 before the first connection."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for p in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        if p.exists() and p.stat().st_mode & 0o077:
            os.chmod(p, 0o600)


def alembic_config(engine: sa.Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: sa.Engine) -> str:
    """Run the migrations up to the newest; returns the revision the database is at."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() or ""


def _setting(conn: sa.Connection, key: str) -> str | None:
    return conn.execute(sa.select(app_settings.c.value).where(app_settings.c.key == key)).scalar()


def data_version(conn: sa.Connection) -> tuple:
    """Changes whenever what the pages aggregate changes: every review action writes an
    audit row, every ingest that took a call bumps `data_version`. Index lookups only, so
    a page can ask it on every request to know whether a cached aggregate is still right,
    even with several server processes on one database."""
    return (conn.execute(sa.select(sa.func.max(audit.c.id))).scalar(), _setting(conn, "data_version"))


def findings_version(conn: sa.Connection) -> tuple:
    """Changes when the set of findings changes (an ingest, a finding added by a reviewer),
    not with verdicts or grades: the top-findings count, the one aggregate over every
    finding, is kept across the far more frequent review actions."""
    return (_setting(conn, "data_version"), _setting(conn, "findings_version"))


def bump_data_version(conn: sa.Connection, key: str = "data_version") -> None:
    import uuid

    value = uuid.uuid4().hex
    if conn.execute(sa.update(app_settings).where(app_settings.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(app_settings.insert().values(key=key, value=value))


def secret_key(engine: sa.Engine) -> bytes:
    """The key that signs session cookies: made once per database and kept in it, so that
    every server on the same database accepts the same sessions and a restart logs no one out."""
    import secrets

    with engine.begin() as conn:
        row = conn.execute(sa.select(app_settings.c.value).where(app_settings.c.key == "secret_key")).first()
        if row:
            return row[0].encode()
        value = secrets.token_urlsafe(48)
        conn.execute(app_settings.insert().values(key="secret_key", value=value))
        return value.encode()
