"""Session-wide test setup.

Prefect gets a throw-away home and no analytics before anything imports it; the whisper
model comes from $CALLQA_WHISPER_MODEL (CI: ../shared/models/whisper-base.pt).

A test whose input is missing (the model, ffmpeg, chromium, a sample truth file, a file
under ../shared) goes through `missing` / `require` / `need_file` / `need_tool`: under CI
(`CI` set to anything but "", "0", "false" or "no") it fails, elsewhere it is skipped with
the reason. CI never passes by skipping what it was meant to test; a test that may be
skipped under CI (no GPU, a capability the container lacks) is listed with its reason in the
report's "N test(s) not run under CI" section (pytest_terminal_summary).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import NoReturn

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="callqa-prefect-")
os.environ.setdefault("PREFECT_HOME", _PREFECT_HOME)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
# One fitted intent bank per session, shared by every test and CLI subprocess (fitting the
# corpus costs tens of CPU seconds), never the developer's ~/.cache (flows.meaning.bank_cache).
os.environ.setdefault("CALLQA_INTENT_CACHE", tempfile.mkdtemp(prefix="callqa-intents-"))
# The tests run whisper on the kernels users get (no MKL_CBWR / CT2_FORCE_CPU_ISA pin): a pin
# made the figures machine-independent on Intel but not on AMD, and tested what nobody runs.

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_audio"
#: ../shared beside the checkout; $CALLQA_SHARED points the tests elsewhere (tests/e2e/test_ci_inputs.py
#: uses it to show that a missing shared file fails under CI).
SHARED = Path(os.environ.get("CALLQA_SHARED") or ROOT.parent / "shared")
_DEFAULT_MODEL = SHARED / "models" / "whisper-base.pt"
REAL_CLIPS = SHARED / "audio" / "real"


# ------------------------------------------------------------------ missing inputs


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(why: str) -> NoReturn:
    """A test's input is not there: fail under CI, skip with `why` elsewhere."""
    if under_ci():
        pytest.fail(f"{why} (CI={os.environ['CI']!r}: a missing input fails the test)", pytrace=False)
    pytest.skip(why)


def require(ok: object, why: str) -> None:
    if not ok:
        missing(why)


def need_file(path: Path | str, hint: str = "") -> Path:
    path = Path(path)
    require(path.exists(), f"{path} not found" + (f": {hint}" if hint else ""))
    return path


def need_tool(name: str, hint: str = "") -> str:
    found = shutil.which(name)
    require(found, f"{name} not on PATH: {hint or f'apt-get install {name}'}")
    return found  # type: ignore[return-value]


def or_missing(params, why: str) -> list:
    """`params` for pytest.mark.parametrize, or, when there are none, one placeholder that
    `missing(why)` fails or skips (pytest skips an empty parameter set without a word)."""
    params = list(params)
    return params or [pytest.param(None, id="missing", marks=pytest.mark.callqa_missing(why))]


def pytest_configure(config):
    config.addinivalue_line("markers", "callqa_missing(why): placeholder for an empty parameter set (conftest.or_missing)")


def not_run(stats: dict) -> list[tuple[str, str]]:
    """(test, reason) of every test a session did not run: skipped (a skip that is not a
    missing input: a GPU test on a machine without one, a capability the container lacks)
    or deselected."""
    out = []
    for report in stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        out.append((report.nodeid, reason.removeprefix("Skipped: ")))
    out += [(item.nodeid, "deselected") for item in stats.get("deselected", [])]
    return out


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The report's "not run" section: under CI every test that did not run, with why
    (docs/reliability.md points here); elsewhere the skipped ones (pytest counts the deselected)."""
    skipped = not_run(terminalreporter.stats)
    if not under_ci():  # a developer's -k: a count, not a list
        skipped = [s for s in skipped if s[1] != "deselected"]
    if not skipped:
        return
    where = f"under CI (CI={os.environ['CI']!r})" if under_ci() else "here"
    terminalreporter.write_sep("=", f"{len(skipped)} test(s) not run {where}")
    for nodeid, reason in skipped:
        terminalreporter.write_line(f"NOT RUN {nodeid}: {reason}")


@pytest.fixture(autouse=True)
def _missing_parameters(request):
    marker = request.node.get_closest_marker("callqa_missing")
    if marker is not None:
        missing(marker.args[0])


def truth_files() -> list[Path]:
    """The sample calls' ground truth: `<stem>.json` beside each recording, sorted; other JSON
    files there are sidecars (`<stem>.meta.json`, `<stem>.agent.json`), never truth."""
    return sorted(p for p in SAMPLES.glob("*.json") if not Path(p.stem).suffix)


def load_truth(path: Path):
    from analyzers.model import CallTruth, from_dict

    with open(path, encoding="utf-8") as f:
        return from_dict(CallTruth, json.load(f))


@pytest.fixture(scope="session")
def truths():
    return {t.call_id: t for t in map(load_truth, truth_files())}


@pytest.fixture(scope="session")
def model_path() -> str:
    path = os.environ.get("CALLQA_WHISPER_MODEL") or (str(_DEFAULT_MODEL) if _DEFAULT_MODEL.exists() else "")
    if not path or not Path(path).exists():
        missing(f"whisper model not found (CALLQA_WHISPER_MODEL={path!r}): set CALLQA_WHISPER_MODEL")
    os.environ["CALLQA_WHISPER_MODEL"] = path
    return path


@pytest.fixture(scope="session")
def fw_model_path() -> str:
    """The faster engine's CTranslate2 model: $CALLQA_FW_MODEL, else the one the engine
    finds by default, else the shared checkpoint converted now (`callqa model convert`,
    what `make test` does first) into its default folder."""
    from flows.speech.engines import ModelNotConfigured
    from flows.speech.engines.faster import MODEL_ENV, default_model_dir, is_model_dir, resolve_model_ref

    path = os.environ.get(MODEL_ENV)
    if path:
        if not is_model_dir(path):
            pytest.fail(f"{MODEL_ENV}={path!r} is not a CTranslate2 model folder")
        return path
    try:
        return resolve_model_ref(None)
    except ModelNotConfigured:
        pass
    if not _DEFAULT_MODEL.exists():
        missing(f"no faster-whisper model and no {_DEFAULT_MODEL} to convert (set {MODEL_ENV})")
    from flows.speech.engines.convert import convert

    return str(convert(_DEFAULT_MODEL, default_model_dir(), heads_of="base").dest)


def real_references(root: Path = REAL_CLIPS) -> list[tuple[Path, str]]:
    """(clip, reference transcript) of the real clips listed in root/REFERENCES.tsv with one
    (the tests' own reading of the file tools/eval_asr.py reads: tests do not import tools/)."""
    import csv

    with open(root / "REFERENCES.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [(root / r["file"], r["reference_transcript"]) for r in rows if r["reference_transcript"].strip()]


def transcribe_real_clips(model, opts=None) -> list[tuple[Path, str, str]]:
    """(clip, reference, hypothesis) for the real clips with references, either engine."""
    from flows.speech.audio import load_call
    from flows.speech.transcribe import DecoderOptions, join_words, transcribe_speech
    from flows.speech.vad import detect_speech
    need_tool("ffmpeg")
    refs = real_references(need_file(REAL_CLIPS / "REFERENCES.tsv").parent)
    if not refs:
        pytest.fail(f"no reference transcripts in {REAL_CLIPS / 'REFERENCES.tsv'}")
    out = []
    for path, ref in refs:
        need_file(path, "listed in REFERENCES.tsv")
        audio = load_call(path)
        samples = audio.channels["mixed"]
        spans = detect_speech(samples, audio.sample_rate_hz)
        words = transcribe_speech(model, samples, spans, opts or DecoderOptions())
        out.append((path, ref, join_words(words)))
    return out


@pytest.fixture(scope="session")
def real_hypotheses(model_path):
    """openai-whisper on the real clips, once per session (test_asr_real, test_engines)."""
    from flows.speech.transcribe import load_model

    return transcribe_real_clips(load_model(model_path))


#: Files in the batch that must each become an error row while the rest succeed.
BAD_INPUTS = {
    "broken_truncated": ("wav", lambda src: src.read_bytes()[:60]),
    "empty_file": ("mp3", lambda src: b""),
    "not_audio": ("wav", lambda src: "这不是音频文件 / not audio\n".encode() * 20),
}


#: What only a developer's shell sets; a new user's has none of them.
DEV_VARS = ("CALLQA_WHISPER_MODEL", "CALLQA_MODEL_DIR", "CALLQA_OUT", "CALLQA_FW_MODEL", "XDG_CACHE_HOME")


@pytest.fixture(scope="session")
def make_run(tmp_path_factory, model_path) -> dict:
    """`make run` as a new user runs it, once per session: in a folder holding a copy of
    sample_audio/, with a fresh HOME (the model step links and converts the shared checkpoint
    into an empty model folder), this environment's virtualenv (never rebuilt: -o) and this
    checkout's code. Returns the folder, its out/, the exit code and the combined output."""
    import subprocess
    import sys

    need_tool("make")
    need_tool("ffmpeg")
    base = tmp_path_factory.mktemp("make_run")
    work, home = base / "clone", base / "home"
    home.mkdir()
    shutil.copytree(SAMPLES, work / "sample_audio")
    venv = Path(sys.executable).parent.parent
    require((venv / "bin" / "callqa").is_file(), f"no callqa script in {venv}/bin (pip install -e .)")
    env = {k: v for k, v in os.environ.items() if k not in DEV_VARS}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT))
    cmd = ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "-o", f"{venv}/bin/callqa",
           f"VENV={venv}", f"SHARED_MODEL={model_path}", "run"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1800)
    return {"work": work, "out": work / "out", "returncode": proc.returncode,
            "log": proc.stdout.decode("utf-8", "replace"), "run_s": time.perf_counter() - t0}


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory, request, model_path):
    """The CLI's `run` over a copy of sample_audio/ plus three bad files, once per session.

    Every end-to-end test reads this run's output and transcript cache, so real whisper
    runs once over the sample calls: in `make run` (fixture make_run, the same calls and
    default engine), whose transcripts this run starts from, unless CALLQA_TEST_CACHE is set.
    """
    from flows.cli import main

    need_tool("ffmpeg")
    base = tmp_path_factory.mktemp("sample_run")
    inputs = base / "in"
    shutil.copytree(SAMPLES, inputs)
    some_wav = next(SAMPLES.glob("*.wav"))
    for stem, (ext, make) in BAD_INPUTS.items():
        (inputs / f"{stem}.{ext}").write_bytes(make(some_wav))
    out = base / "out"
    # CALLQA_TEST_CACHE keeps transcripts between local sessions (keyed by audio content,
    # model and options, so a changed sample or option is transcribed again); CI never sets it.
    cache = Path(os.environ.get("CALLQA_TEST_CACHE") or out / "cache" / "transcripts")
    made = None if os.environ.get("CALLQA_TEST_CACHE") else request.getfixturevalue("make_run")["out"]
    if made is not None and (made / "cache" / "transcripts").is_dir():  # a cache miss transcribes again
        shutil.copytree(made / "cache" / "transcripts", cache)
    t0 = time.perf_counter()
    assert main(["run", str(inputs), "--out", str(out), "--cache-dir", str(cache), "--quiet"]) == 0
    return {"inputs": inputs, "out": out, "cache": cache, "run_s": time.perf_counter() - t0}


#: The browser the report's and the review workspace's browser tests drive.
CHROMIUM = os.environ.get("CALLQA_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium() -> str:
    need_file(CHROMIUM, "apt-get install chromium fonts-noto-cjk")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("playwright (Python) is not installed: pip install -e .[test]")
    return CHROMIUM


def build_wheel(tmp_path: Path) -> tuple[str, set[str]]:
    """(pip's verbose log, the file names in the wheel) of the project built from a copy of
    its sources, as a user's `pip install .` builds it."""
    import subprocess
    import sys
    import zipfile

    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, src / name)
    for name in ("analyzers", "flows", "lexicons"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v",
                           "-w", str(tmp_path / "dist"), str(src)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheel = next((tmp_path / "dist").glob("callqa-*.whl"))
    return proc.stdout + proc.stderr, set(zipfile.ZipFile(wheel).namelist())
