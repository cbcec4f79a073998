"""The queries behind the pages (reads only; every change is in service.py): one call
with its findings and scorecard, the queue, an agent's calls, the appeals, the audit log
and the trends, and the output folder's Parquet files a call page shows.

A call another role may not see is "not found", never "forbidden", so that its existence
is not revealed either.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import sqlalchemy as sa

from analyzers.model import CATEGORIES
from analyzers.rules import GRADES
from flows.review.webapp import db
from flows.review.webapp.errors import NotFound
from flows.storage.store import call_file_name

PAGE_SIZE = 50


def visible_call(conn: sa.Connection, user: dict, call_id: str, lock: bool = False) -> dict:
    """The call, if `user` may see it; `lock`: FOR UPDATE, held to the end of the transaction
    (PostgreSQL; SQLite's write transactions hold the whole database already)."""
    q = sa.select(db.calls).where(db.calls.c.call_id == call_id)
    row = conn.execute(q.with_for_update() if lock else q).mappings().first()
    if row is None or (user["role"] == "agent" and row["agent_id"] != user["agent_id"]):
        raise NotFound(call_id)
    return dict(row)


def call_findings(conn: sa.Connection, call_id: str) -> list[dict]:
    """Every finding of a call (rule, manual, orphaned) with its verdict and open appeal."""
    f, v = db.findings, db.verdicts
    rows = conn.execute(
        sa.select(f, v.c.verdict, v.c.note.label("verdict_note"), v.c.user_id.label("verdict_by"))
        .select_from(f.outerjoin(v, sa.and_(v.c.call_id == f.c.call_id, v.c.finding_id == f.c.finding_id)))
        .where(f.c.call_id == call_id).order_by(f.c.start_s, f.c.finding_id)).mappings().all()
    appeals = {a["finding_id"]: dict(a) for a in conn.execute(
        sa.select(db.appeals).where(db.appeals.c.call_id == call_id).order_by(db.appeals.c.id)).mappings()}
    return [dict(r, appeal=appeals.get(r["finding_id"])) for r in rows]


def call_items(conn: sa.Connection, call_id: str) -> list[dict]:
    s, g = db.scores, db.grades
    return [dict(r) for r in conn.execute(
        sa.select(s, g.c.grade.label("manual_grade"))
        .select_from(s.outerjoin(g, sa.and_(g.c.call_id == s.c.call_id, g.c.item_id == s.c.item_id)))
        .where(s.c.call_id == call_id).order_by(s.c.position)).mappings()]


def _filters(q, f: dict):
    c = db.calls.c
    if f.get("team"):
        q = q.where(c.team == f["team"])
    if f.get("agent"):
        q = q.where(c.agent_id == f["agent"])
    if f.get("date"):
        q = q.where(c.call_date == f["date"])
    if f.get("grade"):
        q = q.where(c.grade == f["grade"])
    if f.get("category"):
        q = q.where(sa.exists().where(db.findings.c.call_id == c.call_id, db.findings.c.category == f["category"],
                                      db.findings.c.present.is_(True)))
    return q


def queue(conn: sa.Connection, filters: dict, page: int = 1, page_size: int = PAGE_SIZE) -> tuple[list[dict], int]:
    """Flagged calls not yet finalised, worst first: critical findings, then lowest score.
    Filter values are bound parameters, never SQL."""
    c = db.calls.c
    base = _filters(sa.select(db.calls).where(c.flagged.is_(True), c.review_state == "open"), filters)
    total = conn.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
    page_q = base.order_by(c.priority, c.score, c.call_id).limit(page_size).offset(max(page - 1, 0) * page_size)
    sub = page_q.subquery()
    rows = conn.execute(sa.select(sub, db.users.c.name.label("claimant"))
                        .select_from(sub.outerjoin(db.users, db.users.c.id == sub.c.claimed_by))
                        .order_by(sub.c.priority, sub.c.score, sub.c.call_id)).mappings().all()
    return [dict(r, why=_reasons(r["flag_reasons"])) for r in rows], total


def _reasons(stored: str | None) -> list[str]:
    """Why the run flagged a call, in words (the report's wording)."""
    from flows.review.report import plain_reason

    return [plain_reason(r) for r in json.loads(stored)] if stored else []


def agent_calls(conn: sa.Connection, user: dict, page: int = 1) -> tuple[list[dict], int]:
    c = db.calls.c
    base = sa.select(db.calls).where(c.agent_id == user["agent_id"])
    total = conn.execute(sa.select(sa.func.count()).select_from(base.subquery())).scalar_one()
    rows = conn.execute(base.order_by(c.call_date.desc(), c.call_id).limit(PAGE_SIZE)
                        .offset(max(page - 1, 0) * PAGE_SIZE)).mappings().all()
    return [dict(r) for r in rows], total


def filter_options(conn: sa.Connection) -> dict:
    c = db.calls.c

    def distinct(col):
        return [r[0] for r in conn.execute(sa.select(col).where(col.is_not(None)).distinct().order_by(col))]

    return {"teams": distinct(c.team), "agents": distinct(c.agent_id), "grades": list(GRADES),
            "categories": list(CATEGORIES)}


def open_appeals(conn: sa.Connection) -> list[dict]:
    a, f, u = db.appeals, db.findings, db.users
    return [dict(r) for r in conn.execute(
        sa.select(a, f.c.category, f.c.rule_id, f.c.start_s, f.c.text, u.c.name.label("agent_name"))
        .select_from(a.join(f, sa.and_(f.c.call_id == a.c.call_id, f.c.finding_id == a.c.finding_id))
                     .join(u, u.c.id == a.c.agent_user_id))
        .where(a.c.state == "open").order_by(a.c.id)).mappings()]


def audit_log(conn: sa.Connection, limit: int = 200) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.select(db.audit).order_by(db.audit.c.id.desc()).limit(limit)).mappings()]


def trends(conn: sa.Connection) -> dict:
    """The dashboard's figures, aggregated in SQL (one query per chart)."""
    c, v = db.calls.c, db.verdicts
    score = sa.func.coalesce(c.final_score, c.score)
    ok = c.status == "ok"
    # grouped by the indexed columns (no sort), the final grade preferred in Python below
    by_week = conn.execute(sa.select(c.call_week, c.grade, c.final_grade, sa.func.count())
                           .where(ok, c.call_week.is_not(None))
                           .group_by(c.call_week, c.grade, c.final_grade)).all()
    by_agent = conn.execute(sa.select(c.agent_id, sa.func.avg(score), sa.func.count()).where(ok, c.agent_id.is_not(None))
                            .group_by(c.agent_id).order_by(sa.func.avg(score)).limit(20)).all()
    by_team = conn.execute(sa.select(c.team, sa.func.avg(score), sa.func.count()).where(ok, c.team.is_not(None))
                           .group_by(c.team).order_by(c.team)).all()
    rejected = sa.func.sum(sa.case((v.c.verdict == "rejected", 1), else_=0))
    precision = conn.execute(  # added findings ("manual") are no rule's
        sa.select(v.c.rule_id, v.c.category, sa.func.count(), rejected).where(v.c.rule_id != "manual")
        .group_by(v.c.rule_id, v.c.category)).all()
    weeks: dict[str, dict[str, int]] = {}
    for week, machine, final, n in by_week:
        g = final or machine or "?"
        weeks.setdefault(week, {})[g] = weeks.get(week, {}).get(g, 0) + n
    return {
        "weeks": weeks,
        "agents": [(a, round(s or 0.0, 1), n) for a, s, n in by_agent],
        "teams": [(t, round(s or 0.0, 1), n) for t, s, n in by_team],
        "precision": sorted(((rule, cat, n, int(rej or 0), round(1 - (rej or 0) / n, 3)) for rule, cat, n, rej in precision),
                            key=lambda r: (r[4], r[0])),
    }


def precision_split(conn: sa.Connection, since: str) -> list[dict]:
    """Each rule's precision, confirmed / (confirmed + rejected), of the verdicts given before
    `since` (an ISO time, as verdicts.at is written) and of those given since then."""
    v = db.verdicts
    after, confirmed = v.c.at >= since, v.c.verdict == "confirmed"

    def count(cond):
        return sa.func.sum(sa.case((cond, 1), else_=0))

    rows = conn.execute(sa.select(v.c.rule_id, v.c.category, count(~after & confirmed), count(~after & ~confirmed),
                                  count(after & confirmed), count(after & ~confirmed))
                        .where(v.c.rule_id != "manual").group_by(v.c.rule_id, v.c.category)
                        .order_by(v.c.rule_id, v.c.category)).all()

    def side(c, r):
        c, r = int(c or 0), int(r or 0)
        return {"confirmed": c, "rejected": r, "precision": round(c / (c + r), 3) if c + r else None}

    return [{"rule": rule, "category": cat, "before": side(bc, br), "after": side(ac, ar)}
            for rule, cat, bc, br, ac, ar in rows]


def top_findings(conn: sa.Connection, limit: int = 12) -> list[tuple[str, int]]:
    """The most frequent finding categories (every present finding: a scan of all of them,
    so cached apart from `trends`, by db.findings_version)."""
    f = db.findings.c
    return [(cat, n) for cat, n in conn.execute(
        sa.select(f.category, sa.func.count()).where(f.present.is_(True))
        .group_by(f.category).order_by(sa.func.count().desc()).limit(limit))]


def user_name(conn: sa.Connection, uid: int | None) -> str | None:
    return conn.execute(sa.select(db.users.c.name).where(db.users.c.id == uid)).scalar() if uid else None


def read_call_file(out_dir: Path, table: str, call_id: str) -> list[dict]:
    """One call's rows of one table of the output folder, from its own file (no scan of
    the whole dataset)."""
    path = out_dir / table / call_file_name(call_id)
    if not path.is_file():
        return []
    return pq.read_table(path).to_pylist()


class TrendsCache:
    """`trends`, computed again only when the data changed (db.data_version), and the top
    findings only when the findings did (db.findings_version): aggregating 100,000 calls
    takes a fraction of a second, checking the versions a millisecond."""

    def __init__(self) -> None:
        self._cache: dict = {}

    def get(self, engine: sa.Engine) -> dict:
        cache = self._cache
        with engine.connect() as conn:
            version, fversion = db.data_version(conn), db.findings_version(conn)
            if cache.get("version") != version:
                cache.update(version=version, value=trends(conn))
            if cache.get("fversion") != fversion:
                cache.update(fversion=fversion, top=top_findings(conn))
        return {**cache["value"], "top": cache["top"]}


def user_by_name(conn: sa.Connection, name: str) -> dict | None:
    row = conn.execute(sa.select(db.users).where(db.users.c.name == name)).mappings().first()
    return dict(row) if row else None
