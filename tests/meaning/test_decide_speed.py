"""decide's faster path (dec20: the split shared with the cache read, the per-model arrays
built once, fewer array calls a call) decides exactly what the path before it did: on the sample
calls and on varied calls built from their lines (traditional and full-width forms, spaces,
lines with no sentence, a third speaker), every hit with the same probability and evidence
to the last bit. The reference below is session 19's decide, kept here as written then."""

import json
import random
from pathlib import Path

import numpy as np
import pytest

from analyzers.intent_stack import evidence
from analyzers.intents import NGRAM, CallIntents, char_ngrams, match_many, meaning_sentences, utterance_key
from analyzers.model import CallTruth, from_dict
from flows.meaning.call import STACK_SLACK, decide, embed_call, part_speakers, plan_intents, stack_of
from lexicons import load_pack
from tests.meaning.test_decide_exact import dense_scores
from tests.transcripts import conversation

ROOT = Path(__file__).resolve().parents[2]


def _reference_probabilities(stack, vectors, texts, parts):
    """IntentStack's scores before dec20: the Counters' n-grams, every sentence for every intent."""
    grams = [char_ngrams(t) for t in texts]
    pairs = [(i, stack.vocab[g], n) for i, c in enumerate(grams) for g, n in c.items() if g in stack.vocab]
    row = np.array([i for i, _, _ in pairs], dtype=np.int64)
    cols = np.array([c for _, c, _ in pairs], dtype=np.int64)
    counts = np.array([n for _, _, n in pairs], dtype=np.float64)
    return dense_scores(stack, vectors, parts, row, cols, counts)


def _reference_decide(transcript, embeddings, models):
    """flows.meaning.call.decide as main had it before dec20 (fd51241)."""
    split = [meaning_sentences(u.text) for u in transcript.utterances]
    starts = np.cumsum((0, *embeddings.sentence_counts))
    flat = [x for ss in split for x in ss]
    if not flat or not models:
        return CallIntents({})
    stack = stack_of(models)
    parts = embeddings.parts if stack.part_columns else None
    p = _reference_probabilities(stack, embeddings.vectors, flat, parts)
    own = [i for i, ss in enumerate(split) if ss]
    best = np.maximum.reduceat(p, starts[own], axis=0)
    hits: dict = {}
    fits = list(models.items())
    floors = np.array([f.model.min_probability - STACK_SLACK if f.model.ngram == NGRAM else -1.0 for _, f in fits])
    said_by = np.array([transcript.utterances[i].speaker for i in own])[:, None]
    judged = (best > floors) & (said_by == np.array([f.examples.speaker for _, f in fits]))
    spans = np.diff(np.r_[starts[own], len(p)])
    top = np.minimum.reduceat(np.where(p == np.repeat(best, spans, axis=0), np.arange(len(p))[:, None], len(p)),
                              starts[own], axis=0)
    for k, n in zip(*(x.tolist() for x in np.nonzero(judged.T))):
        intent, fitted = fits[k]
        i = own[n]
        u = transcript.utterances[i]
        at = slice(starts[i], starts[i + 1])
        if abs(best[n, k] - fitted.model.min_probability) < STACK_SLACK or fitted.model.ngram != NGRAM:
            m = max(match_many(fitted.model, embeddings.vectors[at], split[i], None,
                               None if parts is None else parts[at]), key=lambda m: m.probability)
        else:
            row = int(top[n, k])
            m = evidence(fitted.model, embeddings.vectors[row], float(p[row, k]))
        if m.hit:
            hits.setdefault(utterance_key(u.speaker, u.start_s, u.end_s, u.text), {})[intent] = m
    return CallIntents(hits)


def _fields(decided: CallIntents) -> dict:
    return {key: {intent: (m.hit, m.probability, m.nearest, m.similarity, m.nearest_negative, m.negative_similarity)
                  for intent, m in found.items()} for key, found in decided.hits.items()}


#: Forms whisper and other ASR write that normalise folds (traditional, full-width, spaces).
_VARIANTS = (lambda s: s, lambda s: s.replace("您", "妳").replace("这", "這").replace("个", "個"),
             lambda s: s.replace("，", ",").replace("。", ". ").replace("？", "?"), lambda s: " ".join(s),
             lambda s: s.replace("，", "").replace("。", ""), lambda s: s + "嗯…")


@pytest.fixture(scope="module")
def bank():
    return plan_intents(load_pack(), ROOT / "lexicons" / "zh-CN" / "examples")


@pytest.fixture(scope="module")
def calls(bank):
    paths = sorted(p for p in (ROOT / "sample_audio").glob("*.json") if not Path(p.stem).suffix)  # not .meta.json
    lines = []
    transcripts = []
    for path in paths:
        truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
        said = [(u.speaker, u.text) for u in truth.utterances]
        lines += said
        transcripts.append(conversation(said))
    rng = random.Random(20)
    for _ in range(16):  # varied calls from the samples' lines, as bench_analysis builds its own
        drawn = [rng.choice(lines) for _ in range(rng.randint(5, 40))]
        said = [(s, rng.choice(_VARIANTS)(t)) for s, t in drawn]
        said += [(rng.choice(["agent", "customer"]), "。。"), ("agent", "？")]  # lines with no sentence
        rng.shuffle(said)
        transcripts.append(conversation(said))
    transcripts.append(conversation([("agent", "您好，请问有什么可以帮您？"), ("other", "谢谢你，再见。")], cpm={"other": 180.0}))
    enc, speakers = bank.encoder(), part_speakers(bank.models)
    return [(t, embed_call(t, enc, speakers)) for t in transcripts]


def test_decisions_are_the_reference_paths_to_the_last_bit(bank, calls):
    hits = 0
    for t, emb in calls:
        want = _fields(_reference_decide(t, emb, bank.models))
        assert _fields(decide(t, emb, bank.models)) == want, t.call_id
        hits += sum(len(v) for v in want.values())
    assert hits > 200  # most intents are said: the comparison is not vacuous


def test_scores_are_the_references_to_the_last_bit(bank, calls):
    """The stack's probabilities on these calls: the reference's, cell for cell."""
    stack = stack_of(bank.models)
    for t, emb in calls:
        flat = [s for u in t.utterances for s in meaning_sentences(u.text)]
        want = _reference_probabilities(stack, emb.vectors, flat, emb.parts)
        assert stack.probabilities_of(emb.vectors, flat, emb.parts).tobytes() == want.tobytes(), t.call_id


def test_texts_hash_is_the_one_update_per_utterance_it_was():
    """texts_hash hashes the texts in one update (dec20): the digest of one update per text."""
    import hashlib

    from analyzers.model import Transcript
    from flows.meaning.call import UNITS, texts_hash

    for lines in ([("agent", "您好，请问有什么可以帮您？"), ("customer", "")], [("customer", "x\0y"), ("agent", "嗯")]):
        t = conversation(lines)
        h = hashlib.sha256(UNITS)
        for u in t.utterances:
            h.update(u.text.encode("utf-8") + b"\0")
        assert texts_hash(t) == h.hexdigest()
    assert texts_hash(Transcript("empty", 1.0, "stereo", (), ())) == hashlib.sha256(UNITS).hexdigest()


def test_part_index_is_part_rows_layout(bank, calls):
    """_part_index builds its index in one pass (dec20): part_rows' layout and the same texts."""
    from analyzers.intents import part_rows, sentence_parts
    from flows.meaning.call import _part_index

    for speakers in (part_speakers(bank.models), frozenset(), frozenset({"agent", "customer", "other"})):
        for t, _ in calls:
            split = [meaning_sentences(u.text) for u in t.utterances]
            parts = [sentence_parts(s) if u.speaker in speakers else (s, None)
                     for u, ss in zip(t.utterances, split) for s in ss]
            want = (part_rows([rest is not None for _, rest in parts]),
                    [x for lead, rest in parts if rest is not None for x in (lead, rest)])
            assert _part_index(t, split, speakers) == want, t.call_id
