"""The supervisor's button on a rejected finding: "add to examples as a near miss".

The finding's sentence goes to its intent's negative.train in the rule pack's examples/
folder through flows.meaning.add_examples (what `callqa examples add` writes too), and
the audit log records who added what. Supervisors and admins only; the call may be open
or final (adding an example changes no review)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from flows.meaning.add_examples import NearMiss, add_near_misses, from_finding, intent_of
from flows.meaning.examples import ExamplesError
from flows.review.webapp import db, queries, service
from flows.review.webapp.config import Settings
from flows.review.webapp.errors import BadInput, Conflict, Forbidden, NotFound


def examples_dir(settings: Settings) -> Path:
    from lexicons.loader import resolve

    return resolve(settings.lexicon) / "examples"


def offers(near_misses, user: dict, found: dict[str, dict]) -> dict[str, str]:
    """finding_id -> intent, for the rejected rule findings the button is shown on."""
    if user["role"] not in service.DECIDERS:
        return {}
    out = {}
    for fid, f in found.items():
        intent = intent_of(near_misses, f["category"], f["rule_id"])
        if f["verdict"] == "rejected" and f["origin"] == "rule" and intent:
            out[fid] = intent
    return out


def cutoff(settings: Settings, picked: str = "") -> tuple[str | None, str]:
    """(ISO time, where it came from) that splits rule precision into before and after: the
    day a supervisor picked (YYYY-MM-DD, from its start, UTC), else the last change of the
    pack's example files (their newest modification time); (None, "") when neither is there."""
    if picked.strip():
        try:
            day = date.fromisoformat(picked.strip())
        except ValueError:
            raise BadInput(f"since: {picked!r} is not a date such as 2026-12-01") from None
        return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).isoformat(timespec="seconds"), "picked"
    files = list(examples_dir(settings).glob("*.yaml"))
    if not files:
        return None, ""
    newest = max(p.stat().st_mtime for p in files)
    return datetime.fromtimestamp(newest, timezone.utc).isoformat(timespec="seconds"), "the last change of the examples"


def _rejected(conn: sa.Connection, call_id: str, finding_id: str) -> tuple[dict, str, str]:
    """The finding, its rejecting reviewer's name and the verdict's time; Conflict unless rejected."""
    f, v = db.findings, db.verdicts
    row = conn.execute(
        sa.select(f, v.c.verdict, v.c.at.label("verdict_at"), db.users.c.name.label("reviewer"))
        .select_from(f.outerjoin(v, sa.and_(v.c.call_id == f.c.call_id, v.c.finding_id == f.c.finding_id))
                     .outerjoin(db.users, db.users.c.id == v.c.user_id))
        .where(f.c.call_id == call_id, f.c.finding_id == finding_id)).mappings().first()
    if row is None:
        raise NotFound(finding_id)
    if row["verdict"] != "rejected":
        raise Conflict("only a finding a reviewer rejected can become a near-miss example")
    return dict(row), row["reviewer"] or "?", row["verdict_at"] or ""


def add(engine: sa.Engine, settings: Settings, near_misses, user: dict, call_id: str, finding_id: str) -> str:
    """Add the finding's sentence; returns "added" or "there" (in the examples already).
    Conflict when the examples hold it as a positive of the intent (a person decides)."""
    if user["role"] not in service.DECIDERS:
        raise Forbidden("only supervisors and admins add examples")
    folder = examples_dir(settings)
    with db.write(engine) as conn:
        queries.visible_call(conn, user, call_id)
        finding, reviewer, at = _rejected(conn, call_id, finding_id)
        utterances = queries.read_call_file(settings.out_dir, "utterances", call_id)
        got = from_finding(finding, utterances, near_misses, reviewer, at, added_by=user["name"])
        if isinstance(got, str):
            raise BadInput(f"no near miss from this finding: {got}")
        try:
            planned = add_near_misses(folder, [got], dry_run=True)
        except ExamplesError as exc:  # the file's name and field only: the server's folders are the admins'
            raise Conflict(f"the example file {Path(exc.file).name} cannot be edited ({exc.field}): "
                           "fix it first (callqa rules check)") from exc
        if planned.positive:
            raise Conflict(f"not added: {got.intent}'s examples hold {got.sentence!r} as a POSITIVE; "
                           "whoever keeps the example corpus must decide which is right")
        if planned.duplicates:
            return "there"
        # audited first: a file that cannot be written rolls the audit row back with it
        service.audit(conn, user, "near_miss_example", call_id, finding_id, after=_audited(got, folder))
        done = add_near_misses(folder, [got])
        if not done.added:  # another writer added it in between
            raise Conflict("the examples changed meanwhile: reload and try again")
    return "added"


def _audited(got: NearMiss, folder: Path) -> dict:
    return {"intent": got.intent, "sentence": got.sentence, "file": f"{folder.name}/{got.intent}.yaml",
            "split": "negative.train", "rule": got.rule, "rejected_by": got.reviewer}
