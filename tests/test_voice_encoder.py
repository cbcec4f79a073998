"""The voice encoder's mel front end (flows.speech.voice_encoder): numpy's, the same
numbers as the librosa calls resemblyzer makes, without importing librosa in the pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from flows.speech import spectral
from flows.speech import voice_encoder as ve


def test_mel_bands_are_librosas():
    import librosa

    expected = librosa.filters.mel(sr=ve.RATE_HZ, n_fft=400, n_mels=40)
    ours = spectral.mel_basis(ve.RATE_HZ, 400, 40)
    assert ours.dtype == expected.dtype == np.float32
    assert np.array_equal(ours, expected)


def _librosa_frames(wav: np.ndarray) -> np.ndarray:
    import librosa

    mel = librosa.feature.melspectrogram(y=wav, sr=ve.RATE_HZ, n_fft=400, hop_length=160, n_mels=40)
    return mel.astype(np.float32).T[:160]


@pytest.mark.parametrize("kind", ["noise", "tone", "short", "silence"])
def test_mel_frames_are_librosas(kind):
    rng = np.random.default_rng(7)
    n = ve.PARTIAL_SAMPLES
    t = np.arange(n) / ve.RATE_HZ
    wav = {
        "noise": rng.normal(0, 0.2, n),
        "tone": 0.5 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 3100 * t),
        "short": np.concatenate([rng.normal(0, 0.3, n // 3), np.zeros(n - n // 3)]),  # a window padded with zeros
        "silence": np.zeros(n),
    }[kind].astype(np.float32)
    ours = ve.mel_frames(wav[np.newaxis])[0]
    theirs = _librosa_frames(wav)
    assert ours.shape == theirs.shape == (160, 40) and ours.dtype == np.float32
    # Float32 FFTs in another order: the same numbers to rounding.
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6 * max(1.0, float(theirs.max())))


def test_mel_frames_of_many_rows_are_each_rows_own():
    rng = np.random.default_rng(3)
    wavs = rng.normal(0, 0.1, (5, ve.PARTIAL_SAMPLES)).astype(np.float32)
    together = ve.mel_frames(wavs)
    assert together.shape == (5, 160, 40)
    for row, frames in zip(wavs, together):
        np.testing.assert_allclose(frames, ve.mel_frames(row[np.newaxis])[0], rtol=1e-6, atol=1e-9)
