"""One call's transcript: audio -> speech spans -> (diarization) -> whisper passes -> utterances.

Takes `SpeechOptions` (how the call is heard), a model name for the row and a `JobDecoder`
(where whisper's passes are decoded: here with a lazily loaded model, or with other calls'
passes in flows.batch.asr_group). Knows nothing of rule packs, result rows or the cache.
"""

from __future__ import annotations

import bisect
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Sequence

from analyzers.cer import to_simplified
from analyzers.model import AGENT, CUSTOMER, SpeechSpan, Transcript, Utterance, Word, other_party
from analyzers.speakers import assign_words, greeter_is_customer, group_words, swap_roles
from flows.speech.audio import AGENT_CHANNELS, CallAudio
from flows.speech.diarize import Diarization
from flows.speech.diarize_embed import DIARIZERS, diarize_call
from flows.speech.engines import DecoderOptions, LoadedModel
from flows.speech.transcribe import GatingOptions, SpeechJob, pad_and_merge, transcribe_jobs
from flows.speech.vad import METHODS as VAD_METHODS
from flows.speech.vad import VadOptions

#: How whisper hears a mono call with two voices (SpeechOptions.mono_asr).
MONO_ASR = ("per_speaker", "one_pass")


@dataclass(frozen=True)
class SpeechOptions:
    """How a call is heard: every option that changes its transcript besides the model."""

    agent_channel: str = "left"
    #: What the engine's decoder is asked to do (beam, temperatures, thresholds, batching).
    decoder: DecoderOptions = field(default_factory=DecoderOptions)
    #: How speech spans become whisper's audio and words become utterances.
    gating: GatingOptions = field(default_factory=GatingOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    #: Who said what in a mono call (flows.speech.diarize_embed.DIARIZERS).
    diarizer: str = "auto"
    #: A two-voice mono call: a pass per speaker, the other muted, or one pass (docs/diarization.md).
    mono_asr: str = "per_speaker"
    #: Hear a recording that holds less audio than its header promises instead of raising.
    allow_truncated: bool = False

    def __post_init__(self) -> None:
        for name, value, allowed in (("agent_channel", self.agent_channel, AGENT_CHANNELS),
                                     ("mono_asr", self.mono_asr, MONO_ASR), ("diarizer", self.diarizer, DIARIZERS),
                                     ("vad method", self.vad.method, VAD_METHODS)):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        if self.decoder.beam_size is not None and self.decoder.beam_size < 1:
            raise ValueError(f"beam_size must be 1 or more (or None for greedy), got {self.decoder.beam_size!r}")
        if self.decoder.batch_size is not None and self.decoder.batch_size < 1:
            raise ValueError(f"batch_size must be 1 or more (or None for sequential), got {self.decoder.batch_size!r}")


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


def is_whisper_words(data) -> bool:
    """Parsed JSON that supplies a recording's words: whisper's output, `segments` whose
    every item has whisper's `text`, `start` and `end`. Other JSON with a `segments` list
    (a diarization reference's speaker turns, a CRM export) is not a transcript."""
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        return False
    return all(isinstance(seg, dict) and {"text", "start", "end"} <= seg.keys() for seg in data["segments"])


class SuppliedTranscriptError(ValueError):
    """A transcript supplied beside a recording (whisper's JSON) that cannot be read."""


def supplied_words(path: Path, channel: str, layout: str) -> list[Word] | None:
    """Words from a whisper-format JSON beside the recording: `<stem>.<channel>.json`
    (agent, customer, mixed) or, for a mono call, `<stem>.json`; only files with whisper's
    `segments` count (a `<stem>.truth.json` ground truth never does). None: none supplied."""
    names = [f"{path.stem}.{channel}.json"] + ([f"{path.stem}.json"] if layout == "mono" else [])
    for name in names:
        candidate = path.with_name(name)
        if not candidate.is_file():
            continue
        with open(candidate, encoding="utf-8") as f:
            data = json.load(f)
        if is_whisper_words(data):
            return _supplied_segment_words(candidate, data["segments"])
    return None


def _supplied_segment_words(source: Path, segments: list[dict]) -> list[Word]:
    """The words of supplied whisper segments (a segment without `words` is one word)."""
    words = []
    for i, seg in enumerate(segments):
        for j, w in enumerate(seg.get("words") or [{"word": seg["text"], "start": seg["start"], "end": seg["end"]}]):
            try:
                text = to_simplified(str(w["word"])).strip()
                start_s, end_s, p = float(w["start"]), float(w["end"]), float(w.get("probability", 1.0))
            except (KeyError, TypeError, ValueError) as exc:
                raise SuppliedTranscriptError(
                    f"{source}: segment {i}, word {j}: needs `word`, `start` and `end` "
                    f"(seconds) like whisper's word timestamps ({type(exc).__name__}: {exc})") from None
            if text:
                words.append(Word(text, start_s, end_s, p))
    return words


class TruncatedRecording(ValueError):
    """The container promises more audio than the file holds (a copy cut short)."""

    def __init__(self, path: str, declared_s: float | None, decoded_s: float) -> None:
        self.reason = (f"recording is truncated: its header promises {declared_s or 0:.1f} s but the file "
                       f"holds {decoded_s:.1f} s (--allow-truncated processes it anyway)")
        super().__init__(f"{path}: {self.reason}")


@dataclass(frozen=True)
class Heard:
    """A recording up to whisper: its audio, speech spans and, for a mono call, who spoke
    where (None for stereo: the channel is the speaker)."""

    audio: CallAudio
    spans: tuple[SpeechSpan, ...]
    diarization: Diarization | None


def hear_call(path: str, opts: SpeechOptions, clock: StageClock | None = None) -> Heard:
    """Decode, detect speech and, for a mono call, diarize (stages decode, vad, diarize
    to `clock`). Raises TruncatedRecording for a cut-short file unless allowed."""
    from flows.speech.audio import load_call
    from flows.speech.vad import call_speech_spans

    clock = clock or StageClock()
    with clock.stage("decode"):
        audio = load_call(path, agent_channel=opts.agent_channel)
    if audio.shortfall_s and not opts.allow_truncated:
        raise TruncatedRecording(path, audio.declared_duration_s, audio.duration_s)
    with clock.stage("vad"):
        spans = tuple(call_speech_spans(audio, method=opts.vad.method))
    diarization = None
    if audio.layout != "stereo":
        with clock.stage("diarize"):
            diarization = diarize_call(audio.channels["mixed"], audio.sample_rate_hz, spans, method=opts.diarizer)
    return Heard(audio, spans, diarization)


#: One whisper pass of a call: (channel, speech ranges, muted ranges), seconds.
WhisperPass = tuple[str, Sequence[tuple[float, float]], Sequence[tuple[float, float]]]
#: Decodes a call's whisper passes: (words per job, the seconds of ASR to count to the call).
JobDecoder = Callable[[list[SpeechJob]], tuple[list[list[Word]], float]]


def local_decoder(load: Callable[[], LoadedModel], opts: SpeechOptions) -> JobDecoder:
    """A JobDecoder that loads the model on first use (a cache miss with no transcript
    supplied) and decodes the passes over its lanes here; the load counts as ASR time."""
    model: list[LoadedModel] = []

    def decode(jobs: list[SpeechJob]) -> tuple[list[list[Word]], float]:
        started = time.perf_counter()
        if not model:
            model.append(load())
        words = transcribe_jobs(model[0], jobs, opts.decoder, opts.gating)
        return words, time.perf_counter() - started

    return decode


def transcribe_call(path: str, call_id: str, opts: SpeechOptions, model_name: str, decode: JobDecoder,
                    clock: StageClock | None = None, heard: Heard | None = None) -> Transcript:
    """The call's transcript: heard (`heard`, or `hear_call` now), its whisper passes
    decoded by `decode` unless its words are supplied, mono calls' words given to the
    diarized speakers; each stage's time to `clock`. `model_name`: the row's asr_model."""
    from flows.speech.vad import widen_speech_edges

    clock = clock or StageClock()
    heard = heard or hear_call(path, opts, clock)
    audio = heard.audio

    def whisper_words(passes: Sequence[WhisperPass]) -> list[list[Word]]:
        if not passes:
            return []
        words, asr_s = decode([SpeechJob(audio.channels[ch], ranges, mute_s) for ch, ranges, mute_s in passes])
        clock.add("asr", asr_s)
        return words

    if audio.layout == "stereo":
        utterances, spans = _stereo_utterances(Path(path), heard, whisper_words, opts), heard.spans
        confidence, uncertain = 1.0, False
    else:
        utterances, spans = _mono_utterances(Path(path), heard, whisper_words, opts)
        confidence, uncertain = heard.diarization.confidence, heard.diarization.uncertain
    with clock.stage("vad"):  # the detector's edges and levels: speech detection's share
        spans = widen_speech_edges(spans, audio)  # kept spans only: whisper stays gated on the detector's own
        utterances = with_levels(utterances, audio)
    return Transcript(
        call_id=call_id,
        duration_s=round(audio.duration_s, 3),
        layout=audio.layout,
        utterances=tuple(sorted(utterances, key=lambda u: (u.start_s, u.end_s))),
        speech_spans=tuple(spans),
        speaker_confidence=round(float(confidence), 3),
        speakers_uncertain=uncertain,
        asr_model=model_name,
        truncated_s=round(audio.shortfall_s, 3),
    )


def _stereo_utterances(path: Path, heard: Heard, whisper_words, opts: SpeechOptions) -> list[Utterance]:
    """A stereo call's utterances: each channel's supplied words, else whisper's on its speech."""
    own = {speaker: [(s.start_s, s.end_s) for s in heard.spans if s.speaker == speaker] for speaker in (AGENT, CUSTOMER)}
    words = {speaker: supplied_words(path, speaker, heard.audio.layout) for speaker in own}
    missing = [speaker for speaker, supplied in words.items() if supplied is None]
    words.update(zip(missing, whisper_words([(speaker, own[speaker], ()) for speaker in missing])))
    gap_s = opts.gating.utterance_gap_s
    return [u for speaker in own for u in words_to_utterances(words[speaker], speaker, gap_s)]


def _mono_utterances(path: Path, heard: Heard, whisper_words,
                     opts: SpeechOptions) -> tuple[list[Utterance], tuple[SpeechSpan, ...]]:
    """A mono call's utterances and speaker spans: words given to the diarized speakers,
    the roles swapped when the customer spoke the greeting."""
    spans = heard.diarization.spans
    words = supplied_words(path, "mixed", heard.audio.layout)
    if words is None:
        words = _mono_words(whisper_words, spans, heard.audio.duration_s, heard.diarization.speakers, opts.mono_asr)
    utterances = assign_words(words, spans, opts.gating.utterance_gap_s)
    if greeter_is_customer(utterances):
        utterances = swap_roles(utterances)
        spans = tuple(replace(s, speaker=other_party(s.speaker)) for s in spans)
    return utterances, spans


#: One-voice recordings: whisper hears each stretch of speech with this much audio (s)
#: around it, and pauses up to ONE_VOICE_GAP_S inside one window, so that it reads the
#: recording as it would read it whole; the pad covers the detector's onset lag
#: (flows.speech.vad.EDGE_MAX_WIDEN_S). Figures: docs/diarization.md.
ONE_VOICE_PAD_S = 0.75
ONE_VOICE_GAP_S = 2.0


def one_voice_windows(spans: Sequence[SpeechSpan], duration_s: float) -> list[tuple[float, float]]:
    """Whisper's windows for a one-voice recording: the speech spans padded by
    ONE_VOICE_PAD_S and joined across pauses up to ONE_VOICE_GAP_S (seconds)."""
    return pad_and_merge([(s.start_s, s.end_s) for s in spans], duration_s, ONE_VOICE_PAD_S, ONE_VOICE_GAP_S)


def _mono_words(whisper_words, spans: Sequence[SpeechSpan], duration_s: float, speakers: int,
                mono_asr: str) -> list[Word]:
    """Whisper's words of a diarized mono call (`whisper_words(passes)`: the words of each
    WhisperPass): one voice in wide windows; two in one pass, or a pass per speaker with
    the other muted (the default; docs/decisions.md)."""
    if speakers < 2:
        return whisper_words([("mixed", one_voice_windows(spans, duration_s), ())])[0]
    if mono_asr == "one_pass":
        return whisper_words([("mixed", [(s.start_s, s.end_s) for s in spans], ())])[0]
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


def words_to_utterances(words: Sequence[Word], speaker: str, gap_s: float) -> list[Utterance]:
    """Group one channel's words into utterances, splitting at pauses longer than `gap_s`."""
    return group_words(words, lambda _: speaker, gap_s)


def refine(transcript: Transcript) -> Transcript:
    """Utterance edges snapped to each speaker's detected speech (see snap_to_speech);
    applied to every transcript used, fresh or cached: cheap and idempotent, so improving
    it never needs whisper again."""
    utterances = []
    for speaker in {u.speaker for u in transcript.utterances}:
        own = [(s.start_s, s.end_s) for s in transcript.speech_spans if s.speaker == speaker]
        utterances += snap_to_speech([u for u in transcript.utterances if u.speaker == speaker], own)
    return replace(transcript, utterances=tuple(sorted(utterances, key=lambda u: (u.start_s, u.end_s))))


def _word_off_pauses(word: Word, spans: Sequence[tuple[float, float]], starts: Sequence[float]) -> Word:
    """`word` shrunk to the detected speech under it (whisper hands the pause before a word
    to that word): over speech on both sides of a pause it keeps the side holding most of
    it, the later on a tie; a word wholly inside a pause stays. Applied to utterances
    already grouped, so that pauses do not split sentences (docs/decisions.md). `spans`
    sorted, `starts` their start times."""
    i = max(0, bisect.bisect_right(starts, word.start_s) - 1)
    best: tuple[float, float] | None = None
    while i < len(spans) and spans[i][0] < word.end_s:
        lo, hi = max(word.start_s, spans[i][0]), min(word.end_s, spans[i][1])
        if hi > lo and (best is None or hi - lo >= best[1] - best[0]):
            best = (lo, hi)
        i += 1
    if best is None or best == (word.start_s, word.end_s):
        return word
    return Word(word.text, best[0], best[1], word.probability)


def snap_to_speech(
    utterances: Sequence[Utterance], spans: Sequence[tuple[float, float]], max_shift_s: float = 1.0
) -> list[Utterance]:
    """Move the edges of one speaker's utterances to the speech detector's edges nearby.

    Whisper's word times drift by a few tenths of a second at the edges; the detector
    finds onsets and offsets to within about 0.1 s. An edge moves by at most `max_shift_s`
    and never into the speaker's neighbouring utterance; the first and last word are
    stretched or trimmed with it. Inside an utterance, word edges in a detected pause move
    to the speech beside them (see _word_off_pauses).
    """
    out: list[Utterance] = []
    spans = sorted(spans)
    starts = [s for s, _ in spans]
    ordered = sorted(utterances, key=lambda u: u.start_s)
    for i, u in enumerate(ordered):
        if spans and u.words:
            u = replace(u, words=tuple(_word_off_pauses(w, spans, starts) for w in u.words))
        near = [s for s in spans if s[0] < u.end_s + 0.3 and s[1] > u.start_s - 0.3]
        if not near or not u.words:
            out.append(u)
            continue
        floor_s = out[-1].end_s if out else 0.0
        ceiling_s = ordered[i + 1].start_s if i + 1 < len(ordered) else float("inf")
        start_s = near[0][0] if abs(near[0][0] - u.start_s) <= max_shift_s else u.start_s
        end_s = near[-1][1] if abs(near[-1][1] - u.end_s) <= max_shift_s else u.end_s
        start_s = max(start_s, floor_s)
        end_s = max(min(end_s, ceiling_s), start_s)
        words = [
            Word(w.text, min(max(w.start_s, start_s), end_s), min(max(w.end_s, start_s), end_s), w.probability)
            for w in u.words
        ]
        first = words[0]
        words[0] = Word(first.text, start_s, max(first.end_s, start_s), first.probability)
        last = words[-1]
        words[-1] = Word(last.text, min(last.start_s, end_s), end_s, last.probability)
        # replace, not a new Utterance: what else it carries (level_db) stays
        out.append(replace(u, start_s=round(start_s, 3), end_s=round(end_s, 3), words=tuple(words)))
    return out
