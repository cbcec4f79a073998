"""The lists a user starts from: the reviewers' queue (page and API) and an agent's calls."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from flows.review.webapp import queries
from flows.review.webapp.deps import WS, Agent, Conn, CurrentUser, Fresh, Reviewer

router = APIRouter()


def _filters(request: Request) -> dict:
    q = request.query_params
    return {k: q.get(k, "").strip()[:200] for k in ("team", "agent", "date", "category", "grade") if q.get(k)}


def _page_no(request: Request) -> int:
    try:
        return max(1, min(int(request.query_params.get("page", "1")), 1_000_000))
    except ValueError:
        return 1


@router.get("/")
def home(user: CurrentUser):
    return RedirectResponse("/my" if user["role"] == "agent" else "/queue", status_code=303)


@router.get("/index.html")  # the report's "← overview" link
def index_html(user: CurrentUser):
    return RedirectResponse("/", status_code=303)


@router.get("/queue", dependencies=[Fresh])
def queue_page(request: Request, ws: WS, user: Reviewer, conn: Conn):
    filters, page_no = _filters(request), _page_no(request)
    rows, total = queries.queue(conn, filters, page_no)
    options = queries.filter_options(conn)
    return ws.pages.render("queue.html", request, rows=rows, total=total, page_no=page_no, filters=filters,
                           options=options, page_size=queries.PAGE_SIZE,
                           qs=lambda **kw: urlencode({**filters, **kw}))


@router.get("/api/queue", dependencies=[Fresh])
def queue_api(request: Request, user: Reviewer, conn: Conn):
    rows, total = queries.queue(conn, _filters(request), _page_no(request))
    return {"total": total, "calls": [{k: r[k] for k in ("call_id", "agent_id", "team", "score", "grade",
                                                         "critical_count", "claimed_by")} for r in rows]}


@router.get("/my", dependencies=[Fresh])
def my_calls(request: Request, ws: WS, user: Agent, conn: Conn):
    rows, total = queries.agent_calls(conn, user, _page_no(request))
    return ws.pages.render("my.html", request, rows=rows, total=total)
