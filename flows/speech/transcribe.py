"""Speech-gated whisper transcription with word timings, simplified Chinese out.

Whisper is only ever shown speech: the detected speech spans of a channel are
concatenated (long silences cut down to a short gap), transcribed in one call so that
the decoder keeps the context of the whole channel, and the word times are mapped back
to the recording's clock. Holds and hold music therefore never reach whisper, which is
what made it invent text (字幕由Amara.org社群提供...) and skip sentences around holds.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import wraps
from typing import Sequence

import numpy as np

from analyzers.cer import to_simplified
from analyzers.model import Word
from analyzers.speakers import join_words  # noqa: F401 - re-exported for callers
from analyzers.timeline import merge
from flows.speech import coverage
from flows.speech.engines import (  # noqa: F401 - the errors re-exported for callers
    DecoderOptions,
    LoadedModel,
    ModelLoadError,
    ModelNotConfigured,
    UnknownEngine,
    get_engine,
    lanes_of,
)

SAMPLE_RATE_HZ = 16000  # whisper's input rate

#: Bumped whenever this module's output changes for the same audio and options, so
#: that cached transcripts made by older code are not reused.
TRANSCRIBER_VERSION = 12  # 12: under-heard speech pieces re-heard (_rehear)

#: Longest stretch of gated speech given to whisper at once (memory; see _chunks). Not an
#: option: a call shorter than this decodes identically either way.
MAX_CHUNK_S = 600.0

#: Text whisper produces from silence or noise (its training data's subtitles credits).
HALLUCINATION_PATTERNS = re.compile(
    r"字幕|Amara|社群提供|点赞|订阅|转发|打赏|谢谢观看|感谢观看|请不吝|明镜|栏目|"
    r"中文字幕|由.*提供"
)


@dataclass(frozen=True)
class GatingOptions:
    """How the speech spans become the audio whisper hears, and its words utterances;
    part of the transcript cache key (with the engine's DecoderOptions)."""

    #: Silences between speech spans longer than this are cut down to `gap_fill_s`.
    max_gap_s: float = 1.0
    gap_fill_s: float = 0.5
    #: Padding kept around each speech span so that word onsets are not clipped.
    span_pad_s: float = 0.15
    #: A new utterance starts where the speaker pauses longer than this.
    utterance_gap_s: float = 0.8

    def key(self) -> dict:
        return asdict(self)


def asr_key(decoder: DecoderOptions, gating: GatingOptions) -> dict:
    """The cache key's `asr` part: both option sets in one flat dict, exactly the fields
    (and so the keys) of the single options object they were split from."""
    return {**decoder.key(), **gating.key()}


def resolve_model_ref(model: str | None, engine: str = "openai") -> str:
    """The model `engine` would use for `model` (None: its default); ModelNotConfigured
    when there is none, UnknownEngine for a name that is not registered."""
    return get_engine(engine).resolve_model_ref(model)


def model_version(
    ref: str, engine: str = "openai", compute_type: str | None = None, cuda_devices: int | None = None
) -> str:
    """A short, stable name for the model as it will run (the engine's model_version):
    whisper-base.pt, faster-whisper-base+ct2-int8, whisper-base.pt+cuda-fp16 ... It goes
    into the transcript cache key and the calls row, so the device is resolved here,
    before loading (`cuda_devices`: the GPUs the engine's runtime sees; None asks it)."""
    return get_engine(engine).model_version(ref, compute_type, cuda_devices)


def load_model(ref: str, engine: str = "openai", *, compute_type: str | None = None) -> LoadedModel:
    """The engine's loaded model, on the device `model_version` names for the same
    arguments; anything the loader raises becomes a ModelLoadError."""
    eng = get_engine(engine)
    try:
        return eng.load(ref, compute_type)
    except (MemoryError, ModelLoadError):
        raise  # MemoryError may pass on a quieter machine; a ModelLoadError says it already
    except Exception as exc:  # noqa: BLE001 - whatever the loader raised, the model is unusable
        raise ModelLoadError(f"cannot load the {eng.name} model {ref}: {type(exc).__name__}: {exc}") from exc


#: One whisper decode at a time per process and lane: openai-whisper's models have one
#: lane (its decoder is not thread-safe: docs/decisions.md); a model with lanes (the faster
#: engine's, flows.speech.engines.faster.lane_plan) decodes one job per lane at once.
#: Parallel ASR across calls runs in processes (flows.batch.parallel, dask workers).
_decode_lock = threading.Lock()
_lane_locks: dict[tuple[int, int], threading.Lock] = {}


def _lock_for(model: LoadedModel, lane: int) -> threading.Lock:
    lanes = lanes_of(model)
    if lanes <= 1:
        return _decode_lock
    with _decode_lock:
        return _lane_locks.setdefault((id(model), lane % lanes), threading.Lock())


def _one_at_a_time(decode):
    """`decode(model, ...)` holding the lock of the model's first lane."""
    @wraps(decode)
    def serialised(model, *args, **kwargs):
        with _lock_for(model, 0):
            return decode(model, *args, **kwargs)

    return serialised


@dataclass(frozen=True)
class _Piece:
    """Where a stretch of the concatenated audio came from in the recording."""

    concat_start_s: float
    orig_start_s: float
    duration_s: float


def _merge_spans(
    spans_s: Sequence[tuple[float, float]], total_s: float, opts: GatingOptions
) -> list[tuple[float, float]]:
    """Pad the speech spans and merge those separated by at most `max_gap_s`."""
    return pad_and_merge(spans_s, total_s, opts.span_pad_s, opts.max_gap_s)


def pad_and_merge(
    spans_s: Sequence[tuple[float, float]], total_s: float, pad_s: float, max_gap_s: float
) -> list[tuple[float, float]]:
    """`spans_s` (s) each widened by `pad_s` inside [0, `total_s`], sorted, and joined
    where the gap between them is at most `max_gap_s`."""
    # Short gaps stay inside a window: they carry prosody.
    return merge([(max(0.0, s - pad_s), min(total_s, e + pad_s)) for s, e in spans_s], max_gap_s)


def _chunks(
    merged_s: list[tuple[float, float]], opts: GatingOptions, max_chunk_s: float = MAX_CHUNK_S
) -> list[list[tuple[float, float]]]:
    """Group merged spans into runs of at most `max_chunk_s` seconds of gated audio.

    Whisper computes the log-mel spectrogram of its whole input up front (an STFT of a
    2-hour channel is gigabytes), so a long recording is decoded chunk by chunk. Cuts
    fall only between speech spans, where whisper's 30 s windows see a silence anyway,
    and with condition_on_previous_text off no context crosses a window: a call shorter
    than one chunk is decoded exactly as before.
    """
    chunks: list[list[tuple[float, float]]] = []
    length_s = 0.0
    for s, e in merged_s:
        if chunks and length_s + opts.gap_fill_s + (e - s) <= max_chunk_s:
            chunks[-1].append((s, e))
            length_s += opts.gap_fill_s + (e - s)
        else:
            chunks.append([(s, e)])
            length_s = e - s
    return chunks


def _concat(
    samples: np.ndarray,
    merged_s: Sequence[tuple[float, float]],
    opts: GatingOptions,
    mute_s: Sequence[tuple[float, float]] = (),
) -> tuple[np.ndarray, list[_Piece]]:
    """The merged spans back to back with `gap_fill_s` of silence between; the time map.

    Stretches in `mute_s` (another speaker's turns inside a mono call) are silenced.
    """
    parts, pieces, cursor_s = [], [], 0.0
    gap = np.zeros(int(opts.gap_fill_s * SAMPLE_RATE_HZ), dtype=np.float32)
    for i, (s, e) in enumerate(merged_s):
        if i:
            parts.append(gap)
            cursor_s += len(gap) / SAMPLE_RATE_HZ
        chunk = samples[int(s * SAMPLE_RATE_HZ) : int(e * SAMPLE_RATE_HZ)]
        muted = [(max(a, s), min(b, e)) for a, b in mute_s if a < e and b > s]
        if muted:
            chunk = chunk.copy()
            for a, b in muted:
                chunk[int((a - s) * SAMPLE_RATE_HZ) : int((b - s) * SAMPLE_RATE_HZ)] = 0.0
        parts.append(chunk)
        pieces.append(_Piece(cursor_s, s, len(chunk) / SAMPLE_RATE_HZ))
        cursor_s += len(chunk) / SAMPLE_RATE_HZ
    audio = np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)
    return audio, pieces


def _gate(
    samples: np.ndarray, spans_s: Sequence[tuple[float, float]], opts: GatingOptions
) -> tuple[np.ndarray, list[_Piece]]:
    """Concatenate the padded speech spans, shrinking long gaps; return the time map."""
    merged = _merge_spans(spans_s, len(samples) / SAMPLE_RATE_HZ, opts)
    return _concat(samples, merged, opts)


def _overlap_s(start_s: float, end_s: float, piece: _Piece) -> float:
    return min(end_s, piece.concat_start_s + piece.duration_s) - max(start_s, piece.concat_start_s)


def _piece_of(start_s: float, end_s: float, pieces: list[_Piece]) -> int:
    """Index of the piece holding most of the word (ties: the piece starting nearest its middle)."""
    mid_s = (start_s + end_s) / 2
    return max(range(len(pieces)),
               key=lambda i: (_overlap_s(start_s, end_s, pieces[i]), -abs(mid_s - pieces[i].concat_start_s)))


def _clamp_to_piece(start_s: float, end_s: float, piece: _Piece) -> tuple[float, float]:
    lo, hi = piece.concat_start_s, piece.concat_start_s + piece.duration_s
    s = min(max(start_s, lo), hi) - lo + piece.orig_start_s
    e = min(max(end_s, lo), hi) - lo + piece.orig_start_s
    return s, max(s, e)


def _to_orig_span(start_s: float, end_s: float, pieces: list[_Piece]) -> tuple[float, float]:
    """Map a word's (start, end) in the concatenated audio back to the recording.

    The word belongs to the one piece that holds most of it and is clamped into it: a
    word never stretches across a cut-out silence, which would otherwise swallow a hold
    or a whole turn of the other party into one utterance.
    """
    return _clamp_to_piece(start_s, end_s, pieces[_piece_of(start_s, end_s, pieces)])


def _word_pieces(times: list[tuple[float, float]], pieces: list[_Piece]) -> list[int]:
    """The piece of each word of one segment (`times` in the concatenated audio).

    Most of a word decides (`_piece_of`), except at a segment's edges: whisper's alignment
    gives a segment's first word the silence before it (and its last word the silence
    after), so a first word that reaches into its neighbour's piece goes with its
    neighbour. Measured on the faster engine: 感 of 感谢您 dated 1.4 s long across the cut
    before it, most of it in the previous piece, which put 感 into the previous utterance.
    """
    idx = [_piece_of(s, e, pieces) for s, e in times]
    if len(idx) >= 2:
        for edge, neighbour in ((0, 1), (len(idx) - 1, len(idx) - 2)):
            k = idx[neighbour]
            if idx[edge] != k and _overlap_s(*times[edge], pieces[k]) > 0:
                idx[edge] = k
    return idx


def _segment_ok(seg: dict, opts: DecoderOptions) -> bool:
    text = seg.get("text", "")
    if HALLUCINATION_PATTERNS.search(to_simplified(text)):
        return False
    if seg.get("compression_ratio", 0) > opts.compression_ratio_threshold:
        return False
    if (
        seg.get("no_speech_prob", 0) > opts.no_speech_threshold
        and seg.get("avg_logprob", 0) < opts.logprob_threshold
    ):
        return False
    return True


def _drop_loops(words: list[Word], max_repeats: int = 2) -> list[Word]:
    """Remove runs where the same 1-8 word phrase repeats more than `max_repeats` times."""
    out: list[Word] = []
    for w in words:
        out.append(w)
        for n in range(1, 9):
            reps = max_repeats + 1
            if len(out) < n * reps:
                break
            tail = [x.text for x in out[-n * reps :]]
            phrase = tail[-n:]
            if all(tail[i * n : (i + 1) * n] == phrase for i in range(reps)):
                del out[-n:]
                break
    return out


def _decode_segments(model: LoadedModel, audio: np.ndarray, opts: DecoderOptions, lane: int = 0) -> list[dict]:
    """Whisper's segments (dicts with text, words, no_speech_prob...) for gated audio,
    from the engine that loaded `model`, on lane `lane` of it."""
    with _lock_for(model, lane):
        engine = get_engine(model.engine)
        if lane:
            return engine.decode_segments(model, audio, opts, lane=lane % lanes_of(model))
        return engine.decode_segments(model, audio, opts)


def transcribe_speech(
    model: LoadedModel,
    samples: np.ndarray,
    speech_spans_s: Sequence[tuple[float, float]],
    decoder: DecoderOptions = DecoderOptions(),
    gating: GatingOptions = GatingOptions(),
    *,
    mute_s: Sequence[tuple[float, float]] = (),
    lane: int = 0,
) -> list[Word]:
    """Words with times in the recording's clock, from the speech spans only.

    `samples`: float32 mono at 16 kHz. Words outside every speech span are dropped:
    whisper has no business producing text where speech detection heard none.
    `mute_s`: spans silenced before decoding (the other speaker of a mono call).
    `lane`: the model's lane that decodes (see transcribe_jobs).
    """
    if not len(speech_spans_s):
        return []
    merged = _merge_spans(speech_spans_s, len(samples) / SAMPLE_RATE_HZ, gating)
    words: list[Word] = []
    for chunk in _chunks(merged, gating, MAX_CHUNK_S):
        audio, pieces = _concat(samples, chunk, gating, mute_s)
        if len(audio) < SAMPLE_RATE_HZ // 10:
            continue
        heard = _segment_words(_decode_segments(model, audio, decoder, lane), pieces, decoder)
        del audio  # the next chunk's copy replaces it, not adds to it
        words += _rehear(model, samples, chunk, heard, decoder, gating, mute_s, lane)
    return _drop_loops(words)


def _rehear(model: LoadedModel, samples: np.ndarray, merged: list[tuple[float, float]], words: list[Word],
            decoder: DecoderOptions, gating: GatingOptions, mute_s: Sequence[tuple[float, float]],
            lane: int) -> list[Word]:
    """`words` (one chunk's, of the speech spans `merged`) with each run of under-heard
    spans (flows.speech.coverage) decoded again from a window that starts at the run. The
    run's spans and the one after it (where whisper's skip landed: its first words were
    dated into the skipped audio) each take the new words where they have more characters."""
    for first, last in coverage.underheard_runs(words, merged):
        audio, pieces = _concat(samples, coverage.window_from(merged, first, last, gating.gap_fill_s), gating, mute_s)
        again = _segment_words(_decode_segments(model, audio, decoder, lane), pieces, decoder)
        for span in merged[first : last + 2]:
            new, old = coverage.in_spans(again, [span]), coverage.in_spans(words, [span])
            if coverage.chars(new) > coverage.chars(old):
                kept = [w for w in words if coverage.piece_index(w, [span]) is None]
                words = sorted(kept + new, key=lambda w: (w.start_s, w.end_s))
    return words


@dataclass(frozen=True)
class SpeechJob:
    """One whisper pass: a channel's samples (float32, 16 kHz), the speech spans to hear
    and the spans to silence first (seconds)."""

    samples: np.ndarray = field(repr=False)
    speech_spans_s: Sequence[tuple[float, float]]
    mute_s: Sequence[tuple[float, float]] = ()


def job_lanes(jobs: Sequence[SpeechJob], lanes: int, planned_s: list[float] | None = None) -> list[int]:
    """The lane of each job: the jobs with the most speech first, each to the lane with
    the least speech so far (ties: the job listed first, the lower lane). Two passes of
    unequal length fill two lanes evenly only with another call's passes beside them
    (flows.batch.parallel decodes two calls' passes together); the plan depends on
    the jobs alone, never on timing. `planned_s`: seconds of speech already planned on
    each lane (updated in place), for jobs planned after others (AsrGroup)."""
    load = planned_s if planned_s is not None else [0.0] * max(1, lanes)
    out = [0] * len(jobs)
    for i in sorted(range(len(jobs)), key=lambda i: (-speech_seconds(jobs[i]), i)):
        lane = min(range(len(load)), key=lambda k: (load[k], k))
        out[i] = lane
        load[lane] += speech_seconds(jobs[i])
    return out


def speech_seconds(job: SpeechJob) -> float:
    """Seconds of speech the job hears (its speech spans' total)."""
    return float(sum(e - s for s, e in job.speech_spans_s))


def transcribe_job(model: LoadedModel, job: SpeechJob, decoder: DecoderOptions = DecoderOptions(),
                   gating: GatingOptions = GatingOptions(), lane: int = 0) -> list[Word]:
    """transcribe_speech for one job, on lane `lane` of the model."""
    return transcribe_speech(model, job.samples, job.speech_spans_s, decoder, gating, mute_s=job.mute_s, lane=lane)


def transcribe_jobs(
    model: LoadedModel,
    jobs: Sequence[SpeechJob],
    decoder: DecoderOptions = DecoderOptions(),
    gating: GatingOptions = GatingOptions(),
    *,
    return_exceptions: bool = False,
) -> list:
    """transcribe_speech for each job, the words in job order: the jobs spread over the
    model's lanes by `job_lanes`, the lanes side by side in threads, each lane's jobs in
    job order (so the same jobs always meet the same lane in the same order: temperature
    fallback samples from a generator CTranslate2 keeps per lane). A one-lane model
    decodes them one after another in this thread. With `return_exceptions`, a job that
    fails gives its exception in its place and the others still run; otherwise the first
    failure is raised."""
    lanes = min(lanes_of(model), len(jobs))
    plan = job_lanes(jobs, lanes)
    out: list = [None] * len(jobs)

    def lane_words(lane: int) -> None:
        for i in (i for i in range(len(jobs)) if plan[i] == lane):
            try:
                out[i] = transcribe_job(model, jobs[i], decoder, gating, lane)
            except Exception as exc:  # noqa: BLE001 - returned or raised below, in job order
                out[i] = exc

    if lanes <= 1:
        lane_words(0)
    else:
        with ThreadPoolExecutor(lanes, thread_name_prefix="callqa-asr-lane") as pool:
            list(pool.map(lane_words, range(lanes)))
    if not return_exceptions:
        for result in out:
            if isinstance(result, Exception):
                raise result
    return out


def _segment_words(segments: list[dict], pieces: list[_Piece], decoder: DecoderOptions) -> list[Word]:
    """The words of the segments that pass the guards, simplified, in the recording's clock."""
    words: list[Word] = []
    for seg in segments:
        if not _segment_ok(seg, decoder):
            continue
        kept = [(to_simplified(w["word"]).strip(), w) for w in seg.get("words", [])]
        kept = [(text, w) for text, w in kept if text]
        times = [(float(w["start"]), float(w["end"])) for _, w in kept]
        for (text, w), (s, e), i in zip(kept, times, _word_pieces(times, pieces)):
            start_s, end_s = _clamp_to_piece(s, e, pieces[i])
            words.append(Word(text, round(start_s, 3), round(end_s, 3), round(float(w.get("probability", 1.0)), 4)))
    return words


@_one_at_a_time
def transcribe_many(
    model: LoadedModel,
    jobs: Sequence[tuple[np.ndarray, Sequence[tuple[float, float]]]],
    decoder: DecoderOptions = DecoderOptions(),
    gating: GatingOptions = GatingOptions(),
    *,
    batch_size: int = 16,
) -> list[list[Word]]:
    """transcribe_speech for several (samples, speech spans) jobs, e.g. the channels of many
    calls, with the clips of all of them decoded in shared batches of `batch_size`
    (an engine with `decode_many`, the faster one; others decode job by job). Each job's
    gated audio is decoded whole (no MAX_CHUNK_S chunking: meant for calls, not 2-hour
    recordings)."""
    gated = []
    for samples, spans in jobs:
        merged = _merge_spans(spans, len(samples) / SAMPLE_RATE_HZ, gating) if len(spans) else []
        gated.append(_concat(samples, merged, gating) if merged else (np.zeros(0, np.float32), []))
    engine = get_engine(model.engine)
    decode_many = getattr(engine, "decode_many", None)
    if decode_many is not None:
        per_job = decode_many(model, [a for a, _ in gated], decoder, batch_size)
    else:
        per_job = [engine.decode_segments(model, a, decoder) if len(a) else [] for a, _ in gated]
    return [_drop_loops(_segment_words(segs, pieces, decoder)) if pieces else []
            for segs, (_, pieces) in zip(per_job, gated)]
