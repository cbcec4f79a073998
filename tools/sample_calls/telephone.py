"""The telephone channel: 300-3400 Hz band, pink line noise, peak level, and the ffmpeg
encoding (PCM, G.711 mu-law or mp3, bit-exact flags) with an ffprobe check."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
from scipy import signal

from analyzers.model import AGENT, CUSTOMER, Utterance

from .script import Call
from .synth import RATE

NOISE_DBFS = -50.0  # RMS of the line noise
PEAK = 0.89  # -1 dBFS
SEED = 20240601

BAND_SOS = signal.butter(4, [300, 3400], btype="bandpass", fs=RATE, output="sos")


def telephone(track: np.ndarray) -> np.ndarray:
    y = signal.sosfiltfilt(BAND_SOS, track)
    return y / (np.abs(y).max() + 1e-12)


def line_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    # pink-ish noise (1/f by filtering white noise), band-limited, -50 dBFS RMS
    white = rng.standard_normal(n + RATE)
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    pink = signal.lfilter(b, a, white)[RATE:]
    pink = signal.sosfilt(BAND_SOS, pink)
    return pink / np.sqrt((pink**2).mean()) * 10 ** (NOISE_DBFS / 20)


def render_audio(call: Call, placed, total: int) -> np.ndarray:
    tracks = {AGENT: np.zeros(total), CUSTOMER: np.zeros(total)}
    for spk, start, audio in placed:
        tracks[spk][start : start + len(audio)] += audio
    rng = np.random.default_rng(SEED + int(call.call_id[4:6]))
    if call.layout == "stereo":
        chans = [telephone(tracks[AGENT]), telephone(tracks[CUSTOMER])]  # left, right
    else:
        chans = [telephone(telephone(tracks[AGENT]) + telephone(tracks[CUSTOMER]))]
    out = np.stack([c * PEAK + line_noise(total, rng) for c in chans], axis=1)
    return np.clip(out, -1.0, 1.0)


CODECS = {
    "pcm": ("wav", ["-c:a", "pcm_s16le"], "pcm_s16le"),
    "mulaw": ("wav", ["-c:a", "pcm_mulaw"], "pcm_mulaw"),
    "mp3": ("mp3", ["-c:a", "libmp3lame", "-q:a", "6"], "mp3"),
}


def encode(audio: np.ndarray, fmt: str, path: Path) -> None:
    ext, args, _ = CODECS[fmt]
    pcm = np.round(audio * 32767).astype("<i2")
    cmd = [
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "s16le", "-ar", str(RATE), "-ac", str(audio.shape[1]), "-i", "pipe:0",
        *args, "-ar", str(RATE),
        "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
    ]
    if fmt == "mp3":
        cmd += ["-b:a", "32k" if audio.shape[1] == 2 else "24k", "-write_xing", "1"]
    subprocess.run([*cmd, str(path)], input=pcm.tobytes(), check=True)


def ffprobe(path: Path) -> dict:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
         "stream=codec_name,sample_rate,channels:format=duration", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout
    d = json.loads(out)
    s = d["streams"][0]
    return dict(codec=s["codec_name"], rate=int(s["sample_rate"]), channels=s["channels"],
                duration=float(d["format"]["duration"]))


def span_rms_db(audio: np.ndarray, u: Utterance, layout: str) -> float:
    channel = (0 if u.speaker == AGENT else 1) if layout == "stereo" else 0
    span = audio[int(u.start_s * RATE): int(u.end_s * RATE), channel]
    return round(float(20 * np.log10(np.sqrt(np.mean(span**2)) + 1e-12)), 1)
