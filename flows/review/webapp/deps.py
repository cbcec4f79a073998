"""The routes' dependencies (FastAPI `Depends`): the workspace built once per app, a
database connection, the signed-in user, a role, and the CSRF check of a POST.

Every route but /login depends on `current_user` (a page without a session redirects to
/login, the API answers 401); every POST depends on `posting_user`, which also checks the
session's CSRF token (form field `csrf` or header X-CSRF-Token)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Iterator
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import Depends, Request

from flows.review.webapp import accounts, auth, service
from flows.review.webapp.config import Settings
from flows.review.webapp.ingest import OutputWatch
from flows.review.webapp.pages import Pages
from flows.review.webapp.queries import TrendsCache


class SignInFirst(Exception):
    """A page asked for without a session: answered with a redirect to /login."""

    def __init__(self, url: str) -> None:
        self.url = url


@dataclass
class Workspace:
    """What the app builds once: settings, the database engine, the rule pack, sessions."""
    settings: Settings
    engine: sa.Engine
    pack: object
    sessions: auth.Sessions
    pages: Pages
    watch: OutputWatch
    throttle: auth.LoginThrottle = field(default_factory=auth.LoginThrottle)
    trends: TrendsCache = field(default_factory=TrendsCache)


def workspace(request: Request) -> Workspace:
    return request.app.state.ws


WS = Annotated[Workspace, Depends(workspace)]


def connection(ws: WS) -> Iterator[sa.Connection]:
    """A read connection for one request."""
    with ws.engine.connect() as conn:
        yield conn


Conn = Annotated[sa.Connection, Depends(connection)]


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def current_user(request: Request, ws: WS) -> dict:
    """The signed-in user, or a redirect to /login (pages) / 401 (API, POST)."""
    session = ws.sessions.read(request.cookies.get(auth.SESSION_COOKIE))
    user = None
    if session:
        with ws.engine.connect() as conn:
            user = accounts.session_user(conn, session)
    if user is None:
        if wants_json(request) or request.method != "GET":
            raise service.Forbidden("sign in first")  # answered 401: no user
        raise SignInFirst("/login?" + urlencode({"next": request.url.path}))
    request.state.user = user
    request.state.csrf = session["csrf"]
    request.state.session = session
    return user


CurrentUser = Annotated[dict, Depends(current_user)]


def role(*roles: str):
    """A dependency: the signed-in user, if their role is one of `roles`."""
    def check(user: CurrentUser) -> dict:
        if user["role"] not in roles:
            raise service.Forbidden(f"this page is for {', '.join(roles)}")
        return user
    return check


Reviewer = Annotated[dict, Depends(role(*service.REVIEWERS))]
Decider = Annotated[dict, Depends(role(*service.DECIDERS))]
Agent = Annotated[dict, Depends(role("agent"))]


async def posting_user(request: Request, user: CurrentUser) -> dict:
    """The user of a state-changing request whose CSRF token is right."""
    form = await request.form() if "form" in request.headers.get("content-type", "") else {}
    token = form.get("csrf") or request.headers.get("x-csrf-token")
    if not auth.csrf_ok(request.state.session, token):
        raise service.Forbidden("missing or wrong CSRF token: reload the page and try again")
    return user


Poster = Annotated[dict, Depends(posting_user)]


def fresh(ws: WS, user: CurrentUser) -> None:
    """Take in new output first (a run or reprocess since the last look); signed-in users only."""
    ws.watch.refresh(ws.engine)


Fresh = Depends(fresh)


def admin_poster(user: Poster) -> dict:
    if user["role"] != "admin":
        raise service.Forbidden("this page is for admin")
    return user


AdminPoster = Annotated[dict, Depends(admin_poster)]


def decider_poster(user: Poster) -> dict:
    if user["role"] not in service.DECIDERS:
        raise service.Forbidden(f"this is for {', '.join(service.DECIDERS)}")
    return user


DeciderPoster = Annotated[dict, Depends(decider_poster)]
