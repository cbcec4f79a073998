"""Speaker embeddings (d-vectors) from resemblyzer's pretrained GE2E voice encoder.

The encoder's weights ship inside the `resemblyzer` wheel (`pretrained.pt`, 17 MB), so
nothing is downloaded. The package itself is not imported: its `__init__` imports
`webrtcvad`, which needs `pkg_resources` at import time. The network is three lines of
torch (an LSTM over 40-band mel frames, a linear layer, ReLU, L2 norm), rebuilt here
with the same weights and the same mel front end (librosa's numbers, computed with numpy:
tests/test_voice_encoder.py). The vectors equalled resemblyzer's own
`VoiceEncoder.embed_utterance` to 2e-7 in a venv where it imports (docs/diarization.md).
"""

from __future__ import annotations

import importlib.util
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np

from flows.speech import spectral

#: The encoder's input: 16 kHz audio, 25 ms / 10 ms mel frames, 40 bands, and one
#: "partial" of 160 frames (1.6 s) per vector.
RATE_HZ = 16000
_HOP = 160
_N_FFT = 400
_N_MELS = 40
PARTIAL_SAMPLES = 160 * _HOP


class EncoderMissing(RuntimeError):
    """The resemblyzer wheel (the encoder's weights) is not installed."""


def weights_path() -> Path:
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise EncoderMissing("the speaker encoder needs the 'resemblyzer' package (pip install resemblyzer==0.1.4)")
    path = Path(list(spec.submodule_search_locations)[0]) / "pretrained.pt"
    if not path.is_file():
        raise EncoderMissing(f"resemblyzer is installed but its weights are missing: {path}")
    return path


@lru_cache(maxsize=1)
def _model():
    import torch
    from torch import nn

    class _GE2E(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(_N_MELS, 256, 3, batch_first=True)
            self.linear = nn.Linear(256, 256)
            self.relu = nn.ReLU()

        def forward(self, mels):
            _, (hidden, _) = self.lstm(mels)
            raw = self.relu(self.linear(hidden[-1]))
            return raw / torch.norm(raw, dim=1, keepdim=True)

    model = _GE2E()
    state = torch.load(weights_path(), map_location="cpu")["model_state"]
    model.load_state_dict(state, strict=False)  # the checkpoint also holds GE2E's loss scalars
    model.eval()
    return model


def mel_frames(wavs: np.ndarray) -> np.ndarray:
    """The encoder's 160 mel frames of each row of `wavs` (rows of PARTIAL_SAMPLES at
    16 kHz), shape (rows, 160, 40), float32.

    `librosa.feature.melspectrogram(y, sr=16000, n_fft=400, hop_length=160, n_mels=40)`
    (centred frames, zero padding, a periodic Hann window, power 2, Slaney mel bands)
    as resemblyzer computes it, for all rows at once with numpy: importing
    librosa.feature compiles its numba kernels, 3.6 s in every process that embeds a voice
    (tests/test_voice_encoder.py compares the two)."""
    wavs = np.asarray(wavs, dtype=np.float32)
    padded = np.pad(wavs, ((0, 0), (_N_FFT // 2, _N_FFT // 2)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, _N_FFT, axis=1)[:, ::_HOP][:, :160]
    spectrum = np.fft.rfft(frames * spectral.hann(_N_FFT).astype(np.float32), axis=-1)
    power = spectrum.real**2 + spectrum.imag**2
    return (power @ spectral.mel_basis(RATE_HZ, _N_FFT, _N_MELS).T).astype(np.float32)


@contextmanager
def _torch_threads(n: int):
    """torch with `n` threads, the caller's setting restored after (whisper shares it)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def embed_windows(samples_16k: np.ndarray, windows_s: list[tuple[float, float]], batch: int = 64) -> np.ndarray:
    """One L2-normalised 256-d voice vector per window of `samples_16k` (16 kHz mono).

    Windows up to 1.6 s, as resemblyzer's `embed_utterance` treats them: each is peak-
    normalised (level says nothing about who speaks), zero-padded to 1.6 s and encoded as
    one partial. Returns an array of shape (len(windows_s), 256).
    """
    import torch

    if not windows_s:
        return np.zeros((0, 256), dtype=np.float32)
    model = _model()
    out = []
    # One thread: on a busy 2-core machine torch's default (a thread per core) made each
    # window ~50x slower, its threads spinning while waiting for each other.
    with _torch_threads(1), torch.no_grad():
        # A batch of windows at a time: all the windows of a 2-hour call at once would
        # hold ~1 GB of padded audio.
        for i in range(0, len(windows_s), batch):
            chunk = windows_s[i : i + batch]
            wavs = np.zeros((len(chunk), PARTIAL_SAMPLES), dtype=np.float32)
            for row, (start_s, end_s) in zip(wavs, chunk):
                wav = np.asarray(samples_16k[int(start_s * RATE_HZ) : int(end_s * RATE_HZ)], dtype=np.float32)
                wav = wav[:PARTIAL_SAMPLES]
                peak = float(np.max(np.abs(wav))) if len(wav) else 0.0
                row[: len(wav)] = wav / peak * 0.5 if peak > 0 else wav
            out.append(model(torch.from_numpy(mel_frames(wavs))).numpy())
    return np.concatenate(out)
