"""Call metadata for the review workspace: the CSV manifest, the new `calls` columns
(schema 3), the stable finding id, and a schema-2 output folder still read."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from analyzers.model import finding_id
from flows.batch.metadata import MetadataError, read_call_meta, read_manifest
from flows.storage.schema import SCHEMA_VERSION
from flows.storage.store import ResultStore
from flows.review.webapp import db
from flows.review.webapp.ingest import ingest, with_ids
from webapp_data import build_output


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_manifest_rows_and_sidecar_precedence(tmp_path):
    manifest = write(tmp_path / "calls.csv", "\ufeffcall_id,agent_id,agent_name,team,started_at,queue,direction\n"
                     "call01,A017,王芳,north,2026-11-30T09:12:00+08:00,billing,outbound\n"
                     "call02,A018,,south,,,\n")
    rows = read_manifest(manifest)
    assert rows["call01"] == {"agent_id": "A017", "agent_name": "王芳", "team": "north",
                              "started_at": "2026-11-30T09:12:00+08:00", "queue": "billing", "direction": "outbound"}
    assert rows["call02"] == {"agent_id": "A018", "team": "south"}  # empty cells: not supplied
    rec = tmp_path / "call01.wav"
    meta = read_call_meta(rec, "inbound", rows["call01"])
    assert meta.direction == "outbound" and meta.agent_id == "A017" and meta.columns()["queue"] == "billing"
    write(tmp_path / "call01.meta.json", json.dumps({"agent_id": "A099", "direction": "inbound"}))
    meta = read_call_meta(rec, "inbound", rows["call01"])
    assert (meta.agent_id, meta.direction, meta.team) == ("A099", "inbound", "north")  # sidecar wins, key by key
    assert read_call_meta(tmp_path / "other.wav").columns() == dict.fromkeys(meta.columns())


@pytest.mark.parametrize("text, error", [
    ("agent_id,team\nA1,x\n", "no call_id column"),
    ("call_id,agnet_id\nc1,A1\n", "line 2: unknown key(s) agnet_id"),
    ("call_id,agent_id\nc1,A1\nc1,A2\n", "line 3: call_id 'c1' listed twice"),
    ("call_id,started_at\nc1,yesterday\n", "line 2: started_at must be ISO-8601"),
    ("call_id,direction\nc1,sideways\n", "line 2: direction must be one of inbound, outbound"),
    ("call_id,agent_id\nc1,A1,extra\n", "line 2: more cells than columns"),
    ("call_id,agent_id\n,A1\n", "line 2: empty call_id"),
])
def test_a_bad_manifest_names_its_line(tmp_path, text, error):
    with pytest.raises(MetadataError, match=error.replace("(", r"\(").replace(")", r"\)")):
        read_manifest(write(tmp_path / "m.csv", text))


def test_run_refuses_a_bad_manifest_before_any_audio(tmp_path, capsys):
    from flows.cli import main

    (tmp_path / "a.wav").write_bytes(b"")
    bad = write(tmp_path / "m.csv", "agent_id\nA1\n")
    assert main(["run", str(tmp_path / "a.wav"), "--out", str(tmp_path / "out"), "--metadata", str(bad)]) == 2
    assert "m.csv: no call_id column" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # nothing written


def test_calls_carry_the_metadata_and_findings_a_stable_id(tmp_path):
    out = build_output(tmp_path)
    store = ResultStore(out)
    assert SCHEMA_VERSION == "3"
    calls = store.calls_by_id()
    assert calls["c_worst"]["agent_id"] == "A1" and calls["c_worst"]["team"] == "north"
    assert calls["c_worst"]["started_at"] == "2026-11-23T09:10:00+08:00" and calls["c_worst"]["queue"] == "billing"
    for f in store.read("findings").to_pylist():
        assert f["finding_id"] == finding_id(f["call_id"], f["rule_id"], f["speaker"], f["start_s"], f["text"])
    # what the id depends on, and what it does not
    base = finding_id("c", "wei", "agent", 1.23, "喂")
    assert base == finding_id("c", "wei", "agent", 1.2300001, "喂")  # float noise
    assert base != finding_id("c", "wei", "agent", 2.0, "喂") != finding_id("d", "wei", "agent", 1.23, "喂")


def test_a_schema_2_folder_is_still_read_and_ingested(tmp_path):
    out = build_output(tmp_path)
    # make it a schema-2 folder: drop the new columns from every file
    new = {"calls": ["agent_id", "agent_name", "team", "started_at", "queue"], "findings": ["finding_id"]}
    for name, cols in new.items():
        for path in (out / name).glob("*.parquet"):
            table = pq.read_table(path).drop_columns(cols)
            pq.write_table(table.replace_schema_metadata({b"callqa.schema_version": b"2"}), path)
    store = ResultStore(out)
    calls = store.calls_by_id()
    assert calls["c_worst"]["agent_id"] is None and calls["c_worst"]["score"] is not None
    rows = store.read("findings").to_pylist()
    assert rows and all(r["finding_id"] is None for r in rows)
    engine = db.make_engine(db.default_url(out))
    db.upgrade(engine)
    result = ingest(engine, out)
    assert result.calls_taken == 4 and result.findings == len(rows)
    # the ids computed at ingest are the ones schema 3 writes
    import sqlalchemy as sa

    with engine.connect() as conn:
        ids = {r[0] for r in conn.execute(sa.select(db.findings.c.finding_id))}
    assert ids == {finding_id(r["call_id"], r["rule_id"], r["speaker"], r["start_s"], r["text"]) for r in rows}
    engine.dispose()


def test_identical_findings_get_distinct_ids():
    row = {"rule_id": "wei", "speaker": "agent", "start_s": 1.0, "text": "喂", "finding_index": 0}
    ids = [r["finding_id"] for r in with_ids("c", [row, dict(row, finding_index=1)])]
    assert ids[0] != ids[1] and ids[1] == ids[0] + "~1"


def test_run_with_a_manifest_fills_the_calls_columns(tmp_path):
    """`callqa run --metadata calls.csv` end to end (supplied word timings, no whisper)."""
    from runs import byo_inputs, run_cli

    inputs, out = tmp_path / "in", tmp_path / "out"
    calls = byo_inputs(inputs, copies=1)[:2]
    for extra in sorted(inputs.glob("*.wav")):
        if extra not in calls:
            extra.unlink()
    manifest = write(tmp_path / "calls.csv", "call_id,agent_id,agent_name,team,started_at,queue\n"
                     f"{calls[0].stem},A017,王芳,north,2026-11-30T09:12:00+08:00,billing\n")
    write(calls[1].with_name(calls[1].stem + ".meta.json"), json.dumps({"agent_id": "A018", "team": "south"}))
    proc = run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet",
                   "--metadata", str(manifest))
    assert proc.returncode == 0, proc.stderr
    rows = ResultStore(out).calls_by_id()
    first, second = rows[calls[0].stem], rows[calls[1].stem]
    assert first["status"] == "ok", first["error"]
    assert (first["agent_id"], first["agent_name"], first["team"], first["queue"]) == ("A017", "王芳", "north", "billing")
    assert first["started_at"] == "2026-11-30T09:12:00+08:00"
    assert (second["agent_id"], second["team"], second["agent_name"]) == ("A018", "south", None)
    # reprocess keeps them; a changed manifest row makes the call stale for the next run
    assert run_cli("reprocess", "--out", str(out), "--no-report", "--quiet").returncode == 0
    assert ResultStore(out).calls_by_id()[calls[0].stem]["agent_id"] == "A017"
    write(manifest, manifest.read_text(encoding="utf-8").replace("A017", "A099"))
    proc = run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet",
                   "--metadata", str(manifest))
    assert proc.returncode == 0, proc.stderr
    assert ResultStore(out).calls_by_id()[calls[0].stem]["agent_id"] == "A099"
