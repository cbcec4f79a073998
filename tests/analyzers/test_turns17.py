"""issue 31 (turns17): the outbound refusal read after the agent states the purpose (003 §三.5(4)3 e
外呼时表明来意后被拒绝), and a bare backchannel after the customer's thanks judged as the agent's reply
(003 §四.2(1)3 客户向我们致谢、致歉时需作回应). Hand-written transcripts, hits and near misses."""

from dataclasses import replace

import pytest

from analyzers.analyze import analyze
from analyzers.rulelang.evaluate import Call, anchor_hits, pack_rule_findings
from analyzers.rulelang.examples import example_call
from analyzers.rulelang.schema import ExampleLine
from lexicons import load_pack

PACK = load_pack()
REFUSAL = next(r for r in PACK.custom_rules if r.id == "outbound_refusal").when


def transcript(*lines, end_s=None):
    t, _ = example_call(tuple(ExampleLine.model_validate(x) for x in lines))
    return t if end_s is None else replace(t, duration_s=end_s)


def refusal_said(*lines, direction="outbound"):
    """The customer turn the pack reads as the refusal (its text), or None."""
    call = Call(transcript(*lines), PACK, direction).turns
    found = anchor_hits(call, REFUSAL)
    return call.utts[found[0]].text if found else None


NAME_FIRST = ("A: 您好，请问是李先生吗？", "C: 嗯，是我，什么事？")
PURPOSE = "A: 李先生您好，我是联通宽带的回访专员小吴，今天来电想占用您两分钟做个满意度回访，您现在方便吗？"


@pytest.mark.parametrize("lines, said", [
    # today's form: greeting and purpose in one turn, the decline right after
    (("A: 您好，我是物业客服小陈，想跟您确认一下明天停水的通知，您现在方便吗？", "C: 没时间。"), "没时间。"),
    # the name confirmed first: the decline is the customer's second turn
    ((*NAME_FIRST, PURPOSE, "C: 不方便，我正开会呢。"), "不方便,我正开会呢。"),
    # a 喂 on picking up, the name, then the purpose: the customer's third turn
    (("C: 喂？", "A: 您好，请问是周女士吗？", "C: 对。", "A: 周女士您好，我是人寿保险的小郑，给您打电话是想介绍一款少儿险，您看方便吗？",
      "C: 不感兴趣，谢谢。"), "不感兴趣,谢谢。"),
    # greeted first, the purpose in the agent's second turn
    (("A: 您好，这里是顺丰速运客服中心。", "C: 啊，什么事啊？", "A: 想通知您一下，您的包裹明天派送，家里方便签收吗？",
      "C: 不用了，放快递柜吧，我在上班。"), "不用了,放快递柜吧,我在上班。"),
    # the customer asks what it is about, then declines: the second turn after the purpose
    ((*NAME_FIRST, PURPOSE, "C: 啥回访？", "A: 就是您上周装宽带的满意度回访。", "C: 哎不需要不需要。"), "哎不需要不需要。"),
    # whisper's slip (不方变) is read by sound
    ((*NAME_FIRST, PURPOSE, "C: 现在不方变。"), "现在不方变。"),
    # the new variants of the decline list: 不太方便 / 不是很方便
    ((*NAME_FIRST, PURPOSE, "C: 现在不太方便，在外面呢。"), "现在不太方便,在外面呢。"),
    ((*NAME_FIRST, PURPOSE, "C: 哎，我这会儿不是很方便。"), "哎,我这会儿不是很方便。"),
    # the call put off: 晚点再说吧 / 回头再说 decline it (说吧 there is no 'go on')
    ((*NAME_FIRST, PURPOSE, "C: 我这信号不好，晚点再说吧。"), "我这信号不好,晚点再说吧。"),
    ((*NAME_FIRST, PURPOSE, "C: 啥回访？", "A: 就是宽带装机的满意度回访。", "C: 哦，回头再说。"), "哦,回头再说。"),
])
def test_the_refusal_is_the_customers_decline_after_the_purpose(lines, said):
    assert refusal_said(*lines) == said


@pytest.mark.parametrize("lines", [
    # no decline at all
    (*NAME_FIRST, PURPOSE, "C: 方便，你说吧。"),
    # inbound: no refusal to read
    pytest.param((*NAME_FIRST, PURPOSE, "C: 不方便。"), id="inbound"),
    # taken back in the same turn (不方便…哦那你说吧) or the next (就一分钟 / 那你快说)
    (*NAME_FIRST, PURPOSE, "C: 不太方便……哦，那你说吧，快点。"),
    (*NAME_FIRST, PURPOSE, "C: 我在忙。", "A: 就占用您一分钟。", "C: 行，那您讲。"),
    (*NAME_FIRST, PURPOSE, "C: 没空。", "A: 两个问题，很快的。", "C: 好吧，你就说吧。"),
    # the customer let the agent go on; a later 不用了 answers a question of the survey
    (*NAME_FIRST, PURPOSE, "C: 可以。", "A: 装机师傅有没有收您额外的费用？", "C: 没有，不用了。"),
    # the late 不需要了 answers 还有其他需要吗, the purpose long accepted (and a short call)
    ("A: 您好，我是客服小王，想做个回访。", "C: 好的。", "A: 还有其他需要吗？", "C: 不需要了。"),
    (*NAME_FIRST, PURPOSE, "C: 嗯。", "A: 请问您还有别的问题吗？", "C: 不用了。"),
    # 再说 as 'say again' is no decline
    (*NAME_FIRST, PURPOSE, "C: 你再说一遍？我没听清。", "A: 想做个宽带满意度回访，两分钟。", "C: 哦，可以。"),
    # a decline long after the opening, far from the purpose
    (*NAME_FIRST, PURPOSE, "C: 方便。", "A: 您对网速满意吗？", "C: 还行。", "A: 要不要升级到五百兆？", "C: 不需要。"),
])
def test_no_refusal_where_the_customer_does_not_decline_the_call(lines):
    direction = "inbound" if lines[-1] == "C: 不方便。" else "outbound"
    assert refusal_said(*lines, direction=direction) is None


def test_a_refused_call_after_the_name_check_is_judged_by_the_refusal_not_the_closing():
    answered = (*NAME_FIRST, PURPOSE, "C: 不方便，我在开车。", "A: 不好意思打扰您了，那您看什么时候方便，我再给您打过来？",
                "C: 晚上吧。", "A: 好的，那我晚上再联系您，再见。")
    out = analyze(transcript(*answered), PACK, "outbound")
    assert not [f for f in out.findings if f.category in ("closing_missing", "confirmation_missing")]
    pushed = (*NAME_FIRST, PURPOSE, "C: 不需要，我在忙。", "A: 就耽误您一分钟，这个活动很划算的。", "C: 真不用了。", "A: 那好吧。")
    (f,) = pack_rule_findings(transcript(*pushed), PACK, "outbound_refusal", "outbound")
    assert f.text == "就耽误您一分钟，这个活动很划算的。" and "不需要" in f.detail
    assert not [f for f in analyze(transcript(*pushed), PACK, "outbound").findings
                if f.rule_id in ("satisfaction_check", "thanks_goodbye", "repeat_back")]


def test_a_withdrawn_decline_leaves_the_call_to_the_closing_rules():
    lines = (*NAME_FIRST, PURPOSE, "C: 不方便。", "A: 就占用您一分钟。", "C: 哦，那你说吧。", "A: 请问您对安装师傅的服务满意吗？",
             "C: 满意。", "A: 好的。")
    ids = {f.rule_id for f in analyze(transcript(*lines), PACK, "outbound").findings}
    assert "outbound_refusal" not in ids and "thanks_goodbye" in ids


def _replies(*lines):
    return [f for f in analyze(transcript(*lines), PACK, "inbound").findings if f.rule_id == "reply_to_thanks"]


@pytest.mark.parametrize("lines, quoted", [
    (("A: 您的退款已经原路退回了。", "C: 嗯，好的，谢谢啊。", "A: 嗯。"), "嗯。"),
    (("A: 维修师傅下午两点到。", "C: 好嘞，辛苦了。", "A: 好的。", "C: 拜拜。"), "好的。"),
    (("C: 对不起啊，我刚才说错了，是尾号三六。", "A: 哦。"), "哦。"),
    # an agent turn follows the 嗯: the turn rule judges that turn, one finding
    (("C: 多谢。", "A: 嗯。", "C: 那我先挂了。", "A: 行，拜拜。"), "行，拜拜。"),
])
def test_a_bare_backchannel_after_the_thanks_is_the_agents_reply_and_lacks_one(lines, quoted):
    (f,) = _replies(*lines)
    assert f.text == quoted and f.category == "reply_missing"


@pytest.mark.parametrize("lines", [
    # 嗯 inside the customer's own thanks is listening; the customer ends the call
    ({"C": "好的好的，那真是太感谢你了，我等短信就行。", "start_s": 0, "end_s": 5}, {"A": "嗯。", "start_s": 3, "end_s": 3.4}),
    ("C: 谢谢。", "A: 嗯，不客气。"),
    ("C: 谢谢。", "A: 嗯。", "A: 没事，应该的。"),
    ("C: 不好意思。", "A: 嗯。", "C: 我再说一遍。", "A: 没关系，您说。"),
    # no thanks: a 嗯 is no missing reply
    ("A: 您稍等，我帮您查一下。", "C: 好。", "A: 嗯。"),
    ("C: 我那个快递一直没到。", "A: 嗯。"),
])
def test_no_missing_reply_where_the_backchannel_is_not_the_reply(lines):
    assert _replies(*lines) == []
