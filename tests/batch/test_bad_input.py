"""Issue #8.1: the bad-input matrix, in one batch beside good calls.

Every awkward file below goes into one `callqa run` (a subprocess, so that as root the
mode-000 file can really be unreadable, see runs.permission_preexec) together with two
good sample calls. Each bad file must become an error row whose one-line reason says
what is wrong, each odd-but-valid file must be processed, the good calls must come
out as in the session's sample run, and the run must exit 0.
Good calls come from the transcript cache; the 1-second call and the truncated files
are transcribed by real whisper.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from conftest import need_tool
from flows.batch.pipeline import find_recordings
from flows.storage.store import ResultStore
from runs import SAMPLES, check_output, make_dump, permission_preexec, run_cli

pytestmark = pytest.mark.e2e

CALL01 = SAMPLES / "call01_compliant.wav"  # 8 kHz stereo PCM, agent greets from 0.6 s
CALL03 = SAMPLES / "call03_banned_phrases.mp3"  # 8 kHz stereo mp3, 28.8 kbit/s


def _declared_s(path: Path) -> float:
    """What the file's header promises (ffprobe's format duration, as callqa reads it)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                          str(path)], capture_output=True, text=True, check=True).stdout
    return float(out)


#: The sample calls are regenerated from their scripts (tools/make_sample_calls.py): read, not typed.
CALL01_S, CALL03_S = _declared_s(CALL01), _declared_s(CALL03)


@pytest.fixture(autouse=True, scope="module")
def _ffmpeg():
    """The cases are made and decoded with ffmpeg: without it, fail under CI, skip elsewhere."""
    need_tool("ffmpeg")
    need_tool("ffprobe", "apt-get install ffmpeg")


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def _wav_with_format_tag(path: Path, tag: int) -> None:
    """A valid PCM wav whose header names codec `tag` instead (a proprietary logger codec)."""
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=1", "-ar", "8000", "-c:a", "pcm_s16le", str(path))
    data = bytearray(path.read_bytes())
    fmt = data.index(b"fmt ")
    data[fmt + 8 : fmt + 10] = tag.to_bytes(2, "little")
    path.write_bytes(bytes(data))


def _truncated_wav(path: Path) -> None:
    path.write_bytes(CALL01.read_bytes()[: 44 + 4 * 8000 * 4 + 1001])


def _truncated_mp3(path: Path) -> None:
    path.write_bytes(CALL03.read_bytes()[:18_000])


def _fifo(path: Path) -> None:
    os.mkfifo(path)


@dataclass(frozen=True)
class Case:
    name: str  # file name in the batch (its stem is the call_id)
    make: Callable[[Path], None]
    #: "ok", or a regex the error column must match
    expect: str
    #: named on the command line rather than found by the folder scan
    explicit: bool = False


CASES = [
    Case("empty.wav", lambda p: p.write_bytes(b""), r"AudioError: file is empty \(0 bytes\)"),
    Case("truncated_header.wav", lambda p: p.write_bytes(CALL01.read_bytes()[:60]),
         r"AudioError: (not a decodable audio file|no audio samples decoded)"),
    # Cut mid-frame; the header still claims the whole call (the mp3's Xing header: its frame
    # count, encoder padding included): a QA result for 4 s of a 76 s call would grade a call
    # nobody heard (issue 16.3).
    Case("truncated_4s.wav", _truncated_wav,
         rf"TruncatedRecording: recording is truncated: its header promises {re.escape(f'{CALL01_S:.1f}')} s but the file holds 4\.0 s"),
    Case("truncated_5s.mp3", _truncated_mp3,
         rf"TruncatedRecording: recording is truncated: its header promises {re.escape(f'{CALL03_S:.1f}')} s but the file holds [45]\.\d s"),
    Case("not_audio.wav", lambda p: p.write_text("这不是音频文件 / not audio\n" * 20, encoding="utf-8"),
         r"AudioError: not a decodable audio file \(ffprobe: .+\)"),
    Case("video_only.m4a", lambda p: ffmpeg("-f", "lavfi", "-i", "color=c=black:s=32x32:d=0.5",
                                           "-c:v", "mpeg4", "-f", "mp4", str(p)),
         r"AudioError: no audio stream found"),
    Case("zero_duration.wav", lambda p: ffmpeg("-f", "lavfi", "-i", "anullsrc=r=8000:cl=stereo", "-t", "0", str(p)),
         r"AudioError: no audio samples decoded \(zero-length pcm_s16le stream\)"),
    Case("one_second.wav", lambda p: ffmpeg("-ss", "0.6", "-t", "1", "-i", str(CALL01), "-c:a", "pcm_s16le", str(p)),
         "ok"),
    Case("six_channels.wav", lambda p: ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=1", "-ac", "6", str(p)),
         r"AudioError: 6 audio channels; expected 1 \(mono\) or 2"),
    Case("unsupported_codec.wav", lambda p: _wav_with_format_tag(p, 0x9999),
         r"AudioError: unsupported audio codec \(ffmpeg has no decoder for codec tag 0x9999\)"),
    Case("rate_2khz.wav", lambda p: ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=1", "-ar", "2000", str(p)),
         r"AudioError: sample rate 2000 Hz is too low for speech"),
    Case("客户 来电 01.wav", lambda p: shutil.copyfile(SAMPLES / "call07_overtalk.wav", p), "ok"),
    Case("unreadable.wav", lambda p: (shutil.copyfile(CALL01, p), p.chmod(0)),
         r"AudioError: file is not readable \(permission denied\)"),
    Case("fifo.wav", _fifo, r"AudioError: not a regular file", explicit=True),
]
GOOD = ["call01_compliant.wav", "call03_banned_phrases.mp3"]


@pytest.fixture(scope="module")
def matrix(sample_run, tmp_path_factory):
    base = tmp_path_factory.mktemp("matrix")
    inputs, out, cache = base / "in", base / "out", base / "cache"
    inputs.mkdir()
    # The good calls' transcripts, copied so that whisper's work on the new files
    # does not land in a shared cache.
    shutil.copytree(sample_run["cache"], cache, ignore=shutil.ignore_patterns(".*"))
    for name in GOOD:
        shutil.copyfile(SAMPLES / name, inputs / name)
    explicit = []
    for case in CASES:
        case.make(inputs / case.name)
        if case.explicit:
            explicit.append(str(inputs / case.name))
    preexec, why_not = permission_preexec(base)
    t0 = time.perf_counter()
    proc = run_cli("run", str(inputs), *explicit, "--out", str(out), "--cache-dir", str(cache), "--quiet",
                   preexec_fn=preexec)
    (inputs / "unreadable.wav").chmod(0o600)
    return {"proc": proc, "out": out, "calls": ResultStore(out).calls_by_id(), "unreadable_skip": why_not,
            "run_s": time.perf_counter() - t0}


def test_batch_exits_0_and_counts_every_case(matrix):
    proc = matrix["proc"]
    assert proc.returncode == 0, proc.stderr
    errors = sum(1 for c in CASES if c.expect != "ok")
    if matrix["unreadable_skip"]:  # root without the means to make it unreadable: it is read fine
        errors -= 1
    assert f"{len(CASES) + len(GOOD) - errors} ok, {errors} errors" in proc.stdout
    assert "Traceback" not in proc.stderr
    check_output(matrix["out"])


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(matrix, case):
    if case.name == "unreadable.wav" and matrix["unreadable_skip"]:
        # What the machine allows (root that cannot drop CAP_DAC_OVERRIDE), not a missing
        # input: a skip under CI too, listed with its reason in the report (conftest: "not run under CI").
        pytest.skip(matrix["unreadable_skip"])
    row = matrix["calls"][Path(case.name).stem]
    if case.expect == "ok":
        assert row["status"] == "ok", row["error"]
        assert not row["error"]
    else:
        assert row["status"] == "error"
        assert re.fullmatch(case.expect + ".*", row["error"]), row["error"]
        assert "\n" not in row["error"] and "Traceback" not in row["error"]
        assert len(row["error"]) < 300


def test_odd_but_valid_files_are_analysed_for_what_they_hold(matrix):
    calls = matrix["calls"]
    assert calls["one_second"]["duration_s"] == pytest.approx(1.0, abs=0.01)
    assert calls["客户 来电 01"]["layout"] == "stereo" and calls["客户 来电 01"]["source"].endswith("客户 来电 01.wav")
    utterances = ResultStore(matrix["out"]).read("utterances").to_pylist()
    one_second = [u for u in utterances if u["call_id"] == "one_second"]
    # Whisper gets the one second and says something inside it (what it makes of half
    # a 您好 is its business: base guessed a whole sentence); the pipeline copes.
    assert one_second and all(0.0 <= u["start_s"] < u["end_s"] <= 1.0 and u["text"] for u in one_second)


def test_allow_truncated_analyses_what_is_there_and_records_the_shortfall(tmp_path, sample_run):
    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    _truncated_wav(inputs / "truncated_4s.wav")
    _truncated_mp3(inputs / "truncated_5s.mp3")
    proc = run_cli("run", str(inputs), "--out", str(out), "--cache-dir", str(tmp_path / "cache"), "--quiet",
                   "--allow-truncated")
    assert proc.returncode == 0 and "2 ok, 0 errors" in proc.stdout, (proc.stdout, proc.stderr)
    calls = ResultStore(out).calls_by_id()
    assert calls["truncated_4s"]["duration_s"] == pytest.approx(4.03, abs=0.02)
    assert calls["truncated_4s"]["truncated_s"] == pytest.approx(CALL01_S - 4.03, abs=0.1)
    assert 4.0 < calls["truncated_5s"]["duration_s"] < 6.0
    assert calls["truncated_5s"]["truncated_s"] == pytest.approx(CALL03_S - calls["truncated_5s"]["duration_s"], abs=0.1)
    utterances = ResultStore(out).read("utterances").to_pylist()
    for call_id in ("truncated_4s", "truncated_5s"):  # the part that is there is transcribed
        first = next(u for u in utterances if u["call_id"] == call_id)
        # the agent's greeting is heard: its words vary with the CPU's int8 kernels and the
        # regenerated audio (issue 37), so the test asks for speech of the agent's, not a spelling
        assert first["speaker"] == "agent" and len(first["text"]) >= 4, first


def test_good_calls_are_unaffected(matrix, sample_run):
    theirs = ResultStore(sample_run["out"]).calls_by_id()
    for name in GOOD:
        call_id = Path(name).stem
        mine = matrix["calls"][call_id]
        assert mine["status"] == "ok"
        for column in ("score", "grade", "banned_count", "hold_count", "greeting_ok", "closing_ok", "transcript_key"):
            assert mine[column] == theirs[call_id][column], column


# --- a folder with thousands of files ------------------------------------------


def test_thousands_of_files_are_found_and_rejected(tmp_path, sample_run):
    """The 200 tiny junk files with audio extensions must each become an error row (one
    ffprobe each, ~0.1 s of CPU: the cost of a rejection), the one good call must be
    processed, everything else passed over. How fast: bench/bench_scan.py."""
    folder = tmp_path / "dump"
    expected = make_dump(folder, CALL01)  # 4800 files to pass over, 200 junk recordings, 1 call

    t0 = time.perf_counter()
    found = find_recordings([folder])
    scan_s = time.perf_counter() - t0
    assert len(found) == expected

    out = tmp_path / "out"
    t0 = time.perf_counter()
    proc = run_cli("run", str(folder), "--out", str(out), "--cache-dir", str(sample_run["cache"]), "--quiet")
    run_s = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "1 ok, 200 errors" in proc.stdout
    calls = ResultStore(out).calls_by_id()
    assert calls["call01_compliant"]["status"] == "ok"
    assert all(c["error"].startswith("AudioError: ") for c in calls.values() if c["status"] == "error")
    # error rows have no utterance/finding files
    assert len(list((out / "utterances").glob("*.parquet"))) == 1
    print(f"scan of 5001 files {scan_s:.2f} s; run over 200 junk files + 1 call {run_s:.1f} s")


# --- a 2-hour call ---------------------------------------------------------------

_MEMORY_PROBE = r"""
import json, sys
def kib(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])
import librosa, numpy  # the energy detector's imports (lazy ones too), so that they count in the baseline
librosa.feature.rms(y=numpy.zeros(4000, dtype="float32"))
from flows.speech.audio import load_call
from flows.speech.vad import call_speech_spans
base = kib("VmRSS")
audio = load_call(sys.argv[1])
after_load = kib("VmHWM")
spans = call_speech_spans(audio, method="energy")
print(json.dumps({"base_kib": base, "load_peak_kib": after_load, "vad_peak_kib": kib("VmHWM"),
                  "decoded_kib": sum(c.nbytes for c in audio.channels.values()) // 1024,
                  "duration_s": audio.duration_s, "layout": audio.layout, "spans": len(spans),
                  "last_span_end_s": max(s.end_s for s in spans)}))
"""


def test_two_hour_call_decodes_and_detects_speech_in_bounded_memory(tmp_path):
    """A 2-hour stereo call (call01 looped): decoding holds about one copy of the
    decoded audio (0.86 GiB at 16 kHz stereo) and the energy detector adds little;
    before, decoding alone peaked at twice that, and the detector at three times."""
    import json
    import sys

    long_call = tmp_path / "two_hours.wav"
    ffmpeg("-stream_loop", "-1", "-i", str(CALL01), "-t", "7200", "-c:a", "pcm_s16le", str(long_call))
    proc = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(long_call)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads(proc.stdout)
    print(m)
    assert m["duration_s"] == pytest.approx(7200, abs=0.1) and m["layout"] == "stereo"
    assert m["last_span_end_s"] > 7100  # speech found up to the end, not just the start
    assert m["spans"] > 7200 / 75.8 * 4  # call01 has at least 4 speech stretches per loop
    decoded = m["decoded_kib"]
    assert m["load_peak_kib"] - m["base_kib"] < 1.15 * decoded, m
    assert m["vad_peak_kib"] - m["base_kib"] < 1.25 * decoded, m
