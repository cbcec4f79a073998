"""Matching by meaning on a blind DEV set: precision and recall per intent on sentences the
example corpus never saw (bench/intent_dev2/<intent>.yaml, the judge since thr22; bench/intent_dev:
the first set, tuned on, reply_to_thanks's now in train), to tune on without the test split.

    python bench/dev_intents.py [--dev bench/intent_dev2] [--intents reply_to_thanks,customer_complaint]
                                [--examples lexicons/zh-CN/examples] [--cache /tmp/NAME] [--json out.json]

A dev file (written by someone who never read the corpus, issue 31):

    intent: reply_to_thanks
    speaker: agent
    positive: [...]   # sentences that mean the intent
    negative: [...]   # near misses

Each intent's model is fitted on its example file's TRAIN split exactly as
bench/bench_intents.py fits it (flows.meaning.bank.build_models, the other intents' train
sentences as background, the file's own settings); the example files' TEST lists are never
read. Each dev sentence is judged as the pipeline judges an utterance: its sentences with their
end marks (analyzers.intents.meaning_sentences), with their parts where the model reads them
(sentence_parts), the most probable sentence deciding (match_sentences, with the model's
min_similarity; bench_intents.judged). Printed per intent: P / R, false hits, misses and cost
(1.5 x false hits + misses) at 0.6 and at the model's own threshold (the file's `min_probability:`
where it says one), then every miss and false hit with its probability. --cache keeps the embeddings
(normalised text -> row) in one file, so a second run embeds only new sentences.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzers.intents import MIN_PROBABILITY, meaning_sentences, sentence_parts  # noqa: E402
from bench.bench_intents import EXAMPLES, Score, judged, score  # noqa: E402
from flows.meaning.bank import BACKGROUND_WEIGHT, FittedIntent, build_models  # noqa: E402
from flows.meaning.encoder import DEFAULT_ENCODER, Encoder, load_encoder  # noqa: E402
from flows.meaning.examples import SPEAKERS  # noqa: E402

#: The blind dev set that judges (idev22's; bench/intent_dev has been read by every tuning round since it21).
DEV = Path(__file__).resolve().parent / "intent_dev2"
#: The threshold the issue's targets are read at, beside each model's own (an example file's `min_probability:`).
THRESHOLD = MIN_PROBABILITY


@dataclass(frozen=True)
class DevSet:
    intent: str
    speaker: str
    positive: tuple[str, ...]
    negative: tuple[str, ...]


def load_dev(folder: Path, intents=None) -> dict[str, DevSet]:
    """The dev files of `folder` (those of `intents` where given), checked."""
    out = {}
    for path in sorted(Path(folder).glob("*.yaml")):
        if intents is not None and path.stem not in intents:
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("intent") != path.stem or data.get("speaker") not in SPEAKERS:
            raise ValueError(f"{path}: needs intent: {path.stem} and speaker: one of {', '.join(SPEAKERS)}")
        sides = {}
        for side in ("positive", "negative"):
            texts = data.get(side)
            if not isinstance(texts, list) or not texts:
                raise ValueError(f"{path}: {side}: needs a list of sentences")
            sides[side] = tuple(str(t).strip() for t in texts if str(t).strip())
        out[path.stem] = DevSet(path.stem, data["speaker"], sides["positive"], sides["negative"])
    if intents is not None and (missing := set(intents) - out.keys()):
        raise ValueError(f"{folder}: no dev file for {', '.join(sorted(missing))}")
    return out


def cached(encoder: Encoder, path: Path | None) -> Encoder:
    """`encoder`, its rows kept in `path` (normalised text -> row, before the unit scaling that
    Encoder.embed does after): the same rows as embedding afresh, only new texts are embedded."""
    if path is None:
        return encoder
    store: dict[str, np.ndarray] = {}
    if path.exists():
        z = np.load(path)
        store = dict(zip(z["texts"].tolist(), z["vecs"]))
    inner = encoder._embed

    def embed(texts):
        new = list(dict.fromkeys(t for t in texts if t not in store))
        if new:
            rows = np.asarray(inner(new), np.float32).reshape(len(new), encoder.dim)
            store.update(zip(new, rows))
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, texts=np.array(list(store)), vecs=np.stack(list(store.values())))
            tmp.replace(path)
        return np.stack([store[t] for t in texts])

    return Encoder(encoder.name, encoder.dim, embed)


def matches(models: dict[str, FittedIntent], dev: dict[str, DevSet], encoder: Encoder) -> dict[str, tuple]:
    """Per intent, (positives' IntentMatch, negatives') as the pipeline judges each sentence
    (bench_intents.judged: meaning_sentences, their parts where a model reads them, the most
    probable sentence, the model's min_probability and min_similarity); None for no sentence."""
    flat = list(dict.fromkeys(s for d in dev.values() for s in (*d.positive, *d.negative)))
    split = {s: tuple(meaning_sentences(s)) for s in flat}
    units = list(dict.fromkeys(u for s in flat for u in split[s]))
    vecs = dict(zip(units, encoder.embed(units)))  # one batch, as a call's sentences are embedded
    split_units = [u for u in units if sentence_parts(u)[1] is not None]
    part_at = {u: 2 * i for i, u in enumerate(split_units)}
    needs_parts = any(models[i].model.part_weights is not None for i in dev)
    part_rows = None  # the parts are embedded only where a model reads them (as flows.meaning.call)
    if needs_parts:
        pieces = [p for u in split_units for p in sentence_parts(u)]
        part_rows = encoder.embed(pieces) if pieces else np.zeros((0, encoder.dim), np.float32)
    return {i: tuple([judged(models[i].model, split[s], vecs, part_at, part_rows) for s in side]
                     for side in (d.positive, d.negative)) for i, d in dev.items()}


def decisive(found, model) -> np.ndarray:
    """The matches' probabilities as the decision reads them: 0 for no sentence, or where the nearest
    train positive is under the model's min_similarity (no threshold makes those hit)."""
    return np.array([m.probability if m is not None and m.similarity >= model.min_similarity else 0.0
                     for m in found])


def probabilities(models: dict[str, FittedIntent], dev: dict[str, DevSet], encoder: Encoder) -> dict[str, tuple]:
    """Per intent, (positives' decisive probabilities, negatives'): a hit at threshold t is p > t, and
    at the model's own min_probability exactly the pipeline's IntentMatch.hit."""
    return {i: (decisive(pos, models[i].model), decisive(neg, models[i].model))
            for i, (pos, neg) in matches(models, dev, encoder).items()}


def counts(p_pos: np.ndarray, p_neg: np.ndarray, threshold: float) -> tuple[Score, int, int, float]:
    """(P / R, false hits, misses, cost = 1.5 x false hits + misses) at `threshold` (a hit: p > it)."""
    hit_pos, hit_neg = p_pos > threshold, p_neg > threshold
    fp, fn = int(hit_neg.sum()), int((~hit_pos).sum())
    return score(hit_pos, hit_neg), fp, fn, 1.5 * fp + fn


def report(dev: dict[str, DevSet], probs: dict[str, tuple], thresholds: dict[str, float]) -> str:
    lines = ["| intent | threshold | P / R | false hits | misses | cost |", "|---|---|---|---|---|---|"]
    for i, (pp, pn) in probs.items():
        for t in dict.fromkeys((THRESHOLD, thresholds[i])):
            s, fp, fn, cost = counts(pp, pn, t)
            lines.append(f"| {i} | {t:g} | {s.precision:.2f} / {s.recall:.2f}{'' if s.meets() else ' ✗'} | "
                         f"{fp} of {len(pn)} | {fn} of {len(pp)} | {cost:g} |")
    for i, (pp, pn) in probs.items():
        t = thresholds[i]
        missed, false = np.flatnonzero(pp <= t), np.flatnonzero(pn > t)
        lines.append(f"\n{i} at {t:g}: {len(missed)} missed positives (dev)")
        lines += [f"  {pp[j]:.2f}  {dev[i].positive[j]}" for j in missed[np.argsort(pp[missed])]]
        lines.append(f"{i} at {t:g}: {len(false)} false hits (dev near misses)")
        lines += [f"  {pn[j]:.2f}  {dev[i].negative[j]}" for j in false[np.argsort(-pn[false])]]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dev", type=Path, default=DEV, help="the folder of dev files (default bench/intent_dev2)")
    ap.add_argument("--intents", help="only these intents (comma-separated; default: every dev file's)")
    ap.add_argument("--examples", type=Path, default=EXAMPLES, help="the example corpus the models are fitted on (train)")
    ap.add_argument("--encoder", default=DEFAULT_ENCODER)
    ap.add_argument("--min-probability", type=float, default=MIN_PROBABILITY,
                    help=f"the models' threshold where a file says no min_probability: (default {MIN_PROBABILITY})")
    ap.add_argument("--background-weight", type=float, default=BACKGROUND_WEIGHT,
                    help=f"where a file says none (default {BACKGROUND_WEIGHT}, as bench_intents)")
    ap.add_argument("--cache", type=Path, help="keep the embeddings in this folder (one file per encoder)")
    ap.add_argument("--json", type=Path, help="also write each dev sentence's probability here (0 under min_similarity)")
    args = ap.parse_args(argv)
    dev = load_dev(args.dev, args.intents.split(",") if args.intents else None)
    encoder = load_encoder(args.encoder)
    encoder = cached(encoder, args.cache / f"dev_intents_{args.encoder}.npz" if args.cache else None)
    models = build_models(args.examples, encoder, args.min_probability, args.background_weight, only=frozenset(dev))
    for i, d in dev.items():
        if models[i].examples.speaker != d.speaker:
            raise SystemExit(f"{i}: the dev file says speaker {d.speaker}, the example file {models[i].examples.speaker}")
    probs = probabilities(models, dev, encoder)
    print(report(dev, probs, {i: models[i].model.min_probability for i in dev}))
    if args.json:
        args.json.write_text(json.dumps({i: {"positive": dict(zip(dev[i].positive, map(float, pp))),
                                             "negative": dict(zip(dev[i].negative, map(float, pn)))}
                                         for i, (pp, pn) in probs.items()}, ensure_ascii=False, indent=1),
                             encoding="utf-8")


if __name__ == "__main__":
    main()
