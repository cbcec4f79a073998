"""What every ASR engine is: the AsrEngine protocol, its decoder options and its errors.

An engine turns gated 16-kHz audio into openai-whisper-style segment dicts; everything
around it (speech gating, hallucination guards, OpenCC, time mapping, loop removal) is
engine-independent and lives in flows.speech.transcribe. Engines register themselves in
flows.speech.engines.ENGINES; nothing dispatches on an engine's name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol, runtime_checkable

import numpy as np


class ModelNotConfigured(RuntimeError):
    """No model was given and none was found."""


class UnknownEngine(ModelNotConfigured):
    """An engine name that is not in the registry (flows.speech.engines.ENGINES)."""


class ModelLoadError(RuntimeError):
    """The model is configured but cannot be loaded (corrupt or truncated file, wrong format).

    Unlike a bad recording, this fails the same way for every call, so a batch stops at
    once instead of writing an error row for each of them.
    """


#: No prompt by default: prompts raised the CER on the real clips (docs/decisions.md);
#: OpenCC, not a prompt, makes the output simplified.
DEFAULT_PROMPT: str | None = None


@dataclass(frozen=True)
class DecoderOptions:
    """What the engine's decoder is asked to do; part of the transcript cache key."""

    language: str = "zh"
    beam_size: int | None = 5
    initial_prompt: str | None = DEFAULT_PROMPT
    #: Fallback temperatures when a window fails the compression/logprob checks. The
    #: sampling they do is seeded: openai-whisper per decode; CTranslate2 once per lane's
    #: worker thread, so a window that falls back may depend on what that lane sampled
    #: earlier in the same process. Without fallback some windows come out garbled or lose
    #: words (docs/decisions.md).
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4)
    compression_ratio_threshold: float = 2.4
    logprob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    #: Faster engine only: decode this many clips of at most 30 s at once (faster-whisper's
    #: BatchedInferencePipeline; the gated audio is cut at its silences), the first
    #: temperature only. None: one 30-s window after another, with temperature fallback.
    batch_size: int | None = None

    def key(self) -> dict:
        key = asdict(self)
        if self.batch_size is None:
            del key["batch_size"]  # as before batching existed: cached transcripts stay valid
        return key


@runtime_checkable
class LoadedModel(Protocol):
    """A model as an engine loaded it; `engine` names the engine that decodes with it.
    A model may also have `lanes` (see `lanes_of`): how many decodes it runs at once."""

    engine: str


@runtime_checkable
class AsrEngine(Protocol):
    """One ASR runtime: how it finds, names, loads and runs a model."""

    #: The registry's key and the `--engine` value.
    name: str
    #: Whether DecoderOptions.batch_size means anything to it.
    batches: bool
    #: Whether its decodes run on torch, whose thread count is process-wide and is
    #: changed by speech detection and the voice encoder while they run: then no other
    #: recording is prepared beside a decode (flows.batch.parallel.LOOKAHEAD_MAX_S).
    decodes_on_torch: bool

    def resolve_model_ref(self, model: str | None) -> str:
        """The model to use (argument, environment, default location); ModelNotConfigured
        when there is none."""

    def model_version(self, ref: str, compute_type: str | None = None, cuda_devices: int | None = None) -> str:
        """A short, stable name of the model as it will run (device included where it is
        not the CPU): part of the transcript cache key and of the calls row."""

    def load(self, ref: str, compute_type: str | None = None) -> LoadedModel:
        """The loaded model, on the device model_version names; may raise ModelLoadError."""

    def decode_segments(self, model: LoadedModel, audio: np.ndarray, opts: DecoderOptions, lane: int = 0) -> list[dict]:
        """openai-whisper-style segments (text, words, no_speech_prob, avg_logprob,
        compression_ratio ...) for 16-kHz float32 speech, decoded on lane `lane` of the
        model (0 .. lanes_of(model) - 1; the caller runs one decode per lane at a time)."""


def lanes_of(model: LoadedModel) -> int:
    """How many decodes `model` runs at once, each on its own lane (1 unless it says)."""
    return max(1, int(getattr(model, "lanes", 1)))
