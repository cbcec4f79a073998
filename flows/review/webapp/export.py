"""`callqa export reviews`: the review tables as Parquet under OUT/reviews/, each with
`call_id`, so that they join with the output's `calls` on it.

    OUT/reviews/verdicts.parquet   call_id, finding_id, category, rule_id, severity, start_s,
                                   origin (rule|manual), present, verdict, note, reviewer, at
    OUT/reviews/grades.parquet     call_id, item_id, name, weight, grade, reviewer, at
    OUT/reviews/appeals.parquet    id, call_id, finding_id, agent, reason, state, created_at,
                                   decided_by, decided_at, decision_note
    OUT/reviews/audit.parquet      id, at, user_name, action, call_id, target, before, after, row_hash
    OUT/reviews/calls.parquet      call_id, review_state, final_score, final_grade, finalised_by, finalised_at

Written whole each time (small tables), each file atomically like the output's own.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from flows.storage.store import DIR_MODE, ResultStore
from flows.review.webapp import db

S, F, B, I = pa.string(), pa.float64(), pa.bool_(), pa.int64()
SCHEMAS = {
    "verdicts": pa.schema([("call_id", S), ("finding_id", S), ("category", S), ("rule_id", S), ("severity", S),
                           ("start_s", F), ("origin", S), ("present", B), ("verdict", S), ("note", S),
                           ("reviewer", S), ("at", S)]),
    "grades": pa.schema([("call_id", S), ("item_id", S), ("name", S), ("weight", F), ("grade", S), ("reviewer", S),
                         ("at", S)]),
    "appeals": pa.schema([("id", I), ("call_id", S), ("finding_id", S), ("agent", S), ("reason", S), ("state", S),
                          ("created_at", S), ("decided_by", S), ("decided_at", S), ("decision_note", S)]),
    "audit": pa.schema([("id", I), ("at", S), ("user_name", S), ("action", S), ("call_id", S), ("target", S),
                        ("before", S), ("after", S), ("row_hash", S)]),
    "calls": pa.schema([("call_id", S), ("review_state", S), ("final_score", F), ("final_grade", S),
                        ("finalised_by", S), ("finalised_at", S)]),
}


def export_reviews(engine: sa.Engine, out_dir: str | os.PathLike[str]) -> dict[str, int]:
    """Write OUT/reviews/*.parquet; returns rows per table."""
    u = db.users.alias("u")
    f, v, g, s, a, c = db.findings, db.verdicts, db.grades, db.scores, db.appeals, db.calls
    d = db.users.alias("d")
    queries = {
        "verdicts": sa.select(v.c.call_id, v.c.finding_id, f.c.category, f.c.rule_id, f.c.severity, f.c.start_s,
                              f.c.origin, f.c.present, v.c.verdict, v.c.note, u.c.name.label("reviewer"), v.c.at)
        .select_from(v.join(f, sa.and_(f.c.call_id == v.c.call_id, f.c.finding_id == v.c.finding_id))
                     .outerjoin(u, u.c.id == v.c.user_id)).order_by(v.c.call_id, v.c.finding_id),
        "grades": sa.select(g.c.call_id, g.c.item_id, s.c.name, s.c.weight, g.c.grade, u.c.name.label("reviewer"), g.c.at)
        .select_from(g.outerjoin(s, sa.and_(s.c.call_id == g.c.call_id, s.c.item_id == g.c.item_id))
                     .outerjoin(u, u.c.id == g.c.user_id)).order_by(g.c.call_id, g.c.item_id),
        "appeals": sa.select(a.c.id, a.c.call_id, a.c.finding_id, u.c.name.label("agent"), a.c.reason, a.c.state,
                             a.c.created_at, d.c.name.label("decided_by"), a.c.decided_at, a.c.decision_note)
        .select_from(a.outerjoin(u, u.c.id == a.c.agent_user_id).outerjoin(d, d.c.id == a.c.decided_by))
        .order_by(a.c.id),
        "audit": sa.select(db.audit.c.id, db.audit.c.at, db.audit.c.user_name, db.audit.c.action, db.audit.c.call_id,
                           db.audit.c.target, db.audit.c.before, db.audit.c.after, db.audit.c.row_hash)
        .order_by(db.audit.c.id),
        "calls": sa.select(c.c.call_id, c.c.review_state, c.c.final_score, c.c.final_grade,
                           u.c.name.label("finalised_by"), c.c.finalised_at)
        .select_from(c.outerjoin(u, u.c.id == c.c.finalised_by)).where(c.c.review_state != "open")
        .order_by(c.c.call_id),
    }
    folder = Path(out_dir) / "reviews"
    folder.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    counts = {}
    with engine.connect() as conn:
        for name, q in queries.items():
            rows = [dict(r) for r in conn.execute(q).mappings()]
            table = pa.Table.from_pylist(rows, schema=SCHEMAS[name])
            ResultStore._write_atomic(folder / f"{name}.parquet", table)
            counts[name] = len(rows)
    return counts
