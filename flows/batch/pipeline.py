"""One recording through the run: prepare (hash, cache lookup, hear) and finish
(transcribe, analyse, write); reprocessing a cached transcript.

The stages take the run's RunPlan (flows.batch.plan): its pack, model and each
recording's settings, resolved once. Any exception inside becomes an error row for
that recording, so one broken file never stops a batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from analyzers.analyze import analyze
from analyzers.model import CallResult, Transcript
from flows.batch.metadata import CallMeta, manifest_row, read_call_meta
from flows.batch.plan import PipelineConfig, RunPlan  # noqa: F401 - PipelineConfig re-exported
from flows.batch.recordings import AUDIO_EXTENSIONS, Recording, find_recordings  # noqa: F401 - re-exported
from flows.batch.results import call_result, error_result, is_transient  # noqa: F401 - re-exported
from flows.batch.settings import CallSettings
from flows.speech.engines import ModelLoadError
from flows.speech.transcript import (  # noqa: F401 - refine, with_levels, one_voice_windows re-exported
    Heard,
    JobDecoder,
    StageClock,
    SuppliedTranscriptError,
    TruncatedRecording,
    hear_call,
    local_decoder,
    one_voice_windows,
    refine,
    transcribe_call,
    with_levels,
)
from flows.storage.cache import TranscriptCache, file_sha256, transcript_key
from flows.storage.store import ResultStore


@dataclass
class Prepared:
    """A recording's work up to whisper (`prepare_recording`), to be finished by
    `finish_recording`, possibly in another thread: the cached transcript, or the audio
    heard (`hear_call`) on a cache miss, or the exception that stopped it."""

    rec: Recording
    clock: StageClock = field(default_factory=StageClock)
    sha: str = ""
    settings: CallSettings | None = None
    key: str = ""
    transcript: Transcript | None = None
    heard: Heard | None = None
    error: Exception | None = None

    @property
    def audio_s(self) -> float:
        """Seconds of decoded audio this holds (0 for a cache hit or an error)."""
        return self.heard.audio.duration_s if self.heard else 0.0


def prepare_recording(rec: Recording, plan: RunPlan, on_miss: Callable[[], None] | None = None) -> Prepared:
    """Hash, look up the transcript cache and, on a miss, hear the recording (decode,
    speech detection, diarization); `on_miss()` is called first (the batch loads the model
    meanwhile). Never raises an Exception: it is kept for `finish_recording`, which handles
    it as `process_recording` always has."""
    from flows.speech.audio import check_file

    p = Prepared(rec)
    try:
        check_file(rec.path)  # before hashing: a FIFO would block open(), a 000 file fail unclearly
        p.sha = file_sha256(rec.path)
        p.settings = plan.settings_of(rec)
        p.key = transcript_key(p.sha, p.settings.transcript)
        p.transcript = TranscriptCache(plan.transcript_dir).get(p.key)
        if p.transcript is None:
            if on_miss is not None:
                on_miss()
            p.heard = hear_call(rec.path, plan.speech, p.clock)
    except Exception as exc:  # noqa: BLE001 - re-raised by finish_recording
        p.error = exc
    return p


def finish_recording(
    p: Prepared,
    plan: RunPlan,
    *,
    store: ResultStore | None = None,
    reraise_transient: bool = False,
    decode: JobDecoder | None = None,
    write: bool = True,
) -> CallResult:
    """Transcribe (unless cached), analyse and write a prepared recording (see
    process_recording). `decode`: where its whisper passes are decoded (AsrGroup), else
    here with the plan's model. Without `write`, the result is returned unwritten (the
    caller writes it: `store.write(result)`)."""
    rec, clock = p.rec, p.clock
    store = store or ResultStore(plan.out_dir)
    try:
        if p.error is not None:
            raise p.error
        transcript = _transcript(p, plan, decode)
        p.heard = None  # the audio is not needed for the analysis: let it go
        with clock.stage("analysis"):
            result = _analysed(transcript, p, plan)
        result = replace(result, **clock.columns())
    except ModelLoadError:
        raise  # every call would fail the same way: stop the batch, leave this call pending
    except Exception as exc:  # noqa: BLE001 - one bad recording must not stop the batch
        if reraise_transient and is_transient(exc):
            raise
        result = error_result(rec, exc, mask=plan.config.mask_pii, audio_sha256=p.sha, **clock.columns())
    return (store.write(result) or result) if write else result


def _transcript(p: Prepared, plan: RunPlan, decode: JobDecoder | None) -> Transcript:
    """The call's transcript: prepared from the cache, cached meanwhile by an earlier call
    of the batch (a copy of the same audio), or transcribed now and cached."""
    rec = p.rec
    cache = TranscriptCache(plan.transcript_dir)
    transcript = p.transcript or cache.get(p.key)
    if transcript is None:
        transcript = transcribe_call(rec.path, rec.call_id, plan.speech, plan.model_name,
                                     decode or local_decoder(plan.load_model, plan.speech), p.clock, heard=p.heard)
        cache.put(p.key, transcript)
    elif transcript.call_id != rec.call_id:  # same audio under another name
        transcript = replace(transcript, call_id=rec.call_id)
    if transcript.truncated_s and not plan.config.allow_truncated:  # cached by an --allow-truncated run
        raise TruncatedRecording(rec.path, transcript.duration_s + transcript.truncated_s, transcript.duration_s)
    return transcript


def _analysed(transcript: Transcript, p: Prepared, plan: RunPlan) -> CallResult:
    """The call's result rows: its metadata read, the transcript refined and analysed."""
    cfg, rec = plan.config, p.rec
    meta = read_call_meta(rec.path, cfg.direction, manifest_row(cfg.metadata, rec.manifest_id))
    transcript = refine(transcript)
    meaning = _meaning(transcript, plan, p.key)
    return call_result(transcript, analyze(transcript, plan.pack, meta.direction, meaning=meaning), source=rec.path,
                       audio_sha256=p.sha, key=p.key, mask=cfg.mask_pii, settings=p.settings,
                       direction=meta.direction, meta=meta)


def _meaning(transcript: Transcript, plan: RunPlan, key: str):
    """The call's intent decisions for the rules that read by meaning (None: literal only);
    its sentence embeddings come from beside its cached transcript, or are made and kept."""
    if plan.intents is None:
        return None
    return plan.intents.decisions(transcript, TranscriptCache(plan.transcript_dir), key)


def process_recording(rec: Recording, plan: RunPlan, *, store: ResultStore | None = None,
                      reraise_transient: bool = False) -> CallResult:
    """Transcribe (or take from cache), analyse and write one recording.

    A bad recording never raises: the error becomes the call's row. A model that cannot
    be loaded raises ModelLoadError and writes nothing (the call stays pending). With
    `reraise_transient`, transient failures are raised instead so that the caller (a
    Prefect task with retries) can try again.
    """
    return finish_recording(prepare_recording(rec, plan), plan, store=store, reraise_transient=reraise_transient)


class NotReprocessable(RuntimeError):
    """A call whose analysis cannot be redone from its cached transcript; its rows stay."""


def reprocess_call(row: dict, plan: RunPlan, *, store: ResultStore) -> CallResult:
    """Re-run only the analyzers on a call's cached transcript (no audio, no ASR).

    Raises NotReprocessable, and writes nothing, when the transcript cannot be had: the
    call keeps the rows it has, which are better than an error row.
    """
    cfg = plan.config
    transcript = TranscriptCache(plan.transcript_dir).get(row["transcript_key"] or "")
    if transcript is None:
        raise NotReprocessable(
            f"no cached transcript {row['transcript_key'] or '(none recorded)'} in {plan.transcript_dir}: "
            "its rows are kept; `callqa run --force` on its recording transcribes it again")
    old = CallSettings.from_json(row.get("settings"))
    settings = CallSettings(
        old.transcript if old else {"transcript_key": row["transcript_key"]},
        {**(old.analysis if old else {}), "lexicon": plan.pack.lexicon_version, "mask_pii": cfg.mask_pii,
         "meaning": plan.meaning_setting},
    )
    direction = row.get("direction") or "inbound"  # as the run that made the row read it
    clock = StageClock()
    try:
        with clock.stage("analysis"):
            transcript = refine(replace(transcript, call_id=row["call_id"]))
            result = call_result(
                transcript, analyze(transcript, plan.pack, direction, meaning=_meaning(transcript, plan, row["transcript_key"])),
                source=row["source"],
                audio_sha256=row["audio_sha256"], key=row["transcript_key"], mask=cfg.mask_pii, settings=settings,
                direction=direction,
                # the metadata the run supplied stays with the call (null in schema-2 rows)
                meta=CallMeta(direction, **{k: row.get(k) for k in CallMeta().columns()}),
            )
    except Exception as exc:  # noqa: BLE001 - a bug in a rule must not cost the call its rows
        raise NotReprocessable(f"analysis failed: {type(exc).__name__}: {exc}") from exc
    return store.write(replace(result, **clock.columns())) or result
