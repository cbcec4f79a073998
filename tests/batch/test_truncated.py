"""A recording that holds less audio than its container promises (#16 item 3).

It becomes an error row naming both durations; `--allow-truncated` processes it and
records the shortfall in `truncated_s`. Durations a container only estimates (a VBR mp3
without a Xing header) are no promise and never flag a whole file.
"""

from __future__ import annotations

import shutil
import subprocess
import struct
from pathlib import Path

import pytest

from conftest import need_tool
from flows.speech.audio import _wav_data_duration_s, load_call

SAMPLES = Path(__file__).resolve().parents[2] / "sample_audio"
WAV = SAMPLES / "call01_compliant.wav"  # 16-bit stereo 8 kHz; its length read from the file (regenerated calls move it)


@pytest.fixture(autouse=True)
def _ffmpeg():
    need_tool("ffmpeg")


def _cut(src: Path, dst: Path, n_bytes: int) -> Path:
    dst.write_bytes(src.read_bytes()[:n_bytes])
    return dst


def _encode(src: Path, dst: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), *args, str(dst)], check=True)
    return dst


def test_a_cut_wav_promises_its_header_duration(tmp_path):
    whole = load_call(WAV)
    assert whole.declared_duration_s == pytest.approx(whole.duration_s, abs=0.01) and whole.shortfall_s == 0.0
    cut = load_call(_cut(WAV, tmp_path / "cut.wav", 48044))  # header + 1.5 s
    assert cut.declared_duration_s == pytest.approx(whole.duration_s, abs=0.01)
    assert cut.duration_s == pytest.approx(1.5, abs=0.01)
    assert cut.shortfall_s == pytest.approx(whole.duration_s - 1.5, abs=0.02)


@pytest.mark.parametrize("suffix,args", [(".mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]), (".flac", [])])
def test_cut_mp3_and_flac_are_found_and_whole_ones_are_not(tmp_path, suffix, args):
    whole = _encode(WAV, tmp_path / f"whole{suffix}", *args)
    assert load_call(whole).shortfall_s == 0.0
    cut = load_call(_cut(whole, tmp_path / f"cut{suffix}", whole.stat().st_size // 10))
    assert cut.shortfall_s > 60


def test_an_estimated_duration_is_no_promise(tmp_path):
    # A VBR mp3 without a Xing header: ffmpeg guesses 77.6 s from the first frame's bit rate.
    vbr = _encode(WAV, tmp_path / "vbr.mp3", "-ac", "1", "-c:a", "libmp3lame", "-q:a", "5", "-write_xing", "0")
    audio = load_call(vbr)
    assert audio.declared_duration_s is None and audio.shortfall_s == 0.0


def test_a_streaming_wav_header_states_no_size(tmp_path):
    data = bytearray(WAV.read_bytes()[:48044])
    at = data.index(b"data")
    data[at + 4: at + 8] = struct.pack("<I", 0xFFFFFFFF)
    path = tmp_path / "streamed.wav"
    path.write_bytes(bytes(data))
    assert _wav_data_duration_s(path) is None
    assert load_call(path).shortfall_s == 0.0


def test_a_truncated_copy_of_a_sample_call_is_an_error_row_unless_allowed(tmp_path):
    from runs import run_cli

    from flows.storage.store import ResultStore

    inputs, out = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    cut = _cut(WAV, inputs / "cut_short.wav", 48044)
    # Its words, so that no whisper runs: the test is about the container, not the ASR.
    shutil.copyfile(SAMPLES / "call01_compliant.json", inputs / "unused.truth.json")
    (inputs / "cut_short.agent.json").write_text('{"segments": [{"text": "您好", "start": 0.2, "end": 1.0}]}')
    (inputs / "cut_short.customer.json").write_text('{"segments": []}')
    proc = run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet")
    assert proc.returncode == 5, proc.stderr  # its one recording failed: the batch failed (issue 35)
    row = ResultStore(out).calls_by_id()["cut_short"]
    assert row["status"] == "error"
    assert f"header promises {load_call(WAV).duration_s:.1f} s but the file holds 1.5 s" in row["error"], row["error"]
    assert "--allow-truncated" in row["error"]

    proc = run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet",
                   "--allow-truncated")
    assert proc.returncode == 0, proc.stderr
    row = ResultStore(out).calls_by_id()["cut_short"]
    assert row["status"] == "ok" and row["duration_s"] == pytest.approx(1.5, abs=0.01)
    assert row["truncated_s"] == pytest.approx(load_call(WAV).duration_s - 1.5, abs=0.02)
    assert cut.exists()
