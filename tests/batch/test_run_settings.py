"""One run, whichever route starts it (issue 35 items 1, 2, 4, 5).

The output folder remembers its run settings (OUT/run-settings.json): a later run by the
CLI or the Prefect flow that names no setting keeps the rule pack and the metadata, and one
that changes a setting names it before redoing anything. The flows take every option the
CLI takes; a batch in which every recording failed (or too many) exits non-zero and fails
the flow run; `callqa show` into a closed pipe prints no traceback. The recordings carry
their transcripts (runs.byo_inputs): no whisper runs.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from flows.batch.run_settings import SETTINGS_FILE, RunSettings, SettingsError
from flows.storage.store import ResultStore
from runs import ROOT, byo_inputs, cli_command, run_cli

#: No model is loaded for supplied transcripts; a name that needs no file.
MODEL = ("--model", "base", "--engine", "openai")


@pytest.fixture(scope="module", autouse=True)
def harness():
    with prefect_test_harness(server_startup_timeout=180):
        yield


def _custom_pack(folder: Path) -> Path:
    """The default pack under another name (another lexicon_version)."""
    src = ROOT / "lexicons" / "zh-CN"
    folder.mkdir()
    for f in src.glob("*.yaml"):
        text = f.read_text(encoding="utf-8")
        if f.name == "rules.yaml":
            text = text.replace("name: zh-CN", "name: custom")
        (folder / f.name).write_text(text, encoding="utf-8")
    shutil.copytree(src / "examples", folder / "examples")  # the intents its rules read by meaning
    return folder


def _manifest(path: Path, calls: list[Path]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["call_id", "agent_id", "team"])
        for i, call in enumerate(calls):
            w.writerow([call.stem, f"A{i:03d}", "north"])
    return path


@pytest.fixture()
def custom_run(tmp_path):
    """A CLI run with a custom rule pack and a metadata manifest: (inputs, out, rows)."""
    inputs, out = tmp_path / "in", tmp_path / "out"
    calls = byo_inputs(inputs, copies=1)
    pack = _custom_pack(tmp_path / "custom")
    manifest = _manifest(tmp_path / "calls.csv", calls)
    proc = run_cli("run", str(inputs), "--out", str(out), *MODEL, "--lexicon", str(pack),
                   "--metadata", str(manifest), "--quiet", "--no-report")
    assert proc.returncode == 0, proc.stderr
    rows = ResultStore(out).calls_by_id()
    assert {r["agent_id"] for r in rows.values()} == {"A000", "A001", "A002"}
    assert all(r["lexicon_version"].startswith("custom") for r in rows.values())
    saved = json.loads((out / SETTINGS_FILE).read_text(encoding="utf-8"))["settings"]
    assert saved["lexicon"] == str(pack) and saved["metadata"] == str(manifest) and saved["engine"] == "openai"
    return inputs, out, rows


def _kept(out: Path, rows: dict) -> None:
    after = ResultStore(out).calls_by_id()
    assert after == rows  # not one row rewritten: rule pack, agent ids, processed_at as they were


def test_the_flow_with_no_options_keeps_the_folders_rule_pack_and_metadata(custom_run):
    from flows.flow import qa_batch

    inputs, out, rows = custom_run
    summary = qa_batch([str(inputs)], str(out))
    assert summary["found"] == 3 and summary["skipped"] == 3 and summary["redone"] == 0
    assert summary["ok"] == summary["errors"] == 0
    _kept(out, rows)


def test_the_cli_with_no_options_keeps_them_too(custom_run):
    inputs, out, rows = custom_run
    proc = run_cli("run", str(inputs), "--out", str(out), "--quiet", "--no-report")
    assert proc.returncode == 0, proc.stderr
    assert "0 ok, 0 errors, 3 already current" in proc.stdout
    assert "settings changed" not in proc.stderr
    _kept(out, rows)


def test_a_changed_setting_is_named_before_any_call_is_redone(custom_run):
    inputs, out, _ = custom_run
    proc = run_cli("run", str(inputs), "--out", str(out), "--no-mask", "--log-level", "info", "--quiet", "--no-report")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    named = next(i for i, line in enumerate(lines) if "settings changed from the output folder's: mask_pii True -> False" in line)
    first_call = next(i for i, line in enumerate(lines) if "[1/3]" in line)
    assert named < first_call
    assert "3 redone because a setting changed (mask_pii)" in proc.stdout
    rows = ResultStore(out).calls_by_id()
    assert all('"mask_pii":false' in r["settings"] and r["lexicon_version"].startswith("custom") for r in rows.values())
    # the folder now remembers --no-mask: the flow with no options keeps it
    from flows.flow import qa_batch

    assert qa_batch([str(inputs)], str(out))["skipped"] == 3


def test_reprocess_with_no_options_keeps_the_rule_pack(custom_run):
    from flows.flow import qa_reprocess

    _, out, rows = custom_run
    summary = qa_reprocess(str(out))
    assert summary["ok"] == 3 and not summary["not_reprocessed"]
    after = ResultStore(out).calls_by_id()
    assert all(after[c]["lexicon_version"] == rows[c]["lexicon_version"] for c in rows)
    assert all(after[c]["agent_id"] == rows[c]["agent_id"] for c in rows)


def test_resolve_takes_given_then_the_folders_then_the_default(tmp_path):
    settings, changes = RunSettings.resolve(tmp_path)
    assert settings == RunSettings() and changes == []
    RunSettings(lexicon="strict", mask_pii=False, beam_size=0).save(tmp_path)
    settings, changes = RunSettings.resolve(tmp_path, mask_pii=None, beam_size=5, direction="outbound")
    assert (settings.lexicon, settings.mask_pii, settings.beam_size, settings.direction) == ("strict", False, 5, "outbound")
    assert changes == [("beam_size", 0, 5), ("direction", "inbound", "outbound")]
    with pytest.raises(TypeError, match="unknown run settings: lexicn"):
        RunSettings.resolve(tmp_path, lexicn="x")


def test_an_unreadable_settings_file_stops_the_run(tmp_path):
    inputs, out = tmp_path / "in", tmp_path / "out"
    byo_inputs(inputs, copies=1)
    out.mkdir()
    (out / SETTINGS_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(SettingsError):
        RunSettings.resolve(out)
    proc = run_cli("run", str(inputs), "--out", str(out), *MODEL, "--quiet")
    assert proc.returncode == 2 and "cannot read the folder's run settings" in proc.stderr
    assert "Traceback" not in proc.stderr and not (out / "calls").exists()


def test_the_flows_take_every_option_the_cli_takes():
    """Each `run` / `reprocess` option that shapes the work is a parameter of its flow."""
    from flows.cli.parser import parser
    from flows.flow import qa_batch, qa_reprocess

    sub = next(a for a in parser()._actions if a.dest == "command").choices
    # CLI-only: where the log goes and how it looks; the flows log through Prefect
    terminal = {"help", "log_level", "quiet"}
    renamed = {"out": "out_dir", "mask": "mask_pii", "workers": "max_workers", "no_report": "report",
               "call": "call_ids"}
    for command, fl in (("run", qa_batch), ("reprocess", qa_reprocess)):
        options = {renamed.get(a.dest, a.dest) for a in sub[command]._actions} - terminal
        assert options <= set(fl.parameters.properties), (command, options - set(fl.parameters.properties))


def test_every_recording_failing_exits_non_zero_and_fails_the_flow_run(tmp_path):
    from flows.flow import qa_batch

    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("a.wav", "b.wav"):
        (inputs / name).write_bytes(b"RIFF....WAVEfmt garbage")
    proc = run_cli("run", str(inputs), "--out", str(tmp_path / "out"), *MODEL, "--quiet", "--no-report")
    assert proc.returncode == 5, (proc.stdout, proc.stderr)
    assert "0 ok, 2 errors" in proc.stdout and "the batch failed: all 2 recording(s) failed" in proc.stderr
    state = qa_batch([str(inputs)], str(tmp_path / "flow-out"), model="base", engine="openai", return_state=True)
    assert state.is_failed() and "all 2 recording(s) failed" in state.message
    assert {r["status"] for r in ResultStore(tmp_path / "flow-out").calls_by_id().values()} == {"error"}


def test_more_than_max_error_share_failing_exits_non_zero(tmp_path):
    from flows.flow import qa_batch

    inputs = tmp_path / "in"
    calls = byo_inputs(inputs, copies=1)
    (inputs / "zz_broken.wav").write_bytes(b"RIFF....WAVEfmt garbage")  # 1 of 4 fails: 25 %
    out = tmp_path / "out"
    proc = run_cli("run", str(inputs), "--out", str(out), *MODEL, "--max-error-share", "0.2", "--quiet", "--no-report")
    assert proc.returncode == 5 and "1 of 4 recordings processed failed (25%" in proc.stderr, proc.stderr
    assert len(ResultStore(out).calls_by_id()) == len(calls) + 1  # every row written all the same
    proc = run_cli("run", str(inputs), "--out", str(tmp_path / "out2"), *MODEL, "--max-error-share", "0.3",
                   "--quiet", "--no-report")
    assert proc.returncode == 0, proc.stderr
    state = qa_batch([str(inputs)], str(tmp_path / "flow-out"), model="base", engine="openai", max_error_share=0.2,
                     return_state=True)
    assert state.is_failed()
    summary = qa_batch([str(inputs)], str(tmp_path / "flow-out2"), model="base", engine="openai", max_error_share=0.3)
    assert summary["found"] == 4 and summary["ok"] == 3 and summary["errors"] == 1


def test_show_into_a_closed_pipe_prints_no_traceback(custom_run):
    _, out, rows = custom_run
    read, write = os.pipe()
    os.close(read)  # the reader is gone before callqa writes a byte (as `| head` once it has its lines)
    try:
        proc = subprocess.run(cli_command("show", sorted(rows)[0], "--out", str(out)), cwd=ROOT, stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        os.close(write)
    assert proc.returncode == 141, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
