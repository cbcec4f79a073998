"""The voice encoder (flows.speech.voice_encoder): its mel front end the same numbers as
the librosa calls resemblyzer makes, its weights and forward pass the same as resemblyzer's
torch model, without importing librosa or torch in the pipeline."""

from __future__ import annotations

from pathlib import Path

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


def _torch_encoder():
    """resemblyzer's network in torch (its VoiceEncoder's layers), with the checkpoint's weights."""
    import torch
    from torch import nn

    class GE2E(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(40, 256, 3, batch_first=True)
            self.linear = nn.Linear(256, 256)

        def forward(self, mels):
            _, (hidden, _) = self.lstm(mels)
            raw = torch.relu(self.linear(hidden[-1]))
            return raw / torch.norm(raw, dim=1, keepdim=True)

    model = GE2E()
    model.load_state_dict(torch.load(ve.weights_path(), map_location="cpu")["model_state"], strict=False)
    return model.eval()


def test_checkpoint_reads_as_torch_loads_it():
    import torch

    ours = ve.read_legacy_checkpoint(ve.weights_path())
    theirs = torch.load(ve.weights_path(), map_location="cpu")
    assert ours["model_state"].keys() == theirs["model_state"].keys()
    for name, tensor in theirs["model_state"].items():
        assert ours["model_state"][name].dtype == np.float32
        assert np.array_equal(ours["model_state"][name], tensor.numpy()), name


def test_forward_pass_is_resemblyzers_torch_model():
    import torch

    rng = np.random.default_rng(11)
    wavs = rng.normal(0, 0.1, (7, ve.PARTIAL_SAMPLES)).astype(np.float32)
    wavs[3, ve.PARTIAL_SAMPLES // 2 :] = 0.0  # a short window, zero-padded
    mels = ve.mel_frames(wavs)
    with torch.no_grad():
        theirs = _torch_encoder()(torch.from_numpy(mels)).numpy()
    ours = ve.encode(mels)
    assert ours.shape == (7, 256) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=2e-6)


def test_voice_encoder_leaves_torch_alone():
    """The encoder runs in numpy: no torch import (1.2 s of a run with a mono call) and no
    thread count to restore."""
    import subprocess
    import sys

    code = ("import sys, numpy as np; from flows.speech.voice_encoder import embed_windows; "
            "v = embed_windows(np.random.default_rng(0).normal(0, 0.1, 32000).astype(np.float32), [(0.0, 1.5)]); "
            "assert v.shape == (1, 256) and 'torch' not in sys.modules, 'torch imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=str(Path(__file__).resolve().parents[2]))
    assert done.returncode == 0, done.stderr[-2000:]
