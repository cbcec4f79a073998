"""Signing in and out: /login (its own CSRF token in a cookie, no session yet) and /logout."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse

from flows.review.webapp import accounts, auth, queries
from flows.review.webapp.deps import WS, Poster
from flows.review.webapp.forms import Login
from flows.review.webapp.pages import local

router = APIRouter()
LOGIN_COOKIE = "callqa_login"


def _user_by_name(ws, name: str) -> dict | None:
    with ws.engine.connect() as conn:
        return queries.user_by_name(conn, name)


@router.get("/login")
def login_page(request: Request, ws: WS, next: str = "/"):
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    resp = ws.pages.render("login.html", request, next=local(next), login_csrf=token, error="")
    resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return resp


@router.post("/login")
async def login(request: Request, ws: WS, form: Login):
    nxt = local(form.next or "/")
    cookie_token = request.cookies.get(LOGIN_COOKIE)
    if not cookie_token or not auth.csrf_ok({"csrf": cookie_token}, form.csrf):
        return JSONResponse({"error": "missing or wrong CSRF token: reload the sign-in page"}, status_code=403)
    client = request.client.host if request.client else "?"
    keys = (f"name:{form.name}", f"ip:{client}")
    if ws.throttle.blocked(*keys):
        return ws.pages.render("login.html", request, status=429, next=nxt, login_csrf=cookie_token,
                               error="too many failed sign-ins: wait 15 minutes")
    row = await run_in_threadpool(_user_by_name, ws, form.name)
    ok = await auth.verify_password_off_loop(row["password_hash"] if row else auth.DUMMY_HASH, form.password)
    if not (row and ok and not row["disabled_at"]):
        ws.throttle.failed(*keys)
        return ws.pages.render("login.html", request, status=401, next=nxt, login_csrf=cookie_token,
                               error="wrong user name or password")
    ws.throttle.succeeded(*keys)
    cookie = await run_in_threadpool(accounts.open_session, ws.engine, ws.sessions, row)
    resp = RedirectResponse(nxt, status_code=303)
    resp.set_cookie(auth.SESSION_COOKIE, cookie, httponly=True, samesite="lax", max_age=ws.sessions.max_age_s,
                    secure=request.url.scheme == "https")
    resp.delete_cookie(LOGIN_COOKIE)
    return resp


@router.post("/logout")
def logout(request: Request, ws: WS, user: Poster):
    accounts.end_session(ws.engine, request.state.session)  # a copy of the cookie is no good either
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(auth.SESSION_COOKIE)
    return resp
