"""flows.speech.audio: every call format decodes to the right channels, bad input says why."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from flows.speech.audio import AudioError, CallAudio, load_call

from conftest import need_tool


@pytest.fixture(autouse=True, scope="module")
def _ffmpeg():
    """Every test here decodes with ffmpeg/ffprobe: without them, fail under CI, skip elsewhere."""
    need_tool("ffmpeg")
    need_tool("ffprobe", "apt-get install ffmpeg")


LEFT_HZ, RIGHT_HZ = 440.0, 1000.0
DURATION_S = 1.0


def _tones(rate_hz: int, channels: int, duration_s: float = DURATION_S) -> np.ndarray:
    t = np.arange(int(rate_hz * duration_s)) / rate_hz
    left = 0.5 * np.sin(2 * np.pi * LEFT_HZ * t)
    if channels == 1:
        return left.astype(np.float32)
    right = 0.5 * np.sin(2 * np.pi * RIGHT_HZ * t)
    return np.stack([left, right], axis=1).astype(np.float32)


def _encode(src: Path, dst: Path, codec_args: list[str]) -> Path:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(src), *codec_args, str(dst)],
        check=True,
    )
    return dst


def _make(tmp_path: Path, name: str, codec_args: list[str], rate_hz: int, channels: int) -> Path:
    src = tmp_path / f"src_{rate_hz}_{channels}.wav"
    if not src.exists():
        sf.write(src, _tones(rate_hz, channels), rate_hz, subtype="PCM_16")
    return _encode(src, tmp_path / name, codec_args)


def _dominant_hz(samples: np.ndarray, rate_hz: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate_hz)[np.argmax(spectrum)])


# (file name, ffmpeg codec args, expected ffprobe codec name)
FORMATS = [
    ("pcm.wav", ["-c:a", "pcm_s16le"], "pcm_s16le"),
    ("mulaw.wav", ["-c:a", "pcm_mulaw"], "pcm_mulaw"),
    ("alaw.wav", ["-c:a", "pcm_alaw"], "pcm_alaw"),
    ("call.mp3", ["-c:a", "libmp3lame", "-b:a", "64k"], "mp3"),
    ("call.m4a", ["-c:a", "aac", "-b:a", "64k"], "aac"),
    ("call.aac", ["-c:a", "aac", "-b:a", "64k"], "aac"),
    ("call.flac", ["-c:a", "flac"], "flac"),
    ("call.ogg", ["-c:a", "libvorbis"], "vorbis"),
    ("call.opus", ["-c:a", "libopus", "-b:a", "32k"], "opus"),
]


@pytest.mark.parametrize("name,codec_args,codec", FORMATS, ids=[f[0] for f in FORMATS])
@pytest.mark.parametrize("rate_hz", [8000, 16000, 44100])
def test_stereo_formats_map_left_to_agent(tmp_path, name, codec_args, codec, rate_hz):
    if name == "call.mp3" and rate_hz == 8000:
        codec_args = [*codec_args[:2], "-b:a", "32k"]  # lame refuses 64k at 8 kHz
    path = _make(tmp_path, name, codec_args, rate_hz, channels=2)

    audio = load_call(path)

    assert isinstance(audio, CallAudio)
    assert audio.codec == codec
    assert audio.layout == "stereo"
    assert audio.source_channels == 2
    assert audio.sample_rate_hz == 16000
    assert set(audio.channels) == {"agent", "customer"}
    # Lossy codecs pad a few ms at the edges; raw ADTS .aac has no container to record
    # the encoder's 1024-sample priming, so at 8 kHz it keeps ~0.13 s extra.
    slack_s = 0.2 if name.endswith(".aac") else 0.08
    assert audio.duration_s == pytest.approx(DURATION_S, abs=slack_s)
    for samples in audio.channels.values():
        assert samples.dtype == np.float32 and samples.ndim == 1
        assert len(samples) == round(audio.duration_s * 16000)
    assert _dominant_hz(audio.channels["agent"], 16000) == pytest.approx(LEFT_HZ, abs=5)
    assert _dominant_hz(audio.channels["customer"], 16000) == pytest.approx(RIGHT_HZ, abs=5)


@pytest.mark.parametrize("name,codec_args,codec", FORMATS, ids=[f[0] for f in FORMATS])
def test_mono_formats_give_one_mixed_channel(tmp_path, name, codec_args, codec):
    path = _make(tmp_path, name, codec_args, 16000, channels=1)

    audio = load_call(path)

    assert audio.layout == "mono"
    assert audio.source_channels == 1
    assert audio.source_sample_rate_hz in (16000, 48000)  # opus always reports 48 kHz
    assert list(audio.channels) == ["mixed"]
    assert audio.duration_s == pytest.approx(DURATION_S, abs=0.2 if name.endswith(".aac") else 0.08)
    assert _dominant_hz(audio.channels["mixed"], 16000) == pytest.approx(LEFT_HZ, abs=5)


def test_agent_channel_right_swaps_sides(tmp_path):
    path = _make(tmp_path, "call.wav", ["-c:a", "pcm_s16le"], 8000, channels=2)

    audio = load_call(path, agent_channel="right")

    assert _dominant_hz(audio.channels["agent"], 16000) == pytest.approx(RIGHT_HZ, abs=5)
    assert _dominant_hz(audio.channels["customer"], 16000) == pytest.approx(LEFT_HZ, abs=5)


def test_invalid_agent_channel_is_a_value_error(tmp_path):
    path = _make(tmp_path, "call.wav", ["-c:a", "pcm_s16le"], 8000, channels=2)
    with pytest.raises(ValueError, match="agent_channel"):
        load_call(path, agent_channel="centre")  # type: ignore[arg-type]


def test_mulaw_decodes_to_original_waveform(tmp_path):
    # An 8 kHz mu-law wav is what most telephone systems export.
    rate_hz = 8000
    t = np.arange(rate_hz) / rate_hz
    original = (0.3 * np.sin(2 * np.pi * 300 * t) + 0.1 * np.sin(2 * np.pi * 1200 * t)).astype(np.float32)
    path = tmp_path / "ulaw.wav"
    sf.write(path, original, rate_hz, subtype="ULAW")

    audio = load_call(path, sample_rate_hz=rate_hz)

    assert audio.codec == "pcm_mulaw"
    assert audio.source_sample_rate_hz == rate_hz
    decoded = audio.channels["mixed"]
    assert len(decoded) == len(original)
    # mu-law keeps about 2-3 % relative error; a wrong decoder (read as 8-bit PCM) is far off.
    assert np.max(np.abs(decoded - original)) < 0.02
    assert np.corrcoef(decoded, original)[0, 1] > 0.999


def test_resamples_to_requested_rate(tmp_path):
    path = _make(tmp_path, "call.wav", ["-c:a", "pcm_s16le"], 44100, channels=2)

    audio = load_call(path, sample_rate_hz=8000)

    assert audio.source_sample_rate_hz == 44100
    assert audio.sample_rate_hz == 8000
    assert len(audio.channels["agent"]) == 8000
    assert _dominant_hz(audio.channels["customer"], 8000) == pytest.approx(RIGHT_HZ, abs=5)


@pytest.mark.parametrize("name", ["客服 录音 01.wav", "-starts with dash.wav", "a:b colon.wav"])
def test_awkward_file_names(tmp_path, name):
    path = tmp_path / name
    sf.write(path, _tones(16000, 2), 16000)

    audio = load_call(path)

    assert audio.layout == "stereo"
    assert audio.source_path == str(path)
    # a relative path (cwd-based) works as well
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert load_call(name).duration_s == pytest.approx(DURATION_S)
    finally:
        os.chdir(old)


# --- bad input ---------------------------------------------------------------


def _raises(path, match: str) -> AudioError:
    with pytest.raises(AudioError, match=match) as info:
        load_call(path)
    err = info.value
    assert err.path == str(path)
    assert "\n" not in str(err), "message must be one line"
    assert str(err).startswith(str(path))
    return err


def test_missing_file(tmp_path):
    _raises(tmp_path / "nope.wav", "file not found")


def test_directory(tmp_path):
    _raises(tmp_path, "not a regular file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    _raises(path, "empty")


@pytest.mark.parametrize("name", ["notes.wav", "notes.mp3", "notes.m4a"])
def test_non_audio_file_with_audio_extension(tmp_path, name):
    path = tmp_path / name
    path.write_text("this is a text file, not audio\n" * 20)
    err = _raises(path, "not a decodable audio file|no audio stream")
    assert "CalledProcessError" not in str(err)


def test_video_without_audio(tmp_path):
    path = tmp_path / "picture.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=32x32:d=0.5",
         "-c:v", "mpeg4", str(path)],
        check=True,
    )  # fmt: skip
    _raises(path, "no audio stream")


def test_zero_length_audio(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros((0, 2), dtype=np.float32), 16000)
    _raises(path, "zero-length|no audio samples")


def test_more_than_two_channels(tmp_path):
    path = tmp_path / "surround.wav"
    sf.write(path, np.zeros((1600, 6), dtype=np.float32), 16000)
    _raises(path, "6 audio channels")


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "locked.wav"
    sf.write(path, _tones(8000, 1), 8000)
    path.chmod(0)
    if os.access(path, os.R_OK):  # running as root: chmod does not stop us, so pretend
        monkeypatch.setattr("flows.speech.audio.os.access", lambda *_a, **_k: False)
    try:
        _raises(path, "not readable")
    finally:
        path.chmod(0o644)


def test_ffmpeg_missing_from_path(tmp_path, monkeypatch):
    path = tmp_path / "call.wav"
    sf.write(path, _tones(8000, 1), 8000)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    _raises(path, "not found on PATH")
