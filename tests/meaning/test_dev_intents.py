"""bench/dev_intents.py: dev sentences judged as the pipeline judges an utterance, counted at a
threshold, and the example files' test lists never read."""

from __future__ import annotations

import numpy as np
import pytest

import bench.dev_intents as dev_intents
from analyzers.intents import SentenceParts, match_sentences, meaning_sentences
from tests.fake_encoder import char_bag_encoder

REPLY = """intent: reply_to_thanks
speaker: agent
clause_features: split
part_scale: 0.5
positive:
  train: [不客气。, 不用谢。, 应该的。, 没关系。, 您太客气了。, 不客气，您慢走。]
  test: [{test}。]
negative:
  train: [谢谢您的配合。, 请稍等。, 您的快递明天到。, 跟这个没关系。, 我查一下。]
  test: [{test}？]
"""
OFFER = """intent: service_offer
speaker: agent
positive:
  train: [请问有什么可以帮您？, 您想办理什么业务？, 有什么我能帮您的吗？, 请问您有什么需要？]
  test: []
negative:
  train: [好的再见。, 感谢您的来电。, 我帮您查一下。, 您稍等一下。]
  test: []
"""
DEV = """intent: reply_to_thanks
speaker: agent
positive: [不客气, 不用谢。您还有别的问题吗？, 没关系，您慢慢说。]
negative: [请稍等。, 跟这个没关系。, 您的快递明天到。]
"""


@pytest.fixture
def folders(tmp_path):
    ex, dev = tmp_path / "examples", tmp_path / "dev"
    ex.mkdir(), dev.mkdir()
    # the test lists hold a sentence the bench must never see (the fake encoder would record it)
    (ex / "reply_to_thanks.yaml").write_text(REPLY.format(test="测试句不可读"), encoding="utf-8")
    (ex / "service_offer.yaml").write_text(OFFER, encoding="utf-8")
    (dev / "reply_to_thanks.yaml").write_text(DEV, encoding="utf-8")
    return ex, dev


def test_counts_at_a_threshold():
    s, fp, fn, cost = dev_intents.counts(np.array([0.9, 0.61, 0.6, 0.2]), np.array([0.7, 0.1]), 0.6)
    assert (fp, fn, cost) == (1, 2, 3.5)  # a hit is p > threshold, as analyzers.intents decides
    assert s.precision == pytest.approx(2 / 3) and s.recall == pytest.approx(0.5)


def test_dev_sentences_are_judged_as_the_pipeline_judges(folders, monkeypatch, tmp_path, capsys):
    ex, dev = folders
    seen = []
    enc = char_bag_encoder()
    inner = enc._embed
    enc._embed = lambda texts: (seen.extend(texts), inner(texts))[1]
    monkeypatch.setattr(dev_intents, "load_encoder", lambda name: enc)
    out = tmp_path / "p.json"
    dev_intents.main(["--dev", str(dev), "--examples", str(ex), "--json", str(out)])
    assert not any("测试句" in t for t in seen)  # the example files' test lists stay unread
    table = capsys.readouterr().out
    assert "| reply_to_thanks | 0.6 |" in table and "missed positives (dev)" in table
    # the same figures by hand: fitted as the bench fits, each dev line split and its best sentence
    models = dev_intents.build_models(ex, char_bag_encoder(), only=frozenset({"reply_to_thanks"}))
    d = dev_intents.load_dev(dev)
    probs = dev_intents.probabilities(models, d, char_bag_encoder())
    m = models["reply_to_thanks"].model
    assert m.part_weights is not None  # the file's clause_features: the parts are read
    one = "不用谢。您还有别的问题吗？"
    units = meaning_sentences(one)
    assert len(units) == 2
    rows = char_bag_encoder().embed(units)
    parts = SentenceParts.of(rows, [-1, -1], np.zeros((0, 32), np.float32))
    assert probs["reply_to_thanks"][0][1] == pytest.approx(match_sentences(m, rows, units, parts).probability)
    import json
    got = json.loads(out.read_text(encoding="utf-8"))["reply_to_thanks"]
    assert list(got["positive"]) == list(d["reply_to_thanks"].positive)
    assert got["positive"][one] == pytest.approx(float(probs["reply_to_thanks"][0][1]), abs=1e-6)


def test_the_cache_gives_the_same_rows_and_embeds_once(tmp_path):
    calls = []
    enc = char_bag_encoder()
    inner = enc._embed
    enc._embed = lambda texts: (calls.append(list(texts)), inner(texts))[1]
    path = tmp_path / "c.npz"
    first = dev_intents.cached(enc, path).embed(["不客气", "请稍等"])
    again = dev_intents.cached(enc, path).embed(["请稍等", "不客气", "再见"])
    assert calls == [["不客气", "请稍等"], ["再见"]]
    assert again[:2] == pytest.approx(first[::-1]) and again[2] == pytest.approx(char_bag_encoder().embed(["再见"])[0])


def test_a_dev_file_is_checked(tmp_path):
    (tmp_path / "reply_to_thanks.yaml").write_text("intent: other\nspeaker: agent\npositive: [a]\nnegative: [b]\n",
                                                   encoding="utf-8")
    with pytest.raises(ValueError, match="needs intent: reply_to_thanks"):
        dev_intents.load_dev(tmp_path)
    with pytest.raises(ValueError, match="no dev file for farewell"):
        dev_intents.load_dev(tmp_path / "none", ["farewell"])
