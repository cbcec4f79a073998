"""Intent models: the example files embedded and fitted on their TRAIN split.

The fitting (scikit-learn) is here; the decision it feeds is pure (analyzers.intents).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from analyzers.intents import MIN_PROBABILITY, NGRAM, IntentBank, IntentModel, SentenceParts, part_rows, sentence_parts
from analyzers.text import normalise

from .encoder import Encoder
from .examples import IntentExamples, load_examples

#: Inverse regularisation strength. C from 3 to 100 moved the mean test F1 by under 0.01
#: (docs/meaning.md); cross-validating it per intent took 3 s an intent for nothing.
C = 10.0
#: The other intents' train sentences are background negatives: all together of this weight
#: relative to the intent's own near misses when there are BACKGROUND_SENTENCES of them.
#: Without them ordinary talk unlike any near miss hits at random (on the 12 sample calls
#: 59 agent sentences hit polite_address, 19 confirmation); more weight loses recall where
#: intents overlap (docs/meaning.md).
BACKGROUND_WEIGHT = 0.1
#: Each background sentence weighs BACKGROUND_WEIGHT x near misses / this however many there are
#: (a growing file thins no other intent's background; bgw15): about each intent's background in 2026-12.
BACKGROUND_SENTENCES = 7500


@dataclass(frozen=True)
class FittedIntent:
    examples: IntentExamples
    model: IntentModel


def build_bank(examples: IntentExamples, encoder: Encoder) -> IntentBank:
    """The intent's TRAIN examples embedded (the test split stays out)."""
    pos, neg = examples.texts("positive", "train"), examples.texts("negative", "train")
    vecs = encoder.embed([*pos, *neg])
    return IntentBank(examples.intent, vecs[:len(pos)], vecs[len(pos):], pos, neg)


def _weights(n_pos: int, n_neg: int, n_bg: int, background_weight: float,
             background_sentences: float = BACKGROUND_SENTENCES) -> np.ndarray:
    """Near misses weigh 1 each, each background sentence `background_weight` x n_neg /
    `background_sentences` (however many there are), the positives as much as all negatives
    together (classes weighted equally); scaled to a mean of 1."""
    bg = background_weight * n_neg / background_sentences
    neg_total = n_neg + bg * n_bg
    w = np.r_[np.full(n_pos, neg_total / n_pos), np.ones(n_neg), np.full(n_bg, bg)]
    return w / w.mean()


def fit_model(bank: IntentBank, min_probability: float = MIN_PROBABILITY,
              background: tuple[tuple[str, ...], np.ndarray] | None = None,
              background_weight: float = BACKGROUND_WEIGHT, embedding_scale: float = 1.0,
              background_sentences: float = BACKGROUND_SENTENCES, parts: SentenceParts | None = None,
              part_scale: float = 1.0, min_similarity: float = 0.0) -> IntentModel:
    """Logistic regression over [embedding x embedding_scale, char n-gram tf-idf] of the
    bank's examples and the `background` sentences (texts, unit vectors: other intents'
    examples) as extra negatives. The scale sets how strongly the embedding's weights are
    regularised against the n-grams' (below 1: more); it is folded into the weights, so
    the decision reads unit embeddings as before. Each background sentence weighs
    `background_weight` x near misses / `background_sentences` (`_weights`). With `parts` (one
    row per example, then per background sentence: `clause_features: split`) the rows also hold
    the lead clause's and the rest's embeddings x embedding_scale x part_scale and a has-rest
    flag (bench/cv_intents.py's `design`), their weights folded into `part_weights` alike.
    `min_probability` and `min_similarity` are the model's decision (IntentModel), not the fit's."""
    bg_texts, bg_vecs = background if background is not None else ((), np.zeros((0, bank.positive.shape[1])))
    if not background_weight:
        bg_texts, bg_vecs = (), bg_vecs[:0]
    texts = [normalise(t) for t in (*bank.positive_texts, *bank.negative_texts, *bg_texts)]
    n_pos, n_neg = len(bank.positive_texts), len(bank.negative_texts)
    y = np.r_[np.ones(n_pos), np.zeros(n_neg + len(bg_texts))]
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=NGRAM, sublinear_tf=True, lowercase=False)
    # the vocabulary is the intent's own examples' n-grams: the background's others would
    # only say "not this intent", which no n-gram at all says as well (10x fewer features)
    grams = vectorizer.fit(texts[:n_pos + n_neg]).transform(texts)
    emb = np.vstack([bank.positive, bank.negative, bg_vecs])
    d = emb.shape[1]
    if embedding_scale != 1.0:
        emb = emb * embedding_scale
    if parts is not None:
        if parts.lead.shape != (n_pos + n_neg + len(background[1] if background is not None else ()), d):
            raise ValueError(f"intent {bank.intent}: parts of {parts.lead.shape} for other sentences")
        parts = parts[:len(texts)]  # without the background where its weight is 0
        ps = embedding_scale * part_scale
        emb = np.hstack([emb, ps * parts.lead, ps * parts.rest, parts.has_rest[:, None].astype(float)])
    clf = LogisticRegression(C=C, max_iter=5000)
    clf.fit(hstack([csr_matrix(emb), grams]).tocsr(), y,
            sample_weight=_weights(n_pos, n_neg, len(bg_texts), background_weight, background_sentences))
    coef, width = clf.coef_[0], emb.shape[1]
    vocab = vectorizer.get_feature_names_out()
    part_weights = None if parts is None else np.r_[coef[d:3 * d] * (embedding_scale * part_scale), coef[3 * d]]
    return IntentModel(bank, (coef[:d] * embedding_scale).astype(np.float32),
                       dict(zip(vocab, map(float, vectorizer.idf_))),
                       {g: float(w) for g, w in zip(vocab, coef[width:]) if w},
                       float(clf.intercept_[0]), min_probability,
                       part_weights=None if part_weights is None else part_weights.astype(np.float32),
                       min_similarity=min_similarity)


def background_sides(examples: Mapping[str, IntentExamples], intent: str) -> dict[str, tuple[str, ...]]:
    """The other intents whose train sentences are `intent`'s background negatives, each with the
    sides taken: both, or only the near misses of an intent its file's `not_background` names (it goes
    together with this one). Every speaker's files: an agent intent without the customers' (spk15)
    lost by CV within train (docs/decisions.md)."""
    ex = examples[intent]
    return {other: ("negative",) if other in ex.not_background else ("positive", "negative")
            for other in examples if other != intent}


def build_models(folder: str | Path, encoder: Encoder, min_probability: float = MIN_PROBABILITY,
                 background_weight: float = BACKGROUND_WEIGHT,
                 only: frozenset[str] | None = None) -> dict[str, FittedIntent]:
    """Every intent of `folder` (or those in `only`), embedded with `encoder` and fitted on
    its train split, with the other intents' train sentences as background (`background_sides`;
    of the file's `background_weight` where it says one); its threshold the file's
    `min_probability` where it says one, else `min_probability`."""
    examples = load_examples(folder)
    if only is not None and (unknown := only - examples.keys()):
        raise ValueError(f"{folder}: no examples for intent(s) {', '.join(sorted(unknown))}")
    banks = {intent: build_bank(ex, encoder) for intent, ex in examples.items()}
    split = any(ex.clause_features for intent, ex in examples.items() if only is None or intent in only)
    part_vecs = train_parts(banks, encoder) if split else {}
    models = {}
    for intent, ex in examples.items():
        if only is not None and intent not in only:
            continue
        own = {*banks[intent].positive_texts, *banks[intent].negative_texts}
        texts, vecs = [], [np.zeros((0, banks[intent].positive.shape[1]), np.float32)]
        for other, sides in background_sides(examples, intent).items():
            b = banks[other]
            for side_texts, side_vecs in ((b.positive_texts, b.positive) if side == "positive" else
                                          (b.negative_texts, b.negative) for side in sides):
                keep = [i for i, t in enumerate(side_texts) if t not in own]
                texts += [side_texts[i] for i in keep]
                vecs.append(side_vecs[keep])
        weight = background_weight if ex.background_weight is None else ex.background_weight
        b, vecs = banks[intent], np.vstack(vecs)
        extra = {} if not ex.clause_features else {"part_scale": ex.part_scale, "parts": parts_of(
            [*b.positive_texts, *b.negative_texts, *texts], np.vstack([b.positive, b.negative, vecs]), part_vecs)}
        if ex.min_similarity:  # the file's other settings, as fit_model's keywords where it says them
            extra["min_similarity"] = ex.min_similarity
        threshold = min_probability if ex.min_probability is None else ex.min_probability
        models[intent] = FittedIntent(ex, fit_model(banks[intent], threshold, (tuple(texts), vecs), weight,
                                                    ex.embedding_scale, **extra))
    return models


def train_parts(banks: Mapping[str, IntentBank], encoder: Encoder) -> dict[str, np.ndarray]:
    """The lead clause and rest of every train sentence of two parts (sentence_parts), each
    embedded once: text -> unit row (a `clause_features` intent's examples and background)."""
    texts = sorted({u for b in banks.values() for t in (*b.positive_texts, *b.negative_texts)
                    if (parts := sentence_parts(t))[1] is not None for u in parts})
    return dict(zip(texts, encoder.embed(texts)))


def parts_of(texts, rows: np.ndarray, part_vecs: Mapping[str, np.ndarray]) -> SentenceParts:
    """SentenceParts of train sentences (`rows`: their own embeddings, the lead of one clause)."""
    split = [sentence_parts(t) for t in texts]
    index = part_rows([rest is not None for _, rest in split])
    flat = [u for lead, rest in split if rest is not None for u in (lead, rest)]
    dim = rows.shape[1]
    return SentenceParts.of(rows, index, np.stack([part_vecs[u] for u in flat]) if flat else np.zeros((0, dim), np.float32))
