"""Choose the intent model by stratified k-fold cross-validation WITHIN TRAIN (the test split
is never read): out-of-fold precision / recall per intent for one setting, at several global
thresholds and per-intent thresholds (docs/meaning.md, "What was compared").

    python bench/cv_intents.py --encoder use [--c 10] [--background-weight 0.1] [--ngram 1,3]
    python bench/cv_intents.py --encoder use+e5      # both embeddings concatenated
    python bench/cv_intents.py --hash-salt a --intents arguing,customer_complaint --per-intent 0.6
    python bench/cv_intents.py --hash-salt a --intents arguing --not-background arguing=blame_customer+rude_banned
    python bench/cv_intents.py --hash-salt a --intents reply_to_thanks --errors 0.6   # train only
    python bench/cv_intents.py --hash-salt a --per-intent 0.6 --units leading [--units-intents A,B]
    python bench/cv_intents.py --hash-salt a --intents reply_to_thanks --clause-features none   # without its parts
    python bench/cv_intents.py --hash-salt a --per-intent 0.6 --tol 1e-8   # the solver run tighter (thr22)

--hash-salt folds by a hash of each sentence (md5 of salt + text, mod k) instead of a seeded
shuffle, so a sentence keeps its fold when others are added and two corpora compare on the
sentences they share; two salts give two fold assignments.

Embeddings of every example sentence are cached per encoder (--cache, default /tmp), so a
sweep embeds the corpus once. The background (other intents' train sentences) is split into
the same k folds, so "other" (other intents' train positives, same speaker, that hit) is out
of fold too. Cost: 1.5 x false hits + misses (a false flag weighs 1.5 misses).

An intent whose file says `clause_features: split` (reply_to_thanks; thanks15, ported in clause17)
has a model that sees both the sentence and its parts (analyzers.intents.sentence_parts, the
pipeline's split): [emb(sentence), emb(leading clause), emb(rest) or 0, has rest] x the file's
scales, fitted on the train examples' parts and judged alike, as flows.meaning.bank fits it.
--clause-features overrides the files (split+grams: also the leading clause's n-grams, an
experiment; none: no intent's).

An intent whose file says `min_probability:` is read at that threshold by --per-intent and --errors
(marked), and in one more summary line ("threshold files": each intent at its file's, else 0.6); the
global thresholds' lines read every intent at the same one.

--units judges each held-out sentence (own examples and background alike; fitting stays on whole
train sentences) by the most probable of it and its clauses; measured in docs/decisions.md,
thanks14: no setting won, so the pipeline judges by sentence only. --clause-lift / --clause-gate
are that section's two softer variants.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzers.intents import MIN_PROBABILITY, sentence_parts  # noqa: E402  (the pipeline's split: bench and pipeline alike)
from analyzers.text import normalise, sentences  # noqa: E402
from flows.meaning.bank import BACKGROUND_SENTENCES, BACKGROUND_WEIGHT, C, _weights, background_sides  # noqa: E402
from flows.meaning.encoder import load_encoder  # noqa: E402
from flows.meaning.examples import load_examples  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "lexicons" / "zh-CN" / "examples"
THRESHOLDS = (0.4, 0.5, 0.55, 0.6, 0.65, 0.7)
GRID = np.round(np.arange(0.4, 0.951, 0.05), 2)
#: The solver's stopping tolerance: scikit-learn's default, as flows.meaning.bank fits (--tol to measure another).
TOL = 1e-4
PER_INTENT_PRECISION = 0.97
#: Clause marks after analyzers.text.normalise (NFKC folds ， to ,); --units' modes.
CLAUSE = re.compile(r"[,，、]")
MODES = ("leading", "last", "leading+last")
#: --clause-features' variants (parts: analyzers.intents.sentence_parts): "split" [emb(sentence),
#: emb(leading clause), emb(rest) or 0, has rest] + the sentence's char n-grams, as the pipeline fits an
#: intent whose file says `clause_features: split`; "split+grams" also the leading clause's n-grams
#: (own vocabulary, an experiment); "none": no intent's, whatever its file says.
FEATURES = ("split", "split+grams")


def clause_units(text: str, mode: str | None) -> tuple[str, ...]:
    """What a held-out example is judged by (--units): the example, and with `mode` each of its
    sentences' leading clause (before the first ，,、) and / or last clause, where it has two or more."""
    extra = []
    for s in sentences(text) if mode else ():
        parts = [c for c in CLAUSE.split(s) if c]
        if len(parts) > 1:
            extra += [parts[0]] * ("leading" in mode) + [parts[-1]] * ("last" in mode)
    return tuple(dict.fromkeys((text, *extra)))


def vectors(examples, encoder: str, cache: Path, clauses: bool = False,
            parts: bool = False) -> dict[str, np.ndarray]:
    """Unit embeddings of every example sentence (`clauses`: and of all their clause units;
    `parts`: and of the train sentences' leading clauses and rests, sentence_parts); `a+b`
    concatenates (scaled back to unit)."""
    texts = {t for e in examples.values() for side in ("positive", "negative")
             for split in ("train", "test") for t in e.texts(side, split)}
    if clauses:
        texts = {t for u in texts for t in clause_units(u, "leading+last")}
    if parts:
        texts |= {u for e in examples.values() for side in ("positive", "negative")
                  for t in e.texts(side, "train") for u in sentence_parts(t) if u is not None}
    texts = sorted(texts)
    parts = []
    for name in encoder.split("+"):
        path = cache_path(cache, name, texts)
        if path.exists() and (z := np.load(path))["texts"].tolist() == texts:
            parts.append(z["vecs"])
            continue
        vecs = load_encoder(name).embed(texts)
        save_atomic(path, texts=np.array(texts), vecs=vecs)
        parts.append(vecs)
    return dict(zip(texts, np.hstack(parts) / np.sqrt(len(parts))))


def cache_path(cache: Path, encoder: str, texts) -> Path:
    """The cache file of `encoder`'s embeddings of `texts`, named by a hash of them: concurrent
    runs over different corpora (or unit sets) each keep their own file."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
    return cache / f"cv_intents_{encoder}_{digest}.npz"


def save_atomic(path: Path, **arrays) -> None:
    """np.savez to a temporary file beside `path`, then os.replace: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def design(texts, vec, scale: float, vz, features: str | None = None, vz_lead=None, part_scale: float = 1.0):
    """The model's rows for `texts`: [embedding x scale, char n-gram tf-idf] as
    flows.meaning.bank.fit_model builds them; with `features` (--clause-features) the leading
    clause's and the rest's embeddings x scale x part_scale (0 for one clause) and a has-rest flag
    after the sentence's, and with `vz_lead` the leading clause's n-grams at the end."""
    blocks = [scale * np.stack([vec[t] for t in texts])]
    if features:
        parts = [sentence_parts(t) for t in texts]
        zero = np.zeros_like(blocks[0][0])
        blocks += [scale * part_scale * np.stack([vec[lead] for lead, _ in parts]),
                   scale * part_scale * np.stack([vec[rest] if rest is not None else zero for _, rest in parts]),
                   np.array([[rest is not None] for _, rest in parts], float)]
    x = [csr_matrix(np.hstack(blocks)), vz.transform([normalise(t) for t in texts])]
    if vz_lead is not None:
        x.append(vz_lead.transform([normalise(sentence_parts(t)[0]) for t in texts]))
    return hstack(x).tocsr()


def fit_predict(pos, neg, bg, pred, vec, c, bw, ngram, scale=1.0, mode=None, lift=1.0, gate=0.0,
                features=None, part_scale=1.0, bg_share=1.0, tol=TOL) -> np.ndarray:
    """Fit as flows.meaning.bank.fit_model does, with c, ngram and the embedding scale as parameters;
    each of `pred` judged by its most probable unit (clause_units, `mode`); `lift` below 1 (an
    experiment): the sentence's probability raised by that share of its best clause's excess;
    `gate` (an experiment): the clauses count only where the sentence's own probability reaches it;
    `features` (an experiment, FEATURES): the model also sees each sentence's parts (design, with
    `part_scale`); `bg_share`: the fold's share of the whole background (its sentences weigh as in
    the full fit); `tol`: the solver's stopping tolerance (TOL, flows.meaning.bank's, by default)."""
    features = None if features == "none" else features
    if features and mode:
        raise ValueError("--clause-features judges sentences whole: no --units with it")
    bg = bg if bw else []
    texts = [normalise(t) for t in (*pos, *neg, *bg)]
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg) + len(bg))]
    def vectorizer(fit_on):
        return TfidfVectorizer(analyzer="char", ngram_range=ngram, sublinear_tf=True, lowercase=False).fit(fit_on)
    vz = vectorizer(texts[:len(pos) + len(neg)])
    vz_lead = vectorizer([normalise(sentence_parts(t)[0]) for t in (*pos, *neg)]) if features == "split+grams" else None
    clf = LogisticRegression(C=c, max_iter=5000, tol=tol)
    clf.fit(design([*pos, *neg, *bg], vec, scale, vz, features, vz_lead, part_scale), y,
            sample_weight=_weights(len(pos), len(neg), len(bg), bw, BACKGROUND_SENTENCES * bg_share))
    groups = [clause_units(t, mode) for t in pred]
    flat = [u for g in groups for u in g]
    p = clf.predict_proba(design(flat, vec, scale, vz, features, vz_lead, part_scale))[:, 1]
    if not len(pred):
        return p
    starts = np.cumsum([0, *map(len, groups)])[:-1]
    first = p[starts]  # the example itself
    return first + lift * (np.maximum.reduceat(p, starts) - first) * (first >= gate)


def hash_folds(texts, k: int, salt: str) -> np.ndarray:
    """Each sentence's fold from a hash of salt + text: stable when the corpus grows."""
    return np.array([int(hashlib.md5((salt + t).encode()).hexdigest(), 16) % k for t in texts], int)


def _splits(x, y, bg, k, seed, salt):
    """(train, held-out) index pairs of the intent's examples and of the background, per fold."""
    if salt is None:
        return zip(StratifiedKFold(k, shuffle=True, random_state=seed).split(x, y),
                   KFold(k, shuffle=True, random_state=seed).split(bg))
    fx, fb = hash_folds(x, k, salt), hash_folds(bg, k, salt)
    return [((np.flatnonzero(fx != f), np.flatnonzero(fx == f)),
             (np.flatnonzero(fb != f), np.flatnonzero(fb == f))) for f in range(k)]


def out_of_fold(examples, intent, vec, c, bw, ngram, k=5, seed=0, scale=None, salt=None, mode=None,
                lift=1.0, gate=0.0, features=None, part_scale=None, tol=TOL) -> dict:
    """Out-of-fold probabilities of the intent's train examples and of the other intents'
    train positives of the same speaker (held out with their background fold). `scale`:
    the embedding scale, by default the intent file's (`embedding_scale:`); `bw` None: the
    file's `background_weight:`, else BACKGROUND_WEIGHT; `mode`: the held-out sentences' clause
    units (fitting stays on whole train sentences); `features`, `part_scale`: fit_predict's, by
    default the file's (`clause_features:`, `part_scale:`)."""
    e = examples[intent]
    scale = e.embedding_scale if scale is None else scale
    features = e.clause_features if features is None else features
    part_scale = e.part_scale if part_scale is None else part_scale
    bw = (BACKGROUND_WEIGHT if e.background_weight is None else e.background_weight) if bw is None else bw
    pos, neg = e.texts("positive", "train"), e.texts("negative", "train")
    own = {*pos, *neg}
    # the positives of the intents the file's `not_background` names are no negatives (bank.py);
    # they are still judged out of fold below and counted in "other"
    left_out = {t for j in e.not_background for t in examples[j].texts("positive", "train")} - own
    # the background as bank.build_models takes it (background_sides: which intents, which sides)
    bg = np.array(sorted({t for j, sides in background_sides(examples, intent).items() for s in sides
                          for t in examples[j].texts(s, "train")} - own - left_out))
    other = {t for j, f in examples.items() if j != intent and f.speaker == e.speaker
             for t in f.texts("positive", "train")}
    x, y = np.array([*pos, *neg]), np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    out = np.array(sorted(left_out), dtype=str)  # its own width: a named positive may outrun the background's
    out_fold = hash_folds(out, k, salt or str(seed))
    p, p_bg, p_out, fold = np.zeros(len(x)), np.zeros(len(bg)), np.zeros(len(out)), np.zeros(len(x), int)
    for f, ((tr, te), (btr, bte)) in enumerate(_splits(x, y, bg, k, seed, salt)):
        ote = np.flatnonzero(out_fold == f)
        probs = fit_predict(list(x[tr][y[tr] == 1]), list(x[tr][y[tr] == 0]), list(bg[btr]),
                            [*x[te], *bg[bte], *out[ote]], vec, c, bw, ngram, scale, mode, lift, gate, features,
                            part_scale, len(btr) / len(bg) if len(bg) else 1.0, tol)
        p[te], p_bg[bte], fold[te] = probs[:len(te)], probs[len(te):len(te) + len(bte)], f
        p_out[ote] = probs[len(te) + len(bte):]
    p_other = np.r_[p_bg[np.array([t in other for t in bg], bool)], p_out[np.array([t in other for t in out], bool)]]
    return {"y": y, "p": p, "fold": fold, "texts": x, "p_other": p_other, "p_named": p_out}


def precision_recall(y, hit) -> tuple[float, float]:
    tp, fp = int((hit & (y == 1)).sum()), int((hit & (y == 0)).sum())
    return (tp / (tp + fp) if tp + fp else 1.0), tp / int((y == 1).sum())


def per_intent_threshold(y, p) -> float:
    """The smallest threshold whose precision reaches PER_INTENT_PRECISION."""
    return next((t for t in GRID if precision_recall(y, p > t)[0] >= PER_INTENT_PRECISION), GRID[-1])


def summary(oof: dict, threshold) -> dict:
    """Intents meeting P >= 0.95 and R >= 0.90 out of fold, means, cost and other; per-intent
    thresholds are cross-fitted (fold f's from the other folds' out-of-fold probabilities); a
    mapping: each intent at its own (`own_thresholds`)."""
    ps, rs, others, cost = [], [], [], 0.0
    for intent, r in oof.items():
        y, p, fold = r["y"], r["p"], r["fold"]
        if isinstance(threshold, dict):
            hit, t_other = p > threshold[intent], threshold[intent]
        elif threshold == "per":
            hit = np.zeros(len(y), bool)
            for f in np.unique(fold):
                hit[fold == f] = p[fold == f] > per_intent_threshold(y[fold != f], p[fold != f])
            t_other = per_intent_threshold(y, p)
        else:
            hit, t_other = p > threshold, threshold
        P, R = precision_recall(y, hit)
        ps.append(P), rs.append(R), others.append(float((r["p_other"] > t_other).mean()))
        cost += 1.5 * int((hit & (y == 0)).sum()) + int((~hit & (y == 1)).sum())
    ps, rs = np.array(ps), np.array(rs)
    return {"meets": int(((ps >= 0.95) & (rs >= 0.90)).sum()), "P": ps.mean(), "R": rs.mean(),
            "cost": cost, "other": float(np.mean(others))}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=Path, default=EXAMPLES)
    ap.add_argument("--encoder", default="use", help="use, e5, or use+e5 (concatenated)")
    ap.add_argument("--c", type=float, default=C)
    ap.add_argument("--background-weight", type=float,
                    help=f"every intent's (default: each file's, else {BACKGROUND_WEIGHT})")
    ap.add_argument("--ngram", default="1,3", help="char n-gram lengths, e.g. 1,4")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--embedding-scale", type=float, help="every intent's embedding scale (default: each file's)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp"))
    ap.add_argument("--hash-salt", help="fold by a hash of salt + sentence (stable as the corpus grows)")
    ap.add_argument("--intents", help="only these intents (comma-separated; the background is all)")
    ap.add_argument("--not-background", action="append", default=[], metavar="INTENT=A+B",
                    help="instead of the file's not_background: INTENT's background without A's and "
                         "B's positives ('INTENT=' for none); repeatable")
    ap.add_argument("--units", choices=("sentence", *MODES), default="sentence",
                    help="judge each held-out sentence by the max over it and these clauses (analyzers.units)")
    ap.add_argument("--clause-lift", type=float, default=1.0,
                    help="experiment: a sentence's probability raised by this share of its best "
                         "clause's excess (1: max)")
    ap.add_argument("--clause-gate", type=float, default=0.0,
                    help="experiment: the clauses count only where the sentence's own probability reaches this")
    ap.add_argument("--clause-features", choices=(*FEATURES, "none"),
                    help="the chosen intents' models also see each sentence's leading clause and rest "
                         "(sentence_parts), fitted and judged alike; not with --units (default: each "
                         "file's `clause_features:`; none: no intent's)")
    ap.add_argument("--part-scale", type=float,
                    help="the parts' embeddings at this share of the sentence's scale (default: each file's)")
    ap.add_argument("--units-intents", help="only these intents judge by --units (comma-separated; default all)")
    ap.add_argument("--tol", type=float, default=TOL,
                    help=f"the solver's stopping tolerance (default {TOL:g}, as the pipeline's fit)")
    ap.add_argument("--per-intent", type=float, metavar="THRESHOLD",
                    help="also print each intent's out-of-fold P / R / other at this threshold")
    ap.add_argument("--errors", type=float, metavar="THRESHOLD",
                    help="also print each chosen intent's out-of-fold errors at this threshold: its "
                         "missed train positives and the train sentences it hits falsely (train only)")
    args = ap.parse_args(argv)
    examples = load_examples(args.examples)
    for item in args.not_background:
        intent, _, names = item.partition("=")
        if intent not in examples or not set(names := tuple(filter(None, names.split("+")))) <= examples.keys():
            ap.error(f"--not-background {item}: unknown intent")
        examples[intent] = replace(examples[intent], not_background=names)
    mode = None if args.units == "sentence" else args.units
    ngram = tuple(int(n) for n in args.ngram.split(","))
    chosen = sorted(examples) if not args.intents else args.intents.split(",")
    if unknown := set(chosen) - examples.keys():
        ap.error(f"no examples for intent(s) {', '.join(sorted(unknown))}")
    if args.clause_features == "none":
        examples = {i: replace(e, clause_features=None) for i, e in examples.items()}
    split = args.clause_features not in (None, "none") or any(examples[i].clause_features for i in chosen)
    if mode and split:
        ap.error("clause features judge sentences whole: no --units with them (--clause-features none)")
    vec = vectors(examples, args.encoder, args.cache, clauses=mode is not None, parts=split)
    by_units = set(chosen if not args.units_intents else args.units_intents.split(","))
    if unknown := by_units - examples.keys():
        ap.error(f"--units-intents: no examples for intent(s) {', '.join(sorted(unknown))}")
    t0 = time.process_time()
    oof = {i: out_of_fold(examples, i, vec, args.c, args.background_weight, ngram, args.folds,
                          scale=args.embedding_scale, salt=args.hash_salt, mode=mode if i in by_units else None,
                          lift=args.clause_lift, gate=args.clause_gate, features=args.clause_features,
                          part_scale=args.part_scale, tol=args.tol)
           for i in chosen}
    print(f"fitting and judging {len(chosen)} intents x {args.folds} folds: {time.process_time() - t0:.1f} s "
          f"process time (tol {args.tol:g})")
    n = len(oof)
    own = {i: examples[i].min_probability for i in chosen if examples[i].min_probability is not None}
    for t in (*THRESHOLDS, "per", *(["files"] if own else [])):
        s = summary(oof, own_thresholds(oof, own, MIN_PROBABILITY) if t == "files" else t)
        print(f"{args.encoder} C {args.c:g} background {'files' if args.background_weight is None else f'{args.background_weight:g}'} ngram {args.ngram} "
              f"threshold {t}: meets {s['meets']}/{n} P {s['P']:.3f} R {s['R']:.3f} "
              f"cost {s['cost']:.0f} other {s['other']:.3f}")
    if args.per_intent is not None:
        print(per_intent_table(oof, args.per_intent, own))
    if args.errors is not None:
        print(errors_table(oof, args.errors, own))


def own_thresholds(oof: dict, own: dict, threshold: float) -> dict:
    """Each intent's threshold: its file's `min_probability:` (`own`) where it says one, else `threshold`."""
    return {i: own.get(i, threshold) for i in oof}


def per_intent_table(oof: dict, common: float, own: dict | None = None) -> str:
    """One line per intent: out-of-fold P / R, false hits, misses and other at `common`, or at its
    file's `min_probability:` (`own`, marked) (with the share of the not_background intents'
    positives that hit, where the intent names some)."""
    lines = [f"per intent at {common}: P / R (false hits, misses) other"]
    for intent, r in oof.items():
        threshold = (own or {}).get(intent, common)
        hit = r["p"] > threshold
        P, R = precision_recall(r["y"], hit)
        mark = "" if P >= 0.95 and R >= 0.90 else " x"
        lines.append(f"  {intent:22s} {P:.3f} / {R:.3f} ({int((hit & (r['y'] == 0)).sum())}, "
                     f"{int((~hit & (r['y'] == 1)).sum())}) other {(r['p_other'] > threshold).mean():.3f}"
                     + (f" (named in not_background: {(r['p_named'] > threshold).mean():.2f} of "
                        f"{len(r['p_named'])})" if len(r["p_named"]) else "")
                     + (f" at {threshold:g} (the file's)" if intent in (own or {}) else "") + mark)
    return "\n".join(lines)


def errors_table(oof: dict, common: float, own: dict | None = None) -> str:
    """Each intent's out-of-fold errors at `common` or its file's `min_probability:` (`own`), lowest /
    highest probability first: its missed train positives and its train near misses that hit (the test
    split is never read)."""
    lines = []
    for intent, r in oof.items():
        y, p, texts, threshold = r["y"], r["p"], r["texts"], (own or {}).get(intent, common)
        missed = np.flatnonzero((y == 1) & (p <= threshold))
        false = np.flatnonzero((y == 0) & (p > threshold))
        lines.append(f"{intent} at {threshold}: {len(missed)} missed positives (train, out of fold)")
        lines += [f"  {p[i]:.2f}  {texts[i]}" for i in missed[np.argsort(p[missed])]]
        lines.append(f"{intent} at {threshold}: {len(false)} false hits (train near misses, out of fold)")
        lines += [f"  {p[i]:.2f}  {texts[i]}" for i in false[np.argsort(-p[false])]]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
