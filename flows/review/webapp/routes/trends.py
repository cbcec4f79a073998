"""The dashboard: trends by week, agent and team, the top findings, rule precision."""

from __future__ import annotations

from fastapi import APIRouter, Request

from flows.review import report as rp
from flows.review.webapp import charts, nearmiss, queries
from flows.review.webapp.deps import WS, Conn, Reviewer

router = APIRouter()


def _split(ws, conn, since: str) -> dict:
    """Each rule's precision before and after the last examples change (or the day picked)."""
    at, source = nearmiss.cutoff(ws.settings, since)
    return {"since": at, "source": source, "rules": queries.precision_split(conn, at) if at else []}


@router.get("/trends")
def trends_page(request: Request, ws: WS, user: Reviewer, conn: Conn, since: str = ""):
    t = ws.trends.get(ws.engine)
    figs = {
        "weeks": charts.stacked_weeks(t["weeks"], rp.GRADE_ORDER, "chart-weeks"),
        "agents": charts.hbars([(a, s, f"{s:.1f} ({n})") for a, s, n in t["agents"]], 100, "chart-agents"),
        "teams": charts.hbars([(a, s, f"{s:.1f} ({n})") for a, s, n in t["teams"]], 100, "chart-teams"),
        "top": charts.hbars([(rp.category_label(c), n, str(n)) for c, n in t["top"]], None, "chart-top",
                            colour="#e8590c"),
        "precision": charts.hbars([(rule, round(100 * p, 1), f"{100 * p:.0f}% ({rej} of {n} rejected)")
                                   for rule, _cat, n, rej, p in t["precision"]], 100, "chart-precision",
                                  colour="#17a673"),
    }
    return ws.pages.render("trends.html", request, figs=figs, precision=t["precision"], split=_split(ws, conn, since))


@router.get("/api/trends")
def trends_api(ws: WS, user: Reviewer, conn: Conn, since: str = ""):
    return {**ws.trends.get(ws.engine), "precision_split": _split(ws, conn, since)}
