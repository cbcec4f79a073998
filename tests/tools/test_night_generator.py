"""tools/make_night.py: synthetic calls with supplied transcripts that `callqa run` takes
as a real night (bench/bench_night.py). A few calls through the CLI: every call ok, its
metadata from the CSV, its words the supplied ones, and speech detection finding the holds
the generator made (and no others)."""

from __future__ import annotations

import csv
import json

import pytest

from conftest import need_tool
from runs import run_cli
from flows.batch.metadata import read_manifest
from flows.storage.store import ResultStore
from tools.make_night import load_sources, make_night

N = 5
SEED = 3  # (with min_s=8, max_s=16) five calls, one with a hold, one outbound


@pytest.fixture(scope="module")
def sources():
    need_tool("ffmpeg")
    return load_sources()


def test_the_same_arguments_give_the_same_files_and_call_i_does_not_depend_on_n(tmp_path, sources):
    a = make_night(tmp_path / "a", N, seed=SEED, src=sources)
    b = make_night(tmp_path / "b", 2, seed=SEED, src=sources)
    assert b == a[:2]
    for row in b:
        assert (tmp_path / "a" / row["path"]).read_bytes() == (tmp_path / "b" / row["path"]).read_bytes()
    assert make_night(tmp_path / "c", N, seed=SEED + 1, src=sources) != a


def test_a_night_runs_through_the_cli_as_generated(tmp_path, sources):
    night, out = tmp_path / "night", tmp_path / "out"
    rows = make_night(night, N, seed=SEED, min_s=8, max_s=16, src=sources)
    assert len({r["call_id"] for r in rows}) == N and any(r["holds"] for r in rows)
    manifest = read_manifest(night / "calls.csv")  # a manifest `callqa run --metadata` accepts
    assert set(manifest) == {r["call_id"] for r in rows}
    assert {m["direction"] for m in manifest.values()} == {"inbound", "outbound"}
    supplied = {}
    for r in rows:
        wav = night / r["path"]
        for speaker in ("agent", "customer"):
            segs = json.loads(wav.with_name(f"{wav.stem}.{speaker}.json").read_text(encoding="utf-8"))["segments"]
            supplied[r["call_id"], speaker] = "".join(s["text"] for s in segs)

    run = run_cli("run", str(night), "--metadata", str(night / "calls.csv"), "--out", str(out),
                  "--model", "base", "--no-mask", "--quiet", "--no-report")
    assert run.returncode == 0, run.stderr
    assert f"{N} ok, 0 errors" in run.stdout
    store = ResultStore(out)
    calls = {c["call_id"]: c for c in store.read("calls").to_pylist()}
    with open(night / "calls.csv", encoding="utf-8") as f:
        for want in csv.DictReader(f):
            got = calls[want["call_id"]]
            assert {k: got[k] for k in want if k != "call_id"} == {k: v for k, v in want.items() if k != "call_id"}
    heard: dict[tuple, str] = {}  # lines close together are one utterance: compare each side's words in order
    for u in sorted(store.read("utterances").to_pylist(), key=lambda u: u["start_s"]):
        heard[u["call_id"], u["speaker"]] = heard.get((u["call_id"], u["speaker"]), "") + u["text"]
    assert heard == supplied  # every supplied line, no whisper

    holds = {}
    for f in store.read("findings").to_pylist():
        if f["category"] == "hold":
            holds.setdefault(f["call_id"], []).append((f["start_s"], f["end_s"]))
    for r in rows:
        found = sorted(holds.get(r["call_id"], []))
        assert len(found) == len(r["holds"]), (r["call_id"], found, r["holds"])
        for (s, e), (ts, te) in zip(found, r["holds"]):
            assert abs(s - ts) < 0.5 and abs(e - te) < 0.5, (r["call_id"], found, r["holds"])
