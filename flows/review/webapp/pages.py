"""Server-rendered pages: the Jinja2 environment (the report's, our templates first),
the render helper every route uses, and the redirects after a form."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from flows.review import report as rp

TEMPLATES = Path(__file__).with_name("templates")


def environment() -> jinja2.Environment:
    """The report's environment (filters, autoescape), looking in our templates first."""
    env = rp.environment()
    env.loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(TEMPLATES)), env.loader])
    env.filters["category_label"] = rp.category_label
    return env


def local(url: str) -> str:
    """`url` when it is a path on this server, else "/": no open redirect after sign-in
    (browsers read "//host" and "/\\host" as another host)."""
    ok = url.startswith("/") and not url.startswith(("//", "/\\")) and "\\" not in url and "\n" not in url
    return url if ok else "/"


#: The banners a redirect may ask for, by key: a link cannot put its own words on our pages.
MESSAGES = {"finalised": "review finalised", "appealed": "appeal sent to the supervisors",
            "decided": "appeal decided", "signed-out": "signed out",
            "near-miss-added": "the sentence was added to the examples of its intent as a near miss (negative.train)",
            "near-miss-there": "the examples have this sentence already: nothing added"}


class Pages:
    def __init__(self, out_dir: Path) -> None:
        self.env = environment()
        self.out_dir = out_dir

    def render(self, name: str, request: Request, status: int = 200, **ctx) -> HTMLResponse:
        user = getattr(request.state, "user", None)
        # the server's folders are the admins' business: others see the output folder's name
        shown = str(self.out_dir.resolve()) if user and user["role"] == "admin" else self.out_dir.resolve().name
        gen = {"at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "out_dir": shown}
        html = self.env.get_template(name).render(gen=gen, user=user, csrf=getattr(request.state, "csrf", ""),
                                                  msg=MESSAGES.get(request.query_params.get("msg", ""), ""), **ctx)
        return HTMLResponse(html, status_code=status)


def back(call_id: str, msg: str = "") -> RedirectResponse:
    """303 to a call's page after a form, with an optional message."""
    url = f"/calls/{quote(call_id, safe='')}" + (f"?{urlencode({'msg': msg})}" if msg else "")
    return RedirectResponse(url, status_code=303)
