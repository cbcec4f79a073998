"""The output folder's Parquet (calls, findings, scores) into the review database.

Idempotent and keyed by call_id + finding_id: a call is taken in again only when its
`processed_at` changed (a new run or a `reprocess`), and then its machine columns are
replaced while everything reviewers did stays. A finding the new output still has keeps
its verdict (same finding_id); one it no longer has is kept as `present = false`
(orphaned, shown as such) with its verdict. A call that left the output folder keeps
its rows: reviews are never lost to a moved recording.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from dataclasses import dataclass
from datetime import date
from typing import Iterable

import sqlalchemy as sa

from analyzers.model import finding_id
from flows.storage.store import LAST_RUN_FILE, ResultStore
from flows.review.webapp import db

CHUNK = 500

_CALL_COLS = ("source", "status", "agent_id", "agent_name", "team", "started_at", "queue", "direction",
              "duration_s", "score", "grade", "flagged", "processed_at", "lexicon_version")
_FINDING_COLS = ("finding_index", "category", "rule_id", "severity", "speaker", "start_s", "end_s", "text", "detail")


@dataclass(frozen=True)
class IngestResult:
    calls_seen: int
    calls_taken: int
    findings: int
    seconds: float

    def line(self) -> str:
        return (f"ingested {self.calls_taken} new or changed call(s) of {self.calls_seen} "
                f"({self.findings} findings) in {self.seconds:.2f} s")


def call_day(row: dict) -> tuple[str | None, str | None]:
    """(date, ISO week) a call counts under: its start time, else when it was processed."""
    text = row.get("started_at") or row.get("processed_at") or ""
    try:
        day = date.fromisoformat(text[:10])
    except ValueError:
        return None, None
    year, week, _ = day.isocalendar()
    return day.isoformat(), f"{year}-W{week:02d}"


def with_ids(call_id: str, rows: list[dict]) -> list[dict]:
    """Findings with a finding_id each (computed for schema-2 folders, which have none),
    unique within the call: a second identical finding gets a suffix in output order."""
    seen: dict[str, int] = {}
    out = []
    for r in sorted(rows, key=lambda r: (r.get("finding_index") is None, r.get("finding_index") or 0)):
        fid = r.get("finding_id") or finding_id(call_id, r["rule_id"], r["speaker"], r["start_s"], r.get("text") or "")
        n = seen.get(fid, 0)
        seen[fid] = n + 1
        out.append(dict(r, finding_id=fid if n == 0 else f"{fid}~{n}"))
    return out


def upsert(conn: sa.Connection, table: sa.Table, rows: list[dict], update: Iterable[str]) -> None:
    """INSERT … ON CONFLICT (primary key) DO UPDATE the `update` columns (SQLite, PostgreSQL)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    keys = [c.name for c in table.primary_key.columns]
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update})
    conn.execute(stmt, rows)


def ingest(engine: sa.Engine, out_dir: str | os.PathLike[str]) -> IngestResult:
    """Take in the calls of `out_dir` that are new or changed since the last ingest."""
    t0 = time.perf_counter()
    store = ResultStore(out_dir)
    # First only (call_id, processed_at) of every call: most nights most calls are known
    # already, and reading two columns is what finding that out costs.
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from flows.storage.schema import CALLS

    files = [str(p) for p in store._files("calls")]
    heads = (ds.dataset(files, format="parquet", schema=CALLS).to_table(columns=["call_id", "processed_at"])
             .to_pylist() if files else [])
    with engine.connect() as conn:
        known = dict(conn.execute(sa.select(db.calls.c.call_id, db.calls.c.processed_at)).all())
    todo_ids = {h["call_id"] for h in heads if known.get(h["call_id"], "\0") != h["processed_at"]}
    call_rows = heads
    todo = []
    if todo_ids:
        table = store.read("calls")
        if len(todo_ids) < len(heads):
            table = table.filter(pc.is_in(table["call_id"], value_set=sa_values(todo_ids)))
        todo = table.to_pylist()
    n_findings = 0
    if todo:
        wanted = todo_ids

        def rows_of(name: str) -> dict[str, list[dict]]:
            table = store.read(name)
            if len(wanted) < len(call_rows):
                table = table.filter(pc.is_in(table["call_id"], value_set=sa_values(wanted)))
            out: dict[str, list[dict]] = {}
            for r in table.to_pylist():
                out.setdefault(r["call_id"], []).append(r)
            return out

        finds, items = rows_of("findings"), rows_of("scores")
        for i in range(0, len(todo), CHUNK):
            n_findings += _take(engine, todo[i:i + CHUNK], finds, items)
    return IngestResult(len(call_rows), len(todo), n_findings, time.perf_counter() - t0)


def ingest_by(engine: sa.Engine, out_dir: str | os.PathLike[str], user: dict) -> IngestResult:
    """An ingest someone asked for (POST /api/ingest), with its audit row."""
    from flows.review.webapp.service import audit

    result = ingest(engine, out_dir)
    with db.write(engine) as conn:
        audit(conn, user, "ingest", after={"calls_taken": result.calls_taken})
    return result


class OutputWatch:
    """New output reaches the workspace without `callqa db ingest`: the pages that list or
    show calls ask `refresh` first, which ingests when the calls/ folder or OUT/last-run.json
    changed since the last look (two stats: every call file is written by a rename, which
    changes the folder, and every run or reprocess, whichever route, ends by replacing
    last-run.json, which is seen even where a folder's time stamp is coarse or cached)."""

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.out_dir = out_dir
        self._calls = Path(out_dir) / "calls"
        self._last_run = Path(out_dir) / LAST_RUN_FILE
        self._seen: tuple | None = None
        self._lock = threading.Lock()

    def _signature(self) -> tuple:
        st = os.stat(self._calls)
        try:
            run = os.stat(self._last_run)
            last = (run.st_ino, run.st_mtime_ns, run.st_size)
        except FileNotFoundError:  # a folder of an older callqa, or no run has ended yet
            last = None
        return st.st_ino, st.st_mtime_ns, last

    def mark(self) -> None:
        """The folder as it is now counts as taken in."""
        self._seen = self._signature()

    def refresh(self, engine: sa.Engine) -> IngestResult | None:
        if self._signature() == self._seen:
            return None
        with self._lock:
            seen = self._signature()  # before the ingest: a write during it is seen next time
            if seen == self._seen:
                return None
            result = ingest(engine, self.out_dir)
            self._seen = seen
            return result


def sa_values(ids: set[str]):
    import pyarrow as pa

    return pa.array(sorted(ids), pa.string())


def _take(engine: sa.Engine, chunk: list[dict], finds: dict, items: dict) -> int:
    """One chunk of new or changed calls into the database; returns its findings."""
    ids = [c["call_id"] for c in chunk]
    call_vals, finding_vals, score_vals = [], [], []
    for c in chunk:
        cid = c["call_id"]
        fs = with_ids(cid, finds.get(cid, []))
        day, week = call_day(c)
        crit = sum(f["severity"] == "critical" for f in fs)
        call_vals.append({"call_id": cid, **{k: c.get(k) for k in _CALL_COLS}, "critical_count": crit,
                          "priority": 0 if crit else 1, "call_date": day, "call_week": week,
                          "flag_reasons": json.dumps(c.get("flag_reasons") or [], ensure_ascii=False)})
        finding_vals += [{"call_id": cid, "finding_id": f["finding_id"], "origin": "rule", "present": True,
                          **{k: f.get(k) for k in _FINDING_COLS}} for f in fs]
        score_vals += [{"call_id": cid, "item_id": s["item_id"], "position": n, "name": s["name"],
                        "weight": s["weight"], "automatic": s["automatic"], "points": s["points"],
                        "grade": s["grade"]} for n, s in enumerate(items.get(cid, []))]
    with db.write(engine) as conn:
        _reopen(conn, ids, finding_vals)
        upsert(conn, db.calls, call_vals, (*_CALL_COLS, "critical_count", "priority", "call_date", "call_week",
                                           "flag_reasons"))
        # findings the new output lacks stay, as orphans; the ones it has come back
        conn.execute(db.findings.update()
                     .where(db.findings.c.call_id.in_(ids), db.findings.c.origin == "rule")
                     .values(present=False))
        upsert(conn, db.findings, finding_vals, (*_FINDING_COLS, "present"))
        conn.execute(db.scores.delete().where(db.scores.c.call_id.in_(ids)))
        if score_vals:
            conn.execute(db.scores.insert(), score_vals)
        db.bump_data_version(conn)  # cached aggregates (the trends page) are stale now
    return len(finding_vals)


def _reopen(conn: sa.Connection, ids: list[str], finding_vals: list[dict]) -> None:
    """A finalised call whose new output has a critical finding nobody judged goes back to
    the queue (open, unclaimed; its final score stays until it is finalised again)."""
    from flows.review.webapp.service import audit

    c, f = db.calls.c, db.findings.c
    final = set(conn.execute(sa.select(c.call_id).where(c.call_id.in_(ids), c.review_state == "final")).scalars())
    if not final:
        return
    known = {tuple(r) for r in conn.execute(sa.select(f.call_id, f.finding_id).where(f.call_id.in_(final)))}
    new: dict[str, list[str]] = {}
    for v in finding_vals:
        if v["call_id"] in final and v["severity"] == "critical" and (v["call_id"], v["finding_id"]) not in known:
            new.setdefault(v["call_id"], []).append(v["finding_id"])
    for call_id, fids in new.items():
        conn.execute(db.calls.update().where(c.call_id == call_id)
                     .values(review_state="open", claimed_by=None, claimed_at=None))
        audit(conn, None, "reopen", call_id, before={"review_state": "final"},
              after={"review_state": "open", "new_critical_findings": fids})
