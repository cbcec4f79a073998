"""Speaker embeddings (d-vectors) from resemblyzer's pretrained GE2E voice encoder.

The encoder's weights ship inside the `resemblyzer` wheel (`pretrained.pt`, 17 MB), so
nothing is downloaded. The package itself is not imported: its `__init__` imports
`webrtcvad`, which needs `pkg_resources` at import time. The network (an LSTM over
40-band mel frames, a linear layer, ReLU, L2 norm) runs here in numpy with the same
weights, read from the checkpoint without torch (a default run imports no torch), and the
same mel front end (librosa's numbers, computed with numpy:
tests/speech/test_voice_encoder.py). The vectors equalled resemblyzer's own
`VoiceEncoder.embed_utterance` to 2e-7 in a venv where it imports (docs/diarization.md).
"""

from __future__ import annotations

import collections
import pickle
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from flows.speech import package_file, spectral

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
    return package_file("resemblyzer", "pretrained.pt", "the speaker encoder", "resemblyzer==0.1.4", EncoderMissing)


#: The tensor storages a legacy (pre-zip) torch checkpoint may hold, by pickled class name.
_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                   "LongStorage": np.int64, "IntStorage": np.int32, "ByteStorage": np.uint8, "BoolStorage": np.bool_}


@dataclass(frozen=True)
class _TensorRef:
    storage: str
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _tensor_ref(storage, offset, shape, stride, *_):
    return _TensorRef(storage, offset, tuple(shape), tuple(stride))


class _CheckpointUnpickler(pickle.Unpickler):
    """Unpickles a legacy torch checkpoint's object graph: tensors become _TensorRef,
    storages their key; any other class is refused (nothing in the file runs code)."""

    def __init__(self, f) -> None:
        super().__init__(f)
        self.storage_types: dict[str, str] = {}

    def find_class(self, module: str, name: str):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _tensor_ref
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in the encoder's checkpoint")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, _numel, view = pid
        if kind != "storage" or view is not None:
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r} in the encoder's checkpoint")
        self.storage_types[key] = storage_type
        return key


def read_legacy_checkpoint(path: Path) -> dict:
    """A checkpoint in torch's legacy format (what `torch.save` wrote before 1.6, as
    resemblyzer's pretrained.pt), its tensors as numpy arrays, without torch: three
    pickles (magic number, protocol, system info), the object graph, the storage keys,
    then each storage as an int64 element count and its raw little-endian elements.
    tests/speech/test_voice_encoder.py compares it with torch.load."""
    with open(path, "rb") as f:
        for _ in range(3):
            pickle.load(f)
        unpickler = _CheckpointUnpickler(f)
        graph = unpickler.load()
        storages = {}
        for key in pickle.load(f):
            (count,) = struct.unpack("<q", f.read(8))
            dtype = np.dtype(_STORAGE_DTYPES[unpickler.storage_types[key]])
            storages[key] = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype.newbyteorder("<"))

    def arrays(node):
        if isinstance(node, _TensorRef):
            data = storages[node.storage]
            return np.lib.stride_tricks.as_strided(data[node.offset:], node.shape,
                                                   [s * data.itemsize for s in node.stride]).copy()
        if isinstance(node, dict):
            return type(node)((k, arrays(v)) for k, v in node.items())
        if isinstance(node, (list, tuple)):
            return type(node)(arrays(v) for v in node)
        return node

    return arrays(graph)


@lru_cache(maxsize=1)
def _weights() -> dict[str, np.ndarray]:
    """The encoder's weights (float32) laid out for `encode`: each LSTM layer's input and
    recurrent matrices transposed, their gate columns reordered from torch's i, f, g, o to
    i, f, o, g (one sigmoid over the first three), the two biases summed."""
    state = read_legacy_checkpoint(weights_path())["model_state"]
    order = np.r_[0:512, 768:1024, 512:768]
    w = {"linear.weight": np.ascontiguousarray(state["linear.weight"].T, dtype=np.float32),
         "linear.bias": np.asarray(state["linear.bias"], dtype=np.float32)}
    for layer in range(3):
        w[f"ih{layer}"] = np.ascontiguousarray(state[f"lstm.weight_ih_l{layer}"][order].T, dtype=np.float32)
        w[f"hh{layer}"] = np.ascontiguousarray(state[f"lstm.weight_hh_l{layer}"][order].T, dtype=np.float32)
        w[f"b{layer}"] = (state[f"lstm.bias_ih_l{layer}"] + state[f"lstm.bias_hh_l{layer}"])[order].astype(np.float32)
    return w


def encode(mels: np.ndarray) -> np.ndarray:
    """GE2E's forward pass in numpy: a 3-layer LSTM (256 units) over mel frames (rows,
    frames, 40), the last layer's final state through a linear layer and ReLU,
    L2-normalised: (rows, 256) float32. The same numbers as resemblyzer's torch model to
    float32 rounding (tests/speech/test_voice_encoder.py)."""
    from threadpoolctl import threadpool_limits

    w = _weights()
    x = np.ascontiguousarray(np.asarray(mels, dtype=np.float32).transpose(1, 0, 2))  # (frames, rows, bands)
    frames, rows, _ = x.shape
    # One BLAS thread: the products are small and run beside whisper's lanes; a thread
    # hand-off per time step would cost more than it gives on a busy 2-core machine.
    with threadpool_limits(1, user_api="blas"):
        for layer in range(3):
            inputs = x @ w[f"ih{layer}"] + w[f"b{layer}"]
            w_hh = w[f"hh{layer}"]
            h = np.zeros((rows, 256), np.float32)
            c = np.zeros((rows, 256), np.float32)
            out = np.empty((frames, rows, 256), np.float32)
            for t in range(frames):
                gates = h @ w_hh
                gates += inputs[t]
                gate = gates[:, :768]  # i, f, o: sigmoid(x) = (1 + tanh(x / 2)) / 2
                gate *= 0.5
                np.tanh(gate, out=gate)
                gate += 1.0
                gate *= 0.5
                c *= gates[:, 256:512]
                c += gates[:, :256] * np.tanh(gates[:, 768:])
                h = out[t]
                np.multiply(gates[:, 512:768], np.tanh(c), out=h)
            x = out
        raw = np.maximum(h @ w["linear.weight"] + w["linear.bias"], 0.0)
    return (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)


def mel_frames(wavs: np.ndarray) -> np.ndarray:
    """The encoder's 160 mel frames of each row of `wavs` (rows of PARTIAL_SAMPLES at
    16 kHz), shape (rows, 160, 40), float32.

    `librosa.feature.melspectrogram(y, sr=16000, n_fft=400, hop_length=160, n_mels=40)`
    (centred frames, zero padding, a periodic Hann window, power 2, Slaney mel bands)
    as resemblyzer computes it, for all rows at once with numpy: importing
    librosa.feature compiles its numba kernels in every process that embeds a voice
    (tests/speech/test_voice_encoder.py compares the two)."""
    wavs = np.asarray(wavs, dtype=np.float32)
    padded = np.pad(wavs, ((0, 0), (_N_FFT // 2, _N_FFT // 2)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, _N_FFT, axis=1)[:, ::_HOP][:, :160]
    spectrum = np.fft.rfft(frames * spectral.hann(_N_FFT).astype(np.float32), axis=-1)
    power = spectrum.real**2 + spectrum.imag**2
    return (power @ spectral.mel_basis(RATE_HZ, _N_FFT, _N_MELS).T).astype(np.float32)


def embed_windows(samples_16k: np.ndarray, windows_s: list[tuple[float, float]], batch: int = 64) -> np.ndarray:
    """One L2-normalised 256-d voice vector per window of `samples_16k` (16 kHz mono).

    Windows up to 1.6 s, as resemblyzer's `embed_utterance` treats them: each is peak-
    normalised (level says nothing about who speaks), zero-padded to 1.6 s and encoded as
    one partial. Returns an array of shape (len(windows_s), 256).
    """
    if not windows_s:
        return np.zeros((0, 256), dtype=np.float32)
    out = []
    # A batch of windows at a time: all the windows of a 2-hour call at once would hold
    # ~1 GB of padded audio.
    for i in range(0, len(windows_s), batch):
        chunk = windows_s[i : i + batch]
        wavs = np.zeros((len(chunk), PARTIAL_SAMPLES), dtype=np.float32)
        for row, (start_s, end_s) in zip(wavs, chunk):
            wav = np.asarray(samples_16k[int(start_s * RATE_HZ) : int(end_s * RATE_HZ)], dtype=np.float32)
            wav = wav[:PARTIAL_SAMPLES]
            peak = float(np.max(np.abs(wav))) if len(wav) else 0.0
            row[: len(wav)] = wav / peak * 0.5 if peak > 0 else wav
        out.append(encode(mel_frames(wavs)))
    return np.concatenate(out)
