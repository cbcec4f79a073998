"""Why a call was flagged, for the queue (issue 34: the queue showed no reasons); filled
by the next ingest (the calls' processed_at is cleared so that it takes every call again).

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("flag_reasons", sa.Text))  # a JSON list of the output's reasons
    op.execute("UPDATE calls SET processed_at = NULL")


def downgrade():
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("flag_reasons")
