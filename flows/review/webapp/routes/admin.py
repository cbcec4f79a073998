"""The supervisors' and admins' tools: the audit log and a manual ingest."""

from __future__ import annotations

from fastapi import APIRouter, Request

from flows.review.webapp import queries
from flows.review.webapp.ingest import ingest_by
from flows.review.webapp.deps import WS, AdminPoster, Conn, Decider

router = APIRouter()


@router.get("/audit")
def audit_page(request: Request, ws: WS, user: Decider, conn: Conn):
    return ws.pages.render("audit.html", request, rows=queries.audit_log(conn))


@router.post("/api/ingest")
def ingest_api(ws: WS, user: AdminPoster):
    result = ingest_by(ws.engine, ws.settings.out_dir, user)
    return {"calls_seen": result.calls_seen, "calls_taken": result.calls_taken, "seconds": result.seconds}
