"""The audit log as a hash chain: each row carries the hash of the row before it
(prev_hash) and its own (row_hash = sha256 of prev_hash and the row's fields), ids run
1, 2, 3 … without gaps and times never go back.

What it proves (docs/review-workspace.md): a row changed, deleted or slipped in among
the others after the fact breaks the chain at that row, even when the triggers that
refuse UPDATE and DELETE were dropped first. Someone who can write the database can
still rewrite the whole tail consistently; `callqa db verify` prints the head hash, and a
head recorded earlier (a printout, the export) pins everything up to it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa

from flows.review.webapp import db

GENESIS = "0" * 64
FIELDS = ("id", "at", "user_id", "user_name", "action", "call_id", "target", "before", "after")
#: a PostgreSQL advisory lock: one appender at a time, so two servers never fork the chain
LOCK_KEY = 340_034


def row_hash(prev_hash: str, row: dict) -> str:
    body = json.dumps([row.get(k) for k in FIELDS], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def append(conn: sa.Connection, values: dict) -> None:
    """Insert one audit row at the chain's end (inside the caller's write transaction)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    a = db.audit.c
    last = conn.execute(sa.select(a.id, a.row_hash, a.at).order_by(a.id.desc()).limit(1)).first()
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    # stamped under the lock, never before the row above (two servers' clocks may differ)
    row = {**values, "id": (last[0] + 1) if last else 1, "at": max(now, last[2]) if last else now}
    prev = (last[1] or GENESIS) if last else GENESIS
    conn.execute(db.audit.insert().values(**row, prev_hash=prev, row_hash=row_hash(prev, row)))


@dataclass
class Verified:
    rows: int = 0
    head: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        if self.ok:
            return f"audit log intact: {self.rows} rows, head {self.head}"
        return f"audit log BROKEN ({len(self.problems)} problem(s)):\n  " + "\n  ".join(self.problems[:20])


def _triggers(conn: sa.Connection) -> set[str]:
    if conn.dialect.name == "sqlite":
        q = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'"
    else:
        q = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit'::regclass AND NOT tgisinternal"
    return set(conn.execute(sa.text(q)).scalars())


def expected_triggers(dialect: str) -> set[str]:
    return {"audit_no_update", "audit_no_delete"} if dialect == "sqlite" else {"audit_append_only", "audit_no_truncate"}


def verify(engine: sa.Engine, expect_head: str | None = None) -> Verified:
    """Walk the chain from the first row; every break, gap, step back in time or missing
    trigger is a problem. `expect_head`: a head recorded earlier must still be in the chain."""
    out, prev, prev_at, seen_head = Verified(), GENESIS, "", expect_head is None
    with engine.connect() as conn:
        missing = expected_triggers(conn.dialect.name) - _triggers(conn)
        if missing:
            out.problems.append(f"the append-only trigger(s) {', '.join(sorted(missing))} are gone")
        for r in conn.execute(sa.select(db.audit).order_by(db.audit.c.id)).mappings():
            out.rows += 1
            if r["id"] != out.rows:
                out.problems.append(f"row {r['id']}: expected id {out.rows} (a row is missing or was slipped in)")
            if r["prev_hash"] != prev:
                out.problems.append(f"row {r['id']}: does not follow the row before it")
            if r["row_hash"] != row_hash(r["prev_hash"] or "", dict(r)):
                out.problems.append(f"row {r['id']}: changed after it was written")
            if r["at"] < prev_at:
                out.problems.append(f"row {r['id']}: dated {r['at']}, before the row above it ({prev_at})")
            prev, prev_at = r["row_hash"] or "", r["at"]
            seen_head = seen_head or prev == expect_head
    out.head = prev
    if not seen_head:
        out.problems.append(f"the head recorded earlier ({expect_head}) is no longer in the chain")
    return out
