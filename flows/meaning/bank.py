"""Intent models: the example files embedded and fitted on their TRAIN split.

The fitting (scikit-learn) is here; the decision it feeds is pure (analyzers.intents).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from analyzers.intents import MIN_PROBABILITY, NGRAM, IntentBank, IntentModel
from analyzers.text import normalise

from .encoder import Encoder
from .examples import IntentExamples, load_examples

#: Inverse regularisation strength. C from 3 to 100 moved the mean test F1 by under 0.01
#: (docs/meaning.md); cross-validating it per intent took 3 s an intent for nothing.
C = 10.0


@dataclass(frozen=True)
class FittedIntent:
    examples: IntentExamples
    model: IntentModel


def build_bank(examples: IntentExamples, encoder: Encoder) -> IntentBank:
    """The intent's TRAIN examples embedded (the test split stays out)."""
    pos, neg = examples.texts("positive", "train"), examples.texts("negative", "train")
    vecs = encoder.embed([*pos, *neg])
    return IntentBank(examples.intent, vecs[:len(pos)], vecs[len(pos):], pos, neg)


def fit_model(bank: IntentBank, min_probability: float = MIN_PROBABILITY) -> IntentModel:
    """Logistic regression over [embedding, char n-gram tf-idf] of the bank's examples,
    classes weighted equally."""
    texts = [normalise(t) for t in (*bank.positive_texts, *bank.negative_texts)]
    y = np.r_[np.ones(len(bank.positive_texts)), np.zeros(len(bank.negative_texts))]
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=NGRAM, sublinear_tf=True, lowercase=False)
    grams = vectorizer.fit_transform(texts)
    emb = np.vstack([bank.positive, bank.negative])
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=5000)
    clf.fit(hstack([csr_matrix(emb), grams]).tocsr(), y)
    coef, d = clf.coef_[0], emb.shape[1]
    vocab = vectorizer.get_feature_names_out()
    return IntentModel(bank, coef[:d].astype(np.float32),
                       dict(zip(vocab, map(float, vectorizer.idf_))),
                       {g: float(w) for g, w in zip(vocab, coef[d:]) if w},
                       float(clf.intercept_[0]), min_probability)


def build_models(folder: str | Path, encoder: Encoder,
                 min_probability: float = MIN_PROBABILITY) -> dict[str, FittedIntent]:
    """Every intent of `folder`, embedded with `encoder` and fitted on its train split."""
    return {intent: FittedIntent(ex, fit_model(build_bank(ex, encoder), min_probability))
            for intent, ex in load_examples(folder).items()}
