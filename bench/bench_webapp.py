"""Review workspace benchmark (not a test): page server time over 100,000 synthetic calls,
and the time to take in a night's output.

    python bench/bench_webapp.py [--calls 100000] [--night 2000] [--db URL] [--repeat 5]

1. Pages: a database filled with --calls synthetic calls (5 findings each, 13 scorecard
   items, a verdict on every 10th call; agents, teams, 12 weeks of dates), written
   straight into the tables (100,000 Parquet files would only time the filesystem).
   Each page is requested --repeat times through the app in-process (fastapi's
   TestClient: the server's own time, without a network) and the median is reported.
2. Ingest: --night calls analysed by the real analyzers from hand-written transcripts,
   written with the project's store (one Parquet file per call and table, like a run),
   then `ingest` into a fresh database: first time, and again with nothing changed.

SQLite by default (a temporary OUT/review.db); --db postgresql+psycopg://… for a server.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import sqlalchemy as sa  # noqa: E402

from flows.review.webapp import accounts, db, queries, service  # noqa: E402

RULES = [("banned_phrase", "dont_know", "major"), ("banned_phrase", "blame_shifting", "critical"),
         ("banned_phrase", "wei", "minor"), ("greeting_missing", "hello", "major"), ("hold", "hold", "info"),
         ("closing_missing", "thanks_goodbye", "major"), ("confirmation_missing", "repeat_back", "minor"),
         ("overtalk", "overtalk", "minor")]
ITEMS = [("standard_wording", True, 3.0), ("customer_info", True, 1.0), ("polite_wording", True, 2.0),
         ("intent", True, 1.0), ("expression", True, 1.0), ("handling", True, 3.0), ("knowledge", True, 1.0),
         ("mandarin", False, 1.0), ("clarity", False, 1.0), ("comprehension", False, 1.0),
         ("adaptability", False, 1.0), ("proficiency", False, 1.0), ("answer_match", False, 1.0)]


def fill(engine: sa.Engine, n_calls: int, seed: int = 1) -> float:
    rnd = random.Random(seed)
    t0 = time.perf_counter()
    agents = [f"A{i:03d}" for i in range(200)]
    teams = [f"team-{i}" for i in range(12)]
    chunk = 5000
    for start in range(0, n_calls, chunk):
        calls, finds, scores, verdicts = [], [], [], []
        for i in range(start, min(start + chunk, n_calls)):
            cid = f"call{i:07d}"
            agent = agents[i % len(agents)]
            day = 1 + (i * 7) % 84
            month, dom = divmod(day - 1, 28)
            date = f"2026-{9 + month:02d}-{dom + 1:02d}"
            import datetime as dt

            y, w, _ = dt.date.fromisoformat(date).isocalendar()
            fs = [RULES[rnd.randrange(len(RULES))] for _ in range(5)]
            score = round(rnd.uniform(20, 100), 2)
            grade = "A" if score >= 90 else "B" if score >= 80 else "C" if score >= 70 else "D" if score >= 60 else "F"
            crit = sum(s == "critical" for _, _, s in fs)
            calls.append({"call_id": cid, "source": f"/rec/{cid}.wav", "status": "ok", "agent_id": agent,
                          "agent_name": f"agent {agent}", "team": teams[int(agent[1:]) % len(teams)],
                          "started_at": date + "T10:00:00+08:00", "queue": "billing", "direction": "inbound",
                          "duration_s": 180.0, "score": score, "grade": grade, "flagged": grade in "DF" or crit > 0,
                          "critical_count": crit, "priority": 0 if crit else 1, "call_date": date, "call_week": f"{y}-W{w:02d}",
                          "processed_at": "2026-12-01T02:00:00+00:00", "lexicon_version": "bench",
                          "review_state": "open" if i % 10 else "final"})
            for k, (cat, rule, sev) in enumerate(fs):
                fid = f"{i:07d}{k}"
                finds.append({"call_id": cid, "finding_id": fid, "finding_index": k, "category": cat, "rule_id": rule,
                              "severity": sev, "speaker": "agent", "start_s": 10.0 * k, "end_s": 10.0 * k + 2,
                              "text": "", "detail": "", "origin": "rule", "present": True})
                if i % 10 == 0:
                    verdicts.append({"call_id": cid, "finding_id": fid, "rule_id": rule, "category": cat, "user_id": 1, "at": "2026-12-01T09:00:00",
                                     "verdict": "rejected" if rnd.random() < 0.2 else "confirmed", "note": ""})
            scores += [{"call_id": cid, "item_id": item, "position": p, "name": item, "weight": w_,
                        "automatic": auto, "points": 4 if auto else None, "grade": "B" if auto else ""}
                       for p, (item, auto, w_) in enumerate(ITEMS)]
        with engine.begin() as conn:
            conn.execute(db.calls.insert(), calls)
            conn.execute(db.findings.insert(), finds)
            conn.execute(db.scores.insert(), scores)
            if verdicts:
                conn.execute(db.verdicts.insert(), verdicts)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t0


def time_pages(app, repeat: int) -> dict[str, float]:
    from fastapi.testclient import TestClient

    from webapp_support import PASSWORD, sign_in

    accounts.add_user(app.state.engine, "bench", "supervisor", PASSWORD)
    client = TestClient(app)
    assert sign_in(client, "bench").status_code == 200
    pages = {
        "queue (page 1)": "/queue",
        "queue, team + category filter": "/queue?team=team-3&category=banned_phrase",
        "queue, agent filter": "/queue?agent=A017",
        "queue, date filter": "/queue?date=2026-10-05",
        "queue, page 200": "/queue?page=200",
        "api/queue": "/api/queue",
        "trends dashboard (cached)": "/trends",
        "call page": "/calls/call0000001",
    }
    # a review action before each request (a verdict, a grade): calls' aggregates are stale
    pages["trends dashboard, after a review action"] = "/trends"
    # an ingest before each request: every aggregate is stale, the top findings too
    pages["trends dashboard, after an ingest"] = "/trends"
    out = {}
    for name, path in pages.items():
        times = []
        for _ in range(repeat):
            if name.endswith("after a review action"):
                with app.state.engine.begin() as conn:
                    service.audit(conn, None, "bench")
            elif name.endswith("after an ingest"):
                with app.state.engine.begin() as conn:
                    db.bump_data_version(conn)
            t0 = time.perf_counter()
            r = client.get(path)
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
        out[name] = statistics.median(times) * 1000
    return out


def night(n: int, base: Path, db_url: str | None) -> dict[str, float]:
    from analyzers.analyze import analyze
    from flows.batch.metadata import CallMeta
    from flows.batch.pipeline import call_result
    from flows.storage.store import ResultStore
    from flows.review.webapp.ingest import ingest
    from lexicons import load_pack
    from webapp_data import CALLS
    from transcripts import conversation

    pack = load_pack()
    templates = []
    for cid, (agent, name, team, started, lines) in CALLS.items():
        t = conversation(lines)
        templates.append((t, analyze(t, pack), CallMeta(agent_id=agent, agent_name=name, team=team, started_at=started)))
    out = base / "night"
    store = ResultStore(out)
    t0 = time.perf_counter()
    for i in range(n):
        t, a, meta = templates[i % len(templates)]
        t = replace(t, call_id=f"n{i:06d}")
        store.write(call_result(t, a, source=f"/rec/n{i:06d}.wav", audio_sha256="0" * 64, key="k", meta=meta))
    write_s = time.perf_counter() - t0
    engine = db.make_engine(db_url or db.default_url(out))
    db.upgrade(engine)
    first = ingest(engine, out)
    second = ingest(engine, out)
    engine.dispose()
    return {"write_s": write_s, "ingest_s": first.seconds, "calls": first.calls_taken, "findings": first.findings,
            "reingest_s": second.seconds, "retaken": second.calls_taken}


def keep_db(path: str, n_calls: int) -> None:
    """Fill a persistent SQLite file (for looking at query plans), then stop."""
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    print(f"filled {path} in {fill(engine, n_calls):.1f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=100_000)
    p.add_argument("--night", type=int, default=2000)
    p.add_argument("--db", help="database URL (default: a temporary SQLite file); must be empty")
    p.add_argument("--night-db", help="database URL for the ingest part (default: a temporary SQLite file); must be empty")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    from flows.review.webapp.main import create_app
    from webapp_data import build_output

    with tempfile.TemporaryDirectory(prefix="callqa-bench-") as tmp:
        base = Path(tmp)
        out = build_output(base / "empty")  # a real (tiny) output folder for the app to open
        app = create_app(out, args.db, ingest_on_start=False)
        engine = app.state.engine
        with engine.begin() as conn:  # the 4 test calls would not matter, but keep the count exact
            for t in (db.findings, db.scores, db.calls):
                conn.execute(t.delete())
        fill_s = fill(engine, args.calls)
        with engine.connect() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(db.calls)).scalar_one()
            nf = conn.execute(sa.select(sa.func.count()).select_from(db.findings)).scalar_one()
            nq = queries.queue(conn, {})[1]
        print(f"database {engine.dialect.name}: {n} calls, {nf} findings, {nq} in the queue (filled in {fill_s:.1f} s)")
        for name, ms in time_pages(app, args.repeat).items():
            print(f"  {name:32s} {ms:7.1f} ms (median of {args.repeat})")
        engine.dispose()
        r = night(args.night, base, args.night_db)
        print(f"night's output: {r['calls']} calls, {r['findings']} findings; written by the store in "
              f"{r['write_s']:.1f} s; ingest {r['ingest_s']:.2f} s ({1000 * r['ingest_s'] / max(r['calls'], 1):.2f} ms/call); "
              f"again with nothing new {r['reingest_s']:.2f} s ({r['retaken']} taken)")


if __name__ == "__main__":
    main()
