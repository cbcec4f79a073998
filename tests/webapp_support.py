"""Fixtures of the review workspace's tests: the two database backends, a workspace over
a hand-made output folder, and signing in through the real login form.

PostgreSQL: a throw-away cluster (initdb + pg_ctl in a temporary folder, on a free port,
trust auth on 127.0.0.1 only) for the test session, a fresh database per test. The
binaries are Debian's (`apt-get install postgresql`, /usr/lib/postgresql/*/bin); without
them the PostgreSQL variants skip, or fail under CI. initdb refuses to run as root, so
as root the cluster runs as the `postgres` user the Debian package creates.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from conftest import missing

PASSWORD = "correct horse battery"


def pg_bin() -> Path | None:
    """The folder of initdb and pg_ctl: $CALLQA_PG_BIN, else Debian's newest, else PATH's."""
    if os.environ.get("CALLQA_PG_BIN"):
        folder = Path(os.environ["CALLQA_PG_BIN"])
        return folder if (folder / "initdb").is_file() else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found and shutil.which("initdb"):
        found = [shutil.which("initdb")]
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="callqa-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres")
            os.chmod(self.root, 0o700)

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> "PgCluster":
        self._run("initdb", "-D", str(self.data), "-U", "callqa", "--auth=trust", "-E", "UTF8", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")
        return self

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://callqa@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        import sqlalchemy as sa

        name = "t_" + uuid.uuid4().hex[:12]
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster():
    bindir = pg_bin()
    if bindir is None:
        missing("PostgreSQL binaries not found (/usr/lib/postgresql/*/bin or $CALLQA_PG_BIN): "
                "apt-get install postgresql")
    cluster = PgCluster(bindir).start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """None (the embedded default, OUT/review.db) or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("pg_cluster").new_database()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF token on the page"
    return m.group(1)


def sign_in(client, name: str, password: str = PASSWORD):
    """Sign in through the login form; returns the response after the redirect."""
    page = client.get("/login")
    return client.post("/login", data={"name": name, "password": password, "csrf": csrf_of(page.text), "next": "/"})


def add_users(engine) -> dict[str, dict]:
    from flows.review.webapp import accounts

    users = {"rita": ("reviewer", None), "rob": ("reviewer", None), "ann": ("agent", "A1"),
             "bob": ("agent", "A2"), "sue": ("supervisor", None), "ada": ("admin", None)}
    out = {}
    for name, (role, agent) in users.items():
        out[name] = {"id": accounts.add_user(engine, name, role, PASSWORD, agent), "name": name, "role": role,
                     "agent_id": agent}
    return out
