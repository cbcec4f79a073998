"""Speech detection: where on a channel someone is speaking.

Two detectors, same output (a list of `(start_s, end_s)` in seconds):

* "silero" (default): the silero-vad neural model shipped inside its wheel.
* "energy": RMS in dB against the channel's own noise floor, with hysteresis (a high
  threshold to start speech, a lower one to keep it going). No model, ~100x faster.

silero is the default because it still finds holds under swelling noise and music on
hold, where energy takes them for speech (`tools/measure_vad.py`; figures in
docs/decisions.md); energy stays as a fallback/check.

Both fill silences shorter than `min_silence_s` so that the short pauses inside an
utterance (commas, breaths: 0.2-0.4 s) do not show up as silence; holds (>= 6 s)
are far longer than any sensible `min_silence_s`.

silero's edges can lag a syllable it does not take for speech, so the spans a transcript
keeps get `widen_speech_edges`: each edge moves out over the energy of the syllable it
cut, against the noise floor beside it. Whisper is gated on the detector's own spans, not
the widened ones (docs/decisions.md, "Word timings").

`call_speech_spans` runs the detector on every channel of a `CallAudio` and labels
the spans with the channel's speaker ("unknown" for a mono mix, to be diarized).
"""

from __future__ import annotations

import contextlib
import threading
import typing
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from analyzers.model import UNKNOWN, SpeechSpan
from analyzers.timeline import merge
from flows.speech import package_file, spectral
from flows.speech.audio import CallAudio

Method = Literal["silero", "energy"]
METHODS: tuple[str, ...] = typing.get_args(Method)

DEFAULT_METHOD: Method = "silero"


@dataclass(frozen=True)
class VadOptions:
    """Speech detection's settings: part of the transcript cache key (`key`)."""

    method: Method = DEFAULT_METHOD

    def key(self) -> str:
        # A bare method name, as before these options had a type: cache keys stay valid.
        return self.method

#: Silences shorter than this (s) are bridged: longer than comma/breath pauses inside an
#: utterance, far shorter than a 6 s hold.
DEFAULT_MIN_SILENCE_S = 0.5
#: Added (s) before and after each detected stretch; detectors clip soft onsets/codas.
DEFAULT_SPEECH_PAD_S = 0.05
#: Stretches of speech shorter than this (s) are dropped as clicks/coughs.
DEFAULT_MIN_SPEECH_S = 0.15

#: silero speech probability above which a window is speech (its own default).
SILERO_THRESHOLD = 0.5

#: Energy detector: frame size/hop (s) and thresholds in dB above the noise floor.
ENERGY_FRAME_S = 0.025
ENERGY_HOP_S = 0.010
ENERGY_ON_DB = 12.0  # start speech this far above the noise floor ...
ENERGY_OFF_DB = 6.0  # ... and keep it while above this
#: The floor is this percentile of the frame levels: calls are mostly not both-sides
#: speech, so the quietest tenth of a channel is its line noise.
ENERGY_FLOOR_PERCENTILE = 10.0
#: Below this (dBFS) nothing is speech, whatever the floor (digital silence has no floor).
ENERGY_ABS_MIN_DBFS = -60.0

_silero_lock = threading.Lock()
#: The first silero model loaded in this process; `_silero_idle` holds the loaded models not in
#: use (one per channel detected at once: the model keeps recurrent state between windows).
_silero_model = None
_silero_idle: list = []


def detect_speech(
    samples: np.ndarray,
    sample_rate_hz: int,
    *,
    method: Method = DEFAULT_METHOD,
    min_silence_s: float = DEFAULT_MIN_SILENCE_S,
    speech_pad_s: float = DEFAULT_SPEECH_PAD_S,
    min_speech_s: float = DEFAULT_MIN_SPEECH_S,
) -> list[tuple[float, float]]:
    """Speech stretches `(start_s, end_s)` (seconds, sorted, non-overlapping) of one channel.

    `samples` is a 1-D float array in [-1, 1] at `sample_rate_hz` (Hz). Silences shorter
    than `min_silence_s` are bridged, each stretch is widened by `speech_pad_s` on both
    sides (clipped to the audio), and stretches shorter than `min_speech_s` are dropped.
    """
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1:
        raise ValueError(f"samples must be 1-D (one channel), got shape {samples.shape}")
    if sample_rate_hz <= 0:
        raise ValueError(f"sample_rate_hz must be positive, got {sample_rate_hz}")
    if len(samples) == 0:
        return []
    duration_s = len(samples) / sample_rate_hz
    if method == "silero":
        raw = _silero_segments(samples, sample_rate_hz, min_silence_s, min_speech_s)
    elif method == "energy":
        raw = _energy_segments(samples, sample_rate_hz, min_speech_s)
    else:
        raise ValueError(f"method must be 'silero' or 'energy', got {method!r}")
    return _tidy(raw, duration_s, min_silence_s, speech_pad_s, min_speech_s)


def call_speech_spans(
    audio: CallAudio,
    *,
    method: Method = DEFAULT_METHOD,
    min_silence_s: float = DEFAULT_MIN_SILENCE_S,
    speech_pad_s: float = DEFAULT_SPEECH_PAD_S,
    min_speech_s: float = DEFAULT_MIN_SPEECH_S,
) -> tuple[SpeechSpan, ...]:
    """Speech of every channel as `SpeechSpan`s sorted by start time.

    Stereo calls give "agent" and "customer" spans (one channel each); a mono call's
    "mixed" channel gives "unknown" spans, which `flows.speech.diarize` assigns to speakers.
    """
    def detect(samples: np.ndarray) -> list[tuple[float, float]]:
        return detect_speech(samples, audio.sample_rate_hz, method=method, min_silence_s=min_silence_s,
                             speech_pad_s=speech_pad_s, min_speech_s=min_speech_s)

    channels = list(audio.channels.items())
    if len(channels) > 1:  # a stereo call's two channels at once, one core each
        with ThreadPoolExecutor(len(channels), thread_name_prefix="callqa-vad") as pool:
            found = list(pool.map(detect, [samples for _, samples in channels]))
    else:
        found = [detect(samples) for _, samples in channels]
    spans = []
    for (channel, _), stretches in zip(channels, found):
        speaker = channel if channel in ("agent", "customer") else UNKNOWN
        spans += [SpeechSpan(speaker, start_s, end_s) for start_s, end_s in stretches]
    return tuple(sorted(spans, key=lambda s: (s.start_s, s.end_s, s.speaker)))


def widen_speech_edges(
    spans: Sequence[SpeechSpan],
    audio: CallAudio,
    *,
    max_widen_s: float | None = None,
    min_silence_s: float = DEFAULT_MIN_SILENCE_S,
) -> tuple[SpeechSpan, ...]:
    """`spans` (labelled, e.g. after diarization) with their edges moved out over the
    energy of a syllable the detector cut (see _widen_to_energy), up to `max_widen_s`.

    A mono call's spans of both speakers share the "mixed" channel, so no edge widens
    into the other speaker's turn. A speaker's spans that come closer than
    `min_silence_s` are joined, as the detector itself would have joined them.
    """
    by_channel: dict[str, list[SpeechSpan]] = {}
    for span in spans:
        channel = span.speaker if span.speaker in audio.channels else "mixed"
        by_channel.setdefault(channel, []).append(span)
    out: list[SpeechSpan] = []
    for channel, own in by_channel.items():
        own.sort(key=lambda s: (s.start_s, s.end_s))
        if channel not in audio.channels:
            out += own
            continue
        edges = _widen_to_energy([(s.start_s, s.end_s) for s in own], audio.channels[channel],
                                 audio.sample_rate_hz, max_widen_s)
        duration_s = len(audio.channels[channel]) / audio.sample_rate_hz
        merged: list[SpeechSpan] = []
        for span, (start_s, end_s) in zip(own, edges):
            start_s, end_s = round(max(0.0, start_s), 3), round(min(duration_s, end_s), 3)
            if merged and merged[-1].speaker == span.speaker and start_s - merged[-1].end_s < min_silence_s:
                merged[-1] = replace(merged[-1], end_s=max(merged[-1].end_s, end_s))
            else:
                merged.append(replace(span, start_s=start_s, end_s=end_s))
        out += merged
    return tuple(sorted(out, key=lambda s: (s.start_s, s.end_s, s.speaker)))


def silences(
    speech: list[tuple[float, float]], duration_s: float, *, min_silence_s: float = 0.0
) -> list[tuple[float, float]]:
    """The gaps between `speech` stretches (and before/after) of at least `min_silence_s`."""
    gaps, cursor_s = [], 0.0
    for start_s, end_s in sorted(speech):
        if start_s - cursor_s >= min_silence_s and start_s > cursor_s:
            gaps.append((cursor_s, start_s))
        cursor_s = max(cursor_s, end_s)
    if duration_s - cursor_s >= min_silence_s and duration_s > cursor_s:
        gaps.append((cursor_s, duration_s))
    return gaps


# --- silero ------------------------------------------------------------------


def silero_model_path() -> Path:
    """silero-vad's ONNX model inside its wheel, found without importing the package (its
    `__init__` imports torch, which a default run does not need)."""
    return package_file("silero_vad", "data/silero_vad.onnx", "speech detection", "silero-vad")


class _SileroOnnx:
    """silero-vad's ONNX model on onnxruntime (a faster-whisper dependency), fed as
    silero_vad's own OnnxWrapper feeds it (a 512-sample window at 16 kHz, 256 at 8 kHz,
    after the previous window's last 64 / 32 samples; the recurrent state carried), in
    numpy: the same probabilities to the bit (tests/speech/test_vad.py compares them). One
    thread: the model runs one 32 ms window at a time, too little to share out."""

    def __init__(self) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(silero_model_path()), sess_options=opts,
                                                     providers=["CPUExecutionProvider"])

    def probabilities(self, samples: np.ndarray, sample_rate_hz: int) -> list[float]:
        """Speech probability of each window of `samples` (8 or 16 kHz; the last window
        zero-padded)."""
        window, context = (512, 64) if sample_rate_hz == 16000 else (256, 32)
        n = -(-len(samples) // window)
        padded = np.zeros((1, context + n * window), dtype=np.float32)
        padded[0, context : context + len(samples)] = samples
        state = np.zeros((2, 1, 128), dtype=np.float32)
        rate = np.array(sample_rate_hz, dtype=np.int64)
        out = []
        for i in range(n):
            x = padded[:, i * window : (i + 1) * window + context]
            prob, state = self._session.run(None, {"input": x, "state": state, "sr": rate})
            out.append(float(prob[0, 0]))
        return out


def _load_silero() -> _SileroOnnx:
    """The silero-vad model, loaded once per process (`_silero` lends further copies)."""
    global _silero_model
    with _silero_lock:
        if _silero_model is None:
            _silero_model = _SileroOnnx()
            _silero_idle.append(_silero_model)
    return _silero_model


@contextlib.contextmanager
def _silero():
    """A silero model for this thread's use: an idle one, or a new one when every loaded
    model is busy (the channels of a stereo call are detected at once)."""
    _load_silero()
    with _silero_lock:
        model = _silero_idle.pop() if _silero_idle else None
    if model is None:
        model = _SileroOnnx()
    try:
        yield model
    finally:
        with _silero_lock:
            _silero_idle.append(model)


def speech_stretches(probs: Sequence[float], window: int, length: int, threshold: float,
                     min_speech: float, min_silence: float) -> list[tuple[int, int]]:
    """silero_vad's `get_speech_timestamps_from_probs` as callqa calls it (no maximum
    length, no padding): (start, end) in samples. Speech starts at a window whose
    probability reaches `threshold` and ends where it stays below `threshold` - 0.15 for
    `min_silence` samples; stretches of `min_speech` samples or less are dropped."""
    negative = max(threshold - 0.15, 0.01)
    out: list[tuple[int, int]] = []
    start, quiet_from, speaking = 0, 0, False
    for i, prob in enumerate(probs):
        at = window * i
        if prob >= threshold and quiet_from:
            quiet_from = 0
        if prob >= threshold and not speaking:
            speaking, start = True, at
            continue
        if prob < negative and speaking:
            quiet_from = quiet_from or at
            if at - quiet_from < min_silence:
                continue
            if quiet_from - start > min_speech:
                out.append((start, quiet_from))
            speaking, quiet_from = False, 0
    if speaking and length - start > min_speech:
        out.append((start, length))
    return out


def _silero_segments(
    samples: np.ndarray, sample_rate_hz: int, min_silence_s: float, min_speech_s: float
) -> list[tuple[float, float]]:
    # silero runs at 8 or 16 kHz; anything else is resampled (telephone audio is 8 kHz).
    model_rate_hz = sample_rate_hz if sample_rate_hz in (8000, 16000) else 16000
    if model_rate_hz != sample_rate_hz:
        import librosa

        samples = librosa.resample(samples, orig_sr=sample_rate_hz, target_sr=model_rate_hz)
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    with _silero() as model:
        probs = model.probabilities(samples, model_rate_hz)
    # silero_vad's arithmetic, so that the stretches are the ones it gives
    stamps = speech_stretches(probs, 512 if model_rate_hz == 16000 else 256, len(samples), SILERO_THRESHOLD,
                              model_rate_hz * int(min_speech_s * 1000) / 1000,
                              model_rate_hz * int(min_silence_s * 1000) / 1000)
    return [(start / model_rate_hz, end / model_rate_hz) for start, end in stamps]


#: silero's edges, moved out to where the channel's energy says the syllable begins or
#: ends (see _widen_to_energy). At most this far (s): about one slow syllable.
EDGE_MAX_WIDEN_S = 0.6
#: Dips shorter than this (s) do not end a syllable: a stop's closure (the t of 具体) is
#: a silence of 50-100 ms inside speech.
EDGE_BRIDGE_S = 0.1
#: The noise floor beside an edge is the quietest tenth of this much audio (s) before a
#: start or after an end: a local floor follows swelling noise, where one for the whole
#: channel would take the noise for speech.
EDGE_FLOOR_CONTEXT_S = 2.0


def _widen_to_energy(
    segments: list[tuple[float, float]], samples: np.ndarray, sample_rate_hz: int,
    max_widen_s: float | None = None,
) -> list[tuple[float, float]]:
    """silero's segments with each edge moved out over the energy of the syllable it cut.

    silero's onsets can lag a syllable it does not recognise as speech, loud as it is
    (docs/decisions.md, "Word timings"). From each edge, outwards: frames above the local
    floor + ENERGY_OFF_DB continue the speech (the hysteresis of the energy detector); past
    a dip of at most EDGE_BRIDGE_S, a run continues it only if it reaches the floor +
    ENERGY_ON_DB, as a new onset must. Never more than `max_widen_s`, never into the
    neighbouring segment.
    """
    max_widen_s = EDGE_MAX_WIDEN_S if max_widen_s is None else max_widen_s
    if not segments or max_widen_s <= 0:
        return segments
    level_db, _ = _level_db(samples, sample_rate_hz)
    n = len(level_db)
    context = max(1, round(EDGE_FLOOR_CONTEXT_S / ENERGY_HOP_S))
    bridge = max(1, round(EDGE_BRIDGE_S / ENERGY_HOP_S))
    reach = round(max_widen_s / ENERGY_HOP_S)

    def widen(path: np.ndarray, side: np.ndarray) -> int:
        """How many frames of `path` (levels outward from an edge) the speech takes;
        `side`: the levels beside the edge that the local floor comes from."""
        if not len(path) or not len(side):
            return 0
        floor_db = float(np.percentile(side, ENERGY_FLOOR_PERCENTILE))
        off_db = max(floor_db + ENERGY_OFF_DB, ENERGY_ABS_MIN_DBFS)
        on_db = max(floor_db + ENERGY_ON_DB, ENERGY_ABS_MIN_DBFS)
        taken = j = 0
        while j < len(path):
            dip = 0
            while j < len(path) and path[j] < off_db and dip <= bridge:
                j, dip = j + 1, dip + 1
            if dip > bridge or j == len(path):
                break
            peak_db = -np.inf
            while j < len(path) and path[j] >= off_db:
                peak_db, j = max(peak_db, path[j]), j + 1
            if dip and peak_db < on_db:
                break  # past a dip, only a run that reaches a real onset's level counts
            taken = j
        return taken

    frames = [(round(a / ENERGY_HOP_S), round(b / ENERGY_HOP_S)) for a, b in segments]
    out = []
    for k, ((a, b), (start_s, end_s)) in enumerate(zip(frames, segments)):
        lo = max(a - reach, frames[k - 1][1] if k else 0)
        hi = min(b + reach, frames[k + 1][0] if k + 1 < len(frames) else n)
        before = widen(level_db[lo:a][::-1], level_db[max(0, a - context) : a])
        after = widen(level_db[b:hi], level_db[b : b + context])
        out.append((start_s - before * ENERGY_HOP_S, end_s + after * ENERGY_HOP_S))
    return out


# --- energy ------------------------------------------------------------------


def _energy_segments(
    samples: np.ndarray, sample_rate_hz: int, min_speech_s: float
) -> list[tuple[float, float]]:
    level_db, hop = _level_db(samples, sample_rate_hz)
    floor_db = float(np.percentile(level_db, ENERGY_FLOOR_PERCENTILE))
    on_db = max(floor_db + ENERGY_ON_DB, ENERGY_ABS_MIN_DBFS)
    off_db = max(floor_db + ENERGY_OFF_DB, ENERGY_ABS_MIN_DBFS)

    segments: list[tuple[float, float]] = []
    start = None
    peak_db = -np.inf
    for i, db in enumerate(level_db):
        if start is None:
            if db >= off_db:  # candidate onset; confirmed only if it reaches on_db
                start, peak_db = i, db
        elif db < off_db:
            if peak_db >= on_db:
                segments.append((start, i))
            start = None
        else:
            peak_db = max(peak_db, db)
    if start is not None and peak_db >= on_db:
        segments.append((start, len(level_db)))
    # Frame i is centred on sample i*hop; a run of frames [a, b) covers a*hop .. b*hop.
    return [(a * hop / sample_rate_hz, b * hop / sample_rate_hz) for a, b in segments]


#: An utterance's loudness is this percentile of its 10-ms frame levels: the voiced
#: frames decide, not the pauses between words.
SPAN_LEVEL_PERCENTILE = 90


def span_levels_db(
    samples: np.ndarray, sample_rate_hz: int, spans_s: Sequence[tuple[float, float]]
) -> list[float | None]:
    """Loudness of each (start_s, end_s) span of `samples`, in dBFS.

    Parameters: `samples`, one channel as float32 in [-1, 1]; `sample_rate_hz`; `spans_s`,
    times in seconds. Returns the SPAN_LEVEL_PERCENTILE-th percentile of the span's
    10-ms frame levels (dBFS, one decimal), or None for a span with no frame inside the
    audio. Used for raised-voice checks: an utterance far above the speaker's median.
    """
    if not len(spans_s):
        return []
    level_db, hop = _level_db(samples, sample_rate_hz)
    out: list[float | None] = []
    for start_s, end_s in spans_s:
        lo = max(0, int(start_s * sample_rate_hz / hop))
        hi = min(len(level_db), int(np.ceil(end_s * sample_rate_hz / hop)) + 1)
        frames = level_db[lo:hi]
        out.append(round(float(np.percentile(frames, SPAN_LEVEL_PERCENTILE)), 1) if len(frames) else None)
    return out


def _level_db(samples: np.ndarray, sample_rate_hz: int) -> tuple[np.ndarray, int]:
    """(level in dBFS per ENERGY_HOP_S frame of ENERGY_FRAME_S, hop in samples)."""
    frame = max(1, round(ENERGY_FRAME_S * sample_rate_hz))
    hop = max(1, round(ENERGY_HOP_S * sample_rate_hz))
    return 20.0 * np.log10(np.maximum(spectral.rms(samples, frame, hop), 1e-10)), hop


# --- shared post-processing ----------------------------------------------------


def _tidy(
    segments: list[tuple[float, float]],
    duration_s: float,
    min_silence_s: float,
    speech_pad_s: float,
    min_speech_s: float,
) -> list[tuple[float, float]]:
    joined = merge(segments, min_silence_s, inclusive=False)
    kept = [(s, e) for s, e in joined if e - s >= min_speech_s]
    # Padding can make neighbours touch: they join.
    out = merge([(max(0.0, s - speech_pad_s), min(duration_s, e + speech_pad_s)) for s, e in kept])
    return [(round(a, 3), round(b, 3)) for a, b in out]
