"""ASR engines behind one interface (flows.speech.engines.base.AsrEngine) and their registry.

    openai  openai-whisper on torch (the reference)          flows.speech.engines.openai
    faster  faster-whisper on CTranslate2, same weights       flows.speech.engines.faster

`get_engine(name)` is the only place a name becomes an engine; everything else holds the
engine object (or a loaded model, whose `engine` names its engine).
"""

from __future__ import annotations

import os

from flows.speech.engines import faster, openai
from flows.speech.engines.base import (
    AsrEngine,
    DecoderOptions,
    LoadedModel,
    ModelLoadError,
    ModelNotConfigured,
    UnknownEngine,
    lanes_of,
)

ENGINES: dict[str, AsrEngine] = {e.name: e for e in (openai.ENGINE, faster.ENGINE)}
#: The engine names, for CLI choices and messages.
ENGINE_NAMES: tuple[str, ...] = tuple(ENGINES)

__all__ = ["AsrEngine", "DecoderOptions", "ENGINES", "ENGINE_NAMES", "LoadedModel", "ModelLoadError",
           "ModelNotConfigured", "UnknownEngine", "default_engine", "engine_key", "get_engine", "lanes_of"]

#: The engine used when none is named, wherever its model is present: the same weights on
#: CTranslate2, several times faster on the CPU, the same findings on the sample calls
#: (issue 21, docs/accuracy-and-performance.md). openai-whisper, the reference, otherwise.
PREFERRED_ENGINE = faster.NAME
REFERENCE_ENGINE = openai.NAME


def get_engine(name: str | AsrEngine) -> AsrEngine:
    """The registered engine called `name` (an engine object is returned as it is);
    UnknownEngine (a ModelNotConfigured) otherwise."""
    if not isinstance(name, str) and isinstance(name, AsrEngine):
        return name
    try:
        return ENGINES[name]
    except (KeyError, TypeError):
        raise UnknownEngine(f"unknown engine {name!r} (one of {', '.join(ENGINES)})") from None


def engine_key(engine: AsrEngine | None) -> str | None:
    """The engine's name in a transcript cache key: None for openai-whisper, so that its
    transcripts cached before engines existed stay valid (the two never share a key)."""
    if engine is None or engine.name == REFERENCE_ENGINE:
        return None
    return engine.name


def default_engine(model: str | None = None) -> tuple[str, str]:
    """(engine, why) when no engine is named: the faster engine wherever its model is
    present, else openai-whisper.

    Present means: `model` is a CTranslate2 folder; or, with no `model`, $CALLQA_FW_MODEL
    names one or the conversion of the openai engine's own checkpoint exists
    (`callqa model convert`). A checkpoint named as `model` is openai's to run, and a
    fetched model of another size never stands in for the configured checkpoint.
    """
    if model is not None:
        if faster.is_model_dir(model):
            return PREFERRED_ENGINE, f"--model {model} is a CTranslate2 folder"
        return REFERENCE_ENGINE, (f"--model {model} is not a CTranslate2 folder; `callqa model convert` "
                                  f"makes one for the faster engine")
    if os.environ.get(faster.MODEL_ENV):
        return PREFERRED_ENGINE, f"${faster.MODEL_ENV} names its model"
    converted = faster.default_model_dir()
    if faster.is_model_dir(converted):
        return PREFERRED_ENGINE, f"its model {converted} is present"
    return REFERENCE_ENGINE, (f"no faster-whisper model at {converted}; `callqa model convert CHECKPOINT` "
                              f"makes it, and the faster engine becomes the default")
