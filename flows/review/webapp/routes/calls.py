"""One call: its page, its recording, its JSON, and the review's actions on it (claim,
release, verdict, added finding, grades, finalise) and the agent's appeal."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from flows.review import report as rp
from flows.review.webapp import callpage, nearmiss, queries, service
from flows.review.webapp.deps import WS, Conn, CurrentUser, DeciderPoster, Fresh, Poster
from flows.review.webapp.forms import AddFinding, Appeal, GradesForm, NearMissFinding, Verdict, grades_form
from flows.review.webapp.pages import back

router = APIRouter()


@router.get("/audio/{call_id:path}")
def call_audio(call_id: str, ws: WS, user: CurrentUser, conn: Conn):
    queries.visible_call(conn, user, call_id)
    path = callpage.audio_path(ws.settings, call_id)
    # FileResponse answers Range requests (206), which the player's seeking needs
    resp = FileResponse(path, media_type=rp.audio_mime(path))
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


@router.get("/api/calls/{call_id:path}", dependencies=[Fresh])
def call_api(call_id: str, user: CurrentUser, conn: Conn):
    call = queries.visible_call(conn, user, call_id)
    found = queries.call_findings(conn, call_id)
    keep = ("call_id", "agent_id", "team", "score", "grade", "review_state", "final_score", "final_grade")
    return {"call": {k: call[k] for k in keep},
            "findings": [{k: f[k] for k in ("finding_id", "category", "rule_id", "severity", "start_s", "present",
                                              "origin", "verdict")} for f in found]}


@router.get("/calls/{call_id:path}", dependencies=[Fresh])
def call_page(request: Request, call_id: str, ws: WS, user: CurrentUser, conn: Conn):
    ctx = callpage.context(conn, ws.settings, user, call_id)
    ctx["near_miss"] = nearmiss.offers(ws.pack.near_misses, user, ctx["found"])  # finding_id -> intent
    return ws.pages.render("review_call.html", request, **ctx)


@router.post("/calls/{call_id:path}/claim")
def claim(call_id: str, ws: WS, user: Poster):
    service.claim(ws.engine, user, call_id)
    return back(call_id)


@router.post("/calls/{call_id:path}/release")
def release(call_id: str, ws: WS, user: Poster):
    service.release(ws.engine, user, call_id)
    return back(call_id)


@router.post("/calls/{call_id:path}/verdict")
def verdict(call_id: str, ws: WS, user: Poster, form: Verdict):
    service.set_verdict(ws.engine, user, call_id, form.finding_id, form.verdict, form.note)
    return back(call_id)


@router.post("/calls/{call_id:path}/add-finding")
def add_finding(call_id: str, ws: WS, user: Poster, form: AddFinding):
    if form.start_s is None:
        raise service.BadInput("start and end are seconds, e.g. 41.5")
    service.add_finding(ws.engine, user, call_id, form.category, form.start_s, form.end_s, form.severity, form.note)
    return back(call_id)


@router.post("/calls/{call_id:path}/grades")
def grades(call_id: str, ws: WS, user: Poster, form: Annotated[GradesForm, Depends(grades_form)]):
    service.set_grades(ws.engine, user, call_id, form.grades)
    return back(call_id)


@router.post("/calls/{call_id:path}/finalise")
def finalise(call_id: str, ws: WS, user: Poster):
    service.finalise(ws.engine, user, call_id, ws.pack.scorecard)
    return back(call_id, "finalised")


@router.post("/calls/{call_id:path}/near-miss")
def near_miss(call_id: str, ws: WS, user: DeciderPoster, form: NearMissFinding):
    done = nearmiss.add(ws.engine, ws.settings, ws.pack.near_misses, user, call_id, form.finding_id)
    return back(call_id, f"near-miss-{done}")


@router.post("/calls/{call_id:path}/appeal")
def appeal(call_id: str, ws: WS, user: Poster, form: Appeal):
    service.appeal(ws.engine, user, call_id, form.finding_id, form.reason)
    return back(call_id, "appealed")
