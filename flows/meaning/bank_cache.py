"""The fitted intent models kept on disk, so a run does not embed and fit the corpus again.

Fitting every intent the pack reads costs tens of CPU seconds once the example corpus is
a few thousand sentences (each is embedded, then one regression per intent); a nightly run,
a reprocess and each test run would pay it at start. The cache key is everything the fit
reads: the bytes of every example file, the encoder, the fit's settings and the source of
the code that fits and decides, so an edited example or a changed model is never served
stale. Files live in ${CALLQA_INTENT_CACHE:-${XDG_CACHE_HOME:-~/.cache}/callqa/intents}.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from analyzers import intents as decision

from . import bank, examples
from .encoder import Encoder

CACHE_ENV = "CALLQA_INTENT_CACHE"
#: Bumped when the pickled shape changes in a way the source hash would not show
#: (2: IntentModel.part_weights, clause17).
FORMAT = 2


def cache_dir() -> Path:
    """Where the fitted models are kept (read at each call: tests point it elsewhere)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "callqa" / "intents"


def fit_key(folder: str | Path, encoder_name: str, min_probability: float, background_weight: float,
            only: frozenset[str] | None) -> str:
    """A digest of everything `bank.build_models` reads for these arguments."""
    h = hashlib.sha256(f"{FORMAT}|{encoder_name}|{min_probability!r}|{background_weight!r}|"
                       f"{sorted(only) if only is not None else None}".encode())
    # the example files' own settings (clause_features, part_scale, ...) are in their bytes below;
    # how they are read is examples.py's source
    for module in (bank, decision, examples):
        h.update(Path(module.__file__).read_bytes())
    for path in sorted(Path(folder).glob("*.yaml")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:32]


def build_models(folder: str | Path, encoder: Encoder, min_probability: float = decision.MIN_PROBABILITY,
                 background_weight: float = bank.BACKGROUND_WEIGHT,
                 only: frozenset[str] | None = None) -> dict[str, bank.FittedIntent]:
    """`bank.build_models`, from the cache when the same fit was made before."""
    return kept_or_built(folder, encoder, min_probability, background_weight, only)[0]


def kept_or_built(folder: str | Path, encoder: Encoder, min_probability: float = decision.MIN_PROBABILITY,
                  background_weight: float = bank.BACKGROUND_WEIGHT,
                  only: frozenset[str] | None = None) -> tuple[dict[str, bank.FittedIntent], bool]:
    """(`build_models`' models, whether they were loaded from the cache rather than fitted)."""
    path = cache_dir() / f"{fit_key(folder, encoder.name, min_probability, background_weight, only)}.pkl"
    try:
        with path.open("rb") as f:
            return pickle.load(f), True
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        pass  # not there, or unreadable: fit again and replace it
    models = bank.build_models(folder, encoder, min_probability, background_weight, only)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as f:
            pickle.dump(models, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(f.name, path)  # whole or absent: a concurrent run never reads half a file
    except OSError:
        pass  # a read-only home still runs, it only fits each time
    return models, False
