"""Issue 22: the first hour of a new user, from `make run` to a reviewer who knows why.

- `callqa run` on a fresh machine (a temp HOME, no $CALLQA_WHISPER_MODEL) fails with a hint,
  then works after the model step `make run` takes (`callqa model add` of the shared
  checkpoint into the model folder); input paths are checked before the model;
- `show` finds ./out by itself; failed recordings say why; an empty folder warns;
- `reprocess` with an edited rule pack refreshes the report (and `--no-report` does not);
- the report's view models: worst first, flag reasons and details in plain words, masked
  numbers as one token.

The CLI runs in a subprocess with this checkout's code (PYTHONPATH) and a clean environment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import build_wheel, need_tool
from flows.review import report as rp
from flows.storage.store import ResultStore
from lexicons import PACKS_DIR
from runs import SAMPLES, byo_inputs

ROOT = Path(__file__).resolve().parents[2]
CALL02 = SAMPLES / "call02_no_greeting_closing.wav"  # 48 s, mono

#: What only a developer's shell sets; a new user's has none of them.
_DEV_VARS = ("CALLQA_WHISPER_MODEL", "CALLQA_MODEL_DIR", "CALLQA_OUT", "CALLQA_FW_MODEL", "XDG_CACHE_HOME")


def fresh_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DEV_VARS}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT))
    return env


def callqa(*args: str, env: dict[str, str], cwd: Path, timeout_s: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout_s)


# ------------------------------------------------------------------ a fresh machine, real whisper


@pytest.mark.e2e
def test_run_on_a_fresh_machine_finds_the_model_after_the_make_run_step(tmp_path, model_path):
    need_tool("ffmpeg")
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    env = fresh_env(home)
    inputs = work / "calls"
    inputs.mkdir()
    shutil.copyfile(CALL02, inputs / CALL02.name)
    cache = os.environ.get("CALLQA_TEST_CACHE")  # keeps this fast locally; CI transcribes
    cache_args = ["--cache-dir", cache] if cache else []

    # a missing input is reported before the (missing) model
    proc = callqa("run", "nowhere/", "--out", "out", env=env, cwd=work)
    assert proc.returncode == 2 and "no such file or folder: nowhere/" in proc.stderr, proc.stderr
    # no model anywhere: exit 2 with where to put one
    proc = callqa("run", str(inputs), "--out", "out", env=env, cwd=work)
    assert proc.returncode == 2, proc.stderr
    assert "no whisper model given" in proc.stderr and str(home / ".cache/callqa/models") in proc.stderr
    listed = callqa("model", "list", env=env, cwd=work)
    assert listed.returncode == 2 and "whisper model (--engine openai): none" in listed.stdout

    # the Makefile's model step (`make model`): a link in the model folder
    added = callqa("model", "add", model_path, env=env, cwd=work)
    assert added.returncode == 0, added.stderr
    linked = home / ".cache" / "callqa" / "models" / Path(model_path).name
    assert linked.is_symlink() and linked.resolve() == Path(model_path).resolve()
    listed = callqa("model", "list", env=env, cwd=work)
    assert listed.returncode == 0 and f"whisper model (--engine openai): {linked}" in listed.stdout
    assert "found in: the model folder" in listed.stdout
    # not converted here: the run below is openai-whisper's, and the listing says why
    assert "default engine (`run` without --engine): openai (no faster-whisper model at " in listed.stdout

    proc = callqa("run", str(inputs), "--out", "out", *cache_args, env=env, cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("1 ok, 0 errors"), proc.stdout
    assert re.search(r"INFO \[1/1\] call02_no_greeting_closing: ok, grade [A-F]", proc.stderr), proc.stderr
    assert "Building prefix dict" not in proc.stderr and "Loading model" not in proc.stderr  # jieba is quiet
    row = ResultStore(work / "out").calls_by_id()["call02_no_greeting_closing"]
    assert row["status"] == "ok" and row["model_version"].startswith("whisper-base.pt")
    # `show` finds ./out without --out, as right after `make run`
    shown = callqa("show", "call02_no_greeting_closing", env=env, cwd=work)
    assert shown.returncode == 0 and shown.stdout.startswith("call02_no_greeting_closing"), shown.stderr
    assert "no greeting such as 您好…" in shown.stdout and "missing:" not in shown.stdout


# ------------------------------------------------------------------ no whisper (supplied transcripts)


def test_failed_recordings_say_why_and_an_empty_folder_warns(tmp_path):
    env = fresh_env(tmp_path / "home")
    inputs = tmp_path / "in"
    byo_inputs(inputs, copies=1)
    (inputs / "broken.wav").write_bytes(b"RIFF0000WAVEnot audio")
    # --model base is never loaded: every good call carries its transcript
    proc = callqa("run", str(inputs), "--out", str(tmp_path / "out"), "--model", "base", "--vad", "energy",
                  "--log-level", "error", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("3 ok, 1 errors"), proc.stdout
    assert re.search(r"callqa: 1 recording failed:\n  broken: AudioError: \S", proc.stderr), proc.stderr
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "notes.txt").write_text("no audio here")
    proc = callqa("run", str(empty), "--out", str(tmp_path / "out2"), "--model", "base", env=env, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("0 ok, 0 errors"), proc.stderr
    assert f"callqa: warning: no recordings found in {empty} (looked in folders recursively for" in proc.stderr, \
        proc.stderr
    # whatever the log level
    quiet = callqa("run", str(empty), "--out", str(tmp_path / "out2"), "--model", "base", "--log-level", "error",
                   env=env, cwd=tmp_path)
    assert "callqa: warning: no recordings found" in quiet.stderr, quiet.stderr
    # `show` without --out and without ./out: says what to do
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = callqa("show", "x", env=env, cwd=elsewhere)
    assert proc.returncode == 2 and "pass --out DIR or set CALLQA_OUT" in proc.stderr, proc.stderr
    # ./out of a run is taken, and so is $CALLQA_OUT
    proc = callqa("show", "call01_compliant_0", env=env, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("call01_compliant_0"), proc.stderr
    proc = callqa("show", "call01_compliant_0", env={**env, "CALLQA_OUT": str(tmp_path / "out")}, cwd=elsewhere)
    assert proc.returncode == 0 and proc.stdout.startswith("call01_compliant_0"), proc.stderr


def test_reprocess_with_an_edited_rule_pack_refreshes_the_report(tmp_path):
    env = fresh_env(tmp_path / "home")
    inputs, out = tmp_path / "in", tmp_path / "out"
    byo_inputs(inputs, copies=1)
    run = callqa("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", env=env, cwd=tmp_path)
    assert run.returncode == 0 and "report refreshed" not in run.stdout, run.stderr  # no report yet: none made
    assert callqa("report", str(out), env=env, cwd=tmp_path).returncode == 0
    index = out / "report" / "index.html"
    before = index.read_text(encoding="utf-8")
    n_before = int(re.search(r'id="stat-flagged">(\d+)<', before).group(1))
    assert n_before < 3

    # QA staff widen the flag policy: every grade is reviewed
    pack = tmp_path / "review-all"
    shutil.copytree(PACKS_DIR / "zh-CN", pack)
    rules = (pack / "rules.yaml").read_text(encoding="utf-8")
    edited = rules.replace("    grades: [D, E, F]", "    grades: [A, B, C, D, E, F]")
    assert edited != rules
    (pack / "rules.yaml").write_text(edited, encoding="utf-8")

    # --no-report leaves the report as it was
    proc = callqa("reprocess", "--out", str(out), "--lexicon", str(pack), "--no-report", env=env, cwd=tmp_path)
    assert proc.returncode == 0 and "report refreshed" not in proc.stdout, proc.stderr
    assert index.read_text(encoding="utf-8") == before
    # otherwise the report is rewritten from the new rows
    proc = callqa("reprocess", "--out", str(out), "--lexicon", str(pack), env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"report refreshed: {index}" in proc.stdout, proc.stdout
    assert "Building prefix dict" not in proc.stderr  # jieba is quiet
    after = index.read_text(encoding="utf-8")
    assert re.search(r'id="stat-flagged">3<', after)
    rows = re.findall(r'<tr class="call-row[^"]*"\s+data-call="([^"]+)"', after)
    assert len(rows) == 3
    for cid in rows:
        row = after[after.index(f'data-call="{cid}"'):]
        row = row[: row.index("</tr>")]
        assert re.search(r'<li class="reason">graded [A-F] \(score [\d.]+\): calls graded A, B, C, D, E, F are reviewed',
                         row), row
    # a call page too
    page = (out / "report" / "calls" / rp.page_name(rows[0])).read_text(encoding="utf-8")
    assert "待复核原因 · Why flagged" in page and "calls graded A, B, C, D, E, F are reviewed" in page


# ------------------------------------------------------------------ view models


def _call(call_id, status="ok", grade="A", score=95.0, flagged=False, reasons=()):
    return {"call_id": call_id, "status": status, "grade": grade if status == "ok" else "",
            "score": score if status == "ok" else None, "flagged": flagged, "flag_reasons": list(reasons),
            "source": f"/x/{call_id}.wav", "processed_at": "2025-01-02T03:04:05+00:00", "error": ""}


def test_the_overview_lists_the_worst_calls_first():
    calls = [_call("a_good"), _call("b_error", status="error"), _call("c_d", grade="D", score=40.0, flagged=True),
             _call("d_c_crit", grade="C", score=60.0, flagged=True), _call("e_c", grade="C", score=55.0),
             _call("f_b", grade="B", score=75.0), _call("g_f", grade="F", score=5.0, flagged=True),
             _call("h_c", grade="C", score=52.0)]
    view = rp.overview_view(calls, [])
    assert [r["call_id"] for r in view["rows"]] == [
        "g_f", "c_d", "d_c_crit", "h_c", "e_c", "f_b", "a_good", "b_error"]


def test_flag_reasons_read_in_plain_words_old_runs_included():
    assert rp.plain_reason("critical banned_phrase:blame_shifting at 1:02.5") == \
        "critical finding: 禁用语 banned_phrase (blame_shifting) at 1:02.5"
    assert rp.plain_reason("critical banned_phrase:blame_shifting at 62.5 s") == \
        "critical finding: 禁用语 banned_phrase (blame_shifting) at 1:02.5"   # as older runs wrote it
    assert rp.plain_reason("score 42 < 50") == "score 42 is below 50"
    assert rp.plain_reason("item 规范用语 (standard_wording) graded F") == \
        "scorecard item 规范用语 (standard_wording) graded F"
    reason = "graded D (score 40): calls graded D, E, F are reviewed"
    assert rp.plain_reason(reason) == reason


def test_call_page_details_are_plain_words_and_masked_numbers_one_token():
    call = _call("c1", grade="B", score=72.0, flagged=True, reasons=["score 42 < 50"])
    call.update(duration_s=30.0)
    utts = [{"call_id": "c1", "speaker": "customer", "start_s": 5.0, "end_s": 9.0, "text": "顶单号是** * *0 45 3"}]
    finds = [{"call_id": "c1", "category": "greeting_missing", "rule_id": "self_identification",
              "severity": "minor", "speaker": "agent", "start_s": 0.6, "end_s": 4.5, "text": "请提供一下您的订单号码",
              "detail": r"missing: 我是|我叫|工号|这里是|re:[0-*********七八九幺]{3,}号"},
             {"call_id": "c1", "category": "thanks_missing", "rule_id": "thanks_for_help", "severity": "minor",
              "speaker": "agent", "start_s": 9.8, "end_s": 14.9, "text": "您这个订单",
              "detail": "customer provided what was asked (顶单号是** * *0 45 3); no thanks"}]
    view = rp.call_view(call, utts, finds, None)
    details = [f["detail"] for f in view["findings"]]
    assert details == ["no self-introduction such as 我是… / 我叫… / 工号…",
                       "customer provided what was asked (顶单号是****0453); no thanks"]
    assert "".join(s.text for s in view["transcript"][0].segments) == "顶单号是****0453"
    assert view["summary"]["flag_reasons"] == ["score 42 is below 50"]
    html = rp.render_call(view, {"at": "now", "out_dir": "/x"})
    assert "顶单号是****0453" in html and "missing:" not in html and "** *" not in html


# ------------------------------------------------------------------ Prefect on a small machine


def _startup_timeout(env: dict[str, str]) -> int:
    code = ("import flows.flow\n"
            "from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as S\n"
            "print(S.value())")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.strip().splitlines()[-1])


def test_the_flows_give_prefects_first_start_time_unless_the_user_set_it(tmp_path):
    from flows.flow import EPHEMERAL_STARTUP_TIMEOUT_S, STARTUP_TIMEOUT_SETTING

    env = {k: v for k, v in fresh_env(tmp_path).items() if k != STARTUP_TIMEOUT_SETTING}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    assert EPHEMERAL_STARTUP_TIMEOUT_S > 20  # Prefect's own default: too short for a first start on 2 cores
    assert _startup_timeout(env) == EPHEMERAL_STARTUP_TIMEOUT_S
    assert _startup_timeout({**env, STARTUP_TIMEOUT_SETTING: "45"}) == 45
    # a value in the user's Prefect profile is kept too
    (tmp_path / "prefect").mkdir(exist_ok=True)
    (tmp_path / "prefect" / "profiles.toml").write_text(
        f'active = "mine"\n\n[profiles.mine]\n{STARTUP_TIMEOUT_SETTING} = "60"\n', encoding="utf-8")
    assert _startup_timeout(env) == 60


# ------------------------------------------------------------------ packaging


def test_the_package_builds_without_warnings_and_carries_its_templates(tmp_path):
    log, names = build_wheel(tmp_path)
    for noise in ("Warning:", "would be ignored", "deprecated"):
        assert noise not in log, [line for line in log.splitlines() if noise in line]
    assert {f"flows/review/templates/{n}" for n in ("base.html", "index.html", "call.html", "report.css", "index.js",
                                             "call.js")} <= names
    assert "lexicons/zh-CN/rules.yaml" in names
