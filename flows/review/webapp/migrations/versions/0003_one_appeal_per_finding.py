"""One appeal per finding, enforced by the database (issue 34 #4: two server processes
took the same appeal twice). Later copies an older database already has are kept, for
the record, as state "duplicate" under a finding id of their own.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    # a database that already has two appeals of one finding: the later ones are marked
    # duplicate (kept, for the record) and drop out of the unique index's reach by id
    dup = conn.execute(sa.text(
        "SELECT a.id FROM appeals a WHERE EXISTS (SELECT 1 FROM appeals b WHERE b.call_id = a.call_id "
        "AND b.finding_id = a.finding_id AND b.id < a.id)")).scalars().all()
    for aid in dup:
        conn.execute(sa.text("UPDATE appeals SET state = 'duplicate', finding_id = finding_id || '#dup' || :id "
                             "WHERE id = :id"), {"id": aid})
    op.create_index("appeals_one_per_finding", "appeals", ["call_id", "finding_id"], unique=True)


def downgrade():
    op.drop_index("appeals_one_per_finding", "appeals")
