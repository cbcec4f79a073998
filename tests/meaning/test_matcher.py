"""flows.meaning.matcher: sentences embedded once, judged per utterance, by speaker."""

import textwrap

import pytest

from analyzers.intents import match_sentences
from flows.meaning.bank import build_models
from flows.meaning.encoder import load_encoder
from flows.meaning.matcher import IntentMatcher

AFTER_HOLD = textwrap.dedent("""\
    intent: after_hold
    speaker: agent
    positive:
      train: [让您久等了, 对不起让您久等了, 感谢您的耐心等待, 不好意思让您等了这么久, 谢谢您的等待,
              抱歉久等了, 久等啦, 让你久等了真不好意思]
      test: [害您等了半天]
    negative:
      train: [请您稍等, 我帮您查一下请稍候, 您的包裹明天上午送到, 还要再等两天, 订单已经发货了,
              您的退款三个工作日到账, 请问还有什么可以帮您, 感谢您的来电再见]
      test: [好的]
    """)
REFUSAL = textwrap.dedent("""\
    intent: refusal
    speaker: customer
    positive:
      train: [不需要谢谢, 我没时间, 不用了我在忙, 别打了, 不感兴趣, 我在开会, 现在不方便, 以后别打来了]
      test: [没空]
    negative:
      train: [好的你说, 可以的, 我方便, 有什么事吗, 你说吧我听着, 行啊, 谢谢, 明天上午吧]
      test: [嗯]
    """)


@pytest.fixture(scope="module")
def matcher(tmp_path_factory):
    folder = tmp_path_factory.mktemp("examples")
    (folder / "after_hold.yaml").write_text(AFTER_HOLD, encoding="utf-8")
    (folder / "refusal.yaml").write_text(REFUSAL, encoding="utf-8")
    enc = load_encoder("use")
    return IntentMatcher(build_models(folder, enc), enc)


def test_sentences_are_embedded_in_one_batch(matcher):
    before = matcher.encoder.texts
    embedded = matcher.embed(["对不起，让您久等了。您的包裹预计明天上午送到。", "好的", ""])
    assert [e.sentences for e in embedded] == [("对不起,让您久等了。", "您的包裹预计明天上午送到。"), ("好的",), ()]
    assert [e.vectors.shape[0] for e in embedded] == [2, 1, 0]
    assert matcher.encoder.texts - before == 3


def test_the_best_sentence_decides(matcher):
    line = matcher.embed(["对不起，让您久等了。您的包裹预计明天上午送到。"])[0]
    found = matcher.match(line, "agent")
    assert set(found) == {"after_hold"}  # refusal is looked for in the customer's speech
    assert found["after_hold"].hit
    # the answer alone is no apology
    answer = matcher.embed(["您的包裹预计明天上午送到。"])[0]
    assert not matcher.match(answer, "agent")["after_hold"].hit


def test_speaker_picks_the_intents(matcher):
    line = matcher.embed(["不需要，我在忙"])[0]
    found = matcher.match(line, "customer")
    assert set(found) == {"refusal"} and found["refusal"].hit


def test_no_sentence_no_match(matcher):
    assert matcher.match(matcher.embed([""])[0], "agent") == {}
    model = matcher.models["after_hold"].model
    assert match_sentences(model, matcher.encoder.embed([]), []) is None
