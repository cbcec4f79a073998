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
import stat
import subprocess
import tempfile
import threading
import typing
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

AgentChannel = Literal["left", "right"]
AGENT_CHANNELS: tuple[str, ...] = typing.get_args(AgentChannel)

#: Seconds one ffprobe / ffmpeg call may take before the file is given up on.
_PROBE_TIMEOUT_S = 60
_DECODE_TIMEOUT_S = 900
#: Below this source rate (Hz) a recording cannot carry intelligible speech (the
#: telephone band needs 8 kHz; old voice loggers use 6 kHz): refused rather than upsampled.
MIN_SOURCE_RATE_HZ = 4000
#: A decoded recording this much shorter than its header claims (s, or this share of the
#: claim, whichever is larger) is truncated: a copy cut short, not a rounded header.
TRUNCATION_TOLERANCE_S = 0.5
TRUNCATION_TOLERANCE_RATIO = 0.01
#: ffmpeg's output is read in blocks of this many frames (0.5 s at 16 kHz stereo = 128 KiB).
_BLOCK_FRAMES = 8192


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
    #: What the container's header claims (s); None where it states nothing exact.
    declared_duration_s: float | None = None

    @property
    def shortfall_s(self) -> float:
        """Seconds the header promised but the file did not hold, beyond the tolerance
        of a frame or a rounded header (TRUNCATION_TOLERANCE_*); 0.0 for a whole file."""
        if self.declared_duration_s is None:
            return 0.0
        missing = self.declared_duration_s - self.duration_s
        tolerance = max(TRUNCATION_TOLERANCE_S, TRUNCATION_TOLERANCE_RATIO * self.declared_duration_s)
        return missing if missing > tolerance else 0.0


def load_call(
    path: str | os.PathLike[str],
    *,
    sample_rate_hz: int = 16000,
    agent_channel: AgentChannel = "left",
) -> CallAudio:
    """Decode `path` to float32 at `sample_rate_hz` (Hz), one array per speaker channel.

    For stereo files `agent_channel` ("left" or "right") says which side the agent is
    on; the other side is the customer. Mono files give a single "mixed" channel.
    Raises `AudioError` for missing, unreadable, empty, non-audio, zero-length,
    unsupported-codec, too-low-rate or more-than-two-channel input, and when
    ffmpeg/ffprobe are not installed.

    Memory: about the decoded size (2 h of stereo at 16 kHz: 0.92 GB) plus a 128 KiB
    block, because ffmpeg's output is read straight into the per-channel arrays.
    """
    if agent_channel not in AGENT_CHANNELS:
        raise ValueError(f"agent_channel must be 'left' or 'right', got {agent_channel!r}")
    if sample_rate_hz <= 0:
        raise ValueError(f"sample_rate_hz must be positive, got {sample_rate_hz}")
    check_file(path)
    ffprobe, ffmpeg = _tool(path, "ffprobe"), _tool(path, "ffmpeg")
    stream = _probe(ffprobe, path)

    codec = stream.get("codec_name")
    if not codec:  # ffprobe found a stream but ffmpeg has no decoder for it
        tag = stream.get("codec_tag") or stream.get("codec_tag_string") or "?"
        raise AudioError(path, f"unsupported audio codec (ffmpeg has no decoder for codec tag {tag})")
    codec = str(codec)
    source_channels = int(stream.get("channels") or 0)
    source_rate_hz = int(stream.get("sample_rate") or 0)
    if source_channels not in (1, 2):
        raise AudioError(
            path,
            f"{source_channels} audio channels; expected 1 (mono) or 2 (agent/customer stereo)",
        )
    if 0 < source_rate_hz < MIN_SOURCE_RATE_HZ:
        raise AudioError(
            path, f"sample rate {source_rate_hz} Hz is too low for speech (at least {MIN_SOURCE_RATE_HZ} Hz)"
        )

    expected_s = _float(stream.get("duration")) or _float(stream.get("format_duration"))
    declared_s = declared_duration_s(path, stream)
    decoded = _decode(ffmpeg, path, sample_rate_hz, source_channels, expected_s)
    if len(decoded[0]) == 0:
        raise AudioError(path, f"no audio samples decoded (zero-length {codec} stream)")

    if source_channels == 2:
        left, right = decoded
        agent, customer = (left, right) if agent_channel == "left" else (right, left)
        channels = {"agent": agent, "customer": customer}
        layout: Literal["stereo", "mono"] = "stereo"
    else:
        channels = {"mixed": decoded[0]}
        layout = "mono"

    return CallAudio(
        source_path=str(path),
        codec=codec,
        source_sample_rate_hz=source_rate_hz,
        source_channels=source_channels,
        sample_rate_hz=sample_rate_hz,
        duration_s=len(decoded[0]) / sample_rate_hz,
        layout=layout,
        channels=channels,
        declared_duration_s=declared_s,
    )


def declared_duration_s(path: str | os.PathLike[str], stream: dict) -> float | None:
    """What the container promises (s), to compare with what decodes; None where its
    figure is only a guess.

    ffmpeg's WAV reader clamps the header's data size to the file's, so a WAV cut short
    reports its short length: its promise is read from the RIFF header here instead.
    A duration ffmpeg estimated from the bit rate is no promise at all.
    """
    if "wav" in str(stream.get("format_name", "")).split(","):
        return _wav_data_duration_s(path)
    if stream.get("duration_estimated"):
        return None
    return _float(stream.get("duration")) or _float(stream.get("format_duration"))


def _wav_data_duration_s(path: str | os.PathLike[str]) -> float | None:
    """Duration (s) that a RIFF/WAVE header's `data` chunk size promises; None when the
    header states no size (0 or 0xFFFFFFFF: written while streaming) or is not RIFF."""
    import struct

    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            byte_rate = None
            while chunk := f.read(8):
                if len(chunk) < 8:
                    return None
                chunk_id, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if chunk_id == b"fmt ":
                    fmt = f.read(size + (size & 1))
                    if len(fmt) < 12:
                        return None
                    byte_rate = struct.unpack("<I", fmt[8:12])[0]
                elif chunk_id == b"data":
                    if not byte_rate or size in (0, 0xFFFFFFFF):
                        return None
                    return size / byte_rate
                else:
                    f.seek(size + (size & 1), os.SEEK_CUR)
    except OSError:
        return None
    return None


def check_file(path: str | os.PathLike[str]) -> None:
    """Raise `AudioError` unless `path` is a non-empty regular file this process can read.

    Checked before anything opens the file, so that the message says "not found" rather
    than ffprobe's wording, and so that a FIFO or device named as a recording is refused
    instead of blocking the batch on open().
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise AudioError(path, "file not found") from None
    except OSError as exc:
        raise AudioError(path, f"cannot access the file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise AudioError(path, "not a regular file")
    if not os.access(path, os.R_OK):
        raise AudioError(path, "file is not readable (permission denied)")
    if st.st_size == 0:
        raise AudioError(path, "file is empty (0 bytes)")


def _float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 and number != float("inf") else None


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
        ffprobe, "-v", "warning", "-select_streams", "a:0",
        "-show_entries", "stream=codec_name,codec_tag,channels,sample_rate,duration:format=duration,format_name",
        "-of", "json", _input_url(path),
    ]  # fmt: skip
    proc = _run("ffprobe", cmd, path, _PROBE_TIMEOUT_S)
    if proc.returncode != 0:
        raise AudioError(path, f"not a decodable audio file (ffprobe: {_last_line(proc.stderr)})")
    try:
        info = json.loads(proc.stdout or b"{}")
    except json.JSONDecodeError:
        raise AudioError(path, "ffprobe returned unreadable output") from None
    streams = info.get("streams") or []
    if not streams:
        raise AudioError(path, "no audio stream found (not an audio file?)")
    fmt = info.get("format") or {}
    return {**streams[0], "format_duration": fmt.get("duration"), "format_name": fmt.get("format_name") or "",
            # ffmpeg guessed the duration from the bit rate (a VBR mp3 without a Xing header)
            "duration_estimated": b"Estimating duration from bitrate" in proc.stderr}


def _decode(
    ffmpeg: str, path: str | os.PathLike[str], sample_rate_hz: int, channels: int, expected_s: float | None
) -> list[np.ndarray]:
    """One float32 array per channel of the first audio stream at `sample_rate_hz`.

    ffmpeg's interleaved output is read block by block straight into per-channel arrays
    sized from the container's duration (`expected_s`; np.empty pages cost nothing until
    written, so an over-claiming header of a truncated file costs no memory), grown if the
    claim was short and trimmed at the end. Reading all of stdout first, as
    subprocess.run does, held three to four copies of a long call at once.
    """
    cmd = [
        ffmpeg, "-nostdin", "-hide_banner", "-v", "error",
        "-i", _input_url(path),
        "-map", "0:a:0", "-vn",
        "-f", "f32le", "-acodec", "pcm_f32le",
        "-ac", str(channels), "-ar", str(sample_rate_hz),
        "pipe:1",
    ]  # fmt: skip
    capacity = int((expected_s or 60.0) * sample_rate_hz * 1.01) + sample_rate_hz
    out = [np.empty(capacity, dtype=np.float32) for _ in range(channels)]
    block = np.empty(_BLOCK_FRAMES * channels, dtype="<f4")
    view = memoryview(block).cast("B")
    frame_bytes = 4 * channels
    n_frames = 0
    timed_out = threading.Event()
    with tempfile.TemporaryFile() as stderr:  # a file, not a pipe: a chatty ffmpeg cannot block on it
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        except OSError as exc:
            raise AudioError(path, f"could not run ffmpeg: {exc}") from None
        timer = threading.Timer(_DECODE_TIMEOUT_S, lambda: (timed_out.set(), proc.kill()))
        timer.start()
        try:
            while True:
                filled = 0
                while filled < len(view):
                    got = proc.stdout.readinto(view[filled:])
                    if not got:
                        break
                    filled += got
                frames = filled // frame_bytes  # a partial last frame (killed ffmpeg) is dropped
                if frames:
                    if n_frames + frames > capacity:
                        capacity = max(n_frames + frames, int(capacity * 1.5))
                        for arr in out:
                            arr.resize(capacity, refcheck=False)
                    interleaved = block[: frames * channels].reshape(frames, channels)
                    for c, arr in enumerate(out):
                        arr[n_frames : n_frames + frames] = interleaved[:, c]
                    n_frames += frames
                if filled < len(view):
                    break
            returncode = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if timed_out.is_set():
            raise AudioError(path, f"ffmpeg timed out after {_DECODE_TIMEOUT_S} s")
        if returncode != 0:
            stderr.seek(max(0, stderr.seek(0, os.SEEK_END) - 65536))  # its last words suffice
            raise AudioError(path, f"ffmpeg could not decode the audio: {_last_line(stderr.read())}")
    for arr in out:
        arr.resize(n_frames, refcheck=False)  # in place: shrinking a large block does not copy it
    return out
