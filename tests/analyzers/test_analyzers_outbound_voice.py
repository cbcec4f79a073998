"""Outbound calls (003 §三.5(4)1 B, §四.2(2)3 A, §三.5(4)3 e) and raised voice (003 §三.5(1)
音量适中, §四.2(2) 自控能力), on hand-written transcripts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from analyzers.analyze import analyze
from lexicons import load_pack
from transcripts import A, C, call, conversation, say

PACK = load_pack("zh-CN")

OPENING = "您好，我是售后服务中心的客服小王，给您打电话是想做一个服务回访，请问您现在方便接听吗？"
# 003_88c473ecd290393c.txt §三.5(4)3 e: the standard's own reply to a refusal.
STANDARD_REFUSAL_REPLY = "对不起，打扰您了，请问先生什么时候方便，我们再与您联系。"


def _kinds(analysis, category: str) -> list[str]:
    return [f.rule_id for f in analysis.findings if f.category == category]


def test_an_outbound_opening_with_purpose_and_time_check_passes():
    t = conversation([(A, OPENING), (C, "方便，你说吧。"), (A, "感谢您的支持，祝您愉快，再见。")])
    a = analyze(t, PACK, direction="outbound")
    assert _kinds(a, "greeting_missing") == [] and a.greeting_ok
    # The same opening of an inbound call lacks the service offer (请问有什么可以帮您).
    assert "service_offer" in _kinds(analyze(t, PACK), "greeting_missing")


@pytest.mark.parametrize("opening,missing", [
    ("您好，我是售后服务中心的客服小王，请问您现在方便接听吗？", "outbound_purpose"),
    ("您好，我是售后服务中心的客服小王，给您打电话是想做一个服务回访。", "outbound_time_check"),
])
def test_an_outbound_opening_without_purpose_or_time_check_is_flagged(opening, missing):
    t = conversation([(A, opening), (C, "好的。"), (A, "感谢您的支持，祝您愉快，再见。")])
    assert _kinds(analyze(t, PACK, direction="outbound"), "greeting_missing") == [missing]


def test_the_standards_reply_to_a_refusal_passes_and_replaces_the_closing():
    t = conversation([(A, OPENING), (C, "不好意思，我现在在开车，没时间。"), (A, STANDARD_REFUSAL_REPLY),
                      (C, "明天下午吧。"), (A, "好的，再见。")])
    a = analyze(t, PACK, direction="outbound")
    assert _kinds(a, "closing_missing") == [] and a.closing_ok


@pytest.mark.parametrize("reply,lacks", [
    ("好的，那再见。", "an apology"),
    ("对不起，打扰您了。", "an appointment"),
])
def test_a_refusal_without_apology_or_appointment_is_flagged(reply, lacks):
    t = conversation([(A, OPENING), (C, "我不需要，谢谢。"), (A, reply)])
    a = analyze(t, PACK, direction="outbound")
    found = [f for f in a.findings if f.category == "closing_missing"]
    assert [f.rule_id for f in found] == ["outbound_refusal"] and lacks in found[0].detail


def test_a_declined_call_asks_no_repeat_back():
    """The customer who declines asked for nothing: the refusal check judges the reply,
    confirmation_missing does not apply. The same words on an inbound call need one."""
    lines = [(A, OPENING), (C, "什么事？我现在很忙，真的没时间。"), (A, "那好吧，再见。")]
    assert _kinds(analyze(conversation(lines), PACK, direction="outbound"), "confirmation_missing") == []
    assert _kinds(analyze(conversation(lines), PACK), "confirmation_missing") != []


def test_a_late_no_thanks_is_no_refusal():
    t = conversation([(A, OPENING), (C, "方便。"), (A, "您的订单已经处理好了，这样处理您满意吗？还有其他需要吗？"),
                      (C, "不需要了。"), (A, "感谢您的支持，祝您愉快，再见。")])
    a = analyze(t, PACK, direction="outbound")
    assert _kinds(a, "closing_missing") == []


def test_an_unknown_direction_is_refused():
    with pytest.raises(ValueError, match="direction"):
        analyze(conversation([(A, OPENING)]), PACK, direction="sideways")


# --- raised voice -----------------------------------------------------------------

def _leveled(levels: list[float], layout: str = "stereo"):
    utts = [replace(say(A, 3.0 * i, "好的，我帮您查询一下这个订单。"), level_db=db) for i, db in enumerate(levels)]
    return call(*utts, say(C, 30.0, "好的谢谢。"), layout=layout)


def test_an_utterance_far_above_the_agents_usual_level_is_raised_voice():
    a = analyze(_leveled([-30, -31, -29, -30, -17]), PACK)
    raised = [f for f in a.findings if f.category == "raised_voice"]
    assert len(raised) == 1 and raised[0].start_s == 12.0 and "13 dB above" in raised[0].detail
    assert "expression" in {i.item_id for i in a.items if raised and any(
        a.findings[n].category == "raised_voice" for n in i.finding_refs)}


@pytest.mark.parametrize("levels,layout", [
    ([-30, -31, -29, -30, -22], "stereo"),   # 8 dB: within the limit
    ([-10, -11, -9, -10, -10], "stereo"),    # a loud line: every utterance alike
    ([-30, -17], "stereo"),                  # too few to know the agent's usual level
    ([-30, -31, -29, -30, -17], "mono"),     # one channel mixes both voices
])
def test_no_raised_voice_where_the_level_is_usual_or_unknown(levels, layout):
    assert not [f for f in analyze(_leveled(levels, layout), PACK).findings if f.category == "raised_voice"]


def test_transcripts_without_levels_are_not_judged():
    assert not [f for f in analyze(_leveled([None] * 5), PACK).findings if f.category == "raised_voice"]
