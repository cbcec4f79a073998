"""An example file's `min_probability:` (thr22): the intent's own threshold, checked on load,
carried into the fitted model and read by every route a decision takes (match_many, the stack's
evidence, decide) and by the benches (bench_intents.judged, dev_intents, cv_intents)."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from analyzers.intent_stack import evidence
from analyzers.intents import MIN_PROBABILITY, match_many, meaning_sentences
from flows.meaning.bank import build_models
from flows.meaning.call import STACK_SLACK, decide, embed_call, part_speakers
from flows.meaning.examples import ExamplesError
from tests.meaning.test_examples import GOOD, parse
from tests.transcripts import conversation
from tests.fake_encoder import char_bag_encoder

OFFER = """intent: service_offer
speaker: agent
{option}positive:
  train: [请问有什么可以帮您？, 您想办理什么业务？, 有什么我能帮您的吗？, 请问您有什么需要？, 您今天想咨询点什么？]
  test: []
negative:
  train: [我帮您查一下。, 您稍等一下。, 好的再见。, 感谢您的来电。, 您的订单已经发货了。]
  test: []
"""
FAREWELL = """intent: farewell
speaker: agent
positive:
  train: [再见。, 祝您生活愉快，再见。, 拜拜。, 好的，再见了您嘞。]
  test: []
negative:
  train: [您好。, 请稍等。, 我查一下。, 见面再说。]
  test: []
"""
LINE = "请问您要办理什么？"  # like the positives, not one of them: a probability well inside (0, 1)


def folder(tmp_path: Path, option: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "service_offer.yaml").write_text(OFFER.format(option=option), encoding="utf-8")
    (tmp_path / "farewell.yaml").write_text(FAREWELL, encoding="utf-8")
    return tmp_path


def probability_of(models, text=LINE) -> float:
    units = meaning_sentences(text)
    return max(m.probability for m in match_many(models["service_offer"].model, char_bag_encoder().embed(units), units))


def test_the_threshold_is_read_from_the_file_and_checked():
    assert parse(GOOD).min_probability is None
    assert parse(GOOD.replace("positive:", "min_probability: 0.45\npositive:")).min_probability == 0.45
    for bad in ("0", "1", "-0.1", "1.5", "high", "true", "[0.5]"):
        with pytest.raises(ExamplesError) as e:
            parse(GOOD.replace("positive:", f"min_probability: {bad}\npositive:"))
        assert e.value.field == "min_probability" and e.value.line == 5
        assert str(e.value).startswith(f"{Path('examples') / 'service_offer.yaml'}:5: min_probability:")


def test_the_fitted_model_carries_the_files_threshold_and_floor(tmp_path):
    models = build_models(folder(tmp_path, "min_probability: 0.45\nmin_similarity: 0.2\n"), char_bag_encoder())
    assert models["service_offer"].model.min_probability == 0.45
    assert models["service_offer"].model.min_similarity == 0.2
    # a file without one: the bank's (build_models' argument)
    assert models["farewell"].model.min_probability == MIN_PROBABILITY
    assert build_models(tmp_path, char_bag_encoder(), min_probability=0.7)["farewell"].model.min_probability == 0.7
    assert build_models(tmp_path, char_bag_encoder(), min_probability=0.7)["service_offer"].model.min_probability == 0.45
    assert models["farewell"].model.min_similarity == 0.0


def thresholds_around(tmp_path):
    """(p, models with the file's threshold just under p, models with it just over): the fit reads
    no threshold, so the line's probability is the same in both."""
    p = probability_of(build_models(folder(tmp_path), char_bag_encoder()))
    assert 0.05 < p < 0.95
    under = build_models(folder(tmp_path, f"min_probability: {p - 0.05:.4f}\n"), char_bag_encoder())
    over = build_models(folder(tmp_path, f"min_probability: {p + 0.05:.4f}\n"), char_bag_encoder())
    assert probability_of(under) == pytest.approx(p) == probability_of(over)
    return p, under, over


def test_match_many_reads_the_files_threshold(tmp_path):
    _, under, over = thresholds_around(tmp_path)
    units = meaning_sentences(LINE)
    assert any(m.hit for m in match_many(under["service_offer"].model, char_bag_encoder().embed(units), units))
    assert not any(m.hit for m in match_many(over["service_offer"].model, char_bag_encoder().embed(units), units))


def test_the_stacks_evidence_reads_the_files_threshold(tmp_path):
    p, under, over = thresholds_around(tmp_path)
    row = char_bag_encoder().embed(meaning_sentences(LINE))[0]
    assert evidence(under["service_offer"].model, row, p).hit
    assert not evidence(over["service_offer"].model, row, p).hit


@pytest.mark.parametrize("margin", [0.05, STACK_SLACK / 2])  # the stack's decision; match_many's near the threshold
def test_decide_reads_the_files_threshold(tmp_path, margin):
    p = probability_of(build_models(folder(tmp_path), char_bag_encoder()))
    t = conversation([("agent", LINE), ("customer", "我想查个快递")])
    for threshold, hits in ((p - margin, True), (p + margin, False)):
        models = build_models(folder(tmp_path, f"min_probability: {threshold!r}\n"), char_bag_encoder())
        emb = embed_call(t, char_bag_encoder(), part_speakers(models))
        got = decide(t, emb, models).hit(t.utterances[0], "service_offer")
        assert (got is not None) is hits, (threshold, p)


def test_bench_intents_judges_with_the_files_threshold(tmp_path):
    from bench.bench_intents import judged

    _, under, over = thresholds_around(tmp_path)
    units = tuple(meaning_sentences(LINE))
    vecs = dict(zip(units, char_bag_encoder().embed(list(units))))
    assert judged(under["service_offer"].model, units, vecs, {}, None).hit
    assert not judged(over["service_offer"].model, units, vecs, {}, None).hit
    assert judged(under["service_offer"].model, (), vecs, {}, None) is None


def test_dev_intents_reads_the_files_threshold_and_floor(tmp_path, monkeypatch, capsys):
    import bench.dev_intents as dev_intents

    p, under, _ = thresholds_around(tmp_path)
    dev = tmp_path / "dev"
    dev.mkdir()
    (dev / "service_offer.yaml").write_text(f"intent: service_offer\nspeaker: agent\npositive: [{LINE}]\n"
                                            "negative: [好的再见。]\n", encoding="utf-8")
    d = dev_intents.load_dev(dev)
    got = dev_intents.matches(under, d, char_bag_encoder())["service_offer"][0][0]
    assert got.hit and got.probability == pytest.approx(p)
    # at the model's own threshold the counts are the pipeline's hits
    pp, pn = dev_intents.probabilities(under, d, char_bag_encoder())["service_offer"]
    assert dev_intents.counts(pp, pn, under["service_offer"].model.min_probability)[2] == 0
    # a floor above the line's nearest positive: no threshold makes it hit
    floored = {**under, "service_offer": replace(under["service_offer"], model=replace(
        under["service_offer"].model, min_similarity=min(1.0, got.similarity + 0.01)))}
    assert dev_intents.probabilities(floored, d, char_bag_encoder())["service_offer"][0][0] == 0.0
    # the report reads each model's own threshold beside 0.6
    monkeypatch.setattr(dev_intents, "load_encoder", lambda name: char_bag_encoder())
    dev_intents.main(["--dev", str(dev), "--examples", str(folder(tmp_path, f"min_probability: {p - 0.05:.4f}\n"))])
    out = capsys.readouterr().out
    assert f"| service_offer | {float(f'{p - 0.05:.4f}'):g} |" in out and "| service_offer | 0.6 |" in out


def test_cv_intents_reads_the_files_threshold():
    from bench.cv_intents import errors_table, per_intent_table, summary

    y = np.array([1, 1, 0, 0])
    oof = {"a": {"y": y, "p": np.array([0.9, 0.5, 0.55, 0.1]), "fold": np.zeros(4, int), "texts": np.array(list("wxyz")),
                 "p_other": np.array([0.5]), "p_named": np.zeros(0)}}
    assert "(0, 1)" in per_intent_table(oof, 0.6)
    own = per_intent_table(oof, 0.6, {"a": 0.45})
    assert "(1, 0)" in own and "at 0.45 (the file's)" in own
    assert "a at 0.45: 0 missed" in errors_table(oof, 0.6, {"a": 0.45})
    assert summary(oof, {"a": 0.45})["cost"] == 1.5 and summary(oof, 0.6)["cost"] == 1
