"""The one data model shared by every stage of callqa.

audio -> speech spans -> transcript -> findings -> tables: each arrow passes the
dataclasses below, never dicts. Times are seconds from the start of the recording
(`start_s`, `end_s`). The Parquet schemas in `flows/storage/schema.py` are derived from these
classes, so a field added here shows up in the tables.

`to_dict` / `from_dict` give the JSON form used by the transcript cache and the
ground-truth files; `from_dict` validates and names the offending field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

AGENT = "agent"
CUSTOMER = "customer"
UNKNOWN = "unknown"
SPEAKERS = (AGENT, CUSTOMER, UNKNOWN)
_OTHER_PARTY = {AGENT: CUSTOMER, CUSTOMER: AGENT}


def other_party(speaker: str) -> str:
    """The agent for the customer and the other way round; any other label unchanged."""
    return _OTHER_PARTY.get(speaker, speaker)


Speaker = Literal["agent", "customer", "unknown"]
Layout = Literal["stereo", "mono"]
Severity = Literal["info", "minor", "major", "critical"]
#: Severities, mildest first.
SEVERITIES: tuple[str, ...] = typing.get_args(Severity)
Grade = Literal["A", "B", "C", "D", "E", "F"]
#: The standard's grades, best first (A = 5 points ... F = 0).
GRADES: tuple[str, ...] = typing.get_args(Grade)
Status = Literal["ok", "error"]
#: Who placed the call: the customer ("inbound") or the agent ("outbound" script).
Direction = Literal["inbound", "outbound"]
DIRECTIONS: tuple[str, ...] = typing.get_args(Direction)
INBOUND, OUTBOUND = DIRECTIONS

Category = Literal[
    "greeting_missing",
    "closing_missing",
    "banned_phrase",
    "hold",
    "hold_notice_missing",
    "hold_apology_missing",
    "speech_rate_fast",
    "speech_rate_slow",
    "pace_mismatch",
    "overtalk",
    "complaint_apology_missing",
    "confirmation_missing",
    "followup_time_missing",
    "polite_request_missing",
    "thanks_missing",
    "reply_missing",
    "hold_reason_missing",
    "raised_voice",
    #: A hit of a rule written in the pack's rule language (custom_rules.yaml); rule_id names it.
    "pack_rule",
]
#: Finding categories: stable names, part of the output contract.
CATEGORIES: tuple[str, ...] = typing.get_args(Category)


class ModelError(ValueError):
    """A dict does not fit the data model; the message names the field path."""


@dataclass(frozen=True)
class Span:
    """A stretch of time, e.g. a hold or a pause."""

    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class SpeechSpan:
    """Where speech detection heard someone speak; `speaker` is the channel's role."""

    speaker: Speaker
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Word:
    """One recognised token (for Chinese usually one or a few characters)."""

    text: str
    start_s: float
    end_s: float
    probability: float = 1.0


@dataclass(frozen=True)
class Utterance:
    """One stretch of speech by one speaker."""

    speaker: Speaker
    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...] = ()
    #: Loudness on the speaker's channel (dBFS, flows.speech.vad.span_levels_db); None when not
    #: measured (a transcript cached before levels were).
    level_db: float | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Transcript:
    """Everything the analyzers need to know about one call."""

    call_id: str
    duration_s: float
    layout: Layout
    utterances: tuple[Utterance, ...]
    #: Speech detected per speaker, independent of the ASR; holds are measured on these.
    speech_spans: tuple[SpeechSpan, ...] = ()
    #: 1.0 when speakers come from separate channels; the diarization confidence for mono.
    speaker_confidence: float = 1.0
    #: A mono call whose split into agent and customer may be wrong (one voice heard,
    #: voices alike, methods disagreeing): findings that depend on who spoke are marked
    #: and the call goes to review (flows.speech.diarize_embed.diarize_call).
    speakers_uncertain: bool = False
    asr_model: str = ""
    language: str = "zh"
    #: Seconds of audio the container promised but did not hold (0.0: complete).
    truncated_s: float = 0.0


@dataclass(frozen=True)
class Finding:
    """One observation about a call, e.g. a banned phrase or a hold without notice."""

    category: Category
    rule_id: str
    severity: Severity
    speaker: Speaker
    start_s: float
    end_s: float
    text: str = ""
    detail: str = ""
    #: The call's speakers are uncertain and this finding charges one of them: it may
    #: belong to the other speaker (Transcript.speakers_uncertain).
    speaker_uncertain: bool = False
    #: Mean and least ASR probability of the words the finding rests on (the speaker's words
    #: within its span); None without word timings (a supplied transcript).
    confidence_mean: float | None = None
    confidence_min: float | None = None
    #: confidence_mean is below the pack's scorecard.flag.low_confidence_below: "heard with
    #: low confidence"; such a finding alone does not flag the call.
    low_confidence: bool = False


@dataclass(frozen=True)
class ItemScore:
    """One scorecard item of one call."""

    #: The pack's id for the item (standard_wording, polite_wording …).
    item_id: str
    #: The standard's name (规范用语, 礼貌用语 …).
    name: str
    #: "A".."F"; "" when the item is manual.
    grade: str
    #: 5..0; None when the item is manual.
    points: int | None
    weight: float
    #: False: no recording can judge it; left to QA staff.
    automatic: bool
    #: Positions (0-based) in the call's findings behind the grade: the findings table's
    #: `finding_index`.
    finding_refs: tuple[int, ...] = ()


#: The calls columns that time a call's stages (CallResult.decode_s ...), in pipeline order.
STAGE_COLUMNS = ("decode_s", "vad_s", "diarize_s", "asr_s", "analysis_s", "write_s")
#: The calls columns that differ between two runs of the same call with the same settings.
RUN_VARYING_COLUMNS = ("processed_at", *STAGE_COLUMNS)


@dataclass(frozen=True)
class CallResult:
    """One processed recording: the row of the `calls` table plus its child rows."""

    call_id: str
    source: str
    status: Status
    error: str = ""
    duration_s: float | None = None
    layout: str = ""
    agent_chars_per_min: float | None = None
    customer_chars_per_min: float | None = None
    agent_talk_s: float | None = None
    customer_talk_s: float | None = None
    hold_count: int | None = None
    banned_count: int | None = None
    overtalk_count: int | None = None
    greeting_ok: bool | None = None
    closing_ok: bool | None = None
    score: float | None = None
    grade: str = ""
    flagged: bool | None = None
    speaker_confidence: float | None = None
    #: Transcript.speakers_uncertain; null on error rows.
    speakers_uncertain: bool | None = None
    model_version: str = ""
    lexicon_version: str = ""
    processed_at: str = ""
    #: sha256 of the recording's bytes: what "already processed" is judged by.
    audio_sha256: str = ""
    #: Key of the cached transcript, so that `reprocess` can find it without any ASR.
    transcript_key: str = ""
    #: Every setting that produced these rows (JSON; see flows.batch.settings) and its hash:
    #: a run redoes a call whose settings differ from the run's own.
    settings: str | None = None
    settings_key: str | None = None
    #: Seconds the container promised beyond the audio it held, for a truncated
    #: recording processed with --allow-truncated; null when the recording is complete.
    truncated_s: float | None = None
    #: "inbound" or "outbound" (flows.batch.metadata): which opening script was checked.
    direction: str = ""
    #: Why the call is flagged for review, worst first (empty when it is not flagged).
    flag_reasons: tuple[str, ...] = ()
    #: Share (0-1) of the scorecard's weight graded automatically; the rest is for QA staff.
    automatic_share: float | None = None
    #: Call metadata from the run's CSV manifest or the `<stem>.meta.json` sidecar
    #: (flows.batch.metadata); null when not supplied (and in folders written before schema 3).
    agent_id: str | None = None
    agent_name: str | None = None
    team: str | None = None
    #: When the call started, as supplied (ISO-8601 expected, not reinterpreted).
    started_at: str | None = None
    queue: str | None = None
    #: Where the call's time went, in seconds (STAGE_COLUMNS); null for a stage that did not
    #: run (a cached transcript skips decode to ASR, a stereo call diarization). Not part of
    #: any settings or cache key: two runs of the same call differ in these and processed_at only.
    decode_s: float | None = None
    vad_s: float | None = None
    diarize_s: float | None = None
    asr_s: float | None = None
    analysis_s: float | None = None
    write_s: float | None = None
    utterances: tuple[Utterance, ...] = ()
    findings: tuple[Finding, ...] = ()
    #: The scorecard items (the `scores` table).
    scores: tuple[ItemScore, ...] = ()


@dataclass(frozen=True)
class CallTruth:
    """Ground truth for a generated sample call (written by tools/make_sample_calls.py)."""

    call_id: str
    audio: str
    description: str
    duration_s: float
    sample_rate_hz: int
    channels: int
    codec: str
    layout: Layout
    #: "left" or "right" for stereo calls; "" for mono.
    agent_channel: str
    utterances: tuple[Utterance, ...]
    holds: tuple[Span, ...] = ()
    #: Silences that are deliberately shorter than a hold (must not be flagged).
    pauses: tuple[Span, ...] = ()
    expected_findings: tuple[Finding, ...] = ()
    agent_chars_per_min: float | None = None
    customer_chars_per_min: float | None = None


def finding_id(call_id: str, rule_id: str, speaker: str, start_s: float, text: str) -> str:
    """A finding's stable id: the same finding found again (reprocess with an edited rule
    pack, from the cached transcript) gets the same id, so a reviewer's verdict on it holds.

    Parameters: the call, the rule, who is charged, the start in seconds (rounded to
    0.1 s, so float noise between runs does not change it) and the quoted (masked) text.
    Returns 16 hex characters. Category and severity are left out on purpose: a rule
    pack edit that only re-rates a finding must not orphan its verdict.
    """
    key = "\x1f".join((call_id, rule_id, speaker, f"{round(float(start_s), 1):.1f}", text or ""))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


# --- (de)serialisation -------------------------------------------------------


def to_dict(obj: Any) -> Any:
    """A JSON-ready form of any model object (tuples become lists)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(x) for x in obj]
    return obj


_T = typing.TypeVar("_T")


def from_dict(cls: type[_T], data: Any, path: str = "") -> _T:
    """Build `cls` from `data`, checking every field; errors name the field path."""
    where = path or cls.__name__
    if not isinstance(data, dict):
        raise ModelError(f"{where}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ModelError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ModelError(f"{where}.{f.name}: missing")
            continue
        kwargs[f.name] = _convert(hints[f.name], data[f.name], f"{where}.{f.name}")
    obj = cls(**kwargs)
    _check_times(obj, where)
    return obj


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arg in args:
            try:
                return _convert(arg, value, where)
            except ModelError as exc:
                errors.append(str(exc))
        raise ModelError(errors[-1])
    if tp is type(None):
        if value is not None:
            raise ModelError(f"{where}: expected null")
        return None
    if origin is Literal:
        if value not in args:
            raise ModelError(f"{where}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if origin is tuple:
        if not isinstance(value, list):
            raise ModelError(f"{where}: expected a list")
        return tuple(_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ModelError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ModelError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is bool or tp is str:
        if not isinstance(value, tp):
            raise ModelError(f"{where}: expected {tp.__name__}, got {value!r}")
        return value
    raise ModelError(f"{where}: unsupported type {tp!r}")  # pragma: no cover


def _check_times(obj: Any, where: str) -> None:
    start = getattr(obj, "start_s", None)
    end = getattr(obj, "end_s", None)
    if start is not None and end is not None and not (0 <= start <= end):
        raise ModelError(f"{where}: need 0 <= start_s <= end_s, got {start}..{end}")
