"""ASR engines behind one interface (flows.speech.engines.base.AsrEngine) and their registry.

    openai  openai-whisper on torch (the reference)          flows.speech.engines.openai
    faster  faster-whisper on CTranslate2, same weights       flows.speech.engines.faster

`get_engine(name)` is the only place a name becomes an engine; everything else holds the
engine object (or a loaded model, whose `engine` names its engine).
"""

from __future__ import annotations

from flows.speech.engines import faster, openai
from flows.speech.engines.base import (
    AsrEngine,
    DecoderOptions,
    LoadedModel,
    ModelLoadError,
    ModelNotConfigured,
    UnknownEngine,
)

ENGINES: dict[str, AsrEngine] = {e.name: e for e in (openai.ENGINE, faster.ENGINE)}
#: The engine names, for CLI choices and messages.
ENGINE_NAMES: tuple[str, ...] = tuple(ENGINES)

__all__ = ["AsrEngine", "DecoderOptions", "ENGINES", "ENGINE_NAMES", "LoadedModel", "ModelLoadError",
           "ModelNotConfigured", "UnknownEngine", "default_engine", "get_engine"]

#: The engine used when none is named: openai-whisper, the reference. The faster engine is
#: several times faster on the CPU but is not the default yet: on the sample calls it gave
#: three findings openai-whisper does not (a closing and a thanks timed too early; issue 21,
#: docs/accuracy-and-performance.md), and the default must not change results.
PREFERRED_ENGINE = openai.NAME
FAST_ENGINE = faster.NAME


def get_engine(name: str) -> AsrEngine:
    """The registered engine called `name`; UnknownEngine (a ModelNotConfigured) otherwise."""
    try:
        return ENGINES[name]
    except (KeyError, TypeError):
        raise UnknownEngine(f"unknown engine {name!r} (one of {', '.join(ENGINES)})") from None


def default_engine(model: str | None = None) -> tuple[str, str]:
    """(engine, why) when no engine is named: the faster engine when `model` is a
    CTranslate2 folder (only it can read one), else openai-whisper."""
    if model is not None and faster.is_model_dir(model):
        return FAST_ENGINE, f"--model {model} is a CTranslate2 folder"
    return PREFERRED_ENGINE, "the default; --engine faster is several times faster on the CPU"
