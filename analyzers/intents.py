"""Matching by meaning: does an utterance say an intent, judged by its nearest examples.

Pure: the sentence vectors come in already computed (flows/meaning embeds them), so this
module only compares unit vectors. An intent's bank holds the embeddings of its TRAIN
examples: positives (utterances that are the intent) and negatives (near misses). An
utterance hits when its k nearest positives are closer on average than its k nearest
negatives by more than a calibrated margin, and its nearest positive is at least a
calibrated similarity away (so talk unlike any example never hits by chance).

`calibrate` picks k, the margin and the floor by leave-one-out over the train split only:
each train example is scored against the bank without itself. The test split is never
seen here. See docs/meaning.md for the measured precision and recall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Neighbour counts tried by `calibrate` (the average of the k nearest, per side).
K_CHOICES = (1, 3, 5)
#: The floor keeps this share of the train positives' leave-one-out nearest similarities.
FLOOR_QUANTILE = 0.02


@dataclass(frozen=True)
class IntentBank:
    """One intent's train examples as unit row vectors, with their texts for evidence."""

    intent: str
    positive: np.ndarray
    negative: np.ndarray
    positive_texts: tuple[str, ...]
    negative_texts: tuple[str, ...]

    def __post_init__(self):
        for side, vecs, texts in (("positive", self.positive, self.positive_texts),
                                  ("negative", self.negative, self.negative_texts)):
            if vecs.ndim != 2 or vecs.shape[0] != len(texts) or not texts:
                raise ValueError(f"intent {self.intent}: {side} needs one vector per text "
                                 f"and at least one text (got {vecs.shape} for {len(texts)} texts)")
        if self.positive.shape[1] != self.negative.shape[1]:
            raise ValueError(f"intent {self.intent}: positive and negative vectors differ in size")


@dataclass(frozen=True)
class Calibration:
    """The decision parameters of one intent (from `calibrate`, or set by hand)."""

    k: int
    #: The k-nearest positive mean must beat the k-nearest negative mean by more than this.
    margin: float
    #: The nearest positive must be at least this similar (cosine).
    min_similarity: float


@dataclass(frozen=True)
class IntentMatch:
    """The decision for one utterance and its evidence."""

    intent: str
    hit: bool
    #: Positive minus negative k-nearest mean similarity; the decision compares it to the margin.
    score: float
    nearest: str
    similarity: float
    nearest_negative: str
    negative_similarity: float

    def evidence(self) -> str:
        """What a finding says about how it matched, e.g. meaning: nearest example '…' (0.83)."""
        return f"meaning: nearest example '{self.nearest}' ({self.similarity:.2f})"


def _top_mean(sims: np.ndarray, k: int) -> np.ndarray:
    """Row-wise mean of the k largest values (all of them when a row has fewer)."""
    k = min(k, sims.shape[1])
    if k == sims.shape[1]:
        return sims.mean(axis=1)
    return np.partition(sims, sims.shape[1] - k, axis=1)[:, -k:].mean(axis=1)


def _as_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors[None, :] if vectors.ndim == 1 else vectors


def match_many(vectors: np.ndarray, bank: IntentBank, cal: Calibration) -> list[IntentMatch]:
    """The decision for each row of `vectors` (unit sentence embeddings)."""
    rows = _as_rows(vectors)
    if rows.shape[1] != bank.positive.shape[1]:
        raise ValueError(f"intent {bank.intent}: vectors of size {rows.shape[1]}, "
                         f"the bank's are {bank.positive.shape[1]} (another encoder?)")
    pos, neg = rows @ bank.positive.T, rows @ bank.negative.T
    score = _top_mean(pos, cal.k) - _top_mean(neg, cal.k)
    ip, ineg = pos.argmax(axis=1), neg.argmax(axis=1)
    return [
        IntentMatch(bank.intent,
                    bool(score[i] > cal.margin and pos[i, ip[i]] >= cal.min_similarity),
                    float(score[i]), bank.positive_texts[ip[i]], float(pos[i, ip[i]]),
                    bank.negative_texts[ineg[i]], float(neg[i, ineg[i]]))
        for i in range(rows.shape[0])
    ]


def match(vector: np.ndarray, bank: IntentBank, cal: Calibration) -> IntentMatch:
    """The decision for one utterance's unit embedding."""
    return match_many(vector, bank, cal)[0]


def _leave_one_out(bank: IntentBank, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores of the train positives and negatives, each against the bank without itself,
    and the positives' nearest-other-positive similarity."""
    pp, pn = bank.positive @ bank.positive.T, bank.positive @ bank.negative.T
    nn, np_ = bank.negative @ bank.negative.T, bank.negative @ bank.positive.T
    np.fill_diagonal(pp, -np.inf)
    np.fill_diagonal(nn, -np.inf)

    def mean_without_self(sims: np.ndarray) -> np.ndarray:
        # the -inf diagonal sorts last: the k largest of the others
        kk = min(k, sims.shape[1] - 1)
        return np.sort(sims, axis=1)[:, ::-1][:, :max(kk, 1)].mean(axis=1)

    pos_scores = mean_without_self(pp) - _top_mean(pn, k)
    neg_scores = _top_mean(np_, k) - mean_without_self(nn)
    return pos_scores, neg_scores, pp.max(axis=1)


def best_threshold(pos_scores: np.ndarray, neg_scores: np.ndarray) -> tuple[float, float]:
    """The threshold (hit when score > it) with the most train examples right, and that
    accuracy (positives and negatives weighted equally). Among equally good thresholds the
    middle of the widest gap, so the boundary sits between the classes, not on one."""
    cuts = np.unique(np.concatenate([pos_scores, neg_scores]))
    cands = np.concatenate([[cuts[0] - 1e-3], (cuts[:-1] + cuts[1:]) / 2, [cuts[-1] + 1e-3]])
    tpr = (pos_scores[None, :] > cands[:, None]).mean(axis=1)
    tnr = (neg_scores[None, :] <= cands[:, None]).mean(axis=1)
    acc = (tpr + tnr) / 2
    best = np.flatnonzero(acc >= acc.max() - 1e-12)
    # consecutive best candidates form a run; take the middle of the longest run
    runs = np.split(best, np.flatnonzero(np.diff(best) > 1) + 1)
    run = max(runs, key=lambda r: cands[r[-1]] - cands[r[0]])
    return float((cands[run[0]] + cands[run[-1]]) / 2), float(acc.max())


def calibrate(bank: IntentBank, k_choices: tuple[int, ...] = K_CHOICES) -> Calibration:
    """k, margin and similarity floor from leave-one-out on the bank's (train) examples."""
    if len(bank.positive_texts) < 2 or len(bank.negative_texts) < 2:
        raise ValueError(f"intent {bank.intent}: calibration needs at least 2 positive "
                         f"and 2 negative train examples")
    best: tuple[float, Calibration] | None = None
    for k in k_choices:
        pos_scores, neg_scores, nearest = _leave_one_out(bank, k)
        margin, acc = best_threshold(pos_scores, neg_scores)
        floor = float(np.quantile(nearest, FLOOR_QUANTILE))
        if best is None or acc > best[0] + 1e-12:
            best = (acc, Calibration(k, margin, floor))
    return best[1]
