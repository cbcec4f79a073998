"""The audit log as a hash chain (issue 34 #11): prev_hash and row_hash on every row,
computed here for the rows an older database has (auditlog.py appends and verifies).

The hash is written out here rather than imported: a migration is a frozen record.

Revision ID: 0004
Revises: 0003
"""
import hashlib
import json

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

FIELDS = ("id", "at", "user_id", "user_name", "action", "call_id", "target", "before", "after")


def _hash(prev, row):
    body = json.dumps([row.get(k) for k in FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


def _triggers(on: bool):
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not on:
        if sqlite:
            op.execute("DROP TRIGGER audit_no_update")
        else:
            op.execute("ALTER TABLE audit DISABLE TRIGGER audit_append_only")
        return
    if sqlite:
        op.execute("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
                   "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    else:
        op.execute("ALTER TABLE audit ENABLE TRIGGER audit_append_only")


def upgrade():
    conn = op.get_bind()
    _triggers(False)
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64)))
        batch.add_column(sa.Column("row_hash", sa.String(64)))
    rows = conn.execute(sa.text("SELECT id, at, user_id, user_name, action, call_id, target, before, after "
                                "FROM audit ORDER BY id")).mappings().all()
    prev = "0" * 64
    for n, r in enumerate(rows, 1):  # ids renumbered 1.. in order, as the chain wants them
        row = {**dict(r), "id": n}
        h = _hash(prev, row)
        conn.execute(sa.text("UPDATE audit SET id = :n, prev_hash = :p, row_hash = :h WHERE id = :old"),
                     {"n": -n, "p": prev, "h": h, "old": r["id"]})
        prev = h
    conn.execute(sa.text("UPDATE audit SET id = -id WHERE id < 0"))
    _triggers(True)


def downgrade():
    _triggers(False)
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
    _triggers(True)
