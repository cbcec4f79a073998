"""Several fitted intents judged together: a call's sentences scored for every intent in a
few array operations instead of one Python loop per intent (the n-grams of a sentence are
looked up once, not once per intent). Pure, like analyzers.intents: the same probabilities
as `match_many` up to float rounding, used to find the few sentences worth judging exactly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from .intents import IntentMatch, IntentModel


@dataclass(frozen=True)
class IntentStack:
    intents: tuple[str, ...]
    #: Every n-gram of any intent's vocabulary -> its row.
    vocab: Mapping[str, int]
    #: V x K: idf times the n-gram's weight (0 outside the intent's vocabulary).
    idf_weight: np.ndarray
    #: V x K: idf squared (0 outside), for each intent's own tf-idf norm.
    idf_squared: np.ndarray
    #: D x K embedding weights and the K biases.
    embedding_weights: np.ndarray
    bias: np.ndarray

    @classmethod
    def of(cls, models: Mapping[str, IntentModel]) -> "IntentStack":
        names = tuple(models)
        vocab: dict[str, int] = {}
        for m in models.values():
            for g in m.idf:
                vocab.setdefault(g, len(vocab))
        idf_weight = np.zeros((len(vocab), len(names)))
        idf_squared = np.zeros((len(vocab), len(names)))
        for k, m in enumerate(models.values()):
            for g, idf in m.idf.items():
                idf_weight[vocab[g], k] = idf * m.ngram_weights.get(g, 0.0)
                idf_squared[vocab[g], k] = idf * idf
        return cls(names, vocab, idf_weight, idf_squared,
                   np.stack([m.embedding_weights for m in models.values()], axis=1).astype(np.float32),
                   np.array([m.bias for m in models.values()], dtype=np.float32))

    def probabilities(self, vectors: np.ndarray, grams: Sequence[Counter[str]]) -> np.ndarray:
        """n x K: each sentence's probability for each intent (`vectors`: its unit
        embeddings, one row per sentence; `grams`: its char n-grams, analyzers.intents.char_ngrams)."""
        z = (np.asarray(vectors, dtype=np.float32) @ self.embedding_weights + self.bias).astype(np.float64)
        sizes = [len(c) for c in grams]
        cols = np.fromiter((self.vocab.get(g, -1) for c in grams for g in c), dtype=np.int64, count=sum(sizes))
        counts = np.fromiter((n for c in grams for n in c.values()), dtype=np.float64, count=sum(sizes))
        row = np.repeat(np.arange(len(grams)), sizes)
        known = cols >= 0
        if known.any():
            cols, tf, row = cols[known], 1.0 + np.log(counts[known])[:, None], row[known]
            first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])  # each sentence's entries are contiguous
            num = np.add.reduceat(self.idf_weight[cols] * tf, first)
            norm2 = np.add.reduceat(self.idf_squared[cols] * (tf * tf), first)
            z[row[first]] += np.divide(num, np.sqrt(norm2), out=np.zeros_like(num), where=norm2 > 0)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))


def evidence(model: IntentModel, vector: np.ndarray, probability: float) -> IntentMatch:
    """The decision `probability` gives for one sentence, with its nearest positive and
    negative train examples (as match_many finds them)."""
    row = np.asarray(vector, dtype=np.float32)
    pos, neg = model.bank.positive @ row, model.bank.negative @ row
    ip, ineg = int(pos.argmax()), int(neg.argmax())
    return IntentMatch(model.intent, probability > model.min_probability, probability,
                       model.bank.positive_texts[ip], float(pos[ip]), model.bank.negative_texts[ineg], float(neg[ineg]))
