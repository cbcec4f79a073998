"""What a call's page shows: the database's review state (verdicts, claim, scorecard)
joined with the output folder's Parquet (transcript, scores) through the report's view
model, and where its recording is."""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from flows.review import report as rp
from flows.review.webapp import queries, service
from flows.review.webapp.config import Settings
from flows.review.webapp.errors import NotFound
from flows.review.webapp.scoring import gradable_items


def confined_audio(source: str, audio_root: str | None) -> Path | None:
    """The recording `source` names, resolved, if it is a regular file inside the folder it
    is named in (or --audio-root): a recording replaced by a symlink to /etc/shadow, or a
    source of "../../x", resolves outside and gives None."""
    src = Path(source)
    if audio_root is None:
        named, folder = src if src.is_absolute() else Path.cwd() / src, None
        folder = named.parent
    else:
        named, folder = rp.resolve_audio_path(source, audio_root), Path(audio_root)
    real, inside = named.resolve(), folder.resolve()
    if not real.is_relative_to(inside) or not real.is_file():  # is_file: a regular file, after links
        return None
    return real


def audio_path(settings: Settings, call_id: str) -> Path:
    """The recording a call was processed from, where it is now; NotFound if it is not there
    or not where it was named."""
    row = (queries.read_call_file(settings.out_dir, "calls", call_id) or [None])[0]
    path = confined_audio(row["source"], settings.audio_root) if row and row.get("source") else None
    if path is None:
        raise NotFound(call_id)
    return path


def audio_url(call_id: str) -> str:
    """Under /audio/, not /calls/…/audio: a call id may itself end in "/audio"."""
    return f"/audio/{quote(call_id, safe='')}"


#: the longest a call of unknown length is drawn (a day)
MAX_UNKNOWN_S = 86400.0


def _within(finding: dict, duration_s: float | None) -> dict:
    """A finding's times clamped to 0..the call's length: a row stored before the bounds
    were checked (end 1e308, inf) must not stretch the timeline or break the page."""
    length = duration_s if duration_s and math.isfinite(duration_s) else MAX_UNKNOWN_S
    clamp = lambda t: min(max(t, 0.0), length) if t is not None and math.isfinite(t) else length  # noqa: E731
    return dict(finding, start_s=clamp(finding["start_s"]), end_s=clamp(finding["end_s"]))


def context(conn: sa.Connection, settings: Settings, user: dict, call_id: str) -> dict:
    """The template context of review_call.html for `user` (NotFound if not theirs to see)."""
    out = settings.out_dir
    call = queries.visible_call(conn, user, call_id)
    found = [_within(f, call.get("duration_s")) for f in queries.call_findings(conn, call_id)]
    items = queries.call_items(conn, call_id)
    claimant = queries.user_name(conn, call["claimed_by"])
    parquet_call = (queries.read_call_file(out, "calls", call_id) or [None])[0]
    base = parquet_call or {**call, "status": call["status"] or "ok", "error": ""}
    utts = queries.read_call_file(out, "utterances", call_id)
    shown = [f for f in found if f["present"] or f["verdict"] or f["origin"] == "manual"]
    audio = None
    if base.get("source") and base["status"] == "ok":
        path = confined_audio(base["source"], settings.audio_root)
        named = Path(base["source"]).name
        audio = rp.AudioRef(audio_url(call_id), rp.audio_mime(path or Path(named)), named,
                            path is not None, "" if path else "recording not found on the server")
    if user["role"] != "admin" and base.get("source"):  # where the server keeps recordings is the admins' business
        base = {**base, "source": Path(base["source"]).name}
    view = rp.call_view(base, utts, shown, audio, queries.read_call_file(out, "scores", call_id))
    if call["review_state"] == "final" and call["final_grade"]:  # the header shows the review's outcome
        view["summary"] = {**view["summary"], "grade": call["final_grade"], "flagged": False,
                           "score_text": f"{call['final_score']:.1f} (final, machine {call['grade']} "
                                         f"{view['summary']['score_text']})"}
    gradable = {i["item_id"] for i in gradable_items(items)}
    return {"view": view, "review": call, "found": {f["finding_id"]: f for f in found}, "items": items,
            "gradable": gradable, "claimant": claimant,
            "mine": call["claimed_by"] == user["id"] and call["review_state"] == "open",
            "categories": rp.CATEGORY_LABELS, "severities": service.SEVERITIES, "grades": rp.GRADE_ORDER}
