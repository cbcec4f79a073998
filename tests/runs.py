"""Helpers for the reliability tests: CLI runs in a subprocess, inputs that need no
whisper, and the checks an output folder must pass at any moment.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from flows.storage.schema import TABLES
from flows.storage.store import ResultStore
from analyzers.model import RUN_VARYING_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_audio"
#: Stereo sample calls: with a whisper-format JSON per channel beside them, a run
#: decodes, detects speech, caches and analyses them for real but never runs whisper.
STEREO_SAMPLES = ("call01_compliant.wav", "call04_holds.wav", "call07_overtalk.wav")


def cli_command(*args: str) -> list[str]:
    """`python -m flows.cli ...` with this checkout's code (run it with cwd=ROOT)."""
    return [sys.executable, "-m", "flows.cli", *args]


def run_cli(*args: str, preexec_fn=None, timeout_s: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(cli_command(*args), cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout_s, preexec_fn=preexec_fn)


def byo_inputs(folder: Path, copies: int = 3) -> list[Path]:
    """`copies` differently named copies of each stereo sample call, each with
    `<stem>.agent.json` / `<stem>.customer.json` made from its ground truth."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for name in STEREO_SAMPLES:
        src = SAMPLES / name
        truth = json.loads(src.with_suffix(".json").read_text(encoding="utf-8"))
        for i in range(copies):
            dst = folder / f"{src.stem}_{i}.wav"
            shutil.copyfile(src, dst)
            for speaker in ("agent", "customer"):
                segments = [{"text": u["text"], "start": u["start_s"], "end": u["end_s"]}
                            for u in truth["utterances"] if u["speaker"] == speaker]
                (folder / f"{dst.stem}.{speaker}.json").write_text(
                    json.dumps({"segments": segments}, ensure_ascii=False), encoding="utf-8")
            made.append(dst)
    return made


def check_output(out: Path) -> dict[str, int]:
    """What a reader may rely on at any moment, even right after a SIGKILL: every
    visible Parquet file reads, no call twice in `calls`, and utterance/finding rows
    (as `ResultStore.read` returns them) only for calls that have a `calls` row.
    Returns how many uncommitted (orphan) and temp files there are."""
    left = {"orphan": 0, "temp": 0}
    committed = {p.name for p in (out / "calls").glob("*.parquet") if not p.name.startswith(".")}
    for name in TABLES:
        folder = out / name
        for path in folder.iterdir() if folder.exists() else ():
            if path.name.startswith("."):
                left["temp"] += 1
                continue
            pq.read_table(path)  # raises on a partial file
            if name != "calls" and path.name not in committed:
                left["orphan"] += 1
    store = ResultStore(out)
    calls = store.read("calls").to_pylist()
    ids = Counter(c["call_id"] for c in calls)
    assert not [c for c, n in ids.items() if n > 1], f"duplicate calls rows: {ids}"
    for name in ("utterances", "findings"):
        seen = set(store.read(name).column("call_id").to_pylist())
        assert seen <= set(ids), f"{name} rows of uncommitted calls: {seen - set(ids)}"
    return left


def snapshot(out: Path) -> dict[str, list]:
    """Every row of the three tables (as readers see them), the run-varying columns
    (processed_at, the stage times) left out."""
    store = ResultStore(out)
    snap = {}
    for name in TABLES:
        table = store.read(name)
        table = table.drop_columns([c for c in RUN_VARYING_COLUMNS if c in table.column_names])
        snap[name] = sorted(repr(sorted(row.items())) for row in table.to_pylist())
    return snap


def check_cache(cache: Path) -> int:
    """Every transcript cache entry parses; returns how many there are."""
    from analyzers.model import Transcript, from_dict

    entries = [p for p in cache.glob("*.json") if not p.name.startswith(".")]
    for path in entries:
        from_dict(Transcript, json.loads(path.read_text(encoding="utf-8")))
    return len(entries)


# --- unreadable files when the tests run as root -------------------------------

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _drop_file_read_override() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def permission_preexec(tmp_path: Path):
    """(preexec_fn, reason): how to start a child for which a mode-000 file is unreadable.

    As a normal user nothing is needed. As root, chmod does not stop reads because of
    CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH; dropping both from the child's capability
    bounding set makes root obey file modes like anyone else (files root owns with
    owner-read, like the venv and tmp folders, stay readable). preexec_fn is None with
    a reason when that is not possible (e.g. no CAP_SETPCAP in this container)."""
    if os.geteuid() != 0:
        return None, ""
    probe = tmp_path / "probe-000"
    probe.write_bytes(b"x")
    probe.chmod(0)
    try:
        child = subprocess.run([sys.executable, "-c", f"open({str(probe)!r}).read()"],
                               preexec_fn=_drop_file_read_override, capture_output=True, text=True)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"running as root and cannot drop CAP_DAC_OVERRIDE ({exc}): chmod 000 does not block reads"
    finally:
        probe.unlink()
    if "PermissionError" not in child.stderr:
        return None, "running as root: chmod 000 does not block reads even without CAP_DAC_OVERRIDE"
    return _drop_file_read_override, ""


def make_dump(folder: Path, call: Path) -> int:
    """5000 files in nested folders: 4800 that the scan must pass over (other extensions,
    hidden and temp files), 200 tiny junk files with audio extensions and a copy of `call`,
    a symlink loop and a dangling symlink. Returns how many recordings the scan must find.
    (test_bad_input runs a batch over it; bench/bench_scan.py times the scan.)"""
    for i in range(4800):
        sub = folder / f"day{i % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        name = (f"notes_{i}.txt", f"meta_{i}.json", f".hidden_{i}.wav", f"~lock_{i}.csv")[i % 4]
        (sub / name).write_bytes(b"x" * (i % 7))
    for i in range(200):
        ext = (".wav", ".mp3", ".m4a", ".amr")[i % 4]
        (folder / f"day{i % 10}" / f"junk_{i:04d}{ext}").write_bytes(os.urandom(16 + i % 50))
    shutil.copyfile(call, folder / "call01_compliant.wav")
    (folder / "day0" / "loop").symlink_to("..")  # a symlink loop must not be walked forever
    (folder / "day1" / "gone.wav").symlink_to(folder.parent / "nowhere.wav")  # dangling: skipped
    return 201
