"""Intent banks: the example files embedded and calibrated, ready for analyzers.intents."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analyzers.intents import Calibration, IntentBank, calibrate

from .encoder import Encoder
from .examples import IntentExamples, load_examples


@dataclass(frozen=True)
class IntentModel:
    examples: IntentExamples
    bank: IntentBank
    calibration: Calibration


def build_bank(examples: IntentExamples, encoder: Encoder) -> IntentBank:
    """The intent's TRAIN examples embedded (the test split stays out)."""
    pos, neg = examples.texts("positive", "train"), examples.texts("negative", "train")
    vecs = encoder.embed([*pos, *neg])
    return IntentBank(examples.intent, vecs[:len(pos)], vecs[len(pos):], pos, neg)


def build_models(folder: str | Path, encoder: Encoder) -> dict[str, IntentModel]:
    """Every intent of `folder`, embedded with `encoder` and calibrated on its train split."""
    models = {}
    for intent, ex in load_examples(folder).items():
        bank = build_bank(ex, encoder)
        models[intent] = IntentModel(ex, bank, calibrate(bank))
    return models
