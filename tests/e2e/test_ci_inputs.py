"""Issue 16.5: CI never passes by skipping.

Under CI (`CI` set, and not "", "0", "false" or "no") a test whose input is missing (the
whisper model, ffmpeg, chromium, a sample truth file, a file under ../shared) fails;
elsewhere it is skipped with the reason (conftest.missing). The subprocess tests below run
one real test of the suite with its input taken away, once with CI=true (it must fail)
and once without CI (it must skip), and read the outcome from pytest's JUnit XML.
Nothing here needs the model, ffmpeg or chromium: each run stops at the missing input.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import conftest
from conftest import ROOT, missing, need_file, need_tool, or_missing, require

# ------------------------------------------------------------------ the helper itself


@pytest.mark.parametrize("value", ["true", "1", "yes", "True", "github-actions"])
def test_missing_fails_under_ci(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    assert conftest.under_ci()
    with pytest.raises(pytest.fail.Exception, match="no model here"):
        missing("no model here")
    with pytest.raises(pytest.fail.Exception, match="nowhere.pt not found"):
        need_file("/nonexistent/nowhere.pt")
    with pytest.raises(pytest.fail.Exception, match="not on PATH"):
        need_tool("callqa-no-such-tool")
    with pytest.raises(pytest.fail.Exception, match="why"):
        require([], "why")


@pytest.mark.parametrize("value", [None, "", "0", "false", "FALSE", "no"])
def test_missing_skips_elsewhere(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert not conftest.under_ci()
    with pytest.raises(pytest.skip.Exception, match="no model here"):
        missing("no model here")
    with pytest.raises(pytest.skip.Exception, match="nowhere.pt not found"):
        need_file("/nonexistent/nowhere.pt")


def test_what_is_there_passes(monkeypatch):
    monkeypatch.setenv("CI", "true")
    assert need_file(__file__) == Path(__file__)
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    assert need_tool(Path(sys.executable).name) == sys.executable
    require(True, "never")
    assert or_missing([1, 2], "never") == [1, 2]
    [placeholder] = or_missing([], "no truth files")
    assert placeholder.values == (None,) and placeholder.marks[0].args == ("no truth files",)


# ------------------------------------------------------------------ the suite's own tests


def _pytest(tmp_path: Path, args: list[str], env: dict[str, str], *, ci: bool, cwd: Path = ROOT):
    """Run pytest in a child; (process, {tests, failures, errors, skipped}) from its JUnit XML."""
    child_env = {k: v for k, v in os.environ.items() if k != "CI"}
    # Never a real model: whatever the test needs besides, nothing runs whisper here.
    child_env["CALLQA_WHISPER_MODEL"] = str(tmp_path / "no-models" / "whisper-base.pt")
    child_env.update(env)
    if ci:
        child_env["CI"] = "true"
    xml = tmp_path / f"junit-{'ci' if ci else 'local'}.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}", *args],
        cwd=cwd, env=child_env, capture_output=True, text=True, timeout=300,
    )
    assert xml.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    suite = ET.parse(xml).getroot().find("testsuite")
    counts = {k: int(suite.get(k)) for k in ("tests", "failures", "errors", "skipped")}
    return proc, counts


def _check(tmp_path, args, env, reason, cwd=ROOT):
    ci, counts = _pytest(tmp_path, args, env, ci=True, cwd=cwd)
    out = ci.stdout + ci.stderr
    assert ci.returncode == 1, out[-3000:]
    assert counts["tests"] >= 1 and counts["skipped"] == 0, (counts, out[-3000:])
    assert counts["failures"] + counts["errors"] == counts["tests"], (counts, out[-3000:])
    assert reason in out and "a missing input fails the test" in out, out[-3000:]

    local, counts = _pytest(tmp_path, args, env, ci=False, cwd=cwd)
    out = local.stdout + local.stderr
    assert local.returncode == 0, out[-3000:]
    assert counts["tests"] >= 1 and counts["skipped"] == counts["tests"], (counts, out[-3000:])


def test_a_missing_model_fails_under_ci(tmp_path):
    """As `bash .ci/run` with ../shared/models renamed: CALLQA_WHISPER_MODEL names no file."""
    _check(tmp_path, ["tests/speech/test_asr_real.py::test_long_recordings_are_decoded_in_chunks_with_the_same_words"],
           {}, "whisper model not found")


def test_a_missing_shared_clip_fails_under_ci(tmp_path):
    """test_vad reads its real clip from ../shared ($CALLQA_SHARED here: an empty folder)."""
    (tmp_path / "shared").mkdir()
    _check(tmp_path, ["tests/speech/test_vad.py::test_other_sample_rates"], {"CALLQA_SHARED": str(tmp_path / "shared")},
           "llamacpp_sample.wav not found")


def test_missing_ffmpeg_fails_under_ci(tmp_path):
    """An empty PATH: no ffmpeg (the child python is started by its full path)."""
    (tmp_path / "bin").mkdir()
    _check(tmp_path, ["tests/speech/test_audio.py::test_agent_channel_right_swaps_sides"],
           {"PATH": str(tmp_path / "bin")}, "ffmpeg not on PATH")


def test_missing_chromium_fails_under_ci(tmp_path):
    """The browser test stops at its missing browser, before the shared sample run."""
    _check(tmp_path, ["tests/review/test_report.py::test_report_of_a_real_run_in_chromium"],
           {"CALLQA_CHROMIUM": str(tmp_path / "no-chromium")}, "no-chromium not found")


def test_no_sample_truth_files_fails_under_ci(tmp_path):
    """A test parametrized over truth files that are not there (pytest alone would skip an
    empty parameter set without a word): conftest.or_missing's placeholder fails under CI.
    The suite's conftest is loaded as a plugin into a run of a throw-away test file."""
    (tmp_path / "test_truths.py").write_text(
        "import pytest\n"
        "from conftest import or_missing\n\n"
        "@pytest.mark.parametrize('path', or_missing([], 'no sample_audio/*.json'))\n"
        "def test_each_truth(path):\n"
        "    assert path is not None\n",
        encoding="utf-8",
    )
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    _check(tmp_path, ["-p", "conftest", "--rootdir", str(tmp_path), "test_truths.py"], env,
           "no sample_audio/*.json", cwd=tmp_path)


def test_every_test_not_run_under_ci_is_listed_with_its_reason(tmp_path):
    """Issue 37: a skip that is not a missing input (no GPU, a capability the container
    lacks) does not fail under CI, but the report lists it, with its reason, in its own
    section; tests that ran are not listed."""
    (tmp_path / "test_some.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.skipif(True, reason='no CUDA GPU visible')\n"
        "def test_on_gpu():\n    pass\n\n"
        "def test_capability():\n    pytest.skip('cannot drop CAP_DAC_OVERRIDE')\n\n"
        "def test_runs():\n    pass\n",
        encoding="utf-8",
    )
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    args = ["-p", "conftest", "--rootdir", str(tmp_path), "test_some.py"]
    proc, counts = _pytest(tmp_path, args, env, ci=True, cwd=tmp_path)
    assert proc.returncode == 0 and counts["skipped"] == 2, proc.stdout[-3000:]
    section = proc.stdout[proc.stdout.index("2 test(s) not run under CI (CI='true')"):]
    assert "NOT RUN test_some.py::test_on_gpu: no CUDA GPU visible" in section
    assert "NOT RUN test_some.py::test_capability: cannot drop CAP_DAC_OVERRIDE" in section
    assert "test_runs" not in section
    # a deselected test is listed too
    proc, _ = _pytest(tmp_path, [*args, "-k", "not runs"], env, ci=True, cwd=tmp_path)
    assert "NOT RUN test_some.py::test_runs: deselected" in proc.stdout, proc.stdout[-3000:]
