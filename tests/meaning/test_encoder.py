"""flows.meaning: both encoders run from their installed weights and rank paraphrases right."""

import numpy as np
import pytest

from analyzers.intents import match
from flows.meaning.bank import build_bank, fit_model
from flows.meaning.encoder import ENCODERS, load_encoder
from flows.meaning.examples import parse_examples

OFFER_FILE = """\
intent: service_offer
speaker: agent
positive:
  train: [请问有什么可以帮您, 您想办理什么业务, 有什么我能帮您的吗, 请问您有什么需要,
          您好请问需要什么服务, 您今天想咨询点什么, 有啥需要帮忙的您说, 请问您要办什么事]
  test: [请问您遇到什么问题了]
negative:
  train: [我帮您查一下, 您稍等一下, 好的再见, 感谢您的来电, 我是客服小王, 您的订单已经发货了,
          还有别的问题吗, 不客气]
  test: [好的]
"""


@pytest.fixture(scope="module", params=ENCODERS)
def encoder(request):
    return load_encoder(request.param)


def test_unit_rows_in_order(encoder):
    v = encoder.embed(["您好", "再见", "请问有什么可以帮您"])
    assert v.shape == (3, encoder.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert np.allclose(encoder.embed(["再见"])[0], v[1], atol=1e-5)
    assert encoder.texts == 4 and encoder.seconds > 0


def test_traditional_text_embeds_as_simplified(encoder):
    a, b = encoder.embed(["請問有什麼可以幫您", "请问有什么可以帮您"])
    assert a @ b > 0.999


def test_a_paraphrase_is_nearer_than_another_intent(encoder):
    offer, para, bye = encoder.embed(["请问有什么可以帮您", "您想办理什么业务", "好的，再见"])
    assert offer @ para > offer @ bye


def test_a_bank_from_examples_matches_a_new_wording(encoder, tmp_path):
    path = tmp_path / "service_offer.yaml"
    path.write_text(OFFER_FILE, encoding="utf-8")
    model = fit_model(build_bank(parse_examples(path, OFFER_FILE), encoder))
    new, bye = "请问您需要什么帮助", "好的，那我先挂了，再见"
    hit = match(model, encoder.embed([new])[0], new)
    assert hit.hit and hit.nearest in model.bank.positive_texts and 0 < hit.similarity < 1
    assert not match(model, encoder.embed([bye])[0], bye).hit


def test_unknown_encoder():
    with pytest.raises(ValueError, match="unknown encoder"):
        load_encoder("bert")
