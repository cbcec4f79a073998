"""Matching by meaning: precision and recall per intent on the example corpus' TEST split.

    python bench/bench_intents.py [--examples lexicons/zh-CN/examples] [--encoders use,e5]
                                  [--json out.json]

For each encoder: every intent's model is fitted on its TRAIN examples alone
(flows.meaning.bank); the test positives and negatives are then matched and counted, each
text judged as the pipeline judges an utterance: split into sentences with their end marks
(analyzers.intents.meaning_sentences), its most probable sentence decides
(analyzers.intents.match_sentences). Today's literal
matcher (the rule pack's phrase lists, lexicons/zh-CN/phrases.yaml, as the analyzers apply
them to one utterance) runs on the same test sentences side by side;
"none" where the pack has no list for the intent. Targets: precision >= 0.95 and recall
>= 0.90 per intent. Also printed: the embedding time per utterance, in one batch (how a
call's utterances are embedded) and one at a time, on this machine.

"other" is the share of the OTHER intents' test positives (same speaker) that hit: not
a target (some intents go together, 您好，请问有什么可以帮您 is greeting and offer both),
but a view of how the matcher behaves on talk unlike its near misses.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzers.banned import find_banned  # noqa: E402
from analyzers.intents import (MIN_PROBABILITY, IntentMatch, IntentModel, SentenceParts, match_sentences,  # noqa: E402
                               meaning_sentences, sentence_parts)
from analyzers.text import first_alternative, normalise, sentences  # noqa: E402
from flows.meaning.bank import BACKGROUND_WEIGHT, build_models  # noqa: E402
from flows.meaning.encoder import ENCODERS, load_encoder  # noqa: E402
from flows.meaning.examples import load_examples  # noqa: E402
from lexicons import load_pack  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "lexicons" / "zh-CN" / "examples"
PRECISION_TARGET, RECALL_TARGET = 0.95, 0.90
RUDE_IDS = ("dont_know", "not_clear", "no_way", "cannot_help", "look_yourself", "later")


def _says(phrases) -> Callable[[str], bool]:
    return lambda text: first_alternative(normalise(text), tuple(phrases)) is not None


def _banned(entries, ids) -> Callable[[str], bool]:
    chosen = tuple(e for e in entries if e.id in ids)
    return lambda text: bool(find_banned(text, chosen))


def literal_matchers() -> dict[str, Callable[[str], bool]]:
    """Intent -> today's literal test of one utterance, as the analyzers apply the pack's lists."""
    p = load_pack()
    g, c, f, co, r = p.greeting, p.closing, p.followup, p.courtesy, p.outbound_refusal

    def per_sentence(both):  # both lists in one sentence (polite request, confirmation)
        return lambda text: any(all(first_alternative(normalise(s), ph) for ph in both) for s in sentences(text))

    def promise(text):
        return any(first_alternative(s, f.promise_phrases) and not first_alternative(s, f.this_call_phrases)
                   for s in map(normalise, sentences(text)))

    def timed(text):
        return bool(first_alternative(normalise(text), f.time_phrases + f.asks_time_phrases))

    return {
        "greeting": _says(g.hello_phrases),
        "service_offer": _says(g.service_offer_phrases),
        "self_identification": _says(g.self_identification_phrases),
        "confirmation": per_sentence((p.confirmation.phrases,)),
        "empathy_apology": _says(p.complaint.acknowledge_phrases),
        "polite_request": per_sentence((co.request_phrases, co.polite_phrases)),
        "thanks_for_help": _says(co.thanks_phrases),
        "reply_to_thanks": _says(co.reply_phrases),
        "hold_notice": _says(p.holds.notice_phrases),
        "hold_reason": _says(p.holds.reason_phrases),
        "after_hold": _says(p.holds.apology_phrases),
        "followup_with_time": lambda t: promise(t) and timed(t),
        "followup_without_time": lambda t: promise(t) and not timed(t),
        "satisfaction_check": _says(c.satisfaction_check_phrases),
        "closing_thanks": _says(c.thanks_phrases),
        "farewell": _says(c.goodbye_phrases),
        "invite_call_again": _says(tuple(a for a in c.goodbye_phrases if a.startswith("re:"))),
        "blame_third_party": _banned(p.banned, ("third_party_blame",)),
        "blame_customer": _banned(p.banned, ("blame_shifting",)),
        "jargon": _banned(p.banned, ("jargon",)),
        "rude_banned": _banned(p.banned, RUDE_IDS),
        "outbound_purpose": _says(g.outbound_purpose_phrases),
        "outbound_time_check": _says(g.outbound_time_check_phrases),
        "refusal": _says(r.customer_phrases),
        "refusal_answered": lambda t: _says(r.apology_phrases)(t) and _says(r.appointment_phrases)(t),
        "customer_complaint": _says(p.complaint.customer_phrases),
    }


@dataclass
class Score:
    precision: float
    recall: float
    other: float | None = None

    def meets(self) -> bool:
        return self.precision >= PRECISION_TARGET and self.recall >= RECALL_TARGET


def score(pos_hits, neg_hits, other_hits=None) -> Score:
    tp, fp = int(np.sum(pos_hits)), int(np.sum(neg_hits))
    precision = tp / (tp + fp) if tp + fp else 1.0
    other = float(np.mean(other_hits)) if other_hits is not None and len(other_hits) else None
    return Score(precision, tp / len(pos_hits), other)


def judged(model: IntentModel, units, vecs, part_at, part_rows) -> IntentMatch | None:
    """One text as the pipeline judges an utterance: its sentences (`units`, meaning_sentences; `vecs`:
    unit -> row), with their parts where `part_rows` holds them (`part_at`: unit -> its lead's row, the
    rest's after), the most probable deciding (match_sentences: the model's own min_probability and
    min_similarity). None for a text of no sentence. Shared with bench/dev_intents.py."""
    if not units:
        return None
    rows = np.stack([vecs[u] for u in units])
    parts = None if part_rows is None else SentenceParts.of(rows, [part_at.get(u, -1) for u in units], part_rows)
    return match_sentences(model, rows, units, parts)


def bench_encoder(name: str, folder: Path, min_probability: float, background_weight: float) -> tuple[dict[str, Score], dict]:
    t0 = time.perf_counter()
    enc = load_encoder(name)
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    models = build_models(folder, enc, min_probability, background_weight)
    fit_s = time.perf_counter() - t0 - enc.seconds
    build = (enc.seconds, enc.texts)
    tests = {i: (m.examples.texts("positive", "test"), m.examples.texts("negative", "test")) for i, m in models.items()}
    flat = [s for pos, neg in tests.values() for s in (*pos, *neg)]
    split = {s: tuple(meaning_sentences(s)) for s in flat}  # judged as the pipeline judges an utterance
    units = list(dict.fromkeys(u for s in flat for u in split[s]))
    enc.seconds, enc.texts = 0.0, 0
    vecs = dict(zip(units, enc.embed(units)))  # one batch, as a call's sentences are embedded
    batch_ms = 1000 * enc.seconds / len(flat)
    # an intent fitted with its sentences' parts (`clause_features:`) is judged with them, as
    # flows.meaning.call embeds them (lead and rest of every sentence of two parts, one more batch)
    split_units = [u for u in units if sentence_parts(u)[1] is not None]
    pieces = [p for u in split_units for p in sentence_parts(u)]
    part_at = {u: 2 * i for i, u in enumerate(split_units)}
    part_rows = enc.embed(pieces) if pieces and any(m.model.part_weights is not None for m in models.values()) else None
    one = flat[:200]
    t0 = time.perf_counter()
    for s in one:
        enc.embed([s])
    single_ms = 1000 * (time.perf_counter() - t0) / len(one)
    scores, match_s, matched = {}, 0.0, 0
    for intent, m in models.items():
        pos, neg = tests[intent]
        others = [s for j, (p, _) in tests.items() if j != intent
                  and models[j].examples.speaker == m.examples.speaker for s in p if s not in pos]

        def hits(texts):
            return np.array([bool((j := judged(m.model, split[s], vecs, part_at, part_rows)) and j.hit)
                             for s in texts], dtype=bool)

        t0 = time.perf_counter()
        scores[intent] = score(hits(pos), hits(neg), hits(others))
        match_s += time.perf_counter() - t0
        matched += len(pos) + len(neg) + len(others)
    timing = {"load_s": round(load_s, 2), "train_texts": build[1], "train_embed_ms_per_utt": round(1000 * build[0] / build[1], 2),
              "batch_ms_per_utt": round(batch_ms, 2), "single_ms_per_utt": round(single_ms, 2),
              "fit_s": round(fit_s, 2), "match_ms_per_utt_intent": round(1000 * match_s / matched, 3)}
    return scores, timing


def bench_literal(folder: Path) -> dict[str, Score]:
    matchers = literal_matchers()
    out = {}
    for intent, ex in load_examples(folder).items():
        if intent in matchers:
            hit = matchers[intent]
            out[intent] = score([hit(s) for s in ex.texts("positive", "test")],
                                [hit(s) for s in ex.texts("negative", "test")])
    return out


def _cell(s: Score | None) -> str:
    if s is None:
        return "none"
    mark = "" if s.meets() else " ✗"
    return f"{s.precision:.2f} / {s.recall:.2f}{mark}"


def table(intents, results: dict[str, dict[str, Score]]) -> str:
    names = list(results)
    lines = ["| intent | " + " | ".join(f"{n} P / R" for n in names) + " | "
             + " | ".join(f"{n} other" for n in names if n != "literal") + " |",
             "|---" * (1 + len(names) + sum(n != "literal" for n in names)) + "|"]
    for i in intents:
        cells = [_cell(results[n].get(i)) for n in names]
        other = [f"{results[n][i].other:.2f}" if results[n].get(i) and results[n][i].other is not None else ""
                 for n in names if n != "literal"]
        lines.append(f"| {i} | " + " | ".join(cells + other) + " |")
    meets = [f"{n}: {sum(s.meets() for s in results[n].values())}/{len(intents)}" for n in names]
    lines.append("\nintents meeting both targets: " + ", ".join(meets))
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=Path, default=EXAMPLES)
    ap.add_argument("--encoders", default=",".join(ENCODERS))
    ap.add_argument("--min-probability", type=float, default=MIN_PROBABILITY,
                    help=f"the decision threshold (default {MIN_PROBABILITY}, analyzers.intents)")
    ap.add_argument("--background-weight", type=float, default=BACKGROUND_WEIGHT,
                    help=f"other intents' examples as negatives, this weight (default {BACKGROUND_WEIGHT}; 0: none)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    intents = sorted(load_examples(args.examples))
    results, timings = {}, {}
    for name in args.encoders.split(","):
        results[name], timings[name] = bench_encoder(name, args.examples, args.min_probability, args.background_weight)
    results["literal"] = bench_literal(args.examples)
    print(table(intents, results))
    for name, t in timings.items():
        print(f"{name}: load {t['load_s']} s; embedding {t['batch_ms_per_utt']} ms/utterance in one batch, "
              f"{t['single_ms_per_utt']} ms one at a time; {t['train_texts']} train examples "
              f"at {t['train_embed_ms_per_utt']} ms each; fitting {t['fit_s']} s; "
              f"matching {t['match_ms_per_utt_intent']} ms per utterance and intent")
    if args.json:
        args.json.write_text(json.dumps({"scores": {n: {i: vars(s) for i, s in r.items()} for n, r in results.items()},
                                         "timings": timings}, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
