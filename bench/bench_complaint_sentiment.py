"""Does a sentiment score help tell a customer complaint (issue 31 item 3)? snownlp 0.12.3's
sentiment (0 negative .. 1 positive) on customer_complaint's TEST split, alone, as a gate on
the intent model (hit AND negative) and as an alternative (hit OR very negative).

    pip install snownlp==0.12.3   # not a dependency of callqa: kept out (docs/meaning.md)
    PYTHONPATH=. OMP_NUM_THREADS=1 python bench/bench_complaint_sentiment.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from snownlp import SnowNLP

from analyzers.intents import match_sentences, meaning_sentences
from flows.meaning.bank import build_models
from flows.meaning.encoder import load_encoder
from flows.meaning.examples import load_examples

EXAMPLES = Path(__file__).resolve().parents[1] / "lexicons" / "zh-CN" / "examples"
INTENT = "customer_complaint"


def main() -> None:
    enc = load_encoder()
    model = build_models(EXAMPLES, enc, only=frozenset({INTENT}))[INTENT].model
    ex = load_examples(EXAMPLES)[INTENT]

    def scored(texts):
        return [(match_sentences(model, enc.embed(meaning_sentences(t)), meaning_sentences(t)).probability, SnowNLP(t).sentiments)
                for t in texts]

    pos, neg = scored(ex.texts("positive", "test")), scored(ex.texts("negative", "test"))

    def pr(rule):
        tp, fp = sum(rule(*r) for r in pos), sum(rule(*r) for r in neg)
        return f"P {tp / max(1, tp + fp):.2f} R {tp / len(pos):.2f}"

    print(f"{INTENT} test split: {len(pos)} positives, {len(neg)} near misses; mean sentiment "
          f"{np.mean([s for _, s in pos]):.2f} vs {np.mean([s for _, s in neg]):.2f}")
    print(f"model (p > {model.min_probability}): {pr(lambda p, s: p > model.min_probability)}")
    for t in (0.2, 0.3, 0.4, 0.5, 0.6):
        print(f"sentiment < {t}: alone {pr(lambda p, s: s < t)} | gate {pr(lambda p, s: p > model.min_probability and s < t)}"
              f" | or (< {t / 4:.2f}) {pr(lambda p, s: p > model.min_probability or s < t / 4)}")


if __name__ == "__main__":
    main()
