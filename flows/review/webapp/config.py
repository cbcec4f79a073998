"""The workspace's settings: one object built by `callqa serve` (or a test) and read by
every part of the app through `request.app.state.ws.settings`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from flows.review.webapp import auth


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    #: the --out folder of `callqa run` (its calls/ dataset is required)
    out_dir: Path
    #: SQLAlchemy URL; None: sqlite OUT/review.db
    db_url: str | None = None
    #: the rule pack whose scorecard grades final scores
    lexicon: str = "zh-CN"
    #: where the recordings are now, if they moved since the run
    audio_root: str | None = None
    #: take in the output folder's new or changed calls when the app is built
    ingest_on_start: bool = True
    session_max_age_s: int = auth.SESSION_MAX_AGE_S
    #: proxies whose X-Forwarded-For/-Proto are believed (comma-separated addresses, "*");
    #: empty: none, the client address is the socket's (the login throttle counts by it)
    forwarded_allow_ips: str = ""

    def database_url(self) -> str:
        from flows.review.webapp import db

        return self.db_url or db.default_url(self.out_dir)
