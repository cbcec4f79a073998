"""Match a call's utterances against every intent: split into sentences, embed them in one
batch, and let the pure decision (analyzers.intents) judge each utterance."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from analyzers.intents import IntentMatch, match_sentences, meaning_sentences

from .bank import FittedIntent
from .bank_cache import build_models
from .encoder import DEFAULT_ENCODER, Encoder, load_encoder

EXAMPLES = Path(__file__).resolve().parents[2] / "lexicons" / "zh-CN" / "examples"


@dataclass(frozen=True)
class SentenceVectors:
    """An utterance's sentences and their embeddings (what a transcript cache would keep)."""

    sentences: tuple[str, ...]
    vectors: np.ndarray


class IntentMatcher:
    def __init__(self, models: dict[str, FittedIntent], encoder: Encoder):
        self.models, self.encoder = models, encoder

    @classmethod
    def load(cls, folder: str | Path = EXAMPLES, encoder: str = DEFAULT_ENCODER) -> "IntentMatcher":
        enc = load_encoder(encoder)
        return cls(build_models(folder, enc), enc)

    def embed(self, texts: Sequence[str]) -> list[SentenceVectors]:
        """Every utterance's sentences, all embedded in one batch."""
        split = [tuple(meaning_sentences(t)) for t in texts]
        flat = [s for ss in split for s in ss]
        vecs = self.encoder.embed(flat)
        out, at = [], 0
        for ss in split:
            out.append(SentenceVectors(ss, vecs[at:at + len(ss)]))
            at += len(ss)
        return out

    def match(self, embedded: SentenceVectors, speaker: str) -> dict[str, IntentMatch]:
        """The intents looked for in `speaker`'s utterances, judged on this one."""
        out = {}
        for intent, fitted in self.models.items():
            if fitted.examples.speaker == speaker:
                m = match_sentences(fitted.model, embedded.vectors, embedded.sentences)
                if m is not None:
                    out[intent] = m
        return out
