"""Every change a user makes to a review, each in one transaction with its audit row
(the reads behind the pages are in queries.py).

Rules of who may do what live here, not in the routes: a reviewer (or supervisor,
admin) claims a call before judging it and only the claimant changes it until it is
final; an agent sees and appeals only calls with their own agent id; a supervisor (or
admin) decides appeals. A call another role may not see is "not found", never
"forbidden", so that its existence is not revealed either.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from analyzers.model import CATEGORIES
from analyzers.pii import mask_numbers
from analyzers.rules import GRADES, ScorecardRules
from flows.review.webapp import auditlog, db
from flows.review.webapp.errors import BadInput, Conflict, Forbidden, NotFound
from flows.review.webapp.queries import call_findings, call_items, visible_call
from flows.review.webapp.scoring import as_finding, counts, final_score, gradable_items

REVIEWERS = ("reviewer", "supervisor", "admin")
DECIDERS = ("supervisor", "admin")
#: A claim nobody touched for this long lapses, so a reviewer who went home blocks no one.
CLAIM_TTL = timedelta(hours=2)
SEVERITIES = ("info", "minor", "major", "critical")


def free_text(text: str | None, limit: int = 2000) -> str:
    """What a user typed, as stored, shown, exported and audited: trimmed, cut at `limit`,
    and with phone, ID and card numbers masked (analyzers.pii): the audit log cannot be
    redacted later, so nothing unmasked may reach it."""
    return mask_numbers((text or "").strip()[:limit])


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def audit(conn: sa.Connection, user: dict | None, action: str, call_id: str | None = None,
          target: str | None = None, before=None, after=None) -> None:
    auditlog.append(conn, dict(
        user_id=user["id"] if user else None, user_name=user["name"] if user else "system",
        action=action, call_id=call_id, target=target,
        before=None if before is None else json.dumps(before, ensure_ascii=False, sort_keys=True, default=str),
        after=None if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True, default=str)))


# ---------------------------------------------------------------------------- changing


def _reviewer(user: dict) -> None:
    if user["role"] not in REVIEWERS:
        raise Forbidden("only reviewers, supervisors and admins review calls")


def _claimed_open(conn: sa.Connection, user: dict, call_id: str) -> dict:
    _reviewer(user)
    call = visible_call(conn, user, call_id, lock=True)
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
    with db.write(engine) as conn:
        call = visible_call(conn, user, call_id, lock=True)
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
    with db.write(engine) as conn:
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
    with db.write(engine) as conn:
        _claimed_open(conn, user, call_id)
        _finding(conn, call_id, finding_id)
        _set_verdict(conn, user, call_id, finding_id, verdict, free_text(note))


def add_finding(engine: sa.Engine, user: dict, call_id: str, category: str, start_s: float, end_s: float | None,
                severity: str, note: str) -> str:
    """A finding the rules missed; it counts as confirmed."""
    import secrets

    if category not in CATEGORIES:
        raise BadInput(f"unknown category {category!r}")
    if severity not in SEVERITIES:
        raise BadInput(f"severity must be one of {', '.join(SEVERITIES)}")
    end_s = start_s if end_s is None else end_s
    if not (math.isfinite(start_s) and math.isfinite(end_s) and 0 <= start_s <= end_s):
        raise BadInput("need 0 <= start <= end (seconds)")
    with db.write(engine) as conn:
        call = _claimed_open(conn, user, call_id)
        length = call.get("duration_s") or 0.0
        if end_s > length:
            raise BadInput(f"need 0 <= start <= end <= {length:.1f} s, the call's length")
        fid = "m-" + secrets.token_hex(6)
        row = {"call_id": call_id, "finding_id": fid, "category": category, "rule_id": "manual", "severity": severity,
               "speaker": "agent", "start_s": start_s, "end_s": end_s, "text": "", "detail": "", "origin": "manual",
               "present": True, "note": free_text(note), "created_by": user["id"]}
        conn.execute(db.findings.insert().values(**row))
        conn.execute(db.verdicts.insert().values(call_id=call_id, finding_id=fid, rule_id="manual", category=category,
                                                 verdict="confirmed",
                                                 note=row["note"], user_id=user["id"], at=now()))
        db.bump_data_version(conn, "findings_version")
        audit(conn, user, "add_finding", call_id, fid, after={k: row[k] for k in ("category", "severity", "start_s",
                                                                                  "end_s", "note")})
    return fid


def set_grades(engine: sa.Engine, user: dict, call_id: str, wanted: dict[str, str]) -> None:
    with db.write(engine) as conn:
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
    with db.write(engine) as conn:
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
    reason = free_text(reason, 4000)
    if not reason:
        raise BadInput("an appeal needs a reason")
    with db.write(engine) as conn:
        call = visible_call(conn, user, call_id, lock=True)  # two posts of one appeal queue here
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
        try:  # the unique index is the last word, whatever the isolation
            with conn.begin_nested():
                aid = conn.execute(a.insert().values(call_id=call_id, finding_id=finding_id, agent_user_id=user["id"],
                                                     reason=reason[:4000], state="open",
                                                     created_at=now())).inserted_primary_key[0]
        except sa.exc.IntegrityError:
            raise Conflict("this finding was appealed already") from None
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
    with db.write(engine) as conn:
        row = conn.execute(sa.select(a).where(a.c.id == appeal_id).with_for_update()).mappings().first()
        if row is None:
            raise NotFound(str(appeal_id))
        if row["state"] != "open":
            raise Conflict(f"appeal {appeal_id} was decided already ({row['state']})")
        note = free_text(note)
        done = conn.execute(a.update().where(a.c.id == appeal_id, a.c.state == "open")
                            .values(state=decision, decided_by=user["id"], decided_at=now(), decision_note=note))
        if done.rowcount != 1:
            raise Conflict(f"appeal {appeal_id} was decided already")
        audit(conn, user, "appeal_decision", row["call_id"], row["finding_id"],
              before={"appeal": appeal_id, "state": "open"}, after={"appeal": appeal_id, "state": decision, "note": note})
        if decision == "overturned":
            _set_verdict(conn, user, row["call_id"], row["finding_id"], "rejected",
                         f"appeal {appeal_id} overturned: {note}".rstrip(": "), action="verdict_by_appeal")
            _rescore(conn, user, row["call_id"], rules, "rescore_after_appeal")


