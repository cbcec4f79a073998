"""The standard's rules written in the rule language (lexicons/zh-CN/custom_rules.yaml):
each hits a short call that breaks it and no other rule of the file does; a rule whose sample
call line is named below hits that line in the call's true transcript and is in its truth."""

import json

import pytest

from analyzers.analyze import analyze
from analyzers.model import CallTruth, Transcript, from_dict
from analyzers.rulelang.evaluate import Call, rule_findings
from analyzers.rulelang.examples import example_call
from analyzers.rulelang.schema import ExampleLine
from conftest import missing, truth_files
from lexicons import load_pack

PACK = load_pack()
RULES = {r.finding_id: r for r in PACK.custom_rules}  # rules reporting as one (reports_as) are one check
OPEN = "A: 您好，很高兴为您服务，我是客服小王，请问有什么可以帮您？"
SATISFIED = "A: 请问这样处理您是否满意？"   # 001 §3.1 step 5
CLOSE = (SATISFIED, "C: 满意，谢谢。", "A: 感谢您的来电，祝您生活愉快，再见！")
OUTBOUND_OPEN = "A: 您好，我是售后服务中心的客服小王，想对您上周的维修做个回访，请问您现在方便接听电话吗？"
LONG = "我上个月在你们网站买的冰箱一直不制冷，打了好几次电话都没有人来修，家里的东西全坏了，我真的很着急"

#: A short call that breaks each rule (lines from the standard where it has them); no silence of 6 s
#: (a hold, rule `hold`) unless the rule is about one.
BREAKS = {
    "polite_address": ["A: 你好，我是客服小王，请问有什么可以帮你？", "C: 查一下话费。", "A: 你这个月的话费是八十六元。",
                       "C: 好的，谢谢。", "A: 不客气，这样处理你满意吗？", "C: 满意。",
                       "A: 感谢你的来电，再见！"],
    "listening_response": [OPEN, {"C": LONG, "start_s": 10, "end_s": 36},
                           "A: 非常理解您的心情，非常抱歉给您带来不好的体验。", *CLOSE],
    "open_question": [OPEN, "C: 我的电视有点问题。", "A: 好的，我给您登记报修。", *CLOSE],
    "volume_level": [OPEN, {"C": "我想查话费。"}, {"A": "好的，请您稍等。", "level_db": -2}, *CLOSE],
    "fillers": [OPEN, "C: 我想查话费。", "A: 呃，好的啊。", "C: 多少钱？", "A: 那个那个，八十六元嘛。",
                "C: 好的。", "A: 还有什么问题啊？", "C: 没有了，谢谢。", SATISFIED, "A: 感谢您的来电，再见！"],
    "slow_answer": [OPEN, {"C": "我想查话费。", "start_s": 10, "end_s": 14},
                    {"A": "您这个月的话费是八十六元。", "start_s": 18, "end_s": 21}, *CLOSE],
    "steps_order": [OPEN, "C: 我想查话费。", "A: 您这个月的话费是八十六元。", "A: 感谢您的来电，再见！",
                    "C: 好的。", "A: 请问这样处理您是否满意？"],
    "solution_options": [OPEN, "C: 电水壶外壳有裂缝。", "A: 非常抱歉，您可以选择换货，或者退款，还可以申请维修。", *CLOSE],
    "transfer_notice": [OPEN, "C: 我的宽带上不了网。", "A: 我帮您转接到技术部门。", *CLOSE],
    "repeat_back_wrong": [OPEN, "C: 订单号是20481357。", "A: 跟您确认一下，您的订单号是20481375，对吗？", *CLOSE],
    "repeat_back_empty": [OPEN, "C: 我的订单号是20481357，冰箱不制冷。", "A: 好的，跟您确认一下，对吗？", *CLOSE],
    "closing_objection": [OPEN, "C: 多收我二十元，这个收费不合理。", "A: 这是套餐规定的费用，您可以看一下账单。",
                          SATISFIED, "A: 感谢您对xx的支持，祝您愉快，再见！"],
    "closing_suggestion": [OPEN, "C: 我建议你们晚上也开通人工服务。", "A: 好的，我们会记录下来。",
                           SATISFIED, "A: 感谢您对xx的支持，祝您愉快，再见！"],
    "closing_driving": [OPEN, "C: 我在开车，你快说。", "A: 好的，您的快递明天到。", SATISFIED, "A: 感谢您的来电，再见！"],
    "closing_illness": [OPEN, "C: 我在医院，你快说。", "A: 好的，您的快递明天到。", SATISFIED, "A: 感谢您的来电，再见！"],
    "closing_birthday": [OPEN, "C: 今天是我生日，你快说。", "A: 好的，您的快递明天到。", SATISFIED, "A: 感谢您的来电，再见！"],
    "closing_travel": [OPEN, "C: 我在国外旅游，你快说。", "A: 好的，您的快递明天到。", SATISFIED, "A: 感谢您的来电，再见！"],
    "second_refusal": ["A: 您好，我是售后服务中心的客服小王，想对您上周的维修做个回访，请问您现在方便接听电话吗？",
                       "C: 不需要。", "A: 对不起，打扰您了，请问您什么时候方便，我们再与您联系？",
                       "C: 不用了，别打了。", "A: 好的，再见。"],
    "polite_request": [OPEN, "C: 我想查一下订单。", "A: 订单号是多少？", "C: 20481357。", "A: 谢谢您，订单明天送到。", *CLOSE],
    "thanks_for_help": [OPEN, "C: 我想查一下订单。", "A: 请您提供一下订单号。", "C: 20481357。", "A: 好的，订单明天送到。", *CLOSE],
    "reply_to_thanks": [OPEN, "C: 我想查话费。", "A: 您这个月的话费是八十六元。", "C: 好的，谢谢。", SATISFIED,
                        "C: 满意。", "A: 感谢您的来电，祝您生活愉快，再见！"],
    "arguing": [OPEN, "C: 我觉得是你们发错货了。", "A: 我都说了，您搞错了。", *CLOSE],  # (能不能快一点 is a complaint)   # active since docs/sample-truth.md P3
    "hello": ["A: 很高兴为您服务，我是客服小王，请问有什么可以帮您？", "C: 我想查话费。", "A: 您这个月的话费是八十六元。", *CLOSE],
    "service_offer": ["A: 您好，我是客服小王。", {"C": "我想查话费，顺便问一下这个月的套餐里有多少流量，还有国际漫游怎么开通。", "start_s": 2.5, "end_s": 15.5},
                      {"A": "您这个月的话费是八十六元。", "start_s": 16, "end_s": 20}, *CLOSE],   # CLOSE offers help
    "self_identification": ["A: 您好，很高兴为您服务，请问有什么可以帮您？", "C: 我想查话费。",
                            "A: 您这个月的话费是八十六元。", *CLOSE],
    "outbound_purpose": ["A: 您好，我是售后服务中心的客服小王，请问您现在方便接听电话吗？", "C: 方便。",
                         "A: 您上周的维修已经完成了。", *CLOSE],
    "outbound_time_check": ["A: 您好，我是售后服务中心的客服小王，想对您上周的维修做个回访。", "C: 好的。",
                            "A: 维修之后还好用吗？", "C: 挺好的。", *CLOSE],
    "satisfaction_check": [OPEN, "C: 我想查话费。", "A: 您这个月的话费是八十六元。", "C: 好的，谢谢。",
                           "A: 不客气，感谢您的来电，再见！"],
    "thanks_goodbye": [OPEN, "C: 我想查话费。", "A: 您这个月的话费是八十六元。", SATISFIED, "C: 满意。",
                       "A: 好的，那先这样。"],
    "followup_time": [OPEN, "C: 我的宽带上不了网。", "A: 您是说宽带上不了网，对吗？", "C: 对。", "A: 我们会尽快安排人上门。", *CLOSE],
    "apology_first": [OPEN, "C: 你们怎么回事，东西用了三天就坏了！", "A: 您是说东西用了三天就坏了，对吗？", "C: 对。", *CLOSE],
    "outbound_refusal": [OUTBOUND_OPEN, "C: 不需要。", "A: 好的，再见。"],   # 003 §三.5(4)3 e: no apology, no appointment
    "repeat_back": [OPEN, "C: 我想查一下这个月的话费是多少。", "A: 您这个月的话费是八十六元。", *CLOSE],
    "slow_for_details": [OPEN, "C: 我想续费。", {"A": "您的套餐是每月一百元，续费一年一共一千零八十元。",
                                                  "start_s": 9.5, "end_s": 13.5}, *CLOSE],
}


def _hold(notice: str, back: str, hold_s: float = 8.0) -> list:
    """rlholds: a call with one hold after the customer's request (003 §四.2(1)3 ✓4)."""
    # the customer talks long enough that the opening's 为您 is no longer the notice's reason
    return [OPEN, {"C": "我想查一下订单，上周买的冰箱。", "start_s": 10, "end_s": 22}, {"A": notice, "start_s": 22.5, "end_s": 25},
            {"A": back, "start_s": 25 + hold_s, "end_s": 28 + hold_s}, *CLOSE]


BREAKS |= {
    "hold": _hold("好的，请您稍等，我帮您查一下。", "让您久等了，订单明天送到。"),
    "hold_notice": _hold("好的。", "让您久等了，订单明天送到。"),
    "hold_reason": _hold("好的，请您稍等。", "让您久等了，订单明天送到。", hold_s=15.0),
    "hold_apology": _hold("好的，请您稍等，我帮您查一下。", "订单明天送到。"),
}
#: Rules that fire with the one broken: `hold` marks every hold (info), kept or not.
WITH = {"hold_notice": {"hold"}, "hold_reason": {"hold"}, "hold_apology": {"hold"}}

#: The standard's model lines, said as a whole call: no rule may fire (003 §三.(4)3, 001 §2.1, §3.1).
MODEL_CALL = [OPEN, "C: 我买的电饭煲才用了三天就坏了，我也不知道怎么回事。", "A: 非常抱歉，您能描述一下具体的情况吗？",
              "C: 订单号是20481357，按下开关没有反应。", "A: 您是说订单20481357的电饭煲按下开关没有反应，对吗？",
              "C: 对。", "A: 您可以选择换货或申请退款，两种方式都无需额外费用。", "C: 换货吧，我建议你们把质量做好一点。",
              "A: 好的，请问这样处理您是否满意？", "C: 满意。",
              "A: 非常感谢您对我们的关注，谢谢您提供的宝贵建议，我们会在工作中不断完善我们的服务，再见！"]


def fired(lines, direction="inbound", active_only=False):
    transcript, intents = example_call(tuple(ExampleLine.model_validate(x) for x in lines))
    call = Call(transcript, PACK, direction, intents)
    # the active rules as analyze applies them (a refused outbound call: no closing rules), the others alone
    ran = {f.rule_id for f in analyze(transcript, PACK, direction, intents).findings if f.rule_id in RULES}
    return ran | {r.finding_id for r in PACK.custom_rules if not (r.active or active_only) and rule_findings(call, r)}


def test_every_rule_of_the_file_has_a_call_that_breaks_it():
    assert set(BREAKS) == set(RULES)


#: Whole-call requirements that the short calls above break by being short (no repeat-back
#: in them): each is tested on its own call and on the model call, not on the others'.
WHOLE_CALL = {"repeat_back"}


@pytest.mark.parametrize("rule_id", sorted(BREAKS))
def test_each_rule_hits_the_call_that_breaks_it_and_no_other_rule_does(rule_id):
    ignored = WHOLE_CALL - {rule_id}
    assert fired(BREAKS[rule_id], RULES[rule_id].direction or "inbound") - ignored == {rule_id} | WITH.get(rule_id, set())


@pytest.mark.parametrize("direction", ["inbound", "outbound"])
def test_a_call_of_the_standards_model_lines_breaks_no_rule(direction):
    # 001's open question (您能描述一下具体的情况吗) asks about the problem, not for the
    # customer's information: the repeat-back that follows owes no thanks (phrases.yaml courtesy)
    # an outbound call opens with its purpose and a time check instead of the offer (003 §三.5(4)1 B)
    lines = MODEL_CALL if direction == "inbound" else [OUTBOUND_OPEN, *MODEL_CALL[1:]]
    assert fired(lines, direction) == set()


SAMPLES = {p.stem: p for p in truth_files()}


@pytest.mark.parametrize("rule_id, call, line", [
    ("slow_for_details", "call05_fast_agent", "一共一千零八十元"),
])
def test_rules_hit_their_sample_lines(rule_id, call, line):
    if call not in SAMPLES:
        missing(f"no sample_audio/{call}.json")
    path = SAMPLES[call]
    truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
    transcript = Transcript(truth.call_id, truth.duration_s, truth.layout, truth.utterances)
    hits = rule_findings(Call(transcript, PACK), RULES[rule_id])
    assert RULES[rule_id].active and hits and any(line in f.text for f in hits)
    expected = {(f.rule_id, f.start_s) for f in truth.expected_findings}
    assert {(rule_id, f.start_s) for f in hits} <= expected
