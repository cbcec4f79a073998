"""flows.meaning.bank: the fitted model's pure decision is scikit-learn's, and it learns its examples."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from analyzers.intents import IntentBank, char_ngrams, match_many, tfidf
from analyzers.text import normalise
from flows.meaning.bank import fit_model

POS = ("请问有什么可以帮您", "您想办理什么业务", "有什么我能帮您的吗", "请问您有什么需要", "您今天想咨询点什么")
NEG = ("我帮您查一下", "您稍等一下", "好的再见", "感谢您的来电", "您的订单已经发货了")


def random_bank(seed=0, dim=8):
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(len(POS) + len(NEG), dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return IntentBank("service_offer", vecs[:len(POS)], vecs[len(POS):], POS, NEG)


def test_the_pure_text_view_equals_scikit_learns():
    texts = [normalise(t) for t in (*POS, *NEG)]
    v = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, lowercase=False).fit(texts)
    idf = dict(zip(v.get_feature_names_out(), v.idf_))
    for text in ("请问您有什么需要帮忙的吗吗", "再见", "您您您好"):
        ref = v.transform([normalise(text)])
        ours = tfidf(char_ngrams(text), idf)
        assert {v.get_feature_names_out()[j]: x for j, x in zip(ref.indices, ref.data)} == pytest.approx(ours)


def test_a_fitted_model_learns_its_train_examples():
    bank = random_bank()
    model = fit_model(bank)
    vecs = np.vstack([bank.positive, bank.negative])
    got = [m.hit for m in match_many(model, vecs, [*POS, *NEG])]
    assert got == [True] * len(POS) + [False] * len(NEG)
    assert set(model.idf) >= {"请", "请问", "您稍等"[:3]}


def test_min_probability_is_kept():
    assert fit_model(random_bank(), min_probability=0.8).min_probability == 0.8


def test_background_sentences_are_extra_negatives():
    bank = random_bank()
    # the background is the positives again (a full stop added, so other sentences):
    # weighted heavily it pulls the positives' probability down; with weight 0 it is ignored
    bg = (tuple(f"{p}。" for p in POS), bank.positive.copy())
    plain = match_many(fit_model(bank), bank.positive, POS)
    ignored = match_many(fit_model(bank, background=bg, background_weight=0), bank.positive, POS)
    heavy = match_many(fit_model(bank, background=bg, background_weight=2.0, background_sentences=len(POS)),
                       bank.positive, POS)
    assert [m.probability for m in ignored] == pytest.approx([m.probability for m in plain])
    assert np.mean([m.probability for m in heavy]) < np.mean([m.probability for m in plain]) - 0.05


def test_weights_balance_the_classes():
    from flows.meaning.bank import _weights
    w = _weights(4, 6, 30, 0.5, background_sentences=30)
    pos, neg, bg = w[:4].sum(), w[4:10].sum(), w[10:].sum()
    assert pos == pytest.approx(neg + bg) and bg == pytest.approx(0.5 * neg)
    assert w.mean() == pytest.approx(1.0)
    assert _weights(4, 6, 0, 0.5)[:4].sum() == pytest.approx(_weights(4, 6, 0, 0.5)[4:].sum())


def test_more_background_sentences_thin_none_of_them():
    # another intent's file grows: each background sentence keeps its weight against a near
    # miss (the background's total grows with it), the positives still weigh all negatives
    from flows.meaning.bank import BACKGROUND_SENTENCES, _weights
    for n_bg in (30, 60, BACKGROUND_SENTENCES, 2 * BACKGROUND_SENTENCES):
        w = _weights(4, 6, n_bg, 0.1)
        assert w[10:] / w[4] == pytest.approx(np.full(n_bg, 0.1 * 6 / BACKGROUND_SENTENCES))
        assert w[:4].sum() == pytest.approx(w[4:].sum())
    at_reference = _weights(4, 6, BACKGROUND_SENTENCES, 0.1)
    assert at_reference[10:].sum() == pytest.approx(0.1 * at_reference[4:10].sum())


def test_the_embedding_scale_is_folded_into_the_weights():
    # fitted on embeddings x 0.5, decided on the unit embeddings: the same probabilities as
    # scikit-learn's on the scaled features; a stronger pull on the embedding than scale 1
    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression
    from flows.meaning.bank import C, _weights
    bank = random_bank(seed=3)
    half, plain = fit_model(bank, embedding_scale=0.5), fit_model(bank)
    texts = [normalise(t) for t in (*POS, *NEG)]
    v = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, lowercase=False).fit(texts)
    emb = np.vstack([bank.positive, bank.negative])
    clf = LogisticRegression(C=C, max_iter=5000).fit(
        hstack([csr_matrix(0.5 * emb), v.transform(texts)]).tocsr(), np.r_[np.ones(len(POS)), np.zeros(len(NEG))],
        sample_weight=_weights(len(POS), len(NEG), 0, 0.1))
    want = clf.predict_proba(hstack([csr_matrix(0.5 * emb), v.transform(texts)]).tocsr())[:, 1]
    got = [m.probability for m in match_many(half, emb, [*POS, *NEG])]
    assert got == pytest.approx(want, abs=1e-5)
    assert np.linalg.norm(half.embedding_weights) < np.linalg.norm(plain.embedding_weights)


class Fixed:  # an encoder: a fixed random unit vector per text
    def embed(self, texts):
        rows = [np.random.default_rng(sum(map(ord, t))).normal(size=8) for t in texts]
        return np.array([r / np.linalg.norm(r) for r in rows], dtype=np.float32)


def write(folder, intent, pos, neg, extra="", speaker="agent"):
    import textwrap
    (folder / f"{intent}.yaml").write_text(textwrap.dedent(f"""\
        intent: {intent}
        speaker: {speaker}
        {extra}
        positive: {{train: {list(pos)}, test: [x{intent}]}}
        negative: {{train: {list(neg)}, test: [y{intent}]}}
        """), encoding="utf-8")


FAREWELL = (("再见", "拜拜", "再会", "回见"), ("见面再说", "下次见面聊", "再看看", "改天见面"))


def test_a_files_background_weight_is_its_own(tmp_path):
    # polite_address.yaml says background_weight: 0 -> the other intents' sentences are not
    # its negatives: fitted alone on its own examples, the same model as with no background
    from flows.meaning.bank import build_models
    from flows.meaning.examples import load_examples

    write(tmp_path, "service_offer", POS, NEG, "background_weight: 0")
    write(tmp_path, "farewell", *FAREWELL)
    models = build_models(tmp_path, Fixed())
    assert load_examples(tmp_path)["service_offer"].background_weight == 0.0
    alone = fit_model(models["service_offer"].model.bank)
    assert models["service_offer"].model.bias == pytest.approx(alone.bias)
    with_bg = build_models(tmp_path, Fixed(), only=frozenset({"farewell"}))["farewell"].model
    assert with_bg.bias != pytest.approx(fit_model(with_bg.bank).bias)


def test_not_background_keeps_the_named_intents_positives_out(tmp_path, monkeypatch):
    # service_offer says not_background: [farewell]: farewell's positives are not its
    # negatives (its near misses still are); greeting's both sides still are
    from flows.meaning import bank
    seen = {}

    def spy(b, min_probability, background, weight, scale):
        seen[b.intent] = set(background[0])
        assert len(background[0]) == len(background[1])
        return fit_model(b, min_probability, background, weight, scale)

    monkeypatch.setattr(bank, "fit_model", spy)
    write(tmp_path, "service_offer", POS, NEG, "not_background: [farewell]")
    write(tmp_path, "farewell", *FAREWELL)
    write(tmp_path, "greeting", ("您好", "你好", "早上好", "下午好"), ("好的", "好吧", "好嘞", "行"))
    bank.build_models(tmp_path, Fixed())
    assert seen["service_offer"] == {*FAREWELL[1], "您好", "你好", "早上好", "下午好", "好的", "好吧", "好嘞", "行"}
    assert set(FAREWELL[0]) <= seen["greeting"] and set(POS) <= seen["farewell"]


COMPLAINT = (("太慢了吧", "你们怎么搞的", "气死我了", "我要投诉"), ("好的谢谢", "我再等等", "行吧", "知道了"))
REFUSAL = (("我不需要", "不用了谢谢", "没兴趣", "别打了"), ("你说吧", "可以的", "我听着", "什么事"))


def speakers_folder(folder):
    write(folder, "service_offer", POS, NEG, "not_background: [farewell]")
    write(folder, "farewell", *FAREWELL)
    write(folder, "customer_complaint", *COMPLAINT, speaker="customer")
    write(folder, "refusal", *REFUSAL, speaker="customer")
    return folder


def test_background_sides(tmp_path):
    # every other file, whatever its speaker (an agent intent without the customer files lost by
    # CV in spk15); not_background's named intent gives its near misses only
    from flows.meaning.bank import background_sides
    from flows.meaning.examples import load_examples
    examples = load_examples(speakers_folder(tmp_path))
    both = ("positive", "negative")
    assert background_sides(examples, "service_offer") == {
        "farewell": ("negative",), "customer_complaint": both, "refusal": both}
    assert background_sides(examples, "refusal") == {
        "service_offer": both, "farewell": both, "customer_complaint": both}


def test_build_models_fits_on_background_sides(tmp_path, monkeypatch):
    from flows.meaning import bank
    seen = {}

    def spy(b, min_probability, background, weight, scale):
        seen[b.intent] = set(background[0])
        return fit_model(b, min_probability, background, weight, scale)

    monkeypatch.setattr(bank, "fit_model", spy)
    bank.build_models(speakers_folder(tmp_path), Fixed())
    customer = {*COMPLAINT[0], *COMPLAINT[1], *REFUSAL[0], *REFUSAL[1]}
    assert seen["service_offer"] == {*FAREWELL[1], *customer}
    assert seen["refusal"] == {*POS, *NEG, *FAREWELL[0], *FAREWELL[1], *COMPLAINT[0], *COMPLAINT[1]}
