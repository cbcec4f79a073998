"""Who is asking: passwords, sessions, CSRF tokens and login throttling.

- Passwords are stored as argon2id hashes (argon2-cffi's defaults), never in clear, and
  must pass `check_password` (length, variety, not a common password, not the name).
- A session is a cookie signed with the database's secret key (itsdangerous), holding
  the user id, a random session id and that session's CSRF token; it expires after
  SESSION_MAX_AGE_S. The session id must also be in the database's sessions table
  (accounts.py), so that signing out, a password change or disabling a user ends it,
  and a leaked signing key alone signs no usable cookie.
- Every state-changing request must carry the session's CSRF token (form field `csrf`
  or header X-CSRF-Token); a cross-site form cannot read it, so it cannot forge one.
- Failed logins are counted per user name and per client address: after
  MAX_FAILURES within THROTTLE_WINDOW_S the next attempts are refused (429) until the
  window passes, whatever the password.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

ROLES = ("reviewer", "agent", "supervisor", "admin")
SESSION_COOKIE = "callqa_session"
SESSION_MAX_AGE_S = 8 * 3600
MAX_FAILURES = 5
THROTTLE_WINDOW_S = 900.0

_hasher = PasswordHasher()


MIN_PASSWORD = 12
MIN_DISTINCT = 6
_COMMON = None


def common_passwords() -> frozenset[str]:
    global _COMMON
    if _COMMON is None:
        text = Path(__file__).with_name("common_passwords.txt").read_text(encoding="utf-8")
        _COMMON = frozenset(w for w in text.split() if not w.startswith("#"))
    return _COMMON


def check_password(password: str, name: str = "") -> None:
    """ValueError with the reason unless `password` is long, varied and not a common one
    (case, spaces and digits or symbols around it do not make a common password new)."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password needs {MIN_PASSWORD} characters or more")
    if len(set(password)) < MIN_DISTINCT:
        raise ValueError(f"a password needs {MIN_DISTINCT} different characters or more")
    core = re.sub(r"\s+", "", password.lower())
    stripped = core.strip("0123456789!@#$%^&*()_+-=.,?~`'\"")
    repeated = re.fullmatch(r"(.+?)\1+", core)
    common = common_passwords()
    if core in common or stripped in common or (repeated and repeated.group(1) in common):
        raise ValueError("that password is one of the most common ones: choose another")
    if name and name.lower() in core:
        raise ValueError("a password must not contain the user name")


def hash_password(password: str, name: str = "") -> str:
    check_password(password, name)
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


#: argon2 hashes at once (each takes ~50 ms of a core and 64 MiB): more queue behind them,
#: so that a flood of sign-ins leaves the other requests a core
HASHES_AT_ONCE = 1
_limiters: dict = {}


async def verify_password_off_loop(stored_hash: str, password: str) -> bool:
    """verify_password in a worker thread, at most HASHES_AT_ONCE at a time per event loop."""
    import asyncio

    import anyio

    loop = asyncio.get_running_loop()
    if loop not in _limiters:
        _limiters.clear()  # one loop per server; a test's earlier loops are gone
        _limiters[loop] = anyio.CapacityLimiter(HASHES_AT_ONCE)
    return await anyio.to_thread.run_sync(verify_password, stored_hash, password, limiter=_limiters[loop])


#: Verified against when the user name is unknown, so that a wrong name takes as long as
#: a wrong password (no user enumeration by timing).
DUMMY_HASH = _hasher.hash("not-a-real-password")


class Sessions:
    def __init__(self, secret: bytes, max_age_s: int = SESSION_MAX_AGE_S) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="callqa-session")
        self.max_age_s = max_age_s

    def issue(self, user_id: int) -> tuple[str, str]:
        """(cookie value, CSRF token) of a new session."""
        cookie, csrf, _sid = self.issue_with_id(user_id)
        return cookie, csrf

    def issue_with_id(self, user_id: int) -> tuple[str, str, str]:
        """(cookie value, CSRF token, session id) of a new session."""
        csrf, sid = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
        return self._s.dumps({"uid": user_id, "csrf": csrf, "sid": sid}), csrf, sid

    def read(self, cookie: str | None) -> dict | None:
        """{"uid", "csrf"} of a valid, unexpired cookie, else None."""
        if not cookie:
            return None
        try:
            data = self._s.loads(cookie, max_age=self.max_age_s)
        except BadSignature:  # includes SignatureExpired
            return None
        return data if isinstance(data, dict) and "uid" in data and "csrf" in data else None


def sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def csrf_ok(session: dict, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(str(session["csrf"]), str(token))


class LoginThrottle:
    """Failed logins per key (user name, client address) in a sliding window."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = THROTTLE_WINDOW_S) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._fails: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque:
        q = self._fails[key]
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(len(self._recent(k, now)) >= self.max_failures for k in keys)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._fails.pop(k, None)
