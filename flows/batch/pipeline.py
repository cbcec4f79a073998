"""Plain functions that turn one recording into a CallResult (no Prefect here).

audio -> speech spans -> transcript (cached) -> analysis -> CallResult -> Parquet.
The Prefect flows and the CLI both call `process_recording`; any exception inside it
becomes an error row for that recording, so one broken file never stops a batch.
"""

from __future__ import annotations

import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

from analyzers.analyze import Analysis, analyze
from analyzers.model import DIRECTIONS
from analyzers.cer import to_simplified
from analyzers.model import AGENT, CUSTOMER, CallResult, SpeechSpan, Transcript, Utterance, Word, other_party
from analyzers.pii import mask_numbers, masked_ids
from analyzers.speakers import assign_words, greeter_is_customer, swap_roles
from analyzers.timeline import merge
from flows.storage.cache import TranscriptCache, file_sha256, transcript_key
from flows.speech.audio import AGENT_CHANNELS, CallAudio
from flows.speech.diarize import Diarization
from flows.speech.diarize_embed import DIARIZERS, diarize_call
from flows.batch.metadata import CallMeta, manifest_row, read_call_meta
from flows.batch.settings import MONO_ASR, CallSettings, analysis_settings, is_whisper_words, transcript_settings
from flows.storage.store import ResultStore
from flows.speech.engines import ENGINES, DecoderOptions
from flows.speech.engines.faster import DEFAULT_COMPUTE_TYPE
from flows.speech.vad import METHODS as VAD_METHODS
from flows.speech.vad import VadOptions
from flows.speech.transcribe import (
    TRANSCRIBER_VERSION,
    GatingOptions,
    ModelLoadError,
    SpeechJob,
    asr_key,
    job_lanes,
    lanes_of,
    load_model,
    model_version,
    pad_and_merge,
    resolve_model_ref,
    snap_to_speech,
    speech_seconds,
    transcribe_job,
    transcribe_jobs,
    words_to_utterances,
)

#: What a folder scan picks up; a file named explicitly is always tried.
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus", ".wma", ".amr", ".webm", ".au"}
)


@dataclass(frozen=True)
class PipelineConfig:
    """Settings of one batch; those that change transcripts go into the cache key."""

    out_dir: str
    model: str | None = None
    lexicon: str = "zh-CN"
    agent_channel: str = "left"
    #: What the engine's decoder is asked to do (beam, temperatures, thresholds, batching).
    decoder: DecoderOptions = field(default_factory=DecoderOptions)
    #: How speech spans become whisper's audio and words become utterances.
    gating: GatingOptions = field(default_factory=GatingOptions)
    #: Speech detection.
    vad: VadOptions = field(default_factory=VadOptions)
    cache_dir: str | None = None
    #: Mask phone/ID/bank/order numbers in utterance and finding text before writing.
    mask_pii: bool = True
    #: ASR engine, a name in flows.speech.engines.ENGINES: "openai" (openai-whisper) or
    #: "faster" (faster-whisper, CTranslate2).
    engine: str = "openai"
    #: The faster engine's compute type (flows.speech.engines.faster.COMPUTE_TYPES; "auto" picks the device;
    #: ignored by openai).
    compute_type: str = DEFAULT_COMPUTE_TYPE
    #: Process a recording whose container promises more audio than it holds (the
    #: shortfall goes to the `truncated_s` column) instead of giving it an error row.
    allow_truncated: bool = False
    #: Direction of calls without a metadata sidecar (flows.batch.metadata): inbound or outbound.
    direction: str = "inbound"
    #: How a mono call's speech is split between agent and customer
    #: (flows.speech.diarize_embed.DIARIZERS): "auto", "embed" or "mfcc".
    diarizer: str = "auto"
    #: Whisper on a mono call with two voices: "per_speaker" (one pass per diarized
    #: speaker, the other muted) or "one_pass" (the whole call, words given to the
    #: speaker whose span holds them). Measured in docs/diarization.md.
    mono_asr: str = "per_speaker"
    #: CSV manifest of call metadata (flows.batch.metadata; `callqa run --metadata`), or None.
    metadata: str | None = None

    def __post_init__(self) -> None:
        # Checked here, before any audio: a bad setting would otherwise fail every
        # recording one by one and fill the calls table with the same error.
        if not self.out_dir or not str(self.out_dir).strip():
            raise ValueError("out_dir must be a folder path, got an empty value")
        if self.agent_channel not in AGENT_CHANNELS:
            raise ValueError(f"agent_channel must be one of {', '.join(AGENT_CHANNELS)}, got {self.agent_channel!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {self.direction!r}")
        if self.mono_asr not in MONO_ASR:
            raise ValueError(f"mono_asr must be one of {', '.join(MONO_ASR)}, got {self.mono_asr!r}")
        if self.diarizer not in DIARIZERS:
            raise ValueError(f"diarizer must be one of {', '.join(DIARIZERS)}, got {self.diarizer!r}")
        if self.vad.method not in VAD_METHODS:
            raise ValueError(f"vad method must be one of {', '.join(VAD_METHODS)}, got {self.vad.method!r}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.decoder.beam_size is not None and self.decoder.beam_size < 1:
            raise ValueError(f"beam_size must be 1 or more (or None for greedy), got {self.decoder.beam_size!r}")
        if self.decoder.batch_size is not None:
            if self.decoder.batch_size < 1:
                raise ValueError(f"batch_size must be 1 or more (or None for sequential), got {self.decoder.batch_size!r}")
            if not ENGINES[self.engine].batches:
                batching = " or ".join(name for name, e in ENGINES.items() if e.batches)
                raise ValueError(f"batch_size needs the {batching} engine, not {self.engine!r}")

    @property
    def transcript_dir(self) -> str:
        return self.cache_dir or os.path.join(self.out_dir, "cache", "transcripts")

    def model_ref(self) -> str:
        """The engine's model (raises ModelNotConfigured when there is none)."""
        return resolve_model_ref(self.model, self.engine)

    def model_name(self, model_ref: str) -> str:
        """What `model_version` in the results says, e.g. whisper-base.pt or
        faster-whisper-base+ct2-int8."""
        return model_version(model_ref, self.engine, self.compute_type)

    def transcript_settings(self, model_ref: str, recording: str | None = None) -> dict:
        """The transcript cache key's settings (see flows.batch.settings)."""
        return transcript_settings(
            model=self.model_name(model_ref), transcriber=TRANSCRIBER_VERSION,
            asr=asr_key(self.decoder, self.gating), vad=self.vad.key(), agent_channel=self.agent_channel, engine=self.engine, recording=recording,
            diarizer=self.diarizer, mono_asr=self.mono_asr,
        )

    def call_settings(self, model_ref: str, pack, recording: str, call_id: str | None = None) -> CallSettings:
        """Every setting that changes `recording`'s rows: what its row records and what
        decides whether that row is current. `call_id` (default: the file stem) names the
        call's row in the metadata manifest."""
        analysis = analysis_settings(lexicon_version=pack.lexicon_version, mask_pii=self.mask_pii,
                                     allow_truncated=self.allow_truncated, direction=self.direction,
                                     recording=recording)
        row = manifest_row(self.metadata, call_id or Path(recording).stem)
        if row:  # only when the manifest names the call: rows written without one stay current
            analysis["manifest"] = json.dumps(row, sort_keys=True, ensure_ascii=False)
        return CallSettings(self.transcript_settings(model_ref, recording), analysis)


@dataclass(frozen=True)
class Recording:
    path: str
    #: Its id in the results: `name` with personal numbers masked (analyzers.pii.masked_ids).
    call_id: str
    #: The id before masking (file stem, or path below its folder): how a metadata manifest names it.
    name: str = ""

    @property
    def manifest_id(self) -> str:
        return self.name or self.call_id


def find_recordings(inputs: Iterable[str | os.PathLike[str]]) -> list[Recording]:
    """Recordings under the given files and folders, with unique call ids.

    call_id is the file's stem; where two files share a stem, their path relative to
    the folder they were found in (without extension) tells them apart. Personal numbers
    in it are masked (analyzers.pii.masked_ids), whatever --no-mask says: an id must not
    change with a setting (`source` and `error` are masked unless --no-mask).
    """
    found: list[tuple[Path, Path]] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found += [
                (f, p)
                for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS and not f.name.startswith(".")
            ]
        else:
            found.append((p, p.parent))  # a missing file still gets an error row
    stems: dict[str, int] = {}
    for f, _ in found:
        stems[f.stem] = stems.get(f.stem, 0) + 1
    recordings, seen = [], set()
    for f, base in found:
        call_id = f.stem if stems[f.stem] == 1 else f.relative_to(base).with_suffix("").as_posix()
        if str(f) in seen:
            continue
        seen.add(str(f))
        recordings.append(Recording(str(f), call_id, call_id))
    return [replace(r, call_id=masked) for r, masked in zip(recordings, masked_ids([r.name for r in recordings]))]


def _byo_words(path: Path, channel: str, layout: str) -> list[Word] | None:
    """Words from a whisper-format JSON supplied next to the recording, if any.

    Looked up as `<stem>.<channel>.json` (channel: agent, customer, mixed) and, for mono
    calls, `<stem>.json`; only files with whisper's `segments` count (the sample calls'
    `<stem>.truth.json` ground truth never does).
    """
    names = [f"{path.stem}.{channel}.json"] + ([f"{path.stem}.json"] if layout == "mono" else [])
    for name in names:
        candidate = path.with_name(name)
        if not candidate.is_file():
            continue
        with open(candidate, encoding="utf-8") as f:
            data = json.load(f)
        if not is_whisper_words(data):
            continue
        words = []
        for i, seg in enumerate(data["segments"]):
            seg_words = seg.get("words") or [
                {"word": seg["text"], "start": seg["start"], "end": seg["end"]}
            ]
            for j, w in enumerate(seg_words):
                try:
                    text = to_simplified(str(w["word"])).strip()
                    start_s, end_s, p = float(w["start"]), float(w["end"]), float(w.get("probability", 1.0))
                except (KeyError, TypeError, ValueError) as exc:
                    raise SuppliedTranscriptError(
                        f"{candidate}: segment {i}, word {j}: needs `word`, `start` and `end` "
                        f"(seconds) like whisper's word timestamps ({type(exc).__name__}: {exc})") from None
                if text:
                    words.append(Word(text, start_s, end_s, p))
        return words
    return None


class SuppliedTranscriptError(ValueError):
    """A transcript supplied beside a recording (whisper's JSON) that cannot be read."""


class StageClock:
    """Seconds spent per stage of one call (the calls table's STAGE_COLUMNS, less `_s`)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def add(self, name: str, seconds: float) -> None:
        """Count `seconds` to stage `name` (time measured elsewhere, e.g. a shared decode's share)."""
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def columns(self) -> dict[str, float]:
        """{"decode_s": ..., ...} for the stages that ran."""
        return {f"{name}_s": round(s, 4) for name, s in self.seconds.items()}


#: One whisper pass of transcribe_call: (channel, speech ranges, muted ranges), seconds.
WhisperPass = tuple[str, Sequence[tuple[float, float]], Sequence[tuple[float, float]]]


@dataclass(frozen=True)
class Heard:
    """A recording up to whisper: its audio, speech spans and, for a mono call, who spoke
    where (None for stereo: the channel is the speaker)."""

    audio: CallAudio
    spans: tuple[SpeechSpan, ...]
    diarization: Diarization | None


def hear_call(path: str, cfg: PipelineConfig, clock: StageClock | None = None) -> Heard:
    """Decode, detect speech and, for a mono call, diarize (stages decode, vad, diarize
    to `clock`). Raises TruncatedRecording for a cut-short file unless allowed."""
    from flows.speech.audio import load_call
    from flows.speech.vad import call_speech_spans

    clock = clock or StageClock()
    with clock.stage("decode"):
        audio = load_call(path, agent_channel=cfg.agent_channel)
    if audio.shortfall_s and not cfg.allow_truncated:
        raise TruncatedRecording(path, audio.declared_duration_s, audio.duration_s)
    with clock.stage("vad"):
        spans = tuple(call_speech_spans(audio, method=cfg.vad.method))
    diarization = None
    if audio.layout != "stereo":
        with clock.stage("diarize"):
            diarization = diarize_call(audio.channels["mixed"], audio.sample_rate_hz, spans, method=cfg.diarizer)
    return Heard(audio, spans, diarization)


#: Decodes a call's whisper passes elsewhere (AsrGroup.member): (words per job, the
#: seconds of ASR to count to the call).
JobDecoder = Callable[[list[SpeechJob]], tuple[list[list[Word]], float]]


def transcribe_call(path: str, call_id: str, cfg: PipelineConfig, model_ref: str,
                    clock: StageClock | None = None, heard: Heard | None = None,
                    decode: JobDecoder | None = None) -> Transcript:
    """Decode, detect speech, transcribe per speaker (diarizing mono calls); the time of
    each stage goes to `clock`. `heard`: `hear_call`'s result for `path`, when already done.
    `decode`: where its whisper passes are decoded (with other calls' passes, AsrGroup),
    instead of here."""
    from flows.speech.vad import widen_speech_edges

    clock = clock or StageClock()
    heard = heard or hear_call(path, cfg, clock)
    audio, spans = heard.audio, heard.spans
    truncated_s = audio.shortfall_s
    model = None

    def whisper_words(passes: Sequence[WhisperPass]) -> list[list[Word]]:
        """Whisper's words of each pass, decoded side by side where the model has lanes."""
        nonlocal model
        if not passes:
            return []
        jobs = [SpeechJob(audio.channels[channel], ranges, mute_s) for channel, ranges, mute_s in passes]
        if decode is not None:
            words, asr_s = decode(jobs)
            clock.add("asr", asr_s)
            return words
        with clock.stage("asr"):
            if model is None:  # loaded only on a cache miss with no transcript supplied
                model = load_model(model_ref, cfg.engine, compute_type=cfg.compute_type)
            return transcribe_jobs(model, jobs, cfg.decoder, cfg.gating)

    gap_s = cfg.gating.utterance_gap_s
    if audio.layout == "stereo":
        own = {speaker: [(s.start_s, s.end_s) for s in spans if s.speaker == speaker] for speaker in (AGENT, CUSTOMER)}
        words = {speaker: _byo_words(Path(path), speaker, audio.layout) for speaker in own}
        heard = [speaker for speaker, supplied in words.items() if supplied is None]
        words.update(zip(heard, whisper_words([(speaker, own[speaker], ()) for speaker in heard])))
        utterances = [u for speaker in own for u in words_to_utterances(words[speaker], speaker, gap_s)]
        confidence, uncertain = 1.0, False
    else:
        diarization = heard.diarization
        spans = diarization.spans
        words = _byo_words(Path(path), "mixed", audio.layout)
        if words is None:
            words = _mono_words(whisper_words, spans, audio.duration_s, diarization.speakers, cfg.mono_asr)
        utterances = assign_words(words, spans, gap_s)
        if greeter_is_customer(utterances):
            utterances = swap_roles(utterances)
            spans = tuple(replace(s, speaker=other_party(s.speaker)) for s in spans)
        confidence = diarization.confidence
        uncertain = diarization.uncertain
    # Whisper was gated on the detector's own spans (padded); the spans kept for timing
    # and silences get the edges of syllables the detector cut. Feeding whisper the
    # widened spans too was measured: no better (sample calls 12.3 -> 13.1 % CER, real
    # clips 17.2 -> 15.2 %, noise of shifted 30-s windows either way), so its input stays.
    with clock.stage("vad"):  # the detector's edges and levels: speech detection's share
        spans = widen_speech_edges(spans, audio)
        utterances = with_levels(utterances, audio)
    return Transcript(
        call_id=call_id,
        duration_s=round(audio.duration_s, 3),
        layout=audio.layout,
        utterances=tuple(sorted(utterances, key=lambda u: (u.start_s, u.end_s))),
        speech_spans=tuple(spans),
        speaker_confidence=round(float(confidence), 3),
        speakers_uncertain=uncertain,
        asr_model=cfg.model_name(model_ref),
        truncated_s=round(truncated_s, 3),
    )


#: One-voice recordings: whisper hears each stretch of speech with this much audio (s)
#: around it, and pauses up to ONE_VOICE_GAP_S inside one window, so that it reads the
#: recording as it would read it whole. The pad covers how far the detector's onset can
#: lag a syllable (flows.speech.vad.EDGE_MAX_WIDEN_S, 0.6 s): a cut first syllable made
#: whisper decode the rest of the clip differently (docs/diarization.md has the figures).
ONE_VOICE_PAD_S = 0.75
ONE_VOICE_GAP_S = 2.0


def one_voice_windows(spans: Sequence[SpeechSpan], duration_s: float) -> list[tuple[float, float]]:
    """Whisper's windows for a one-voice recording: the speech spans padded by
    ONE_VOICE_PAD_S and joined across pauses up to ONE_VOICE_GAP_S (seconds)."""
    return pad_and_merge([(s.start_s, s.end_s) for s in spans], duration_s, ONE_VOICE_PAD_S, ONE_VOICE_GAP_S)


def _mono_words(whisper_words, spans: Sequence[SpeechSpan], duration_s: float, speakers: int,
                mono_asr: str) -> list[Word]:
    """Whisper's words of a diarized mono call (`whisper_words(passes)`: the words of each
    WhisperPass)."""
    if speakers < 2:
        return whisper_words([("mixed", one_voice_windows(spans, duration_s), ())])[0]
    if mono_asr == "one_pass":
        return whisper_words([("mixed", [(s.start_s, s.end_s) for s in spans], ())])[0]
    # One whisper pass per diarized speaker, the other speaker muted: measured on the mono
    # sample call02, agent CER 26 % -> 22 % and its worst agent utterance 56 % -> 33 %
    # against one pass over both voices (and docs/diarization.md: 11.6 % against 14.7 %).
    passes = [("mixed", [(s.start_s, s.end_s) for s in spans if s.speaker == speaker],
               [(s.start_s, s.end_s) for s in spans if s.speaker != speaker]) for speaker in (AGENT, CUSTOMER)]
    words = [w for heard in whisper_words(passes) for w in heard]
    return sorted(words, key=lambda w: (w.start_s, w.end_s))


def with_levels(utterances: Sequence[Utterance], audio) -> list[Utterance]:
    """Each utterance with its loudness on its speaker's channel (the mixed channel of a
    mono call, where the other voice may overlap it)."""
    from flows.speech.vad import span_levels_db

    out = list(utterances)
    for speaker in {u.speaker for u in out}:
        channel = audio.channels.get(speaker if audio.layout == "stereo" else "mixed")
        if channel is None:
            continue
        idx = [i for i, u in enumerate(out) if u.speaker == speaker]
        levels = span_levels_db(channel, audio.sample_rate_hz, [(out[i].start_s, out[i].end_s) for i in idx])
        for i, level in zip(idx, levels):
            out[i] = replace(out[i], level_db=level)
    return out


class TruncatedRecording(ValueError):
    """The container promises more audio than the file holds (a copy cut short)."""

    def __init__(self, path: str, declared_s: float | None, decoded_s: float) -> None:
        self.reason = (f"recording is truncated: its header promises {declared_s or 0:.1f} s but the file "
                       f"holds {decoded_s:.1f} s (--allow-truncated processes it anyway)")
        super().__init__(f"{path}: {self.reason}")


def refine(transcript: Transcript) -> Transcript:
    """Utterance edges snapped to each speaker's detected speech (see snap_to_speech).

    Applied whenever a transcript is used, fresh or cached: it is cheap and idempotent,
    so improving it never needs whisper to run again.
    """
    utterances = []
    for speaker in {u.speaker for u in transcript.utterances}:
        own = [(s.start_s, s.end_s) for s in transcript.speech_spans if s.speaker == speaker]
        utterances += snap_to_speech([u for u in transcript.utterances if u.speaker == speaker], own)
    return replace(transcript, utterances=tuple(sorted(utterances, key=lambda u: (u.start_s, u.end_s))))


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
        processed_at=datetime.now(timezone.utc).isoformat(timespec="microseconds"),
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
        processed_at=datetime.now(timezone.utc).isoformat(timespec="microseconds"),
        **known,
    )


#: Failures that may pass on a second try (a busy network share, a timeout), as opposed
#: to a bad recording, which fails the same way every time.
TRANSIENT_ERRORS = (TimeoutError, ConnectionError, BlockingIOError, InterruptedError)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS)


@dataclass
class Prepared:
    """A recording's work up to whisper (`prepare_recording`), to be finished by
    `finish_recording`, possibly in another thread: the cached transcript, or the audio
    heard (`hear_call`) on a cache miss, or the exception that stopped it."""

    rec: Recording
    clock: StageClock = field(default_factory=StageClock)
    sha: str = ""
    model_ref: str = ""
    settings: CallSettings | None = None
    key: str = ""
    transcript: Transcript | None = None
    heard: Heard | None = None
    error: Exception | None = None

    @property
    def audio_s(self) -> float:
        """Seconds of decoded audio this holds (0 for a cache hit or an error)."""
        return self.heard.audio.duration_s if self.heard else 0.0


def prepare_recording(rec: Recording, cfg: PipelineConfig, pack, on_miss: Callable[[], None] | None = None) -> Prepared:
    """Hash, look up the transcript cache and, on a miss, hear the recording (decode,
    speech detection, diarization); `on_miss()` is called first (the batch loads the model
    meanwhile). Never raises an Exception: it is kept for `finish_recording`, which handles
    it as `process_recording` always has."""
    from flows.speech.audio import check_file

    p = Prepared(rec)
    try:
        check_file(rec.path)  # before hashing: a FIFO would block open(), a 000 file fail unclearly
        p.sha = file_sha256(rec.path)
        p.model_ref = cfg.model_ref()
        p.settings = cfg.call_settings(p.model_ref, pack, rec.path, rec.manifest_id)
        p.key = transcript_key(p.sha, p.settings.transcript)
        p.transcript = TranscriptCache(cfg.transcript_dir).get(p.key)
        if p.transcript is None:
            if on_miss is not None:
                on_miss()
            p.heard = hear_call(rec.path, cfg, p.clock)
    except Exception as exc:  # noqa: BLE001 - re-raised by finish_recording
        p.error = exc
    return p


def finish_recording(
    p: Prepared,
    cfg: PipelineConfig,
    pack,
    *,
    store: ResultStore | None = None,
    reraise_transient: bool = False,
    decode: JobDecoder | None = None,
    write: bool = True,
) -> CallResult:
    """Transcribe (unless cached), analyse and write a prepared recording (see
    process_recording). `decode`: see transcribe_call. Without `write`, the result is
    returned unwritten (the caller writes it: `store.write(result)`)."""
    rec, clock, sha, settings, key = p.rec, p.clock, p.sha, p.settings, p.key
    store = store or ResultStore(cfg.out_dir)
    try:
        if p.error is not None:
            raise p.error
        cache = TranscriptCache(cfg.transcript_dir)
        # A second look: an earlier call of this batch may have cached the same audio
        # after this one was prepared.
        transcript = p.transcript or cache.get(key)
        if transcript is None:
            transcript = transcribe_call(rec.path, rec.call_id, cfg, p.model_ref, clock, heard=p.heard, decode=decode)
            cache.put(key, transcript)
        elif transcript.call_id != rec.call_id:  # same audio under another name
            transcript = replace(transcript, call_id=rec.call_id)
        p.heard = None  # the audio is not needed for the analysis: let it go
        if transcript.truncated_s and not cfg.allow_truncated:  # cached by an --allow-truncated run
            raise TruncatedRecording(rec.path, transcript.duration_s + transcript.truncated_s, transcript.duration_s)
        with clock.stage("analysis"):
            meta = read_call_meta(rec.path, cfg.direction, manifest_row(cfg.metadata, rec.manifest_id))
            transcript = refine(transcript)
            result = call_result(transcript, analyze(transcript, pack, meta.direction), source=rec.path,
                                 audio_sha256=sha, key=key, mask=cfg.mask_pii, settings=settings,
                                 direction=meta.direction, meta=meta)
        result = replace(result, **clock.columns())
    except ModelLoadError:
        raise  # every call would fail the same way: stop the batch, leave this call pending
    except Exception as exc:  # noqa: BLE001 - one bad recording must not stop the batch
        if reraise_transient and is_transient(exc):
            raise
        result = error_result(rec, exc, mask=cfg.mask_pii, audio_sha256=sha, **clock.columns())
    return (store.write(result) or result) if write else result


@dataclass(eq=False)
class _Pass:
    """One whisper pass of an AsrGroup, queued on a lane, and what became of it."""

    job: SpeechJob
    words: list[Word] | BaseException | None = None
    started: float = 0.0
    ended: float = 0.0
    done: bool = False


class AsrGroup:
    """The whisper passes of several calls, decoded over the model's lanes as the calls
    come in: each call's finishing thread hands its passes in (`member(i)` as
    transcribe_call's `decode`), or says it needs none (`member(i).done()`: cached,
    supplied words, an error). Calls take their turn in order: call i's passes are
    planned once calls 0 .. i-1 have handed theirs in or said they need none (`job_lanes`,
    the speech already planned on each lane counted), and queue behind the passes already
    on their lanes. So the first call is decoded while the next is still being prepared,
    and which lane decodes a pass, after which others (temperature fallback samples from
    a generator per lane), depends on the calls and their order only, never on timing.

    A member gets its words once every pass of the group is decoded, with a share of the
    group's ASR time (the seconds in which the model was loading or a lane decoding) in
    proportion to its speech seconds. A failing pass fails its own call; a model that
    cannot load fails every call with passes. `loader()`: the model (one being loaded
    ahead), instead of load_model."""

    def __init__(self, size: int, cfg: PipelineConfig, model_ref: str = "",
                 loader: Callable[[], object] | None = None) -> None:
        self._cfg, self._model_ref, self._loader = cfg, model_ref, loader
        self._size = size
        self._turn = 0  # the member whose passes are planned next
        self._passes: list[list[_Pass]] = [[] for _ in range(size)]
        self._queues: list[list[_Pass]] = []
        self._planned_s: list[float] = []
        self._model = None
        self._load_error: BaseException | None = None
        self._busy: list[tuple[float, float]] = []  # (start, end) of the load and of each pass
        self._cond = threading.Condition()

    def member(self, index: int) -> "_AsrMember":
        return _AsrMember(self, index)

    def _arrive(self, index: int, jobs: list[SpeechJob]) -> bool:
        """Plan and queue member `index`'s passes in its turn; False if it had arrived before."""
        with self._cond:
            while self._turn < index:
                self._cond.wait()
            if self._turn > index:
                if jobs:
                    raise RuntimeError(f"call {index} of the group handed in its whisper passes twice")
                return False
            try:
                if jobs and self._model is None and self._load_error is None:
                    self._start_lanes()
                if jobs and self._load_error is None:
                    self._passes[index] = [_Pass(job) for job in jobs]
                    # each lane's passes in job order, as transcribe_jobs decodes them
                    for p, lane in zip(self._passes[index], job_lanes(jobs, len(self._queues), self._planned_s)):
                        self._queues[lane].append(p)
            finally:
                self._turn += 1
                self._cond.notify_all()
        return True

    def _start_lanes(self) -> None:
        """Load the model (holding the turn: the next calls plan on its lanes) and start a
        thread per lane."""
        started = time.perf_counter()
        try:
            self._model = self._loader() if self._loader else load_model(
                self._model_ref or self._cfg.model_ref(), self._cfg.engine, compute_type=self._cfg.compute_type)
        except BaseException as exc:  # noqa: BLE001 - raised to every member with passes (ModelLoadError: the batch stops)
            self._load_error = exc
            return
        finally:
            self._busy.append((started, time.perf_counter()))
        lanes = lanes_of(self._model)
        self._queues, self._planned_s = [[] for _ in range(lanes)], [0.0] * lanes
        for lane in range(lanes):
            threading.Thread(target=self._run_lane, args=(lane,), name=f"callqa-asr-lane_{lane}", daemon=True).start()

    def _run_lane(self, lane: int) -> None:
        """Decode the lane's passes in their order until every member has arrived and the
        queue is empty."""
        queue = self._queues[lane]
        while True:
            with self._cond:
                while not queue and self._turn < self._size:
                    self._cond.wait()
                if not queue:
                    return
                p = queue.pop(0)
            p.started = time.perf_counter()
            try:
                p.words = transcribe_job(self._model, p.job, self._cfg.decoder, self._cfg.gating, lane)
            except BaseException as exc:  # noqa: BLE001 - fails its own call (raised in its thread)
                p.words = exc
            p.ended = time.perf_counter()
            with self._cond:
                p.done = True
                self._busy.append((p.started, p.ended))
                self._cond.notify_all()

    def _collect(self, index: int) -> tuple[list[list[Word]], float]:
        """Member `index`'s words per pass and ASR seconds, once the group is decoded."""
        with self._cond:
            while self._turn < self._size or not all(p.done for ps in self._passes for p in ps):
                self._cond.wait()
            if self._load_error is not None:
                raise self._load_error
            mine = self._passes[index]
            failed = next((p.words for p in mine if isinstance(p.words, BaseException)), None)
            if failed is not None:
                raise failed
            speech = [sum(speech_seconds(p.job) for p in ps) for ps in self._passes]
            share = sum(e - s for s, e in merge(self._busy)) * speech[index] / (sum(speech) or 1.0)
            return [p.words for p in mine], share


class _AsrMember:
    def __init__(self, group: AsrGroup, index: int) -> None:
        self._group, self._index = group, index

    def __call__(self, jobs: list[SpeechJob]) -> tuple[list[list[Word]], float]:
        self._group._arrive(self._index, list(jobs))
        return self._group._collect(self._index)

    def done(self) -> None:
        """This call needs no (more) whisper; a no-op after its passes were handed in."""
        self._group._arrive(self._index, [])


def process_recording(
    rec: Recording,
    cfg: PipelineConfig,
    pack,
    *,
    store: ResultStore | None = None,
    reraise_transient: bool = False,
) -> CallResult:
    """Transcribe (or take from cache), analyse and write one recording.

    A bad recording never raises: the error becomes the call's row. A model that cannot
    be loaded raises ModelLoadError and writes nothing (the call stays pending). With
    `reraise_transient`, transient failures are raised instead so that the caller (a
    Prefect task with retries) can try again.
    """
    return finish_recording(prepare_recording(rec, cfg, pack), cfg, pack, store=store,
                            reraise_transient=reraise_transient)


class NotReprocessable(RuntimeError):
    """A call whose analysis cannot be redone from its cached transcript; its rows stay."""


def reprocess_call(row: dict, cfg: PipelineConfig, pack, *, store: ResultStore) -> CallResult:
    """Re-run only the analyzers on a call's cached transcript (no audio, no ASR).

    Raises NotReprocessable, and writes nothing, when the transcript cannot be had: the
    call keeps the rows it has, which are better than an error row.
    """
    transcript = TranscriptCache(cfg.transcript_dir).get(row["transcript_key"] or "")
    if transcript is None:
        raise NotReprocessable(
            f"no cached transcript {row['transcript_key'] or '(none recorded)'} in {cfg.transcript_dir}: "
            "its rows are kept; `callqa run --force` on its recording transcribes it again")
    old = CallSettings.from_json(row.get("settings"))
    settings = CallSettings(
        old.transcript if old else {"transcript_key": row["transcript_key"]},
        {**(old.analysis if old else {}), "lexicon": pack.lexicon_version, "mask_pii": cfg.mask_pii},
    )
    direction = row.get("direction") or "inbound"  # as the run that made the row read it
    clock = StageClock()
    try:
        with clock.stage("analysis"):
            transcript = refine(replace(transcript, call_id=row["call_id"]))
            result = call_result(
                transcript, analyze(transcript, pack, direction), source=row["source"],
                audio_sha256=row["audio_sha256"], key=row["transcript_key"], mask=cfg.mask_pii, settings=settings,
                direction=direction,
                # the metadata the run supplied stays with the call (null in schema-2 rows)
                meta=CallMeta(direction, **{k: row.get(k) for k in CallMeta().columns()}),
            )
    except Exception as exc:  # noqa: BLE001 - a bug in a rule must not cost the call its rows
        raise NotReprocessable(f"analysis failed: {type(exc).__name__}: {exc}") from exc
    return store.write(replace(result, **clock.columns())) or result
