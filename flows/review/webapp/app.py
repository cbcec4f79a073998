"""`callqa serve`: the review workspace as a FastAPI app over the output folder and the DB.

Pages are server-rendered Jinja2 (the report's templates and view models, imported from
flows.review.report, extended with the review panel); the few JSON endpoints under /api serve
scripts and tests. Every route but /login needs a session; every POST needs the
session's CSRF token. Errors a user can cause are answered with a status and one
sentence (400 bad input, 403 wrong role, 404 not found or not yours, 409 conflict).
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import jinja2
import pyarrow.parquet as pq
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from flows.review import report as rp
from flows.storage.store import call_file_name
from flows.review.webapp import auth, charts, db, service
from flows.review.webapp.ingest import ingest
from flows.review.webapp.scoring import gradable_items

TEMPLATES = Path(__file__).with_name("templates")
LOGIN_COOKIE = "callqa_login"


class _Redirect(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


def _local(url: str) -> str:
    """`url` when it is a path on this server, else "/": no open redirect after sign-in
    (browsers read "//host" and "/\\host" as another host)."""
    ok = url.startswith("/") and not url.startswith(("//", "/\\")) and "\\" not in url and "\n" not in url
    return url if ok else "/"


def environment() -> jinja2.Environment:
    """The report's environment (filters, autoescape), looking in our templates first."""
    env = rp.environment()
    env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES)), env.loader])
    return env


def _read_call_file(out_dir: Path, table: str, call_id: str) -> list[dict]:
    """One call's rows of one table, from its own file (no scan of the whole dataset)."""
    path = out_dir / table / call_file_name(call_id)
    if not path.is_file():
        return []
    return pq.read_table(path).to_pylist()


def create_app(out_dir: str | os.PathLike[str], db_url: str | None = None, lexicon: str = "zh-CN",
               audio_root: str | None = None, ingest_on_start: bool = True) -> FastAPI:
    from lexicons import load_pack

    out = Path(out_dir)
    if not (out / "calls").is_dir():
        raise FileNotFoundError(f"no calls/ dataset in {out} (is it the --out folder of `callqa run`?)")
    engine = db.make_engine(db_url or db.default_url(out))
    db.upgrade(engine)
    pack = load_pack(lexicon)  # the scorecard a final score is graded by
    sessions = auth.Sessions(db.secret_key(engine))
    throttle = auth.LoginThrottle()
    env = environment()
    app = FastAPI(title="callqa review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine
    app.state.out_dir = out
    app.state.throttle = throttle
    app.state.ingest = ingest(engine, out) if ingest_on_start else None

    # ------------------------------------------------------------------ plumbing

    def gen() -> dict:
        return {"at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "out_dir": str(out.resolve())}

    def page(name: str, request: Request, status: int = 200, **ctx) -> HTMLResponse:
        user = getattr(request.state, "user", None)
        html = env.get_template(name).render(gen=gen(), user=user, csrf=getattr(request.state, "csrf", ""),
                                             msg=request.query_params.get("msg", ""), **ctx)
        return HTMLResponse(html, status_code=status)

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")

    def current(request: Request) -> dict:
        """The signed-in user, or a redirect to /login (pages) / 401 (API)."""
        session = sessions.read(request.cookies.get(auth.SESSION_COOKIE))
        user = None
        if session:
            with engine.connect() as conn:
                user = service.get_user(conn, session["uid"])
        if user is None:
            if wants_json(request) or request.method != "GET":
                raise service.Forbidden("sign in first")  # answered 401 below
            raise _Redirect("/login?" + urlencode({"next": request.url.path}))
        request.state.user = user
        request.state.csrf = session["csrf"]
        request.state.session = session
        return user

    async def posted(request: Request) -> tuple[dict, dict]:
        """(user, form) of a state-changing request whose CSRF token is right."""
        user = current(request)
        form = dict(await request.form()) if "form" in request.headers.get("content-type", "") else {}
        token = form.get("csrf") or request.headers.get("x-csrf-token")
        if not auth.csrf_ok(request.state.session, token):
            raise service.Forbidden("missing or wrong CSRF token: reload the page and try again")
        return user, form

    def need(user: dict, roles: tuple[str, ...]) -> None:
        if user["role"] not in roles:
            raise service.Forbidden(f"this page is for {', '.join(roles)}")

    def back(call_id: str, msg: str = "") -> RedirectResponse:
        from urllib.parse import quote

        url = f"/calls/{quote(call_id, safe='')}" + (f"?{urlencode({'msg': msg})}" if msg else "")
        return RedirectResponse(url, status_code=303)

    @app.exception_handler(_Redirect)
    async def _redirect(request: Request, exc: _Redirect):
        return RedirectResponse(exc.url, status_code=303)

    def _error(status: int):
        async def handler(request: Request, exc: Exception):
            text = str(exc) if status != 404 else "not found"
            if status == 403 and getattr(request.state, "user", None) is None:
                status_ = 401
            else:
                status_ = status
            if wants_json(request) or getattr(request.state, "user", None) is None:
                return JSONResponse({"error": text}, status_code=status_)
            return page("error.html", request, status=status_, status_code=status_, error=text)
        return handler

    app.add_exception_handler(service.NotFound, _error(404))
    app.add_exception_handler(service.Forbidden, _error(403))
    app.add_exception_handler(service.Conflict, _error(409))
    app.add_exception_handler(service.BadInput, _error(400))

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        # no third-party anything: scripts and styles are inline, audio from here
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; media-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    # ------------------------------------------------------------------ sign-in

    @app.get("/login")
    def login_page(request: Request, next: str = "/"):
        token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
        resp = page("login.html", request, next=_local(next), login_csrf=token, error="")
        resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
        return resp

    @app.post("/login")
    async def login(request: Request):
        form = dict(await request.form())
        name = str(form.get("name") or "")
        nxt = _local(str(form.get("next") or "/"))
        cookie_token = request.cookies.get(LOGIN_COOKIE)
        if not cookie_token or not auth.csrf_ok({"csrf": cookie_token}, form.get("csrf")):
            return JSONResponse({"error": "missing or wrong CSRF token: reload the sign-in page"}, status_code=403)
        client = request.client.host if request.client else "?"
        keys = (f"name:{name}", f"ip:{client}")
        if throttle.blocked(*keys):
            return page("login.html", request, status=429, next=nxt, login_csrf=cookie_token,
                        error="too many failed sign-ins: wait 15 minutes")
        with engine.connect() as conn:
            row = conn.execute(sa.select(db.users).where(db.users.c.name == name)).mappings().first()
        ok = auth.verify_password(row["password_hash"] if row else auth.DUMMY_HASH, str(form.get("password") or ""))
        if not (row and ok):
            throttle.failed(*keys)
            return page("login.html", request, status=401, next=nxt, login_csrf=cookie_token,
                        error="wrong user name or password")
        throttle.succeeded(*keys)
        cookie, _ = sessions.issue(row["id"])
        resp = RedirectResponse(nxt, status_code=303)
        resp.set_cookie(auth.SESSION_COOKIE, cookie, httponly=True, samesite="lax", max_age=sessions.max_age_s,
                        secure=request.url.scheme == "https")
        resp.delete_cookie(LOGIN_COOKIE)
        with engine.begin() as conn:
            service.audit(conn, dict(row), "login")
        return resp

    @app.post("/logout")
    async def logout(request: Request):
        await posted(request)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(auth.SESSION_COOKIE)
        return resp

    # ------------------------------------------------------------------ pages

    @app.get("/")
    def home(request: Request):
        user = current(request)
        return RedirectResponse("/my" if user["role"] == "agent" else "/queue", status_code=303)

    @app.get("/index.html")  # the report's "← overview" link
    def index_html(request: Request):
        current(request)
        return RedirectResponse("/", status_code=303)

    def _filters(request: Request) -> dict:
        q = request.query_params
        return {k: q.get(k, "").strip()[:200] for k in ("team", "agent", "date", "category", "grade") if q.get(k)}

    def _page_no(request: Request) -> int:
        try:
            return max(1, min(int(request.query_params.get("page", "1")), 1_000_000))
        except ValueError:
            return 1

    @app.get("/queue")
    def queue_page(request: Request):
        user = current(request)
        need(user, service.REVIEWERS)
        filters, page_no = _filters(request), _page_no(request)
        with engine.connect() as conn:
            rows, total = service.queue(conn, filters, page_no)
            options = service.filter_options(conn)
        return page("queue.html", request, rows=rows, total=total, page_no=page_no, filters=filters,
                    options=options, page_size=service.PAGE_SIZE, qs=lambda **kw: urlencode({**filters, **kw}))

    @app.get("/api/queue")
    def queue_api(request: Request):
        user = current(request)
        need(user, service.REVIEWERS)
        with engine.connect() as conn:
            rows, total = service.queue(conn, _filters(request), _page_no(request))
        return {"total": total, "calls": [{k: r[k] for k in ("call_id", "agent_id", "team", "score", "grade",
                                                             "critical_count", "claimed_by")} for r in rows]}

    @app.get("/my")
    def my_calls(request: Request):
        user = current(request)
        need(user, ("agent",))
        with engine.connect() as conn:
            rows, total = service.agent_calls(conn, user, _page_no(request))
        return page("my.html", request, rows=rows, total=total)

    def _call_context(request: Request, user: dict, call_id: str) -> dict:
        with engine.connect() as conn:
            call = service.visible_call(conn, user, call_id)
            found = service.call_findings(conn, call_id)
            items = service.call_items(conn, call_id)
            claimant = conn.execute(sa.select(db.users.c.name).where(db.users.c.id == call["claimed_by"])).scalar() \
                if call["claimed_by"] else None
        parquet_call = (_read_call_file(out, "calls", call_id) or [None])[0]
        base = parquet_call or {**call, "status": call["status"] or "ok", "error": ""}
        utts = _read_call_file(out, "utterances", call_id)
        shown = [f for f in found if f["present"] or f["verdict"] or f["origin"] == "manual"]
        audio = None
        if base.get("source") and base["status"] == "ok":
            path = rp.resolve_audio_path(base["source"], audio_root)
            from urllib.parse import quote

            audio = rp.AudioRef(f"/calls/{quote(call_id, safe='')}/audio", rp.audio_mime(path), str(path),
                                path.is_file(), "" if path.is_file() else "recording not found on the server")
        view = rp.call_view(base, utts, [dict(f) for f in shown], audio,
                            _read_call_file(out, "scores", call_id))
        gradable = {i["item_id"] for i in gradable_items(items)}
        return {"view": view, "review": call, "found": {f["finding_id"]: f for f in found}, "items": items,
                "gradable": gradable, "claimant": claimant,
                "mine": call["claimed_by"] == user["id"] and call["review_state"] == "open",
                "categories": rp.CATEGORY_LABELS, "severities": service.SEVERITIES, "grades": rp.GRADE_ORDER}

    @app.get("/calls/{call_id:path}/audio")
    def call_audio(request: Request, call_id: str):
        user = current(request)
        with engine.connect() as conn:
            service.visible_call(conn, user, call_id)
        row = (_read_call_file(out, "calls", call_id) or [None])[0]
        path = rp.resolve_audio_path(row["source"], audio_root) if row and row.get("source") else None
        if path is None or not path.is_file():
            raise service.NotFound(call_id)
        # FileResponse answers Range requests (206), which the player's seeking needs
        resp = FileResponse(path, media_type=rp.audio_mime(path))
        resp.headers["Cache-Control"] = "private, max-age=3600"
        return resp

    @app.get("/api/calls/{call_id:path}")
    def call_api(request: Request, call_id: str):
        user = current(request)
        with engine.connect() as conn:
            call = service.visible_call(conn, user, call_id)
            found = service.call_findings(conn, call_id)
        keep = ("call_id", "agent_id", "team", "score", "grade", "review_state", "final_score", "final_grade")
        return {"call": {k: call[k] for k in keep},
                "findings": [{k: f[k] for k in ("finding_id", "category", "rule_id", "severity", "start_s", "present",
                                                  "origin", "verdict")} for f in found]}

    @app.get("/calls/{call_id:path}")
    def call_page(request: Request, call_id: str):
        user = current(request)
        return page("review_call.html", request, **_call_context(request, user, call_id))

    @app.post("/calls/{call_id:path}/claim")
    async def claim(request: Request, call_id: str):
        user, _ = await posted(request)
        service.claim(engine, user, call_id)
        return back(call_id)

    @app.post("/calls/{call_id:path}/release")
    async def release(request: Request, call_id: str):
        user, _ = await posted(request)
        service.release(engine, user, call_id)
        return back(call_id)

    @app.post("/calls/{call_id:path}/verdict")
    async def verdict(request: Request, call_id: str):
        user, form = await posted(request)
        service.set_verdict(engine, user, call_id, str(form.get("finding_id", "")), str(form.get("verdict", "")),
                            str(form.get("note", "")))
        return back(call_id)

    @app.post("/calls/{call_id:path}/add-finding")
    async def add_finding(request: Request, call_id: str):
        user, form = await posted(request)
        try:
            start = float(form.get("start_s", ""))
            end = float(form["end_s"]) if form.get("end_s") else None
        except ValueError:
            raise service.BadInput("start and end are seconds, e.g. 41.5") from None
        service.add_finding(engine, user, call_id, str(form.get("category", "")), start, end,
                            str(form.get("severity", "major")), str(form.get("note", "")))
        return back(call_id)

    @app.post("/calls/{call_id:path}/grades")
    async def grades(request: Request, call_id: str):
        user, form = await posted(request)
        wanted = {k[len("grade-"):]: str(v) for k, v in form.items() if k.startswith("grade-") and v}
        service.set_grades(engine, user, call_id, wanted)
        return back(call_id)

    @app.post("/calls/{call_id:path}/finalise")
    async def finalise(request: Request, call_id: str):
        user, _ = await posted(request)
        service.finalise(engine, user, call_id, pack.scorecard)
        return back(call_id, "review finalised")

    @app.post("/calls/{call_id:path}/appeal")
    async def appeal(request: Request, call_id: str):
        user, form = await posted(request)
        service.appeal(engine, user, call_id, str(form.get("finding_id", "")), str(form.get("reason", "")))
        return back(call_id, "appeal sent to the supervisors")

    @app.get("/appeals")
    def appeals_page(request: Request):
        user = current(request)
        need(user, service.DECIDERS)
        with engine.connect() as conn:
            rows = service.open_appeals(conn)
        return page("appeals.html", request, rows=rows)

    @app.post("/appeals/{appeal_id}/decide")
    async def decide(request: Request, appeal_id: int):
        user, form = await posted(request)
        service.decide(engine, user, appeal_id, str(form.get("decision", "")), str(form.get("note", "")),
                       pack.scorecard)
        return RedirectResponse("/appeals?" + urlencode({"msg": f"appeal {appeal_id} decided"}), status_code=303)

    trends_cache: dict = {}

    def cached_trends() -> dict:
        """service.trends, computed again only when the data changed (db.data_version), and
        the top findings only when the findings did (db.findings_version): aggregating
        100,000 calls takes a fraction of a second, checking the versions a millisecond."""
        with engine.connect() as conn:
            version, fversion = db.data_version(conn), db.findings_version(conn)
            if trends_cache.get("version") != version:
                trends_cache.update(version=version, value=service.trends(conn))
            if trends_cache.get("fversion") != fversion:
                trends_cache.update(fversion=fversion, top=service.top_findings(conn))
        return {**trends_cache["value"], "top": trends_cache["top"]}

    @app.get("/trends")
    def trends_page(request: Request):
        user = current(request)
        need(user, service.REVIEWERS)
        t = cached_trends()
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
        return page("trends.html", request, figs=figs, precision=t["precision"])

    @app.get("/api/trends")
    def trends_api(request: Request):
        user = current(request)
        need(user, service.REVIEWERS)
        return cached_trends()

    @app.get("/audit")
    def audit_page(request: Request):
        user = current(request)
        need(user, service.DECIDERS)
        with engine.connect() as conn:
            rows = service.audit_log(conn)
        return page("audit.html", request, rows=rows)

    @app.post("/api/ingest")
    async def ingest_api(request: Request):
        user, _ = await posted(request)
        need(user, ("admin",))
        result = ingest(engine, out)
        with engine.begin() as conn:
            service.audit(conn, user, "ingest", after={"calls_taken": result.calls_taken})
        return {"calls_seen": result.calls_seen, "calls_taken": result.calls_taken, "seconds": result.seconds}

    return app


def serve(out_dir: str, db_url: str | None, host: str, port: int, lexicon: str = "zh-CN",
          audio_root: str | None = None) -> None:
    import uvicorn

    app = create_app(out_dir, db_url, lexicon, audio_root)
    print(app.state.ingest.line(), flush=True)
    print(f"callqa review workspace on http://{host}:{port}/ (database {app.state.engine.url.render_as_string()})",
          flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
