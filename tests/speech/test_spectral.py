"""flows.speech.spectral against librosa: the MFCC + pitch diarizer's frame features
(mel bands, MFCCs, YIN, RMS) without importing librosa in the pipeline."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from flows.speech import spectral
from tests.conftest import REAL_CLIPS, ROOT, need_file

SR = 16000
HOP, N_FFT, YIN_FRAME = 160, 512, 1024  # what flows.speech.diarize uses at 16 kHz


def _speech() -> np.ndarray:
    """Real Mandarin speech (a shared clip), float32 at 16 kHz."""
    from flows.speech.audio import load_call

    clip = need_file(REAL_CLIPS / "funasr" / "asr_example.wav", "../shared/audio/real")
    return load_call(clip).channels["mixed"]


def _signals():
    rng = np.random.default_rng(3)
    speech = _speech()
    t = np.arange(3 * SR) / SR
    return {
        "speech": speech,
        # Longer than two blocks of frames: block edges must not show.
        "speech_x3": np.tile(speech, int(np.ceil(2.5 * spectral.BLOCK_FRAMES * HOP / len(speech)))),
        "glide": (0.4 * np.sin(2 * np.pi * (90 * t + 40 * t**2))).astype(np.float32),  # 90 -> 330 Hz
        "noise": rng.normal(0, 0.1, SR).astype(np.float32),
        "short": rng.normal(0, 0.1, 300).astype(np.float32),  # under one frame
        "silence": np.zeros(SR, dtype=np.float32),
    }


@pytest.fixture(scope="module")
def signals():
    return _signals()


@pytest.mark.parametrize("n", [1, 199, 400, 401, 16000, spectral.BLOCK_FRAMES * 160 * 2 + 5])
@pytest.mark.parametrize("frame,hop", [(400, 160), (201, 80), (1024, 160)])
def test_rms_is_librosas_exactly(n, frame, hop):
    import librosa

    y = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    expected = librosa.feature.rms(y=y, frame_length=frame, hop_length=hop, center=True)[0]
    assert np.array_equal(spectral.rms(y, frame, hop), expected)


@pytest.mark.parametrize("sr,n_fft,n_mels,fmin,fmax", [
    (16000, 400, 40, 0.0, None), (16000, 512, 40, 100.0, 4000.0), (8000, 256, 40, 100.0, 4000.0), (22050, 2048, 128, 0.0, None),
])  # fmt: skip
def test_mel_bands_are_librosas_exactly(sr, n_fft, n_mels, fmin, fmax):
    import librosa

    expected = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    ours = spectral.mel_basis(sr, n_fft, n_mels, fmin, fmax)
    assert ours.dtype == expected.dtype and np.array_equal(ours, expected)


@pytest.mark.parametrize("kind", ["speech", "speech_x3", "glide", "noise", "short", "silence"])
def test_mfcc_is_librosas(signals, kind):
    import librosa

    y = signals[kind]
    expected = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20, n_fft=N_FFT, hop_length=HOP, n_mels=40, fmin=100.0, fmax=4000.0)
    ours = spectral.mfcc(y, SR, 20, N_FFT, HOP, n_mels=40, fmin_hz=100.0, fmax_hz=4000.0)
    assert ours.shape == expected.shape and ours.dtype == np.float32
    # MFCCs of speech span hundreds of dB-units; float32 rounding of the DCT and the
    # band sums differs from scipy's, by a few 1e-5 (measured: at most 9e-5 on real clips).
    np.testing.assert_allclose(ours, expected, rtol=0, atol=5e-4)


@pytest.mark.parametrize("kind", ["speech", "speech_x3", "glide", "noise", "silence"])
def test_yin_is_librosas(signals, kind):
    """Every frame picks the same trough: a different one would move f0 by far more
    than rounding (an octave, or a period's step of several %)."""
    import librosa

    y = signals[kind]
    expected = librosa.yin(y, fmin=60.0, fmax=400.0, sr=SR, frame_length=YIN_FRAME, hop_length=HOP)
    ours = spectral.yin(y, 60.0, 400.0, SR, YIN_FRAME, HOP)
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=0)


def test_yin_follows_a_glide(signals):
    """Not only librosa's numbers: the pitch of a 90 -> 330 Hz glide, within 2 %."""
    f0 = spectral.yin(signals["glide"], 60.0, 400.0, SR, YIN_FRAME, HOP)
    t = np.arange(len(f0)) * HOP / SR
    inside = (t > 0.1) & (t < 2.9)
    np.testing.assert_allclose(f0[inside], (90 + 80 * t)[inside], rtol=0.02)


def test_yin_rejects_a_range_the_frames_cannot_hold():
    with pytest.raises(ValueError, match="fmin"):
        spectral.yin(np.zeros(SR, dtype=np.float32), 60.0, 20000.0, SR, YIN_FRAME, HOP)


def test_next_fast_len_is_scipys():
    import scipy.fft

    for n in [1, 2, 7, 11, 97, 127, 641, 1279, 2047, 4095, 10007]:
        assert spectral._next_fast_len(n) == scipy.fft.next_fast_len(n, real=True), n


def test_mono_diarization_imports_no_librosa():
    """The point of the module: diarizing a mono call (both methods) leaves librosa,
    scipy.signal and numba unimported (~3 s per process)."""
    code = (
        "import sys, numpy as np\n"
        "from flows.speech.diarize import diarize\n"
        "from flows.speech.diarize_embed import diarize_call\n"
        "rng = np.random.default_rng(0)\n"
        "y = np.concatenate([np.sin(2*np.pi*f*np.arange(32000)/16000) * (0.3 + 0.1*rng.standard_normal(32000))\n"
        "                    for f in (120, 220, 120, 220)]).astype(np.float32)\n"
        "spans = [(0.1, 1.9), (2.1, 3.9), (4.1, 5.9), (6.1, 7.9)]\n"
        "diarize(y, 16000, spans)\n"
        "diarize_call(y, 16000, spans, method='auto')\n"
        "print(sorted(m for m in ('librosa', 'scipy.signal', 'numba') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
