"""The real-Mandarin ASR evaluation set (issue 33), its telephone copies and the bootstrap.

The set: every clip of ../shared/audio/real with a reference in REFERENCES.tsv, plus the
clips in PACKAGE_CLIPS, read where their package installed them (nothing copied into the
repo). Each clip is also heard as a telephone copy made at run time: 8 kHz, band-limited to
300-3400 Hz, written as G.711 mu-law (libsndfile's ULAW) and decoded back by callqa.
Pooled CER carries a bootstrap 95 % interval over clips (clips resampled with replacement).
"""

from __future__ import annotations

import csv
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "audio" / "real"
TELEPHONE_RATE_HZ = 8000
TELEPHONE_BAND_HZ = (300.0, 3400.0)


@dataclass(frozen=True)
class Clip:
    """One clip with its reference text, where it came from and under which licence."""

    clip_id: str
    path: Path
    reference: str
    source: str
    licence: str


#: Real Mandarin clips that a package on the package index ships, with their reference
#: text from the same package. Searched: the package lists (pypi.tsv, npm.tsv) for Mandarin
#: speech, ASR and TTS packages; 30 wheels looked into, one Mandarin clip with its text found.
PACKAGE_CLIPS: tuple[dict, ...] = (
    {
        "package": "f5-tts", "version": "1.1.22",
        "file": "f5_tts/infer/examples/basic/basic_ref_zh.wav",
        # the text is the package's own: f5_tts/infer/speech_edit.py, origin_text
        "reference": "对，这就是我，万人敬仰的太乙真人。",
        "licence": "MIT (package); the clip's own origin is not stated (a film line, it seems)",
    },
)


class MissingClip(RuntimeError):
    """A clip of the set is not on this machine (its package is not installed)."""


def real_clips(root: Path = REAL) -> list[Clip]:
    """The referenced clips of `root` (REFERENCES.tsv rows with a reference)."""
    with open(root / "REFERENCES.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [Clip(r["file"], root / r["file"], r["reference_transcript"].strip(), r["source"], r["licence"])
            for r in rows if r["reference_transcript"].strip()]


def package_clip(entry: dict) -> Clip:
    """The clip `entry` of PACKAGE_CLIPS where its package installed it; MissingClip with
    the install command when the package or the file is not there."""
    hint = f"pip install --no-deps {entry['package']}=={entry['version']}"
    try:
        dist = importlib.metadata.distribution(entry["package"])
    except importlib.metadata.PackageNotFoundError:
        raise MissingClip(f"{entry['package']} is not installed: {hint}") from None
    path = Path(dist.locate_file(entry["file"]))
    if not path.is_file():
        raise MissingClip(f"{entry['package']} {dist.version} has no {entry['file']}: {hint}")
    source = f"PyPI {entry['package']} {dist.version}: {entry['file']}"
    return Clip(f"{entry['package']}/{Path(entry['file']).name}", path, entry["reference"], source, entry["licence"])


def eval_set(root: Path = REAL, packages: bool = True) -> list[Clip]:
    """The whole set: the referenced real clips, then the package clips (MissingClip when
    one is absent: the set never shrinks silently)."""
    return real_clips(root) + ([package_clip(e) for e in PACKAGE_CLIPS] if packages else [])


def telephone(samples: np.ndarray, sample_rate_hz: int) -> np.ndarray:
    """`samples` (mono float) as a telephone line passes them: at 8 kHz, 300-3400 Hz
    (a 4th-order Butterworth band-pass, causal like a line), clipped to [-1, 1]. The
    mu-law step is the file's encoding: see write_telephone."""
    from math import gcd

    from scipy import signal

    x = np.asarray(samples, dtype=np.float64)
    if sample_rate_hz != TELEPHONE_RATE_HZ:
        g = gcd(int(sample_rate_hz), TELEPHONE_RATE_HZ)
        x = signal.resample_poly(x, TELEPHONE_RATE_HZ // g, int(sample_rate_hz) // g)
    sos = signal.butter(4, TELEPHONE_BAND_HZ, btype="bandpass", fs=TELEPHONE_RATE_HZ, output="sos")
    return np.clip(signal.sosfilt(sos, x), -1.0, 1.0).astype(np.float32)


def write_telephone(samples: np.ndarray, sample_rate_hz: int, dst: Path) -> Path:
    """The telephone copy of `samples` as an 8 kHz G.711 mu-law WAV at `dst`."""
    import soundfile as sf

    sf.write(str(dst), telephone(samples, sample_rate_hz), TELEPHONE_RATE_HZ, subtype="ULAW", format="WAV")
    return dst


def telephone_copy(src: Path, dst: Path) -> Path:
    """`src` decoded by callqa (flows.speech.audio.load_call, mono mix) and written as its
    telephone copy at `dst`."""
    from flows.speech.audio import load_call

    audio = load_call(src)
    mono = np.mean(np.stack(list(audio.channels.values())), axis=0)
    return write_telephone(mono, audio.sample_rate_hz, dst)


def bootstrap_cer(errors: Sequence[int], chars: Sequence[int], n_boot: int = 2000,
                  seed: int = 0) -> tuple[float, float, float]:
    """(pooled CER, 2.5 %, 97.5 % quantile) with the clips resampled with replacement:
    per clip its character errors and reference characters."""
    e, n = np.asarray(errors, dtype=float), np.asarray(chars, dtype=float)
    if len(e) != len(n) or not len(n) or n.sum() <= 0:
        raise ValueError("need one (errors, chars) pair per clip and some reference characters")
    idx = np.random.default_rng(seed).integers(0, len(n), size=(n_boot, len(n)))
    rates = e[idx].sum(axis=1) / np.maximum(n[idx].sum(axis=1), 1)
    lo, hi = np.quantile(rates, [0.025, 0.975])
    return float(e.sum() / n.sum()), float(lo), float(hi)


def bootstrap_diff(errors_a: Sequence[int], errors_b: Sequence[int], chars: Sequence[int],
                   n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Pooled CER of A minus that of B on the same clips, with a paired bootstrap 95 %
    interval (the same resampled clips for both): (difference, low, high)."""
    a, b, n = (np.asarray(x, dtype=float) for x in (errors_a, errors_b, chars))
    if not (len(a) == len(b) == len(n)) or not len(n) or n.sum() <= 0:
        raise ValueError("need the same clips for both, with some reference characters")
    idx = np.random.default_rng(seed).integers(0, len(n), size=(n_boot, len(n)))
    total = np.maximum(n[idx].sum(axis=1), 1)
    diffs = (a[idx].sum(axis=1) - b[idx].sum(axis=1)) / total
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    return float((a.sum() - b.sum()) / n.sum()), float(lo), float(hi)
