"""The workspace's commands (issue 34): `callqa users add|passwd|disable|list`, `callqa db
verify`, and `callqa serve` on a busy port saying so before it loads anything."""

from __future__ import annotations

import io
import socket
import sys
import time

import pytest
import sqlalchemy as sa

from flows.cli import main
from flows.review.webapp import db
from webapp_data import build_output

NEW = "another long passphrase 7"


def _cli(monkeypatch, args: list[str], stdin: str = "") -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(args)


@pytest.fixture
def out(tmp_path):
    return build_output(tmp_path)


def test_users_add_passwd_disable_list(out, monkeypatch, capsys):
    o = ["--out", str(out)]
    assert _cli(monkeypatch, ["users", "add", "rita", "--role", "reviewer", *o], "correct horse battery\n") == 0
    assert _cli(monkeypatch, ["users", "add", "weak", "--role", "reviewer", *o], "weak4weak4\n") == 2
    assert "12 characters" in capsys.readouterr().err
    assert _cli(monkeypatch, ["users", "passwd", "rita", *o], "password1234\n") == 2  # common
    assert _cli(monkeypatch, ["users", "passwd", "rita", *o], NEW + "\n") == 0
    assert "0 session(s) ended" in capsys.readouterr().out
    assert _cli(monkeypatch, ["users", "disable", "nobody", *o]) == 2
    assert _cli(monkeypatch, ["users", "disable", "rita", *o]) == 0
    capsys.readouterr()
    assert _cli(monkeypatch, ["users", "list", *o]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("rita\treviewer\t-\tdisabled ")
    engine = db.make_engine(db.default_url(out))
    with engine.connect() as conn:
        actions = list(conn.execute(sa.select(db.audit.c.action).order_by(db.audit.c.id)).scalars())
    assert actions == ["user_add", "user_passwd", "user_disable"]
    engine.dispose()


def test_db_verify_prints_the_head_and_fails_on_a_broken_chain(out, monkeypatch, capsys):
    o = ["--out", str(out)]
    _cli(monkeypatch, ["users", "add", "rita", "--role", "reviewer", *o], "correct horse battery\n")
    capsys.readouterr()
    assert _cli(monkeypatch, ["db", "verify", *o]) == 0
    text = capsys.readouterr().out
    assert "audit log intact: 1 rows, head " in text
    head = text.split("head ")[1].strip()
    assert _cli(monkeypatch, ["db", "verify", "--expect-head", head, *o]) == 0
    engine = db.make_engine(db.default_url(out))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TRIGGER audit_no_update"))
        conn.execute(db.audit.update().values(user_name="mallory"))
    engine.dispose()
    capsys.readouterr()
    assert _cli(monkeypatch, ["db", "verify", *o]) == 1
    assert "BROKEN" in capsys.readouterr().out


def test_serve_on_a_busy_port_says_so_before_loading_anything(out, monkeypatch, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        t0 = time.perf_counter()
        assert main(["serve", "--out", str(out), "--port", str(port)]) == 2
        took = time.perf_counter() - t0
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "--port" in err
    assert not (out / db.DB_FILE).exists() and took < 5
