"""Decode a call recording into float32 samples per speaker channel.

Every format goes through ffmpeg (wav PCM/mu-law/A-law, mp3, m4a/aac, flac, ogg/opus,
any sample rate), so there is one decoding path to trust instead of one per library.
ffprobe reads what the file claims to be; ffmpeg resamples to `sample_rate_hz` and keeps
the channels apart, because on stereo call recordings the channel *is* the speaker.

Anything that cannot be turned into usable audio raises `AudioError(path, reason)` with
a one-line reason; the raw `CalledProcessError` never escapes this module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

AgentChannel = Literal["left", "right"]

#: Seconds one ffprobe / ffmpeg call may take before the file is given up on.
_PROBE_TIMEOUT_S = 60
_DECODE_TIMEOUT_S = 900


class AudioError(Exception):
    """A recording could not be decoded into usable audio.

    `path` is the file as given, `reason` a one-line explanation fit for the error
    column of the calls table.
    """

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class CallAudio:
    """One decoded recording.

    `channels` maps "agent" and "customer" to their channel for stereo recordings, or
    "mixed" to the single channel of a mono recording; each is a 1-D float32 array in
    [-1, 1] at `sample_rate_hz`. `duration_s` is the decoded length, which can differ
    from the container's claim by a frame or so.
    """

    source_path: str
    codec: str
    source_sample_rate_hz: int
    source_channels: int
    sample_rate_hz: int
    duration_s: float
    layout: Literal["stereo", "mono"]
    channels: dict[str, np.ndarray] = field(repr=False)


def load_call(
    path: str | os.PathLike[str],
    *,
    sample_rate_hz: int = 16000,
    agent_channel: AgentChannel = "left",
) -> CallAudio:
    """Decode `path` to float32 at `sample_rate_hz` (Hz), one array per speaker channel.

    For stereo files `agent_channel` ("left" or "right") says which side the agent is
    on; the other side is the customer. Mono files give a single "mixed" channel.
    Raises `AudioError` for missing, unreadable, empty, non-audio, zero-length or
    more-than-two-channel input, and when ffmpeg/ffprobe are not installed.
    """
    if agent_channel not in ("left", "right"):
        raise ValueError(f"agent_channel must be 'left' or 'right', got {agent_channel!r}")
    if sample_rate_hz <= 0:
        raise ValueError(f"sample_rate_hz must be positive, got {sample_rate_hz}")
    _check_file(path)
    ffprobe, ffmpeg = _tool(path, "ffprobe"), _tool(path, "ffmpeg")
    stream = _probe(ffprobe, path)

    codec = str(stream.get("codec_name", "unknown"))
    source_channels = int(stream.get("channels") or 0)
    source_rate_hz = int(stream.get("sample_rate") or 0)
    if source_channels not in (1, 2):
        raise AudioError(
            path,
            f"{source_channels} audio channels; expected 1 (mono) or 2 (agent/customer stereo)",
        )

    interleaved = _decode(ffmpeg, path, sample_rate_hz, source_channels)
    frames = interleaved.reshape(-1, source_channels)
    if frames.shape[0] == 0:
        raise AudioError(path, f"no audio samples decoded (zero-length {codec} stream)")

    if source_channels == 2:
        left, right = (np.ascontiguousarray(frames[:, i]) for i in (0, 1))
        agent, customer = (left, right) if agent_channel == "left" else (right, left)
        channels = {"agent": agent, "customer": customer}
        layout: Literal["stereo", "mono"] = "stereo"
    else:
        channels = {"mixed": np.ascontiguousarray(frames[:, 0])}
        layout = "mono"

    return CallAudio(
        source_path=str(path),
        codec=codec,
        source_sample_rate_hz=source_rate_hz,
        source_channels=source_channels,
        sample_rate_hz=sample_rate_hz,
        duration_s=frames.shape[0] / sample_rate_hz,
        layout=layout,
        channels=channels,
    )


def _check_file(path: str | os.PathLike[str]) -> None:
    # Checked up front so the message says "not found" rather than ffprobe's wording.
    p = Path(path)
    if not p.exists():
        raise AudioError(path, "file not found")
    if not p.is_file():
        raise AudioError(path, "not a regular file")
    if not os.access(p, os.R_OK):
        raise AudioError(path, "file is not readable (permission denied)")
    if p.stat().st_size == 0:
        raise AudioError(path, "file is empty (0 bytes)")


def _tool(path: str | os.PathLike[str], name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise AudioError(path, f"{name} not found on PATH; install ffmpeg (e.g. apt-get install ffmpeg)")
    return found


def _input_url(path: str | os.PathLike[str]) -> str:
    # "file:" + absolute path stops ffmpeg reading a leading "-" as an option or a
    # colon in the name as a protocol; spaces/unicode are safe because no shell is used.
    return "file:" + os.path.abspath(os.fspath(path))


def _last_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else "no error output"


def _run(name: str, cmd: list[str], path: str | os.PathLike[str], timeout_s: float) -> subprocess.CompletedProcess:
    """Run ffprobe/ffmpeg; a timeout or a failure to start becomes an AudioError."""
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise AudioError(path, f"{name} timed out after {timeout_s} s") from None
    except OSError as exc:
        raise AudioError(path, f"could not run {name}: {exc}") from None


def _probe(ffprobe: str, path: str | os.PathLike[str]) -> dict:
    """The first audio stream's ffprobe fields (codec_name, channels, sample_rate...)."""
    cmd = [
        ffprobe, "-v", "error", "-select_streams", "a:0",
        "-show_entries", "stream=codec_name,channels,sample_rate,duration",
        "-of", "json", _input_url(path),
    ]  # fmt: skip
    proc = _run("ffprobe", cmd, path, _PROBE_TIMEOUT_S)
    if proc.returncode != 0:
        raise AudioError(path, f"not a decodable audio file (ffprobe: {_last_line(proc.stderr)})")
    try:
        streams = json.loads(proc.stdout or b"{}").get("streams") or []
    except json.JSONDecodeError:
        raise AudioError(path, "ffprobe returned unreadable output") from None
    if not streams:
        raise AudioError(path, "no audio stream found (not an audio file?)")
    return streams[0]


def _decode(ffmpeg: str, path: str | os.PathLike[str], sample_rate_hz: int, channels: int) -> np.ndarray:
    """Interleaved float32 samples of the first audio stream at `sample_rate_hz`."""
    cmd = [
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error",
        "-i", _input_url(path),
        "-map", "0:a:0", "-vn",
        "-f", "f32le", "-acodec", "pcm_f32le",
        "-ac", str(channels), "-ar", str(sample_rate_hz),
        "pipe:1",
    ]  # fmt: skip
    proc = _run("ffmpeg", cmd, path, _DECODE_TIMEOUT_S)
    if proc.returncode != 0:
        raise AudioError(path, f"ffmpeg could not decode the audio: {_last_line(proc.stderr)}")
    usable = len(proc.stdout) - len(proc.stdout) % (4 * channels)
    return np.frombuffer(proc.stdout[:usable], dtype="<f4").astype(np.float32, copy=True)
