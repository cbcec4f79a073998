"""The review workspace's first schema (issue 20).

Written out rather than taken from flows.review.webapp.db.metadata: a migration is a frozen
record of one step, and must not change when the tables' definition does later.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

C = sa.Column
S = sa.String


def upgrade():
    op.create_table(
        "users", C("id", sa.Integer, primary_key=True), C("name", S(80), nullable=False, unique=True),
        C("role", S(16), nullable=False), C("agent_id", S(80)), C("password_hash", S(200), nullable=False),
        C("created_at", S(40), nullable=False))
    op.create_table(
        "calls", C("call_id", S(300), primary_key=True), C("source", sa.Text), C("status", S(10)),
        C("agent_id", S(80)), C("agent_name", S(120)), C("team", S(80)), C("started_at", S(40)), C("queue", S(80)),
        C("direction", S(10)), C("duration_s", sa.Float), C("score", sa.Float), C("grade", S(4)),
        C("flagged", sa.Boolean), C("critical_count", sa.Integer, nullable=False, server_default="0"),
        # 0: has a critical finding, 1: has none; the queue's first sort key, stored so that
        # an index serves "worst first" without sorting every flagged call
        C("priority", sa.Integer, nullable=False, server_default="1"),
        C("call_date", S(10)), C("call_week", S(10)), C("processed_at", S(40)), C("lexicon_version", S(80)),
        C("review_state", S(10), nullable=False, server_default="open"), C("claimed_by", sa.Integer),
        C("claimed_at", S(40)), C("final_score", sa.Float), C("final_grade", S(4)), C("finalised_by", sa.Integer),
        C("finalised_at", S(40)))
    # the queue's order (worst first among open flagged calls) and its filters
    op.create_index("calls_queue", "calls", ["flagged", "review_state", "priority", "score", "call_id"])
    # covering the trends' GROUP BYs too (no table lookups, no sort over 100,000 calls)
    op.create_index("calls_agent", "calls", ["agent_id", "status", "score", "final_score"])
    op.create_index("calls_team", "calls", ["team", "status", "score", "final_score"])
    # in the GROUP BY's order (week, grade, final grade), so that SQLite groups without a sort
    op.create_index("calls_week", "calls", ["call_week", "grade", "final_grade", "status"])
    # a filter on date or team and the queue's order from one index each
    op.create_index("calls_date", "calls", ["call_date", "flagged", "review_state", "priority", "score"])
    op.create_index("calls_team_queue", "calls", ["team", "flagged", "review_state", "priority", "score"])
    op.create_table(
        "findings", C("call_id", S(300), primary_key=True), C("finding_id", S(40), primary_key=True),
        C("finding_index", sa.Integer), C("category", S(40), nullable=False), C("rule_id", S(80), nullable=False),
        C("severity", S(10), nullable=False), C("speaker", S(10)), C("start_s", sa.Float, nullable=False),
        C("end_s", sa.Float, nullable=False), C("text", sa.Text), C("detail", sa.Text),
        C("origin", S(10), nullable=False, server_default="rule"),
        C("present", sa.Boolean, nullable=False, server_default=sa.true()), C("note", sa.Text),
        C("created_by", sa.Integer))
    op.create_index("findings_category", "findings", ["category", "call_id"])
    op.create_index("findings_rule", "findings", ["rule_id"])
    op.create_index("findings_present_category", "findings", ["present", "category"])
    op.create_table(
        "scores", C("call_id", S(300), primary_key=True), C("item_id", S(80), primary_key=True),
        C("position", sa.Integer, nullable=False), C("name", S(120)), C("weight", sa.Float, nullable=False),
        C("automatic", sa.Boolean, nullable=False), C("points", sa.Integer), C("grade", S(4)))
    op.create_table(
        "verdicts", C("call_id", S(300), primary_key=True), C("finding_id", S(40), primary_key=True),
        # the finding's rule, copied (a finding's rule never changes: it is part of its id),
        # so that rule precision is one GROUP BY over verdicts, not a join over every finding
        C("rule_id", S(80), nullable=False), C("category", S(40), nullable=False),
        C("verdict", S(10), nullable=False), C("note", sa.Text), C("user_id", sa.Integer, nullable=False),
        C("at", S(40), nullable=False))
    op.create_index("verdicts_rule", "verdicts", ["rule_id", "category", "verdict"])
    op.create_table(
        "grades", C("call_id", S(300), primary_key=True), C("item_id", S(80), primary_key=True),
        C("grade", S(4), nullable=False), C("user_id", sa.Integer, nullable=False), C("at", S(40), nullable=False))
    op.create_table(
        "appeals", C("id", sa.Integer, primary_key=True), C("call_id", S(300), nullable=False),
        C("finding_id", S(40), nullable=False), C("agent_user_id", sa.Integer, nullable=False),
        C("reason", sa.Text, nullable=False), C("state", S(12), nullable=False), C("created_at", S(40), nullable=False),
        C("decided_by", sa.Integer), C("decided_at", S(40)), C("decision_note", sa.Text))
    op.create_index("appeals_state", "appeals", ["state"])
    op.create_table(
        "audit", C("id", sa.Integer, primary_key=True), C("at", S(40), nullable=False), C("user_id", sa.Integer),
        C("user_name", S(80), nullable=False), C("action", S(40), nullable=False), C("call_id", S(300)),
        C("target", S(120)), C("before", sa.Text), C("after", sa.Text))
    op.create_table("app_settings", C("key", S(40), primary_key=True), C("value", sa.Text, nullable=False))
    # The audit log is append-only for everyone, whatever the application does: the
    # database itself refuses to change or delete a row.
    if op.get_bind().dialect.name == "sqlite":
        for what in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_no_{what.lower()} BEFORE {what} ON audit "
                       "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    else:
        op.execute("CREATE FUNCTION audit_append_only() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
                   "FOR EACH ROW EXECUTE FUNCTION audit_append_only()")
        op.execute("CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()")


def downgrade():
    for name in ("app_settings", "audit", "appeals", "grades", "verdicts", "scores", "findings", "calls", "users"):
        op.drop_table(name)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
