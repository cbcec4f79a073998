"""Appeals: the supervisors' list of open ones and their decision."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from flows.review.webapp import queries, service
from flows.review.webapp.deps import WS, Conn, Decider, Poster
from flows.review.webapp.forms import Decision

router = APIRouter()


@router.get("/appeals")
def appeals_page(request: Request, ws: WS, user: Decider, conn: Conn):
    return ws.pages.render("appeals.html", request, rows=queries.open_appeals(conn))


@router.post("/appeals/{appeal_id}/decide")
def decide(appeal_id: int, ws: WS, user: Poster, form: Decision):
    service.decide(ws.engine, user, appeal_id, form.decision, form.note, ws.pack.scorecard)
    return RedirectResponse("/appeals?" + urlencode({"msg": "decided"}), status_code=303)
