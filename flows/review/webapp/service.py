"""Every change a user makes to a review, each in one transaction with its audit row,
and the queries behind the pages.

Rules of who may do what live here, not in the routes: a reviewer (or supervisor,
admin) claims a call before judging it and only the claimant changes it until it is
final; an agent sees and appeals only calls with their own agent id; a supervisor (or
admin) decides appeals. A call another role may not see is "not found", never
"forbidden", so that its existence is not revealed either.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from analyzers.model import CATEGORIES
from analyzers.rules import GRADES, ScorecardRules
from flows.review.webapp import db
from flows.review.webapp.scoring import as_finding, counts, final_score, gradable_items

REVIEWERS = ("reviewer", "supervisor", "admin")
DECIDERS = ("supervisor", "admin")
#: A claim nobody touched for this long lapses, so a reviewer who went home blocks no one.
CLAIM_TTL = timedelta(hours=2)
SEVERITIES = ("info", "minor", "major", "critical")
PAGE_SIZE = 50


class NotFound(LookupError):
    pass


class Forbidden(PermissionError):
    pass


class Conflict(RuntimeError):
    pass


class BadInput(ValueError):
    pass


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def audit(conn: sa.Connection, user: dict | None, action: str, call_id: str | None = None,
          target: str | None = None, before=None, after=None) -> None:
    conn.execute(db.audit.insert().values(
        at=now(), user_id=user["id"] if user else None, user_name=user["name"] if user else "system",
        action=action, call_id=call_id, target=target,
        before=None if before is None else json.dumps(before, ensure_ascii=False, sort_keys=True, default=str),
        after=None if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True, default=str)))


# ---------------------------------------------------------------------------- users


def add_user(engine: sa.Engine, name: str, role: str, password: str, agent_id: str | None = None,
             by: dict | None = None) -> int:
    from flows.review.webapp.auth import ROLES, hash_password

    if role not in ROLES:
        raise BadInput(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "agent" and not agent_id:
        raise BadInput("an agent needs --agent-id (the agent id in the calls' metadata)")
    if not name or len(name) > 80 or not name.isprintable():
        raise BadInput("a user name is 1-80 printable characters")
    hashed = hash_password(password)
    with engine.begin() as conn:
        if conn.execute(sa.select(db.users.c.id).where(db.users.c.name == name)).first():
            raise Conflict(f"user {name!r} exists already")
        uid = conn.execute(db.users.insert().values(name=name, role=role, agent_id=agent_id, password_hash=hashed,
                                                    created_at=now())).inserted_primary_key[0]
        audit(conn, by, "user_add", target=name, after={"name": name, "role": role, "agent_id": agent_id})
    return uid


def get_user(conn: sa.Connection, uid: int) -> dict | None:
    row = conn.execute(sa.select(db.users).where(db.users.c.id == uid)).mappings().first()
    return dict(row) if row else None


# ---------------------------------------------------------------------------- reading


def visible_call(conn: sa.Connection, user: dict, call_id: str) -> dict:
    row = conn.execute(sa.select(db.calls).where(db.calls.c.call_id == call_id)).mappings().first()
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
    rows = conn.execute(base.order_by(c.priority, c.score, c.call_id)
                        .limit(page_size).offset(max(page - 1, 0) * page_size)).mappings().all()
    return [dict(r) for r in rows], total


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
    c, f, v = db.calls.c, db.findings, db.verdicts
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


def top_findings(conn: sa.Connection, limit: int = 12) -> list[tuple[str, int]]:
    """The most frequent finding categories (every present finding: a scan of all of them,
    so cached apart from `trends`, by db.findings_version)."""
    f = db.findings.c
    return [(cat, n) for cat, n in conn.execute(
        sa.select(f.category, sa.func.count()).where(f.present.is_(True))
        .group_by(f.category).order_by(sa.func.count().desc()).limit(limit))]


# ---------------------------------------------------------------------------- changing


def _reviewer(user: dict) -> None:
    if user["role"] not in REVIEWERS:
        raise Forbidden("only reviewers, supervisors and admins review calls")


def _claimed_open(conn: sa.Connection, user: dict, call_id: str) -> dict:
    _reviewer(user)
    call = visible_call(conn, user, call_id)
    if call["review_state"] != "open":
        raise Conflict("this call's review is final; appeals go to a supervisor")
    if call["claimed_by"] != user["id"]:
        raise Conflict("claim the call first: only the reviewer who claimed it changes it")
    return call


def claim(engine: sa.Engine, user: dict, call_id: str) -> None:
    """Claim a call for `user`: one atomic UPDATE, so two reviewers never both win."""
    _reviewer(user)
    c = db.calls.c
    lapsed = (datetime.now(timezone.utc) - CLAIM_TTL).isoformat(timespec="seconds")
    with engine.begin() as conn:
        call = visible_call(conn, user, call_id)
        if call["review_state"] != "open":
            raise Conflict("this call's review is final")
        res = conn.execute(db.calls.update()
                           .where(c.call_id == call_id, c.review_state == "open",
                                  sa.or_(c.claimed_by.is_(None), c.claimed_by == user["id"], c.claimed_at < lapsed))
                           .values(claimed_by=user["id"], claimed_at=now()))
        if res.rowcount != 1:
            holder = conn.execute(sa.select(db.users.c.name).where(db.users.c.id == call["claimed_by"])).scalar()
            raise Conflict(f"{holder or 'another reviewer'} is reviewing this call")
        audit(conn, user, "claim", call_id, before={"claimed_by": call["claimed_by"]}, after={"claimed_by": user["id"]})


def release(engine: sa.Engine, user: dict, call_id: str) -> None:
    with engine.begin() as conn:
        call = _claimed_open(conn, user, call_id)
        conn.execute(db.calls.update().where(db.calls.c.call_id == call_id).values(claimed_by=None, claimed_at=None))
        audit(conn, user, "release", call_id, before={"claimed_by": call["claimed_by"]}, after={"claimed_by": None})


def _finding(conn: sa.Connection, call_id: str, finding_id: str) -> dict:
    row = conn.execute(sa.select(db.findings).where(db.findings.c.call_id == call_id,
                                                    db.findings.c.finding_id == finding_id)).mappings().first()
    if row is None:
        raise NotFound(finding_id)
    return dict(row)


def _set_verdict(conn, user, call_id, finding_id, verdict, note, action="verdict") -> None:
    v = db.verdicts
    old = conn.execute(sa.select(v.c.verdict, v.c.note).where(v.c.call_id == call_id, v.c.finding_id == finding_id)).first()
    vals = {"verdict": verdict, "note": note, "user_id": user["id"], "at": now()}
    if old is None:
        f = _finding(conn, call_id, finding_id)
        conn.execute(v.insert().values(call_id=call_id, finding_id=finding_id, rule_id=f["rule_id"],
                                       category=f["category"], **vals))
    else:
        conn.execute(v.update().where(v.c.call_id == call_id, v.c.finding_id == finding_id).values(**vals))
    audit(conn, user, action, call_id, finding_id,
          before=None if old is None else {"verdict": old[0], "note": old[1]}, after={"verdict": verdict, "note": note})


def set_verdict(engine: sa.Engine, user: dict, call_id: str, finding_id: str, verdict: str, note: str = "") -> None:
    if verdict not in ("confirmed", "rejected"):
        raise BadInput("verdict must be confirmed or rejected")
    with engine.begin() as conn:
        _claimed_open(conn, user, call_id)
        _finding(conn, call_id, finding_id)
        _set_verdict(conn, user, call_id, finding_id, verdict, (note or "").strip()[:2000])


def add_finding(engine: sa.Engine, user: dict, call_id: str, category: str, start_s: float, end_s: float | None,
                severity: str, note: str) -> str:
    """A finding the rules missed; it counts as confirmed."""
    import secrets

    if category not in CATEGORIES:
        raise BadInput(f"unknown category {category!r}")
    if severity not in SEVERITIES:
        raise BadInput(f"severity must be one of {', '.join(SEVERITIES)}")
    end_s = start_s if end_s is None else end_s
    if not (0 <= start_s <= end_s):
        raise BadInput("need 0 <= start <= end (seconds)")
    with engine.begin() as conn:
        call = _claimed_open(conn, user, call_id)
        if call.get("duration_s") and start_s > call["duration_s"]:
            raise BadInput(f"the call is {call['duration_s']:.1f} s long")
        fid = "m-" + secrets.token_hex(6)
        row = {"call_id": call_id, "finding_id": fid, "category": category, "rule_id": "manual", "severity": severity,
               "speaker": "agent", "start_s": start_s, "end_s": end_s, "text": "", "detail": "", "origin": "manual",
               "present": True, "note": (note or "").strip()[:2000], "created_by": user["id"]}
        conn.execute(db.findings.insert().values(**row))
        conn.execute(db.verdicts.insert().values(call_id=call_id, finding_id=fid, rule_id="manual", category=category,
                                                 verdict="confirmed",
                                                 note=row["note"], user_id=user["id"], at=now()))
        db.bump_data_version(conn, "findings_version")
        audit(conn, user, "add_finding", call_id, fid, after={k: row[k] for k in ("category", "severity", "start_s",
                                                                                  "end_s", "note")})
    return fid


def set_grades(engine: sa.Engine, user: dict, call_id: str, wanted: dict[str, str]) -> None:
    with engine.begin() as conn:
        _claimed_open(conn, user, call_id)
        items = {i["item_id"]: i for i in gradable_items(call_items(conn, call_id))}
        for item_id, grade in wanted.items():
            if item_id not in items:
                raise BadInput(f"{item_id!r} is not a manual item of this call")
            if grade not in GRADES:
                raise BadInput(f"grade must be one of {', '.join(GRADES)}")
        g = db.grades
        for item_id, grade in wanted.items():
            old = items[item_id]["manual_grade"]
            if old == grade:
                continue
            conn.execute(g.delete().where(g.c.call_id == call_id, g.c.item_id == item_id))
            conn.execute(g.insert().values(call_id=call_id, item_id=item_id, grade=grade, user_id=user["id"], at=now()))
            audit(conn, user, "grade", call_id, item_id, before={"grade": old}, after={"grade": grade})


def _rescore(conn: sa.Connection, user: dict, call_id: str, rules: ScorecardRules, action: str) -> None:
    rows = call_findings(conn, call_id)
    kept = [as_finding(r) for r in rows if counts(r, r["verdict"])]
    items = call_items(conn, call_id)
    manual = {i["item_id"]: i["manual_grade"] for i in items if i["manual_grade"]}
    fs = final_score(items, kept, manual, rules)
    old = conn.execute(sa.select(db.calls.c.final_score, db.calls.c.final_grade)
                       .where(db.calls.c.call_id == call_id)).first()
    conn.execute(db.calls.update().where(db.calls.c.call_id == call_id)
                 .values(final_score=fs.score, final_grade=fs.grade))
    audit(conn, user, action, call_id, before={"final_score": old[0], "final_grade": old[1]},
          after={"final_score": fs.score, "final_grade": fs.grade})


def finalise(engine: sa.Engine, user: dict, call_id: str, rules: ScorecardRules) -> None:
    """Close the review: findings without a verdict are confirmed, the score is final."""
    with engine.begin() as conn:
        _claimed_open(conn, user, call_id)
        missing = [i["name"] for i in gradable_items(call_items(conn, call_id)) if not i["manual_grade"]]
        if missing:
            raise BadInput(f"grade every manual item first: {', '.join(missing)}")
        for r in call_findings(conn, call_id):
            if r["verdict"] is None and r["present"]:
                _set_verdict(conn, user, call_id, r["finding_id"], "confirmed", "", action="verdict_on_finalise")
        conn.execute(db.calls.update().where(db.calls.c.call_id == call_id)
                     .values(review_state="final", finalised_by=user["id"], finalised_at=now(),
                             claimed_by=None, claimed_at=None))
        _rescore(conn, user, call_id, rules, "finalise")


def appeal(engine: sa.Engine, user: dict, call_id: str, finding_id: str, reason: str) -> int:
    if user["role"] != "agent":
        raise Forbidden("only the agent of a call appeals its findings")
    reason = (reason or "").strip()
    if not reason:
        raise BadInput("an appeal needs a reason")
    with engine.begin() as conn:
        call = visible_call(conn, user, call_id)
        if call["review_state"] != "final":
            raise Conflict("findings are appealed once the review is final")
        _finding(conn, call_id, finding_id)
        verdict = conn.execute(sa.select(db.verdicts.c.verdict).where(
            db.verdicts.c.call_id == call_id, db.verdicts.c.finding_id == finding_id)).scalar()
        if verdict != "confirmed":
            raise Conflict("only a confirmed finding counts against you, so only it can be appealed")
        a = db.appeals
        if conn.execute(sa.select(a.c.id).where(a.c.call_id == call_id, a.c.finding_id == finding_id)).first():
            raise Conflict("this finding was appealed already")
        aid = conn.execute(a.insert().values(call_id=call_id, finding_id=finding_id, agent_user_id=user["id"],
                                             reason=reason[:4000], state="open", created_at=now())).inserted_primary_key[0]
        audit(conn, user, "appeal", call_id, finding_id, after={"appeal": aid, "reason": reason[:4000]})
    return aid


def decide(engine: sa.Engine, user: dict, appeal_id: int, decision: str, note: str,
           rules: ScorecardRules) -> None:
    """Uphold (the finding stands) or overturn (it is rejected and the score follows)."""
    if user["role"] not in DECIDERS:
        raise Forbidden("only a supervisor decides appeals")
    if decision not in ("upheld", "overturned"):
        raise BadInput("decision must be upheld or overturned")
    a = db.appeals
    with engine.begin() as conn:
        row = conn.execute(sa.select(a).where(a.c.id == appeal_id)).mappings().first()
        if row is None:
            raise NotFound(str(appeal_id))
        if row["state"] != "open":
            raise Conflict(f"appeal {appeal_id} was decided already ({row['state']})")
        note = (note or "").strip()[:2000]
        conn.execute(a.update().where(a.c.id == appeal_id, a.c.state == "open")
                     .values(state=decision, decided_by=user["id"], decided_at=now(), decision_note=note))
        audit(conn, user, "appeal_decision", row["call_id"], row["finding_id"],
              before={"appeal": appeal_id, "state": "open"}, after={"appeal": appeal_id, "state": decision, "note": note})
        if decision == "overturned":
            _set_verdict(conn, user, row["call_id"], row["finding_id"], "rejected",
                         f"appeal {appeal_id} overturned: {note}".rstrip(": "), action="verdict_by_appeal")
            _rescore(conn, user, row["call_id"], rules, "rescore_after_appeal")
