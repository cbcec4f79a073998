"""analyzers.intents with hand-made vectors and weights: decisions, the text view, evidence."""

import math

import numpy as np
import pytest

from analyzers.intents import (IntentBank, IntentModel, SentenceParts, char_ngrams, match, match_many, match_sentences,
                               meaning_sentences, sentence_parts, tfidf)
from analyzers.text import sentences


def unit(*xs):
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


BANK = IntentBank("offer", np.stack([unit(1, 0.1, 0), unit(1, 0, 0.2)]), np.stack([unit(0, 1, 0), unit(0.2, 1, 0)]),
                  ("请问有什么可以帮您", "您想办理什么业务"), ("我帮您查一下", "您稍等"))


def model(emb=(4.0, -4.0, 0.0), bias=0.0, idf=None, ngram=None, min_p=0.6):
    return IntentModel(BANK, np.array(emb, dtype=np.float32), idf or {}, ngram or {}, bias, min_p)


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def test_the_embedding_view_decides_with_its_evidence():
    v = unit(1, 0.2, 0.1)
    m = match(model(), v, "随便什么话")
    assert m.probability == pytest.approx(sigmoid(4 * v[0] - 4 * v[1]), rel=1e-5)
    assert m.hit and m.intent == "offer"
    assert m.nearest == "请问有什么可以帮您" and m.similarity == pytest.approx(float(v @ BANK.positive[0]))
    assert m.nearest_negative == "您稍等"  # (0.2, 1, 0) leans towards x
    assert m.evidence() == f"meaning: nearest example '请问有什么可以帮您' ({m.similarity:.2f})"
    assert not match(model(), unit(0.1, 1, 0), "随便什么话").hit


def test_min_probability_is_the_boundary():
    v = unit(1, 0, 0)  # z = 4 * 1 = 4 -> p = 0.982
    assert match(model(min_p=0.98), v, "x").hit
    assert not match(model(min_p=0.99), v, "x").hit


def test_the_text_view_adds_its_ngrams():
    idf = {"您": 1.0, "好": 1.0, "您好": 2.0}
    # 您好: each gram once, tf 1; weights 1, 1, 2 -> L2 norm sqrt(6)
    m = model(emb=(0, 0, 0), bias=-1.0, idf=idf, ngram={"您好": 3.0})
    got = match(m, unit(1, 0, 0), "您 好").probability  # spaces go, as in normalise
    assert got == pytest.approx(sigmoid(-1 + 3 * 2 / math.sqrt(6)))
    # words outside the vocabulary add nothing
    assert match(m, unit(1, 0, 0), "再见").probability == pytest.approx(sigmoid(-1))


def test_char_ngrams_count_normalised_text():
    assert char_ngrams("幫 幫") == {"帮": 2, "帮帮": 1}  # traditional -> simplified, no spaces
    assert char_ngrams("abcd", (2, 3)) == {"ab": 1, "bc": 1, "cd": 1, "abc": 1, "bcd": 1}


def test_tfidf_is_sublinear_and_unit_length():
    v = tfidf({"好": 2, "您": 1, "吗": 5}, {"好": 1.0, "您": 2.0})
    raw = {"好": 1 + math.log(2), "您": 2.0}
    n = math.hypot(*raw.values())
    assert v == pytest.approx({g: w / n for g, w in raw.items()})
    assert tfidf({"吗": 1}, {"好": 1.0}) == {}


def test_match_many_matches_one_by_one():
    vs = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(0.5, 0.5, 0.7)])
    texts = ["您好", "再见", "请问"]
    m = model(idf={"您": 1.0}, ngram={"您": -2.0})
    assert match_many(m, vs, texts) == [match(m, v, t) for v, t in zip(vs, texts)]


def test_mismatches_are_refused():
    with pytest.raises(ValueError, match="another encoder"):
        match(model(), np.ones(4, dtype=np.float32) / 2, "x")
    with pytest.raises(ValueError, match="2 vectors for 1 texts"):
        match_many(model(), np.stack([unit(1, 0, 0)] * 2), ["x"])
    with pytest.raises(ValueError, match="embedding weights"):
        model(emb=(1.0, 2.0))


def test_bank_needs_one_vector_per_text():
    with pytest.raises(ValueError, match="one vector per text"):
        IntentBank("x", BANK.positive, BANK.negative, ("a",), ("b", "c"))


@pytest.mark.parametrize("said, units", [
    ("对不起，让您久等了。您的包裹明天到。", ["对不起,让您久等了。", "您的包裹明天到。"]),
    ("请问还有什么可以帮您？", ["请问还有什么可以帮您?"]),  # NFKC folds ？ to ?
    ("好吧?!谢谢", ["好吧?!", "谢谢"]),
    ("请问还有什么可以帮您的吗,", ["请问还有什么可以帮您的吗,"]),  # ASR's trailing comma is no sentence end
    ("。。", []),
    ("", []),
])
def test_an_utterance_is_judged_by_its_sentences_with_their_end_marks(said, units):
    # the examples are fitted with their marks: the units keep theirs, and split where sentences split
    assert meaning_sentences(said) == units
    assert [u.rstrip("。?!；;") for u in units] == sentences(said)


@pytest.mark.parametrize("sentence, parts", [
    ("不客气。", ("不客气。", None)),  # no mark
    ("不用谢，您的退款预计三天到账。", ("不用谢", "您的退款预计三天到账。")),  # one mark
    ("不客气，", ("不客气，", None)),  # a mark at the end: no words after it
    ("，不客气", ("，不客气", None)),  # nor before it
    ("不客气，，。", ("不客气，，。", None)),
    ("没关系、您慢慢说；我等着，不急。", ("没关系", "您慢慢说；我等着，不急。")),  # several: the first
    ("没事;好的", ("没事", "好的")),
])
def test_sentence_parts(sentence, parts):
    assert sentence_parts(sentence) == parts


def test_sentence_parts_of_a_meaning_sentence_after_nfkc():
    """The pipeline splits meaning_sentences' units: NFKC has folded ， to an English comma."""
    (unit,) = meaning_sentences("不用谢，您的发票已经发到邮箱了。")
    assert "," in unit and "，" not in unit
    assert sentence_parts(unit) == ("不用谢", "您的发票已经发到邮箱了。")
    assert sentence_parts("ok, fine") == ("ok", " fine")


PART_W = np.array([1.0, 0.5, -2.0, 0.0, 3.0, 1.0, 0.25], dtype=np.float32)  # lead (3), rest (3), has-rest


def part_model(part_weights=PART_W):
    return IntentModel(BANK, np.array((4.0, -4.0, 0.0), dtype=np.float32), {}, {}, -0.5, 0.6,
                       part_weights=part_weights)


def test_the_decision_with_parts_is_the_design_row_times_the_weights():
    """[sentence, lead, rest or 0, has rest] . [embedding weights, part weights] + bias: the row
    bench/cv_intents.py's `design` builds (the scales folded into the weights)."""
    rows = np.stack([unit(1, 0.2, 0.1), unit(0.3, 1, 0)])
    lead, rest = unit(0, 1, 1), unit(1, 1, 0)
    parts = SentenceParts.of(rows, [0, -1], np.stack([lead, rest]))  # the second: one clause
    got = [m.probability for m in match_many(part_model(), rows, ["不客气,再见", "不客气"], parts=parts)]
    design = [np.r_[rows[0], lead, rest, 1.0], np.r_[rows[1], rows[1], np.zeros(3), 0.0]]
    weights = np.r_[4.0, -4.0, 0.0, PART_W]
    assert got == pytest.approx([sigmoid(float(x @ weights) - 0.5) for x in design], rel=1e-5)
    plain = match_many(model(bias=-0.5), rows, ["不客气,再见", "不客气"])
    assert got != pytest.approx([m.probability for m in plain])  # the parts count
    assert match_sentences(part_model(), rows, ["a", "b"], parts).probability == max(got)


def test_a_model_with_part_weights_refuses_no_parts():
    rows = np.stack([unit(1, 0.2, 0.1)])
    with pytest.raises(ValueError, match="judges a sentence with its parts"):
        match_many(part_model(), rows, ["不客气"])
    with pytest.raises(ValueError, match="judges a sentence with its parts"):
        match(part_model(), rows[0], "不客气")
    with pytest.raises(ValueError, match="part weights"):
        part_model(PART_W[:5])
    assert match_many(model(), rows, ["不客气"])  # a model without them needs none


def test_the_stack_adds_the_parts_to_that_intents_column_only():
    from analyzers.intent_stack import IntentStack

    rows = np.stack([unit(1, 0.2, 0.1), unit(0.3, 1, 0), unit(0, 0, 1)])
    parts = SentenceParts.of(rows, [-1, 0, -1], np.stack([unit(0, 1, 1), unit(1, 1, 0)]))
    texts = ["请问有什么可以帮您", "不客气,再见", "好的"]
    models = {"plain": model(bias=-0.5), "split": part_model()}
    p = IntentStack.of(models).probabilities_of(rows, texts, parts)
    assert p[:, 1] == pytest.approx([m.probability for m in match_many(models["split"], rows, texts, parts=parts)])
    assert np.array_equal(p[:, 0], IntentStack.of({"plain": models["plain"]}).probabilities_of(rows, texts)[:, 0])
    with pytest.raises(ValueError, match="split judge a sentence with its parts"):
        IntentStack.of(models).probabilities_of(rows, texts)
