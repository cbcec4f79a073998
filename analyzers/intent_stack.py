"""Several fitted intents judged together: a call's sentences scored for every intent in a
few array operations instead of one Python loop per intent (the n-grams of a sentence are
looked up once, not once per intent). Pure, like analyzers.intents: the same probabilities
as `match_many` up to float rounding, used to find the few sentences worth judging exactly.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .intents import IntentMatch, IntentModel, SentenceParts
from .text import normalise


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
    #: The 1-3-char n-grams of `vocab` as integers (`gram_ids`), sorted, and their rows.
    gram_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    gram_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: The columns of the intents judged with the sentence's parts, and their part weights
    #: (one row each, IntentModel.part_weights): the parts' term is added to those columns only.
    part_columns: tuple[int, ...] = ()
    part_weights: tuple[np.ndarray, ...] = ()

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
        short = [(g, row) for g, row in vocab.items() if 1 <= len(g) <= 3]  # longer ones: never a 1-3-gram
        ids = np.array([_gram_id(g) for g, _ in short], dtype=np.int64)
        order = np.argsort(ids)
        return cls(names, vocab, idf_weight, idf_squared,
                   np.stack([m.embedding_weights for m in models.values()], axis=1).astype(np.float32),
                   np.array([m.bias for m in models.values()], dtype=np.float32),
                   ids[order], np.array([row for _, row in short], dtype=np.int64)[order],
                   tuple(k for k, m in enumerate(models.values()) if m.part_weights is not None),
                   tuple(m.part_weights for m in models.values() if m.part_weights is not None))

    @functools.cached_property
    def idf_both(self) -> np.ndarray:
        """V x 2K: `idf_weight` and `idf_squared` side by side."""
        return np.hstack([self.idf_weight, self.idf_squared])

    def probabilities(self, vectors: np.ndarray, grams: Sequence[Counter[str]],
                      parts: SentenceParts | None = None) -> np.ndarray:
        """n x K: each sentence's probability for each intent (`vectors`: its unit
        embeddings, one row per sentence; `grams`: its char n-grams, analyzers.intents.char_ngrams;
        `parts`: its parts, which the intents with part weights need)."""
        sizes = [len(c) for c in grams]
        cols = np.fromiter((self.vocab.get(g, -1) for c in grams for g in c), dtype=np.int64, count=sum(sizes))
        counts = np.fromiter((n for c in grams for n in c.values()), dtype=np.float64, count=sum(sizes))
        known = cols >= 0
        return self._probabilities(vectors, np.repeat(np.arange(len(grams)), sizes)[known], cols[known], counts[known],
                                   parts)

    def probabilities_of(self, vectors: np.ndarray, texts: Sequence[str], parts: SentenceParts | None = None) -> np.ndarray:
        """`probabilities` of normalised sentences (`texts`, e.g. analyzers.text.sentences), their
        1-3-grams counted in arrays instead of Counters: the same n-grams in the same order, so
        the same sums to the last bit."""
        row, cols, counts = self._counted(texts)
        return self._probabilities(vectors, row, cols, counts.astype(np.float64), parts)

    def _counted(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sentence, vocabulary row, count) of every known n-gram, each sentence's in the
        order char_ngrams' Counter lists them (first seen, 1-grams, then 2-, then 3-grams)."""
        texts = [normalise(t) for t in texts]
        if not texts or not self.gram_ids.size:
            return (np.zeros(0, dtype=np.int64),) * 3
        codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64) + 1
        row = np.repeat(np.arange(len(texts)), [len(t) for t in texts])
        same2, same3 = row[:-1] == row[1:], row[:-2] == row[2:]
        ids = np.concatenate([codes, ((codes[:-1] << 21) | codes[1:])[same2],
                              ((codes[:-2] << 42) | (codes[1:-1] << 21) | codes[2:])[same3]])
        rows = np.concatenate([row, row[:-1][same2], row[:-2][same3]])
        found = self._rows_of(ids)
        known = found >= 0
        # within a sentence, `ids` holds its 1-grams, then its 2-grams, then its 3-grams, each in
        # text order: a Counter's order, so each (sentence, n-gram)'s first place orders it
        keys = rows[known] * len(self.vocab) + found[known]
        unique, first, counts = np.unique(keys, return_index=True, return_counts=True)
        sentence = unique // len(self.vocab)
        seen = np.argsort(sentence * keys.size + first)  # sentence by sentence, first seen first
        return sentence[seen], unique[seen] % len(self.vocab), counts[seen]

    @functools.cached_property
    def _hashed(self) -> tuple[np.ndarray, np.ndarray, int]:
        """`gram_ids` -> `gram_rows` as an open-addressing hash table (linear probing, a quarter
        full): (ids, rows, shift); an empty slot holds id 0, which no n-gram has."""
        bits = max(4, int(4 * max(1, self.gram_ids.size) - 1).bit_length())
        ids, rows = np.zeros(1 << bits, dtype=np.int64), np.full(1 << bits, -1, dtype=np.int64)
        slots = _slot(self.gram_ids, 64 - bits)
        left = np.arange(self.gram_ids.size)
        while left.size:  # each round places one id in each free slot asked for; the rest move on
            at = slots[left]
            free = np.flatnonzero(ids[at] == 0)
            placed = free[np.unique(at[free], return_index=True)[1]]
            ids[at[placed]], rows[at[placed]] = self.gram_ids[left[placed]], self.gram_rows[left[placed]]
            rest = np.ones(left.size, dtype=bool)
            rest[placed] = False
            left = left[rest]
            slots[left] = (slots[left] + 1) & (ids.size - 1)
        return ids, rows, 64 - bits

    def _rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Each n-gram id's vocabulary row, -1 where none: `gram_rows` at its place in the sorted
        `gram_ids`, looked up in `_hashed` (a binary search over the 470 KB of ids missed the CPU
        caches at every level: a call's texts asked ~4,000 of them)."""
        table, rows, shift = self._hashed
        out = np.full(ids.size, -1, dtype=np.int64)
        left, at = np.arange(ids.size), _slot(ids, shift)
        while left.size:
            held = table[at]
            hit = held == ids[left]
            out[left[hit]] = rows[at[hit]]
            going = ~hit & (held != 0)  # another id there: the next slot
            left, at = left[going], (at[going] + 1) & (table.size - 1)
        return out

    def _probabilities(self, vectors: np.ndarray, row: np.ndarray, cols: np.ndarray, counts: np.ndarray,
                       parts: SentenceParts | None = None) -> np.ndarray:
        z = np.asarray(vectors, dtype=np.float32) @ self.embedding_weights + self.bias
        if self.part_columns:
            if parts is None:
                raise ValueError(f"intents {', '.join(self.intents[k] for k in self.part_columns)} judge a "
                                 "sentence with its parts: none given")
            for k, w in zip(self.part_columns, self.part_weights):  # that column only: the others stay as they were
                z[:, k] += parts.term(w)
        z = z.astype(np.float64)
        if row.size:
            tf = 1.0 + np.log(counts)
            first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])  # each sentence's entries are contiguous
            k = len(self.intents)
            # one gather of both halves (np.take: half the time of fancy indexing), times tf and
            # tf^2 in one pass over E x 2 x K (the halves' strided views took twice as long):
            # the same products, cell by cell
            both = np.take(self.idf_both, cols, axis=0)
            both.reshape(len(cols), 2, k)[...] *= np.stack([tf, tf * tf], axis=1)[:, :, None]
            summed = np.add.reduceat(both, first)
            num, norm2 = summed[:, :k], summed[:, k:]
            z[row[first]] += np.divide(num, np.sqrt(norm2), out=np.zeros_like(num), where=norm2 > 0)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))


def _slot(ids: np.ndarray, shift: int) -> np.ndarray:
    """Fibonacci hashing: the top bits of id x 2^64/phi (mod 2^64)."""
    return ((ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(shift)).astype(np.int64)


def _gram_id(gram: str) -> int:
    """A 1-3-char n-gram as one integer: 21 bits per char (its code point + 1, so no char is 0)."""
    out = 0
    for c in gram:
        out = (out << 21) | (ord(c) + 1)
    return out


def evidence(model: IntentModel, vector: np.ndarray, probability: float) -> IntentMatch:
    """The decision `probability` gives for one sentence, with its nearest positive and
    negative train examples (as match_many finds them), looked up when first read."""
    return _LazyEvidence(model, vector, probability)


def nearest_examples(model: IntentModel, vector: np.ndarray) -> tuple[str, float, str, float]:
    """(nearest positive example, its cosine, nearest negative example, its cosine)."""
    row = np.asarray(vector, dtype=np.float32)
    pos, neg = model.bank.positive @ row, model.bank.negative @ row
    ip, ineg = int(pos.argmax()), int(neg.argmax())
    return model.bank.positive_texts[ip], float(pos[ip]), model.bank.negative_texts[ineg], float(neg[ineg])


class _LazyEvidence(IntentMatch):
    """An IntentMatch whose nearest examples are looked up when one is first read: a call's
    decisions hold ~20 hits, and only the few findings that quote the evidence read it (each
    lookup reads the intent's ~250 train vectors: 0.6 ms a call when done for every hit)."""

    def __init__(self, model: IntentModel, vector: np.ndarray, probability: float):  # noqa: D107
        object.__setattr__(self, "intent", model.intent)
        object.__setattr__(self, "probability", probability)
        object.__setattr__(self, "_source", (model, vector))
        hit = probability > model.min_probability
        if hit and model.min_similarity > 0:  # the few intents with a floor look their nearest up now
            hit = self._nearest[1] >= model.min_similarity
        object.__setattr__(self, "hit", hit)

    @functools.cached_property
    def _nearest(self) -> tuple[str, float, str, float]:
        return nearest_examples(*self._source)

    nearest = property(lambda self: self._nearest[0])
    similarity = property(lambda self: self._nearest[1])
    nearest_negative = property(lambda self: self._nearest[2])
    negative_similarity = property(lambda self: self._nearest[3])

    def _fields(self) -> tuple:
        return (self.intent, self.hit, self.probability, *self._nearest)

    def __eq__(self, other: object) -> bool:  # equal to the plain match with the same fields
        if not isinstance(other, IntentMatch):
            return NotImplemented
        return self._fields() == (other.intent, other.hit, other.probability, other.nearest, other.similarity,
                                  other.nearest_negative, other.negative_similarity)

    def __hash__(self) -> int:
        return hash(self._fields())

    def __reduce__(self):  # pickled as the plain match it stands for, without the model
        return IntentMatch, self._fields()
