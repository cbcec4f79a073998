"""`callqa serve`: the review workspace as a FastAPI app over the output folder and the DB.

`create_app` builds it once: the settings, the database engine (migrated), the rule pack,
the session signer; the routes live in routes/ (one router per resource) and reach these
through the dependencies in deps.py. Pages are server-rendered Jinja2 (the report's
templates and view models, extended with the review panel); the few JSON endpoints under
/api serve scripts and tests. Errors a user can cause are answered with a status and one
sentence (errors.py).
"""

from __future__ import annotations

import os
import socket

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse

from flows.review.webapp import auth, db, errors
from flows.review.webapp.config import Settings
from flows.review.webapp.deps import SignInFirst, Workspace, wants_json
from flows.review.webapp.ingest import OutputWatch, ingest
from flows.review.webapp.pages import Pages
from flows.review.webapp.routes import admin, appeals, calls, login, queue, trends

#: no third-party anything: scripts and styles are inline, audio from here
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; media-src 'self' data:; frame-ancestors 'none'; form-action 'self'")


def _error(status: int):
    async def handler(request: Request, exc: Exception):
        text = str(exc) if status != 404 else "not found"
        signed_in = getattr(request.state, "user", None) is not None
        status_ = 401 if status == 403 and not signed_in else status
        if wants_json(request) or not signed_in:
            return JSONResponse({"error": text}, status_code=status_)
        return request.app.state.ws.pages.render("error.html", request, status=status_, status_code=status_,
                                                 error=text)
    return handler


async def _bad_form(request: Request, exc: RequestValidationError):
    """A form field that does not fit its model: 400 and which field."""
    first = exc.errors()[0] if exc.errors() else {}
    field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "form"
    return await _error(400)(request, errors.BadInput(f"{field}: {first.get('msg', 'bad value')}"))


def _install_handlers(app: FastAPI) -> None:
    for exc, status in ((errors.NotFound, 404), (errors.Forbidden, 403), (errors.Conflict, 409),
                        (errors.BadInput, 400)):
        app.add_exception_handler(exc, _error(status))
    app.add_exception_handler(RequestValidationError, _bad_form)

    @app.exception_handler(SignInFirst)
    async def _sign_in_first(request: Request, exc: SignInFirst):
        return RedirectResponse(exc.url, status_code=303)

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def build_app(settings: Settings, pack=None, engine=None) -> FastAPI:
    """The app for `settings`; `pack` and `engine` when the caller has them already."""
    from lexicons import load_pack

    if not (settings.out_dir / "calls").is_dir():
        raise FileNotFoundError(f"no calls/ dataset in {settings.out_dir} "
                                "(is it the --out folder of `callqa run`?)")
    engine = engine if engine is not None else db.make_engine(settings.database_url())
    db.upgrade(engine)
    pack = pack if pack is not None else load_pack(settings.lexicon)  # its scorecard grades final scores
    ws = Workspace(settings=settings, engine=engine, pack=pack, pages=Pages(settings.out_dir),
                   sessions=auth.Sessions(db.secret_key(engine), settings.session_max_age_s),
                   watch=OutputWatch(settings.out_dir))
    app = FastAPI(title="callqa review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ws = ws
    app.state.engine = engine
    app.state.out_dir = settings.out_dir
    app.state.throttle = ws.throttle
    app.state.ingest = ingest(engine, settings.out_dir) if settings.ingest_on_start else None
    ws.watch.mark()  # from here on, the pages take in what changes
    _install_handlers(app)
    for module in (login, queue, calls, appeals, trends, admin):
        # the routers' routes themselves, not include_router's lazy wrapper (fastapi >= 0.150):
        # app.routes then lists every route, which the anonymous-access test walks
        app.router.routes.extend(module.router.routes)
    return app


def create_app(out_dir: str | os.PathLike[str], db_url: str | None = None, lexicon: str = "zh-CN",
               audio_root: str | None = None, ingest_on_start: bool = True, **more) -> FastAPI:
    """build_app with the settings given as arguments (the tests' and scripts' way in)."""
    return build_app(Settings(out_dir=out_dir, db_url=db_url, lexicon=lexicon, audio_root=audio_root,
                              ingest_on_start=ingest_on_start, **more))


def uvicorn_config(app: FastAPI, host: str, port: int):
    """The server's settings: proxy headers only from the proxies --forwarded-allow-ips
    names (uvicorn's default believes any client on 127.0.0.1, so a local caller could
    pick its address and escape the login throttle)."""
    import uvicorn

    trusted = app.state.ws.settings.forwarded_allow_ips
    return uvicorn.Config(app, host=host, port=port, log_level="warning", proxy_headers=bool(trusted),
                          forwarded_allow_ips=trusted or None)


class PortBusy(OSError):
    pass


def listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything is loaded: a busy port is said at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortBusy(f"cannot listen on {host}:{port} ({exc.strerror}): is another server there? "
                       "Pick another with --port") from None
    return sock


def serve(settings: Settings, host: str, port: int, pack=None) -> None:
    import uvicorn

    sock = listen(host, port)
    app = build_app(settings, pack)
    print(app.state.ingest.line(), flush=True)
    print(f"callqa review workspace on http://{host}:{port}/ (database {app.state.engine.url.render_as_string()})",
          flush=True)
    uvicorn.Server(uvicorn_config(app, host, port)).run(sockets=[sock])
