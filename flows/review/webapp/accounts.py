"""Users and their sessions: adding, listing, disabling, changing a password, and the
server-side session a signed cookie must match (auth.py signs; this records and revokes).

A session ends when its user signs out, changes their password or is disabled, or when
it expires; all of them are checked on every request."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from flows.review.webapp import auth, db
from flows.review.webapp.errors import BadInput, Conflict, NotFound
from flows.review.webapp.service import audit, now


def add_user(engine: sa.Engine, name: str, role: str, password: str, agent_id: str | None = None,
             by: dict | None = None) -> int:
    if role not in auth.ROLES:
        raise BadInput(f"role must be one of {', '.join(auth.ROLES)}, not {role!r}")
    if role == "agent" and not agent_id:
        raise BadInput("an agent needs --agent-id (the agent id in the calls' metadata)")
    if not name or len(name) > 80 or not name.isprintable():
        raise BadInput("a user name is 1-80 printable characters")
    hashed = _hash(password, name)
    with db.write(engine) as conn:
        if conn.execute(sa.select(db.users.c.id).where(db.users.c.name == name)).first():
            raise Conflict(f"user {name!r} exists already")
        uid = conn.execute(db.users.insert().values(name=name, role=role, agent_id=agent_id, password_hash=hashed,
                                                    created_at=now())).inserted_primary_key[0]
        audit(conn, by, "user_add", target=name, after={"name": name, "role": role, "agent_id": agent_id})
    return uid


def _hash(password: str, name: str) -> str:
    try:
        return auth.hash_password(password, name)
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def get_user(conn: sa.Connection, uid: int) -> dict | None:
    row = conn.execute(sa.select(db.users).where(db.users.c.id == uid)).mappings().first()
    return dict(row) if row else None


def _user_named(conn: sa.Connection, name: str) -> dict:
    row = conn.execute(sa.select(db.users).where(db.users.c.name == name)).mappings().first()
    if row is None:
        raise NotFound(f"no user {name!r}")
    return dict(row)


def _revoke_all(conn: sa.Connection, uid: int) -> int:
    s = db.sessions.c
    return conn.execute(db.sessions.update().where(s.user_id == uid, s.revoked_at.is_(None))
                        .values(revoked_at=now())).rowcount


def set_password(engine: sa.Engine, name: str, password: str, by: dict | None = None) -> int:
    """A new password for `name`; every session of theirs ends. Returns sessions ended."""
    with db.write(engine) as conn:
        user = _user_named(conn, name)
        conn.execute(db.users.update().where(db.users.c.id == user["id"])
                     .values(password_hash=_hash(password, name)))
        ended = _revoke_all(conn, user["id"])
        audit(conn, by, "user_passwd", target=name, after={"sessions_ended": ended})
    return ended


def disable_user(engine: sa.Engine, name: str, by: dict | None = None) -> int:
    """`name` can no longer sign in; every session of theirs ends. Returns sessions ended."""
    with db.write(engine) as conn:
        user = _user_named(conn, name)
        conn.execute(db.users.update().where(db.users.c.id == user["id"]).values(disabled_at=now()))
        ended = _revoke_all(conn, user["id"])
        audit(conn, by, "user_disable", target=name, after={"sessions_ended": ended})
    return ended


def list_users(conn: sa.Connection) -> list[dict]:
    """Every user with role, agent id, whether disabled and how many live sessions."""
    u, s = db.users.c, db.sessions.c
    live = (sa.select(sa.func.count()).where(s.user_id == u.id, s.revoked_at.is_(None), s.expires_at > now())
            .scalar_subquery())
    return [dict(r) for r in conn.execute(
        sa.select(u.name, u.role, u.agent_id, u.created_at, u.disabled_at, live.label("sessions"))
        .order_by(u.name)).mappings()]


def open_session(engine: sa.Engine, signer: auth.Sessions, user: dict) -> str:
    """A new session for `user` (recorded server-side, with its sign-in audited); the cookie."""
    cookie, csrf, sid = signer.issue_with_id(user["id"])
    expires = (datetime.now(timezone.utc) + timedelta(seconds=signer.max_age_s)).isoformat(timespec="seconds")
    with db.write(engine) as conn:
        conn.execute(db.sessions.insert().values(sid_hash=auth.sid_hash(sid), user_id=user["id"], csrf=csrf,
                                                 created_at=now(), expires_at=expires))
        audit(conn, user, "login")
    return cookie


def session_user(conn: sa.Connection, session: dict | None) -> dict | None:
    """The user of a signed cookie's session if that session is live and the user enabled."""
    if not session or "sid" not in session:
        return None
    s = db.sessions.c
    row = conn.execute(sa.select(db.sessions).where(s.sid_hash == auth.sid_hash(session["sid"]))).mappings().first()
    if row is None or row["revoked_at"] or row["expires_at"] <= now() or row["user_id"] != session["uid"] \
            or row["csrf"] != session["csrf"]:
        return None
    user = get_user(conn, row["user_id"])
    return user if user and not user["disabled_at"] else None


def end_session(engine: sa.Engine, session: dict) -> None:
    with db.write(engine) as conn:
        conn.execute(db.sessions.update().where(db.sessions.c.sid_hash == auth.sid_hash(session["sid"]))
                     .values(revoked_at=now()))
