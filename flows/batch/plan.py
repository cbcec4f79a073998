"""A run's settings (`PipelineConfig`) and its plan (`RunPlan`), resolved once per run.

The CLI and the Prefect flows build a PipelineConfig from their options and a RunPlan from
it: the engine object, the model reference and name, the rule pack, and each recording's
CallSettings. Every stage below receives the plan; none resolves an engine, a model or a
recording's settings again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

from analyzers.model import DIRECTIONS
from flows.batch.metadata import manifest_row
from flows.batch.recordings import Recording
from flows.batch.settings import CallSettings, analysis_settings, transcript_settings
from flows.meaning.call import plan_intents
from flows.speech.engines import (
    AsrEngine,
    DecoderOptions,
    LoadedModel,
    UnknownEngine,
    engine_key,
    get_engine,
)
from flows.speech.engines.faster import DEFAULT_COMPUTE_TYPE
from flows.speech.transcribe import TRANSCRIBER_VERSION, GatingOptions, asr_key, load_model
from flows.speech.transcript import SpeechOptions
from flows.speech.vad import VadOptions


@dataclass(frozen=True)
class PipelineConfig:
    """A run's settings as the user gave them (names, paths, options); `RunPlan.build`
    resolves them. Checked here, before any audio: a bad setting would otherwise fail
    every recording one by one with the same error."""

    out_dir: str
    model: str | None = None
    agent_channel: str = "left"
    #: What the engine's decoder is asked to do (beam, temperatures, thresholds, batching).
    decoder: DecoderOptions = field(default_factory=DecoderOptions)
    #: How speech spans become whisper's audio and words become utterances.
    gating: GatingOptions = field(default_factory=GatingOptions)
    vad: VadOptions = field(default_factory=VadOptions)
    cache_dir: str | None = None
    #: Mask phone/ID/bank/order numbers in utterance and finding text before writing.
    mask_pii: bool = True
    #: ASR engine, a name in flows.speech.engines.ENGINES ("openai" or "faster").
    engine: str = "openai"
    #: The faster engine's compute type ("auto" picks the device; ignored by openai).
    compute_type: str = DEFAULT_COMPUTE_TYPE
    #: Process a recording that holds less audio than its header promises (`truncated_s`).
    allow_truncated: bool = False
    #: Direction of calls without metadata (flows.batch.metadata): inbound or outbound.
    direction: str = "inbound"
    #: Who said what in a mono call (flows.speech.diarize_embed.DIARIZERS).
    diarizer: str = "auto"
    #: Whisper on a two-voice mono call (flows.speech.transcript.MONO_ASR).
    mono_asr: str = "per_speaker"
    #: CSV manifest of call metadata (flows.batch.metadata; `callqa run --metadata`), or None.
    metadata: str | None = None

    def __post_init__(self) -> None:
        if not self.out_dir or not str(self.out_dir).strip():
            raise ValueError("out_dir must be a folder path, got an empty value")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {self.direction!r}")
        try:
            engine = get_engine(self.engine)
        except UnknownEngine:
            raise ValueError(f"engine must be one of {', '.join(_engine_names())}, got {self.engine!r}") from None
        _ = self.speech  # its own checks
        if self.decoder.batch_size is not None and not engine.batches:
            batching = " or ".join(name for name in _engine_names() if get_engine(name).batches)
            raise ValueError(f"batch_size needs the {batching} engine, not {self.engine!r}")

    @property
    def transcript_dir(self) -> str:
        return self.cache_dir or os.path.join(self.out_dir, "cache", "transcripts")

    def transcript_settings(self, model_ref: str, recording: str | None = None) -> dict:
        """The cache key's settings for a model reference already resolved (tests, tools)."""
        return RunPlan.for_model(self, model_ref).transcript_settings(recording)

    def model_name(self, model_ref: str) -> str:
        """What `model_version` in the rows says for `model_ref`, e.g. faster-whisper-base+ct2-int8."""
        return RunPlan.for_model(self, model_ref).model_name

    @property
    def speech(self) -> SpeechOptions:
        """How each call is heard (flows.speech.transcript)."""
        return SpeechOptions(agent_channel=self.agent_channel, decoder=self.decoder, gating=self.gating,
                             vad=self.vad, diarizer=self.diarizer, mono_asr=self.mono_asr,
                             allow_truncated=self.allow_truncated)


def _engine_names() -> tuple[str, ...]:
    from flows.speech.engines import ENGINE_NAMES

    return ENGINE_NAMES


@dataclass(frozen=True)
class RunPlan:
    """What a run resolved from its settings, once: handed to every stage and worker."""

    config: PipelineConfig
    #: The rule pack (lexicons.load_pack) every call is analysed with.
    pack: object
    #: The ASR engine and its model; None / "" for a run that transcribes nothing (reprocess).
    engine: AsrEngine | None = None
    model_ref: str = ""
    #: The model as it will run (the rows' model_version, part of the cache key).
    model_name: str = ""
    #: The intents the pack reads by meaning, fitted once for the run
    #: (flows.meaning.call.IntentBankPlan); None: literal phrases only.
    intents: object = None

    @classmethod
    def build(cls, config: PipelineConfig, pack, *, transcribes: bool = True,
              examples_dir: str | os.PathLike[str] | None = None) -> "RunPlan":
        """Resolve `config`'s engine and model (ModelNotConfigured when there is none);
        without `transcribes`, the pack alone (reprocessing needs no model). With
        `examples_dir` (the pack's examples/), the intents its rules read are fitted."""
        examples_dir = examples_dir if examples_dir is not None else _pack_examples(pack)
        intents = plan_intents(pack, examples_dir) if examples_dir is not None else None
        if not transcribes:
            return cls(config, pack, intents=intents)
        engine = get_engine(config.engine)
        ref = engine.resolve_model_ref(config.model)
        return cls(config, pack, engine, ref, engine.model_version(ref, config.compute_type), intents)

    @classmethod
    def for_model(cls, config: PipelineConfig, model_ref: str, pack=None) -> "RunPlan":
        """A plan for a model reference already resolved (no lookup of a default model)."""
        engine = get_engine(config.engine)
        return cls(config, pack, engine, model_ref, engine.model_version(model_ref, config.compute_type))

    def __reduce__(self):
        # Engines travel to worker processes by name: the registry's object, not a copy.
        return _restore, (self.config, self.pack, self.engine.name if self.engine else None, self.model_ref,
                          self.model_name, self.intents)

    @property
    def speech(self) -> SpeechOptions:
        return self.config.speech

    @property
    def out_dir(self) -> str:
        return self.config.out_dir

    @property
    def transcript_dir(self) -> str:
        return self.config.transcript_dir

    @property
    def meaning_setting(self) -> str:
        """What the rows record about matching by meaning: the encoder, or "off"."""
        return self.intents.encoder_name if self.intents is not None else "off"

    def load_model(self) -> LoadedModel:
        """The plan's model, loaded (cached per process by the engine)."""
        return load_model(self.model_ref, self.engine, compute_type=self.config.compute_type)

    def transcript_settings(self, recording: str | None = None) -> dict:
        """The transcript cache key's settings (see flows.batch.settings)."""
        cfg = self.config
        return transcript_settings(
            model=self.model_name, transcriber=TRANSCRIBER_VERSION, asr=asr_key(cfg.decoder, cfg.gating),
            vad=cfg.vad.key(), agent_channel=cfg.agent_channel, engine=engine_key(self.engine),
            recording=recording, diarizer=cfg.diarizer, mono_asr=cfg.mono_asr,
        )

    def call_settings(self, recording: str, call_id: str | None = None) -> CallSettings:
        """Every setting that changes `recording`'s rows: what its row records and what
        decides whether that row is current. `call_id` (default: the file stem) names the
        call's row in the metadata manifest."""
        cfg = self.config
        analysis = analysis_settings(lexicon_version=self.pack.lexicon_version, mask_pii=cfg.mask_pii,
                                     allow_truncated=cfg.allow_truncated, direction=cfg.direction,
                                     recording=recording)
        # matching by meaning on or off changes findings: the row says which (never silently)
        analysis["meaning"] = self.meaning_setting
        row = manifest_row(cfg.metadata, call_id or Path(recording).stem)
        if row:  # only when the manifest names the call: rows written without one stay current
            analysis["manifest"] = json.dumps(row, sort_keys=True, ensure_ascii=False)
        return CallSettings(self.transcript_settings(recording), analysis)

    def with_settings(self, recordings: Sequence[Recording]) -> list[Recording]:
        """Each recording with its CallSettings, computed here once for the whole run. A
        recording whose settings cannot be read (an unreadable sidecar) goes without:
        `settings_of` raises it again where it becomes the call's error row."""
        out = []
        for rec in recordings:
            try:
                out.append(replace(rec, settings=self.call_settings(rec.path, rec.manifest_id)))
            except Exception:  # noqa: BLE001 - raised again, per call, by settings_of
                out.append(rec)
        return out

    def settings_of(self, rec: Recording) -> CallSettings:
        """`rec`'s settings as planned (`with_settings`); for a recording handed in
        without them (a single call processed by itself), computed now."""
        return rec.settings or self.call_settings(rec.path, rec.manifest_id)


def _pack_examples(pack) -> Path | None:
    """The examples/ of the pack folder named like `pack` (a pack loaded by path passes its own)."""
    from lexicons import PackError, resolve

    try:
        folder = resolve(pack.name) / "examples"
    except (PackError, AttributeError):
        return None
    return folder if folder.is_dir() else None


def _restore(config, pack, engine_name, model_ref, model_name, intents=None) -> RunPlan:
    return RunPlan(config, pack, get_engine(engine_name) if engine_name else None, model_ref, model_name, intents)
