"""A call's output rows: the CallResult of an analysed transcript, or of a failure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from analyzers.analyze import Analysis
from analyzers.model import CallResult, Transcript
from analyzers.pii import mask_numbers
from flows.batch.metadata import CallMeta
from flows.batch.recordings import Recording
from flows.batch.settings import CallSettings


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _masked(transcript: Transcript, analysis: Analysis) -> tuple[tuple, tuple]:
    utterances = tuple(replace(u, text=mask_numbers(u.text), words=()) for u in transcript.utterances)
    findings = tuple(replace(f, text=mask_numbers(f.text), detail=mask_numbers(f.detail)) for f in analysis.findings)
    return utterances, findings


def call_result(
    transcript: Transcript, analysis: Analysis, *, source: str, audio_sha256: str, key: str, mask: bool = True,
    settings: CallSettings | None = None, direction: str = "", meta: CallMeta | None = None,
) -> CallResult:
    """The output row of an analysed call; with `mask`, personal numbers are masked here,
    before anything is written (the transcript cache keeps the raw text for reprocessing)."""
    utterances, findings = _masked(transcript, analysis) if mask else (transcript.utterances, analysis.findings)
    return CallResult(
        call_id=transcript.call_id,
        source=mask_numbers(source) if mask else source,
        status="ok",
        duration_s=transcript.duration_s,
        layout=transcript.layout,
        agent_chars_per_min=analysis.agent_chars_per_min,
        customer_chars_per_min=analysis.customer_chars_per_min,
        agent_talk_s=analysis.agent_talk_s,
        customer_talk_s=analysis.customer_talk_s,
        hold_count=analysis.hold_count,
        banned_count=analysis.banned_count,
        overtalk_count=analysis.overtalk_count,
        greeting_ok=analysis.greeting_ok,
        closing_ok=analysis.closing_ok,
        score=analysis.score,
        grade=analysis.grade,
        flagged=analysis.flagged,
        speaker_confidence=transcript.speaker_confidence,
        speakers_uncertain=transcript.speakers_uncertain,
        model_version=transcript.asr_model,
        lexicon_version=analysis.lexicon_version,
        processed_at=_now(),
        audio_sha256=audio_sha256,
        transcript_key=key,
        settings=settings.as_json() if settings else None,
        settings_key=settings.key if settings else None,
        truncated_s=transcript.truncated_s or None,
        direction=direction,
        flag_reasons=tuple(analysis.flag_reasons),
        automatic_share=analysis.automatic_share,
        **(meta.columns() if meta else {}),
        utterances=utterances,
        findings=findings,
        scores=analysis.items,
    )


def error_result(rec: Recording, exc: BaseException, *, mask: bool = True, **known) -> CallResult:
    reason = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
    error = f"{type(exc).__name__}: {reason}"  # it may quote the path
    return CallResult(
        call_id=rec.call_id,
        source=mask_numbers(rec.path) if mask else rec.path,
        status="error",
        error=mask_numbers(error) if mask else error,
        processed_at=_now(),
        **known,
    )


#: Failures that may pass on a second try (a busy network share, a timeout), as opposed
#: to a bad recording, which fails the same way every time.
TRANSIENT_ERRORS = (TimeoutError, ConnectionError, BlockingIOError, InterruptedError)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS)
