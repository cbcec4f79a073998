"""The fast decision path decides what the slow one did: on the 12 sample calls' true
transcripts with the pack's intents, n-grams counted in arrays give the Counters' sums to
the last bit, and decide's hits and evidence are those of judging each intent alone."""

import json
from pathlib import Path

import numpy as np
import pytest

from analyzers.intents import char_ngrams, match_many
from analyzers.model import CallTruth, from_dict
from analyzers.intents import meaning_sentences as sentences  # the units the pipeline judges
from flows.meaning.call import decide, embed_call, part_speakers, plan_intents, stack_of
from lexicons import load_pack
from tests.transcripts import conversation

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bank():
    return plan_intents(load_pack(), ROOT / "lexicons" / "zh-CN" / "examples")


@pytest.fixture(scope="module")
def calls(bank):
    paths = sorted(p for p in (ROOT / "sample_audio").glob("*.json") if not Path(p.stem).suffix)  # not .meta.json
    assert len(paths) == 12, "the 12 sample calls' true transcripts are part of the repository"
    out = []
    for path in paths:
        truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
        t = conversation([(u.speaker, u.text) for u in truth.utterances])
        out.append((t, embed_call(t, bank.encoder(), part_speakers(bank.models))))
    return out


def test_array_counted_ngrams_give_the_counters_sums_bit_for_bit(bank, calls):
    stack = stack_of(bank.models)
    for t, emb in calls:
        flat = [s for u in t.utterances for s in sentences(u.text)]
        slow = stack.probabilities(emb.vectors, [char_ngrams(s) for s in flat], emb.parts)
        assert np.array_equal(stack.probabilities_of(emb.vectors, flat, emb.parts), slow), t.call_id


def test_decisions_are_each_intent_judged_alone(bank, calls):
    hits = 0
    for t, emb in calls:
        decided = decide(t, emb, bank.models)
        for i, u in enumerate(t.utterances):
            for intent, fitted in bank.models.items():
                said = sentences(u.text)
                at = slice(sum(emb.sentence_counts[:i]), sum(emb.sentence_counts[:i + 1]))
                alone = max(match_many(fitted.model, emb.rows(i), said, parts=None if emb.parts is None else emb.parts[at]),
                            key=lambda m: m.probability) if said else None
                want = alone is not None and alone.hit and fitted.examples.speaker == u.speaker
                got = decided.hit(u, intent)
                assert (got is not None) == want, (t.call_id, u.text, intent)
                if got is not None:
                    hits += 1
                    assert (got.nearest, got.nearest_negative) == (alone.nearest, alone.nearest_negative)
                    # float32 sums in another order (all intents' weights at once, the bias in
                    # float32): ~1e-6 apart; a best sentence within 1e-3 of the threshold is re-judged
                    assert got.probability == pytest.approx(alone.probability, abs=1e-5)
                    assert got.similarity == pytest.approx(alone.similarity, abs=1e-6)
    assert hits > 50  # the sample calls say most intents: the comparison is not vacuous


def test_evidence_looked_up_when_read_is_the_eager_lookup(bank, calls):
    """decide's hits read their nearest examples when first asked (intent_stack.evidence): the
    same examples and cosines as looking them up at once; pickled, a hit is the plain match."""
    import pickle

    from analyzers.intent_stack import nearest_examples
    from analyzers.intents import IntentMatch

    checked = 0
    for t, emb in calls:
        starts = np.cumsum((0, *emb.sentence_counts))
        for i, u in enumerate(t.utterances):
            for intent, m in decide(t, emb, bank.models).hits.get((u.speaker, u.start_s, u.end_s, u.text), {}).items():
                if type(m) is IntentMatch:
                    continue  # judged again by match_many (near the threshold): eager already
                model = bank.models[intent].model
                looked_up = [nearest_examples(model, emb.vectors[j]) for j in range(starts[i], starts[i + 1])]
                assert (m.nearest, m.similarity, m.nearest_negative, m.negative_similarity) in looked_up
                plain = pickle.loads(pickle.dumps(m))
                assert type(plain) is IntentMatch and plain == m and m == plain and hash(plain) == hash(m)
                checked += 1
    assert checked > 50


def test_ngram_rows_looked_up_by_hash_are_the_sorted_tables(bank):
    """_counted finds each n-gram's vocabulary row in a hash table: every id of the vocabulary
    at its own row (ids that share a home slot included), every other id at none."""
    from analyzers.intent_stack import _slot

    stack = stack_of(bank.models)
    assert np.array_equal(stack._rows_of(stack.gram_ids), stack.gram_rows)
    table, _, shift = stack._hashed
    homes = _slot(stack.gram_ids, shift)
    assert np.unique(homes).size < homes.size  # some ids share a home slot: the probing is exercised
    rng = np.random.default_rng(0)
    others = np.setdiff1d(np.concatenate([rng.integers(1, 1 << 63, 20000), stack.gram_ids + 1]), stack.gram_ids)
    assert (stack._rows_of(others) == -1).all()
    assert stack._rows_of(np.zeros(0, dtype=np.int64)).size == 0


def dense_scores(stack, vectors, parts, row, cols, counts):
    """The stack's scores written out with fancy indexing and a multiply per half: the
    embedding term, its parts' term (reply_to_thanks, clause17), and per sentence its n-grams'
    tf-idf cosine term, through the logistic."""
    k = len(stack.intents)
    z = np.asarray(vectors, dtype=np.float32) @ stack.embedding_weights + stack.bias
    for k_part, w in zip(stack.part_columns, stack.part_weights):
        z[:, k_part] += parts.term(w)
    z = z.astype(np.float64)
    if row.size:
        tf = 1.0 + np.log(counts)[:, None]
        both = stack.idf_both[cols]
        both[:, :k] *= tf
        both[:, k:] *= tf * tf
        first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        summed = np.add.reduceat(both, first)
        num, norm2 = summed[:, :k], summed[:, k:]
        z[row[first]] += np.divide(num, np.sqrt(norm2), out=np.zeros_like(num), where=norm2 > 0)
    return 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))


def test_scores_are_the_dense_tables_rows_times_tf_bit_for_bit(bank, calls):
    """_probabilities gathers idf_both's rows with np.take and scales both halves in one
    pass (speed16): the same products and sums as fancy indexing and a multiply per half."""
    stack = stack_of(bank.models)
    for t, emb in calls:
        row, cols, counts = stack._counted([s for u in t.utterances for s in sentences(u.text)])
        counts = counts.astype(np.float64)
        expected = dense_scores(stack, emb.vectors, emb.parts, row, cols, counts)
        assert stack._probabilities(emb.vectors, row, cols, counts, emb.parts).tobytes() == expected.tobytes()
