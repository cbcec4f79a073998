"""Frame-wise audio features in numpy: librosa's mel bands, MFCCs, YIN pitch and RMS.

librosa computes all of these, but importing it for them (scipy.signal, numba, its
kernels) costs seconds in every process that diarizes a mono call. These are librosa's
formulas with its defaults (centred frames, zero padding, a periodic Hann window, Slaney
mel bands, dB with an 80 dB floor, DCT-II), in the same operations and dtypes, a block of
frames at a time so that a long call never holds every frame matrix at once.
tests/speech/test_spectral.py compares each with librosa on real speech.

All functions take mono float32 samples and return one value (or column) per frame,
frames `hop_length` samples apart and centred on sample `k * hop_length`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: Frames computed at a time: bounds the frame, FFT and YIN matrices (~40 MB for YIN's
#: 1024-sample frames) whatever the recording's length. Per-frame results do not
#: depend on it.
BLOCK_FRAMES = 4096

# Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above.
_F_SP_HZ = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP_HZ
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel of `hz` (librosa.hz_to_mel, htk=False)."""
    hz = np.asarray(hz, dtype=np.float64)
    log_part = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(hz >= _MIN_LOG_HZ, log_part, hz / _F_SP_HZ)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Hz of Slaney `mel` (librosa.mel_to_hz, htk=False)."""
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOGSTEP * (mel - _MIN_LOG_MEL)), _F_SP_HZ * mel)


@lru_cache(maxsize=8)
def mel_basis(sr_hz: int, n_fft: int, n_mels: int, fmin_hz: float = 0.0, fmax_hz: float | None = None) -> np.ndarray:
    """`librosa.filters.mel(sr=sr_hz, n_fft=n_fft, n_mels=n_mels, fmin=fmin_hz, fmax=fmax_hz)`:
    triangular Slaney-normalised bands, shape (n_mels, 1 + n_fft // 2), float32. Read-only
    (cached)."""
    fmax_hz = sr_hz / 2 if fmax_hz is None else fmax_hz
    fft_hz = np.fft.rfftfreq(n_fft, d=1.0 / sr_hz)
    mel_hz = mel_to_hz(np.linspace(hz_to_mel(fmin_hz), hz_to_mel(fmax_hz), n_mels + 2))
    width_hz = np.diff(mel_hz)
    ramps = np.subtract.outer(mel_hz, fft_hz)
    weights = np.zeros((n_mels, len(fft_hz)), dtype=np.float32)
    for i in range(n_mels):
        weights[i] = np.maximum(0, np.minimum(-ramps[i] / width_hz[i], ramps[i + 2] / width_hz[i + 1]))
    weights *= (2.0 / (mel_hz[2 : n_mels + 2] - mel_hz[:n_mels]))[:, np.newaxis]
    weights.flags.writeable = False
    return weights


@lru_cache(maxsize=8)
def hann(n: int) -> np.ndarray:
    """Periodic Hann window of `n` samples, float64 (scipy's get_window('hann', n), as librosa)."""
    k = np.arange(n)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * k / n)
    window.flags.writeable = False
    return window


@lru_cache(maxsize=4)
def _dct2_ortho(n_in: int, n_out: int) -> np.ndarray:
    """The first `n_out` rows of the orthonormal DCT-II matrix of size `n_in` (float64)."""
    k = np.arange(n_out)[:, None]
    m = np.arange(n_in)[None, :]
    basis = np.cos(np.pi * k * (2 * m + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    basis[0] /= np.sqrt(2.0)
    basis.flags.writeable = False
    return basis


def n_frames(n_samples: int, frame_length: int, hop_length: int) -> int:
    """Frames of centred analysis (librosa's count with center=True)."""
    return 1 + (n_samples + 2 * (frame_length // 2) - frame_length) // hop_length


def _frame_blocks(samples: np.ndarray, frame_length: int, hop_length: int):
    """(first frame index, frames) per block: frames as columns, shape (frame_length,
    frames in block), a view of a zero-padded copy of just that block's samples."""
    samples = np.asarray(samples, dtype=np.float32)
    half = frame_length // 2
    n = len(samples)
    total = n_frames(n, frame_length, hop_length)
    for f0 in range(0, total, BLOCK_FRAMES):
        f1 = min(total, f0 + BLOCK_FRAMES)
        lo, hi = f0 * hop_length - half, (f1 - 1) * hop_length - half + frame_length
        block = np.zeros(hi - lo, dtype=np.float32)
        block[max(0, -lo) : (min(n, hi) - lo)] = samples[max(0, lo) : min(n, hi)]
        yield f0, sliding_window_view(block, frame_length)[::hop_length].T


def rms(samples: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """`librosa.feature.rms(y=samples, frame_length=..., hop_length=...)[0]`, float32."""
    out = np.empty(n_frames(len(samples), frame_length, hop_length), dtype=np.float32)
    for f0, frames in _frame_blocks(samples, frame_length, hop_length):
        out[f0 : f0 + frames.shape[1]] = np.sqrt(np.mean(np.square(frames.T), axis=-1))
    return out


def power_spectrum(samples: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    """`|librosa.stft(samples, n_fft=n_fft, hop_length=hop_length)| ** 2`, shape
    (1 + n_fft // 2, frames), float32 (the windowed FFT in float64, stored as complex64,
    as librosa does)."""
    out = np.empty((1 + n_fft // 2, n_frames(len(samples), n_fft, hop_length)), dtype=np.float32)
    window = hann(n_fft)[:, None]
    for f0, frames in _frame_blocks(samples, n_fft, hop_length):
        spectrum = np.fft.rfft(window * frames, axis=0).astype(np.complex64)
        out[:, f0 : f0 + frames.shape[1]] = np.abs(spectrum) ** 2
    return out


def power_to_db(power: np.ndarray, top_db: float = 80.0) -> np.ndarray:
    """`librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=80.0)`: the floor is
    `top_db` below the loudest value of `power` as a whole."""
    db = 10.0 * np.log10(np.maximum(1e-10, power))
    db -= 10.0 * np.log10(np.maximum(1e-10, 1.0))
    return np.maximum(db, db.max() - top_db)


def mfcc(
    samples: np.ndarray, sr_hz: int, n_mfcc: int, n_fft: int, hop_length: int,
    n_mels: int, fmin_hz: float = 0.0, fmax_hz: float | None = None,
) -> np.ndarray:  # fmt: skip
    """`librosa.feature.mfcc(y=samples, sr=sr_hz, n_mfcc=..., n_fft=..., hop_length=...,
    n_mels=..., fmin=..., fmax=...)`, shape (n_mfcc, frames), float32."""
    mel_power = mel_basis(sr_hz, n_fft, n_mels, fmin_hz, fmax_hz) @ power_spectrum(samples, n_fft, hop_length)
    return (_dct2_ortho(n_mels, n_mfcc) @ power_to_db(mel_power)).astype(np.float32)


def yin(
    samples: np.ndarray, fmin_hz: float, fmax_hz: float, sr_hz: int, frame_length: int, hop_length: int,
    trough_threshold: float = 0.1,
) -> np.ndarray:  # fmt: skip
    """`librosa.yin(samples, fmin=fmin_hz, fmax=fmax_hz, sr=sr_hz, frame_length=...,
    hop_length=...)`: f0 in Hz per frame (float64). De Cheveigne & Kawahara's YIN: the
    cumulative mean normalised difference, the first trough under `trough_threshold`
    (else the global minimum), refined by parabolic interpolation."""
    min_period = int(np.floor(sr_hz / fmax_hz))
    max_period = min(int(np.ceil(sr_hz / fmin_hz)), frame_length - 1)
    if min_period < 1 or max_period <= min_period:
        raise ValueError(f"yin: fmin {fmin_hz} / fmax {fmax_hz} Hz do not fit frames of {frame_length} at {sr_hz} Hz")
    out = np.empty(n_frames(len(samples), frame_length, hop_length), dtype=np.float64)
    for f0, frames in _frame_blocks(samples, frame_length, hop_length):
        out[f0 : f0 + frames.shape[1]] = _yin_frames(frames, min_period, max_period, sr_hz, trough_threshold)
    return out


def _next_fast_len(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (scipy.fft.next_fast_len(n, real=True))."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def _yin_frames(frames: np.ndarray, min_period: int, max_period: int, sr_hz: int, threshold: float) -> np.ndarray:
    """YIN f0 of each column of `frames` (librosa.core.pitch.yin's steps, in its dtypes)."""
    n_pad = _next_fast_len(2 * frames.shape[0] - 1)
    power = np.fft.rfft(frames, n=n_pad, axis=0)
    acf = np.fft.irfft(power.real**2 + power.imag**2, n=n_pad, axis=0)[: max_period + 1]
    # Difference function d(k) = 2 (acf(0) - acf(k)) - sum_{m<k} y(m)^2, from the energy terms.
    diff = np.square(frames)
    np.cumsum(diff, out=diff, axis=0)
    diff[0] = 0
    diff[1 : max_period + 1] = 2 * (acf[0:1] - acf[1 : max_period + 1]) - diff[:max_period]
    numerator = diff[min_period : max_period + 1]
    cumulative_mean = np.cumsum(diff[1 : max_period + 1], axis=0) / np.arange(1, max_period + 1)[:, None]
    denominator = cumulative_mean[min_period - 1 : max_period]
    cmnd = numerator / (denominator + np.finfo(denominator.dtype).tiny)

    # Parabolic shift per lag (0 where the optimum lies beyond the neighbours, and at the
    # edges). librosa's numba stencil works in float64 from float32 sums: the same here.
    shifts = np.zeros_like(cmnd)
    left, mid, right = cmnd[:-2], cmnd[1:-1], cmnd[2:]
    a = (right + left).astype(np.float64) - 2 * mid.astype(np.float64)
    b = (right - left).astype(np.float64) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        shifts[1:-1] = np.where(np.abs(b) >= np.abs(a), 0.0, -b / a)

    # Local minima: below the lag before, not above the lag after; the first lag against
    # the second, the last against the one before.
    trough = np.zeros(cmnd.shape, dtype=bool)
    trough[1:-1] = (mid < left) & (mid <= right)
    trough[0] = cmnd[0] < cmnd[1]
    trough[-1] = cmnd[-1] < cmnd[-2]
    below = trough & (cmnd < threshold)
    period = np.argmax(below, axis=0)
    none_below = ~below.any(axis=0)
    period[none_below] = np.argmin(cmnd, axis=0)[none_below]
    refined = min_period + period + np.take_along_axis(shifts, period[None, :], axis=0)[0]
    return sr_hz / refined
