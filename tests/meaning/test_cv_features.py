"""bench/cv_intents.py: its default model is the pipeline's, --clause-features' model sees a
sentence's parts, and the embedding cache is keyed by the texts it holds and written atomically."""

from __future__ import annotations

import numpy as np
import pytest

import bench.cv_intents as cv
from analyzers.intents import IntentBank, match_many, sentence_parts
from bench.cv_intents import cache_path, design, fit_predict, save_atomic, vectors
from flows.meaning.bank import fit_model, parts_of

POS = ["不客气。", "不用谢。", "应该的。", "没关系。", "您太客气了。", "也谢谢您。"]
NEG = ["谢谢您的配合。", "请稍等。", "您的快递明天到。", "不客气地说这是您的问题。", "我查一下。", "再见。"]
BG = ["您好，请问有什么可以帮您？", "我帮您查一下订单。", "请问您贵姓？"]


def _unit(rng, n, dim=16):
    v = rng.normal(size=(n, dim))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_the_bench_splits_as_the_pipeline():
    """One splitter (analyzers.intents.sentence_parts): the bench keeps no copy of its own."""
    assert cv.sentence_parts is sentence_parts and not hasattr(cv, "lead_rest")
    assert sentence_parts("不客气、再见；谢谢") == ("不客气", "再见；谢谢")  # the first mark only


def test_the_default_model_is_the_pipelines():
    """Without --clause-features fit_predict is flows.meaning.bank.fit_model judged by analyzers.intents."""
    rng = np.random.default_rng(1)
    texts = [*POS, *NEG, *BG]
    vec = dict(zip(texts, _unit(rng, len(texts)).astype(np.float32)))
    held = ["不客气，您的快递明天到。", "请稍等。"]
    vec.update(zip(held, _unit(rng, 2).astype(np.float32)))
    got = fit_predict(POS, NEG, BG, held, vec, 10.0, 0.1, (1, 3), scale=0.5)
    bank = IntentBank("reply_to_thanks", np.stack([vec[t] for t in POS]), np.stack([vec[t] for t in NEG]),
                      tuple(POS), tuple(NEG))
    model = fit_model(bank, background=(tuple(BG), np.stack([vec[t] for t in BG])),
                      background_weight=0.1, embedding_scale=0.5)
    want = [m.probability for m in match_many(model, np.stack([vec[t] for t in held]), held)]
    assert got == pytest.approx(want, abs=1e-4)


def test_design_with_clause_features():
    rng = np.random.default_rng(2)
    texts = ["不客气，您的快递明天到。", "再见。"]
    vec = dict(zip([*texts, "不客气", "您的快递明天到。"], _unit(rng, 4)))
    vz = cv.TfidfVectorizer(analyzer="char", ngram_range=(1, 3)).fit(texts)
    plain, split = design(texts, vec, 0.5, vz).toarray(), design(texts, vec, 0.5, vz, "split").toarray()
    d = 16
    assert plain.shape[1] == d + len(vz.vocabulary_)
    assert split[:, :d] == pytest.approx(plain[:, :d])
    assert split[0, d:2 * d] == pytest.approx(0.5 * vec["不客气"])
    assert split[0, 2 * d:3 * d] == pytest.approx(0.5 * vec["您的快递明天到。"])
    assert split[1, d:2 * d] == pytest.approx(0.5 * vec["再见。"])  # one clause: it is its own lead
    assert not split[1, 2 * d:3 * d].any() and split[:, 3 * d].tolist() == [1.0, 0.0]  # no rest, its flag
    assert split[:, 3 * d + 1:] == pytest.approx(plain[:, d:])
    half = design(texts, vec, 0.5, vz, "split", part_scale=0.5).toarray()  # --part-scale: the parts only
    assert half[:, d:3 * d] == pytest.approx(split[:, d:3 * d] / 2)
    assert np.delete(half, np.s_[d:3 * d], axis=1) == pytest.approx(np.delete(split, np.s_[d:3 * d], axis=1))
    vz_lead = cv.TfidfVectorizer(analyzer="char", ngram_range=(1, 3)).fit(["不客气"])
    assert design(texts, vec, 0.5, vz, "split", vz_lead).shape[1] == split.shape[1] + len(vz_lead.vocabulary_)
    with pytest.raises(ValueError, match="--units"):
        fit_predict(POS, NEG, [], ["不客气。"], vec, 10.0, 0.0, (1, 3), mode="leading", features="split")


@pytest.mark.parametrize("features", ["split", "split+grams"])
def test_the_rest_tells_a_reply_from_the_same_words_dismissed(features):
    """The same leading clause, rests from one pool of characters (their n-grams say nothing), and
    sentence embeddings that say nothing: only the rest's embedding tells positives (a reply and
    business) from near misses (a dismissive rest). With it the held-out sentences are told apart."""
    rng = np.random.default_rng(3)
    pool, d = "您的快递明天到我们这边会处理好没用别再打来", 16
    rests = list(dict.fromkeys("".join(rng.choice(list(pool), 6)) + "。" for _ in range(200)))[:120]
    texts = ["不客气，" + r for r in rests]
    label = np.arange(len(texts)) % 2 == 0  # even: a reply with business
    way = _unit(rng, 1, d)[0]
    vec = {"不客气": _unit(rng, 1, d)[0]}
    for t, r, y in zip(texts, rests, label):
        v = (1.0 if y else -1.0) * way + rng.normal(scale=0.2, size=d)
        vec[r], vec[t] = v / np.linalg.norm(v), _unit(rng, 1, d)[0]
    train, held = texts[:80], texts[80:]
    pos, neg = [t for t, y in zip(train, label) if y], [t for t, y in zip(train, label) if not y]
    truth = label[80:]
    plain = fit_predict(pos, neg, [], held, vec, 10.0, 0.0, (1, 3))
    split = fit_predict(pos, neg, [], held, vec, 10.0, 0.0, (1, 3), features=features)
    assert ((split > 0.5) == truth).mean() >= 0.9
    assert ((plain > 0.5) == truth).mean() <= 0.75


class _Examples:
    def __init__(self, train, test=()):
        self.examples = {("positive", "train"): tuple(train), ("negative", "train"): (),
                         ("positive", "test"): tuple(test), ("negative", "test"): ()}

    def texts(self, side, split):
        return self.examples[(side, split)]


class _Encoder:
    calls = 0

    def embed(self, texts):
        _Encoder.calls += 1
        return np.array([[len(t), 1.0] for t in texts], np.float32)


def test_the_cache_is_keyed_by_its_texts_and_written_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(cv, "load_encoder", lambda name: _Encoder())
    _Encoder.calls = 0
    one, two = {"a": _Examples(["不客气。", "再见。"])}, {"a": _Examples(["不客气。", "请稍等。"])}
    v1 = vectors(one, "fake", tmp_path)
    v2 = vectors(two, "fake", tmp_path)  # another corpus: its own file, the first one kept
    assert _Encoder.calls == 2 and v1["再见。"].tolist() == [3.0, 1.0] and "再见。" not in v2
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted({cache_path(tmp_path, "fake", sorted(c["a"].texts("positive", "train"))).name
                            for c in (one, two)}) and len(files) == 2
    assert vectors(one, "fake", tmp_path).keys() == v1.keys() and _Encoder.calls == 2  # read back, not embedded
    assert cache_path(tmp_path, "fake", ["a", "b"]) != cache_path(tmp_path, "fake", ["a", "b", "c"])
    with_parts = vectors({"a": _Examples(["不客气，再见。"])}, "fake", tmp_path, parts=True)
    assert set(with_parts) == {"不客气，再见。", "不客气", "再见。"}


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    save_atomic(path, texts=np.array(["x"]), vecs=np.ones((1, 2)))
    before = path.read_bytes()

    def broken(f, **arrays):
        f.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(cv.np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        save_atomic(path, texts=np.array(["y"]), vecs=np.zeros((1, 2)))
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"] and path.read_bytes() == before


def test_the_clause_features_model_is_the_pipelines():
    """With `split` fit_predict is flows.meaning.bank.fit_model with the sentences' parts
    (`clause_features: split`, `part_scale:`) judged by analyzers.intents with the parts."""
    rng = np.random.default_rng(3)
    pos = ["不客气，您的快递明天到。", "不用谢，您的发票已经发了。", *POS]
    neg = ["不用谢，你别再投诉就行。", *NEG]
    bg = [*BG, "好的，我帮您记下了。"]
    held = ["不客气，您的退款三天到账。", "请稍等。", "没事，你慢慢说。"]
    texts = [*pos, *neg, *bg, *held]
    units = sorted({*texts, *(u for t in texts for u in sentence_parts(t) if u is not None)})
    vec = dict(zip(units, _unit(rng, len(units)).astype(np.float32)))
    got = fit_predict(pos, neg, bg, held, vec, 10.0, 0.1, (1, 3), scale=0.5, features="split", part_scale=0.5)
    rows = lambda ts: np.stack([vec[t] for t in ts])  # noqa: E731
    bank = IntentBank("reply_to_thanks", rows(pos), rows(neg), tuple(pos), tuple(neg))
    model = fit_model(bank, background=(tuple(bg), rows(bg)), background_weight=0.1, embedding_scale=0.5,
                      parts=parts_of([*pos, *neg, *bg], rows([*pos, *neg, *bg]), vec), part_scale=0.5)
    assert model.part_weights.shape == (2 * 16 + 1,)
    want = [m.probability for m in match_many(model, rows(held), held, parts=parts_of(held, rows(held), vec))]
    assert got == pytest.approx(want, abs=1e-4)
    plain = fit_predict(pos, neg, bg, held, vec, 10.0, 0.1, (1, 3), scale=0.5)
    assert np.abs(np.asarray(got) - plain).max() > 1e-3  # the parts count
