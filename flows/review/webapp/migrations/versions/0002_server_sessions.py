"""Server-side sessions (revoked at sign-out, on a password change, when a user is
disabled) and disabled users (issue 34 #2, #3).

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

C = sa.Column
S = sa.String


def upgrade():
    op.create_table(
        # sid_hash: sha256 of the session id the signed cookie carries (the table alone
        # gives no usable cookie)
        "sessions", C("sid_hash", S(64), primary_key=True), C("user_id", sa.Integer, nullable=False),
        C("csrf", S(64), nullable=False), C("created_at", S(40), nullable=False),
        C("expires_at", S(40), nullable=False), C("revoked_at", S(40)))
    op.create_index("sessions_user", "sessions", ["user_id"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(C("disabled_at", S(40)))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_at")
    op.drop_table("sessions")
