"""The output contract and the CLI around it (issue 5), on the session's sample run."""

from __future__ import annotations

import shutil
import time
from collections import Counter

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from flows.cli import main
from flows.storage.schema import SCHEMA_VERSION, SCHEMAS
from lexicons import PACKS_DIR
from analyzers.model import RUN_VARYING_COLUMNS
from analyzers.text import find_phrase, normalise

pytestmark = pytest.mark.e2e


def read(out, name):
    return ds.dataset(out / name, format="parquet", partitioning="hive").to_table()


def snapshot(out):
    return {name: sorted(map(repr, (tuple(sorted(r.items())) for r in read(out, name).drop_columns(
        [c for c in RUN_VARYING_COLUMNS if c in read(out, name).column_names]).to_pylist())))
        for name in ("calls", "utterances", "findings")}


def test_tables_follow_the_schema_and_carry_its_version(sample_run):
    for name, schema in SCHEMAS.items():
        table = read(sample_run["out"], name)
        assert table.schema.remove_metadata() == schema.remove_metadata()
        some_file = next((sample_run["out"] / name).glob("*.parquet"))
        meta = pq.read_schema(some_file).metadata
        assert meta[b"callqa.schema_version"] == SCHEMA_VERSION.encode()
    calls = read(sample_run["out"], "calls").to_pylist()
    assert len({c["call_id"] for c in calls}) == len(calls)
    ok = [c for c in calls if c["status"] == "ok"]
    assert all(c["grade"] in "ABCDEF" and 0 <= c["score"] <= 100 for c in ok)
    assert all(c["model_version"] and c["lexicon_version"] and c["processed_at"] for c in ok)


def test_no_personal_number_reaches_the_tables(sample_run):
    import re

    long_number = re.compile(r"\d(?: ?\d){5,}")
    texts = [r["text"] for r in read(sample_run["out"], "utterances").to_pylist()]
    texts += [r["text"] + r["detail"] for r in read(sample_run["out"], "findings").to_pylist()]
    assert not [t for t in texts if long_number.search(t)]
    assert any("*" in t for t in texts)  # the sample calls do say phone and order numbers


def test_output_files_are_owner_only(sample_run):
    """README: output files are owner-only (flows.storage.store.FILE_MODE): transcripts of
    personal conversations."""
    files = [p for p in sample_run["out"].rglob("*") if p.is_file() and not p.name.startswith(".callqa")]
    assert len([p for p in files if p.suffix == ".parquet"]) >= 4 * 12
    assert not [str(p) for p in files if p.stat().st_mode & 0o077], "readable by others"


def test_running_again_gives_the_same_rows(sample_run, capsys):
    before = snapshot(sample_run["out"])
    args = ["run", str(sample_run["inputs"]), "--out", str(sample_run["out"]),
            "--cache-dir", str(sample_run["cache"]), "--quiet"]
    assert main(args) == 0
    assert "already current" in capsys.readouterr().out
    assert snapshot(sample_run["out"]) == before
    assert main(args + ["--force"]) == 0  # redone from cached transcripts: same rows again
    assert snapshot(sample_run["out"]) == before
    calls = read(sample_run["out"], "calls").to_pylist()
    assert max(Counter(c["call_id"] for c in calls).values()) == 1


def test_reprocess_with_a_changed_lexicon_changes_findings_without_audio_or_whisper(
    sample_run, tmp_path, capsys, monkeypatch
):
    out = tmp_path / "out"
    shutil.copytree(sample_run["out"], out, ignore=shutil.ignore_patterns("cache"))
    pack = tmp_path / "strict-pack"
    shutil.copytree(PACKS_DIR / "zh-CN", pack)
    phrases = (pack / "phrases.yaml").read_text(encoding="utf-8")
    # QA decides 订单号 may not be asked for bluntly any more: a new banned entry.
    phrases = phrases.replace("banned:\n", "banned:\n  - id: order_number\n    phrases: [订单号]\n    severity: minor\n", 1)
    (pack / "phrases.yaml").write_text(phrases, encoding="utf-8")

    before = Counter(r["rule_id"] for r in read(out, "findings").to_pylist())
    old_versions = {c["lexicon_version"] for c in read(out, "calls").to_pylist() if c["status"] == "ok"}

    def never(*args, **kwargs):
        raise AssertionError("reprocess decoded audio or ran whisper")

    # Issue 5 asked for "at least 10x faster than the run"; the reason it is fast is that it
    # neither decodes nor transcribes, which is what is checked here (no wall-clock bars in
    # tests, issue 16.5: the time is printed).
    monkeypatch.setattr("flows.batch.pipeline.transcribe_call", never)
    monkeypatch.setattr("flows.speech.audio.load_call", never)
    t0 = time.perf_counter()
    assert main(["reprocess", "--out", str(out), "--cache-dir", str(sample_run["cache"]),
                 "--lexicon", str(pack), "--quiet"]) == 0
    reprocess_s = time.perf_counter() - t0
    monkeypatch.undo()
    after = Counter(r["rule_id"] for r in read(out, "findings").to_pylist())
    # One finding per 订单号 the agent said, as transcribed (whisper hears it in most of the
    # 5 calls where the agent asks for it; the customer saying it is fine), homophones
    # included as banned phrases match them (the faster engine wrote call07's as 订单好).
    said = sum(len(find_phrase(normalise(u["text"]), "订单号", homophones=True))
               for u in read(out, "utterances").to_pylist() if u["speaker"] == "agent")
    assert before["order_number"] == 0 and after["order_number"] == said >= 2
    new_versions = {c["lexicon_version"] for c in read(out, "calls").to_pylist() if c["status"] == "ok"}
    assert len(new_versions) == 1 and new_versions.isdisjoint(old_versions)  # content hash changed
    print(f"reprocess {reprocess_s:.1f} s; the run that made the rows {sample_run['run_s']:.1f} s")


def test_show_prints_the_transcript_with_findings(sample_run, capsys):
    assert main(["show", "call03_banned_phrases", "--out", str(sample_run["out"])]) == 0
    text = capsys.readouterr().out
    assert "坐席 agent" in text and "客户 customer" in text
    assert ">> banned_phrase" in text
    assert main(["show", "no_such_call", "--out", str(sample_run["out"])]) == 2


def test_misuse_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run"])
    assert exc.value.code == 2
    assert main(["run", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    bad = tmp_path / "bad-pack"
    shutil.copytree(PACKS_DIR / "zh-CN", bad)
    (bad / "rules.yaml").write_text((bad / "rules.yaml").read_text(encoding="utf-8") + "\nbogus_key: 1\n", encoding="utf-8")
    assert main(["run", str(tmp_path), "--out", str(tmp_path / "o"), "--lexicon", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "rules.yaml" in err and "bogus_key" in err
