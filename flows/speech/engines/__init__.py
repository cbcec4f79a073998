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

#: The engine used where its model is present (issue 21: several times faster on the CPU,
#: the same accuracy); otherwise the reference engine.
PREFERRED_ENGINE = faster.NAME
FALLBACK_ENGINE = openai.NAME


def get_engine(name: str) -> AsrEngine:
    """The registered engine called `name`; UnknownEngine (a ModelNotConfigured) otherwise."""
    try:
        return ENGINES[name]
    except (KeyError, TypeError):
        raise UnknownEngine(f"unknown engine {name!r} (one of {', '.join(ENGINES)})") from None


def default_engine(model: str | None = None) -> tuple[str, str]:
    """(engine, why) when no engine is named: the faster engine wherever its model is
    present (a CTranslate2 folder given as `model`, or none given and one found), else
    openai-whisper."""
    preferred = ENGINES[PREFERRED_ENGINE]
    if model is not None:
        if faster.is_model_dir(model):
            return PREFERRED_ENGINE, f"--model {model} is a CTranslate2 folder"
        return FALLBACK_ENGINE, f"--model {model} is not a CTranslate2 folder"
    try:
        return PREFERRED_ENGINE, f"its model {preferred.resolve_model_ref(None)} is present"
    except ModelNotConfigured as exc:
        return FALLBACK_ENGINE, f"no model for the {PREFERRED_ENGINE} engine ({str(exc).split(':')[0]})"
