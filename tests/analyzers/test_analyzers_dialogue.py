"""The standard's dialogue checks (issue 17 item 2) on hand-written transcripts.

complaint_apology_missing, confirmation_missing, followup_time_missing,
polite_request_missing, thanks_missing, reply_missing (pack rules in custom_rules.yaml); backchannels
as listening (analyzers.turns, analyzers.overtalk); hold_reason_missing (the pack's rule hold_reason);
third_party_blame, jargon and blame_shifting patterns (analyzers.banned).
"""

import pytest

from analyzers.analyze import analyze
from analyzers.banned import find_banned
from analyzers.rulelang.evaluate import pack_rule_findings
from analyzers.model import CATEGORIES, SpeechSpan
from analyzers.overtalk import overtalk_findings
from analyzers.turns import turns
from lexicons import load_pack
from transcripts import A, C, at, call, conversation, good_lines

PACK = load_pack()


def cats(t, *only):
    found = [f.category for f in analyze(t, PACK).findings]
    return [c for c in found if not only or c in only]


def test_new_categories_are_in_the_contract():
    assert {"complaint_apology_missing", "confirmation_missing", "followup_time_missing",
            "polite_request_missing", "thanks_missing", "reply_missing", "hold_reason_missing"} <= set(CATEGORIES)


def test_good_call_has_no_dialogue_finding():
    assert analyze(conversation(good_lines()), PACK).findings == ()


# --- complaint: apology first ------------------------------------------------------

def complaint(reply, upset="你们怎么回事，我的快递等了一个星期还没到！"):
    t = conversation([(A, "您好，客服小王为您服务。"), (C, upset), (A, reply), (C, "好吧。")])
    return pack_rule_findings(t, PACK, "apology_first")  # custom_rules.yaml


@pytest.mark.parametrize("reply", [
    "非常抱歉给您带来不好的体验，我马上帮您查。",
    "非常理解您的心情，给您造成困扰我们深感抱歉。",
    "先生，您先别着急，我这就帮您看一下。",
    "好的，对不起让您久等了，我帮您催一下。",
])
def test_acknowledged_complaint(reply):
    assert complaint(reply) == []


@pytest.mark.parametrize("reply", [
    "订单号是多少？",
    "请您提供一下订单号，我帮您查询一下物流信息，非常抱歉。",   # apology after the business
])
def test_complaint_without_apology_first(reply):
    (f,) = complaint(reply)
    assert (f.category, f.rule_id, f.severity) == ("complaint_apology_missing", "apology_first", "major")
    assert f.text == reply  # the agent's turn, quoted


@pytest.mark.parametrize("upset", ["太慢了，我要投诉你们。", "我很生气，这是什么质量。", "我着急用啊。"])
def test_complaint_cues_generalise(upset):
    assert len(complaint("好的，请您提供一下订单号。", upset)) == 1


@pytest.mark.parametrize("calm", ["我想查一下订单到哪儿了。", "不着急，你慢慢查。", "我没生气，就是问问。"])
def test_plain_question_is_no_complaint(calm):
    assert complaint("好的，请您提供一下订单号。", calm) == []


@pytest.mark.parametrize("defect", [
    "你好，我买的电水壶收到时外壳有裂缝，想问问怎么处理。",   # call07's line, said calmly
    "我上周买的吹风机坏了。", "收到的盘子碎了两个。", "洗衣机出故障了，想报修。",
])
def test_a_defect_report_wants_an_apology_first(defect):
    # 001 §3.2 场景一 opens 非常抱歉给您带来不好的体验; 000 §2.3 也应为客户的不佳体验道歉
    # (docs/sample-truth.md P1): a defect is a bad experience however calmly it is reported
    assert len(complaint("好的，我先帮您查一下订单，请问订单号是多少？", defect)) == 1
    assert complaint("非常抱歉给您带来不好的体验，请问订单号是多少？", defect) == []


@pytest.mark.parametrize("chasing", [
    "对，能不能快一点，我问了好几次了。",   # call11's line
    "我都催了三次了。", "我打了很多次电话了，一直没人管。", "能不能快点？",
])
def test_chasing_wants_an_apology_first(chasing):
    # 000 §2.3 当客户表达不满或抱怨时，首先要表示理解和歉意 (docs/sample-truth.md P2)
    assert len(complaint("我已经说过了，师傅明天上午会联系您。", chasing)) == 1
    assert complaint("不好意思让您久等了，师傅明天上午会联系您。", chasing) == []


@pytest.mark.parametrize("calm", ["我问了一下邻居，他也没收到。", "我用不了这么多流量。", "这个杯子没坏，就是想换个颜色。"])
def test_no_defect_and_no_chasing_is_no_complaint(calm):
    assert complaint("好的，请您提供一下订单号。", calm) == []


def test_reproaching_the_customer_is_a_finding():
    # 003 §三.5(4)4 A 禁止…埋怨、反驳、教训: call11's 我已经说过了 (docs/sample-truth.md P3)
    lines = good_lines()
    lines[4] = (A, "我已经说过了，" + lines[4][1])
    found = [(f.category, f.rule_id, f.severity) for f in analyze(conversation(lines), PACK).findings]
    assert found == [("pack_rule", "arguing", "major")]


# --- confirmation ------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "您是说购买的电饭煲出现了不加热的故障，对吗？",        # 001 §2.1
    "跟您确认一下，您的订单号是12345678，对吧？",
    "您的意思是想换一台新的。",
    "我复述一下，您要退的是这件衣服，是吗？",
    "您这个订单是要办理换货。",                          # the request restated, tag question or not
])
def test_confirmation_said(line):
    t = conversation([(A, "您好。"), (C, "我买的电饭煲不加热了，想换一台。"), (A, line), (C, "对。")])
    assert pack_rule_findings(t, PACK, "repeat_back") == []


def test_an_open_question_is_no_confirmation():
    t = conversation([(A, "您好。"), (C, "我买的电饭煲不加热了，想问一下怎么办。"), (A, "请问您是要办理什么业务？"),
                      (C, "换货。")])
    assert [f.category for f in pack_rule_findings(t, PACK, "repeat_back")] == ["confirmation_missing"]


def test_confirmation_missing_once_per_call():
    t = conversation([(A, "您好。"), (C, "我买的电饭煲不加热了，想换一台。"),
                      (A, "您这个话费一共是八十六元。"), (C, "好的。")])   # 是八 is no 是吧
    (f,) = pack_rule_findings(t, PACK, "repeat_back")
    assert (f.category, f.severity) == ("confirmation_missing", "minor")


def test_no_confirmation_needed_when_customer_said_nothing():
    assert pack_rule_findings(conversation([(A, "您好。"), (C, "嗯。")]), PACK, "repeat_back") == []


# --- follow-up with a time -----------------------------------------------------------

@pytest.mark.parametrize("line", [
    "我会在1小时内联系技术部门，给您回电说明进度。",          # 001 §2.1
    "我会立即将您的情况反馈给主管，10分钟内给您回复。",       # 001 §3.2 场景三
    "我们今天下班前给您回复。",
    "明天上午十点前会有人联系您。",
    "请问您什么时候方便，我们再与您联系。",                  # 003 §三.5(4)3 e: an appointment
    "有结果我们会第一时间联系您。",
    "三个工作日内给您答复。",
])
def test_promise_with_a_time(line):
    t = conversation([(A, "您好。"), (C, "我的问题什么时候能解决？"), (A, line)])
    assert pack_rule_findings(t, PACK, "followup_time") == []


@pytest.mark.parametrize("line", [
    "您好，我是售后服务中心的客服小王，今天给您打电话是想对您上周的维修做个回访。",  # outbound purpose
    "这次联系您主要是想核实一下您的收货地址。",
    "打电话给您是想问一下空调安装得怎么样。",
])
def test_a_sentence_about_this_call_is_no_promise(line):
    t = conversation([(A, line), (C, "好的，你说吧。"), (A, "好的，谢谢您。")])
    assert pack_rule_findings(t, PACK, "followup_time") == []


@pytest.mark.parametrize("line", ["我们会尽快处理。", "处理好了我们会给您回电。", "到时候会有人联系您的。",
                                  "这次给您打电话是想回访一下。我们会再给您打电话的。"])
def test_promise_without_a_time(line):
    t = conversation([(A, "您好。"), (C, "我的问题什么时候能解决？"), (A, line)])
    (f,) = pack_rule_findings(t, PACK, "followup_time")
    assert (f.category, f.rule_id) == ("followup_time_missing", "followup_time")


# --- 礼貌用语 --------------------------------------------------------------------------

@pytest.mark.parametrize("line, missing", [
    ("请您提供一下订单号。", False),
    ("麻烦您告诉我您的手机号。", False),
    ("您能具体描述一下遇到的情况吗？", False),          # 000 §2.1
    ("订单号是多少？", True),
    ("提供一下您的手机号。", True),
    ("你说一下地址。", True),
    ("我跟您说一下退货的流程。", False),                # the agent explaining, not asking
])
def test_polite_request(line, missing):
    found = pack_rule_findings(call(at(A, 0.0, 3.0, line)), PACK, "polite_request")  # custom_rules.yaml
    assert [f.category for f in found] == (["polite_request_missing"] if missing else [])


def test_thanks_after_the_customer_provides():
    lines = [(A, "麻烦您提供一下订单号。"), (C, "12345678。"), (A, "好的，我帮您查一下。")]
    (f,) = pack_rule_findings(conversation(lines), PACK, "thanks_for_help")
    assert (f.category, f.rule_id) == ("thanks_missing", "thanks_for_help") and f.text == "好的，我帮您查一下。"
    lines[-1] = (A, "好的，谢谢您，我帮您查一下。")
    assert pack_rule_findings(conversation(lines), PACK, "thanks_for_help") == []


def test_reply_to_thanks_or_apology():
    for said, reply, missing in [("谢谢你。", "不客气，还有其他问题吗？", False),
                                 ("不好意思，我刚才说错了。", "没关系。", False),
                                 ("谢谢。", "也谢谢您的来电。", False),
                                 ("谢谢。", "请问还有什么可以帮您的吗？", True),
                                 ("不好意思啊。", "您的订单已经发货了。", True)]:
        t = conversation([(A, "已经处理好了。"), (C, said), (A, reply)])
        found = pack_rule_findings(t, PACK, "reply_to_thanks")
        assert [f.category for f in found] == (["reply_missing"] if missing else []), (said, reply)


# --- holds: a reason for a long wait ---------------------------------------------------

@pytest.mark.parametrize("notice, hold_s, expected", [
    ("请稍等。", 8.0, ["hold"]),                                             # short: 请稍等 is enough
    ("请稍等。", 20.0, ["hold", "hold_reason_missing"]),
    ("请稍等，查询需要一定的时间。", 20.0, ["hold"]),                          # 003 §四.2(1)3
    ("好的，请您稍等，我帮您核实一下。", 20.0, ["hold"]),
])
def test_hold_reason(notice, hold_s, expected):
    t = call(at(A, 0.0, 3.0, notice), at(A, 3.0 + hold_s, 6.0 + hold_s, "让您久等了。"))
    found = [f for r in ("hold", "hold_notice", "hold_reason", "hold_apology") for f in pack_rule_findings(t, PACK, r)]
    assert [f.category for f in found] == expected
    assert all(f.severity == "info" for f in found)


# --- backchannels: listening, not overtalk ---------------------------------------------

def test_backchannel_over_the_customer_is_listening():
    t = call(at(C, 0.0, 8.0, "我那个订单上周就下了，到现在也没有发货，我想问一下怎么回事。"),
             at(A, 3.0, 3.6, "嗯。"), at(A, 5.0, 6.0, "是的。"),
             at(A, 8.5, 12.0, "非常抱歉，我马上帮您查一下。"))
    assert overtalk_findings(t, PACK.overtalk) == []
    # ... and does not end the customer's turn: the apology still answers the complaint.
    assert [x.speaker for x in turns(t, PACK.overtalk)] == [C, A]
    assert pack_rule_findings(t, PACK, "apology_first") == []


def test_long_or_wordy_agent_speech_over_the_customer_is_overtalk():
    long_bc = call(at(C, 0.0, 8.0, "我那个订单上周就下了。"), at(A, 3.0, 5.0, "嗯嗯，是的。"))
    words = call(at(C, 0.0, 8.0, "我那个订单上周就下了。"), at(A, 3.0, 4.0, "订单号？"))
    assert [f.category for f in overtalk_findings(long_bc, PACK.overtalk)] == ["overtalk"]
    assert [f.category for f in overtalk_findings(words, PACK.overtalk)] == ["overtalk"]


def test_short_agent_sound_with_no_words_over_the_customer_is_listening():
    spans = (SpeechSpan(C, 0.0, 8.0), SpeechSpan(A, 3.0, 3.8))
    t = call(at(C, 0.0, 8.0, "我那个订单上周就下了。"), spans=spans)
    assert overtalk_findings(t, PACK.overtalk) == []


# --- banned: third-party blame, jargon, blame-shifting as patterns -----------------------

@pytest.mark.parametrize("text, rule_id", [
    ("这是快递公司的问题。", "third_party_blame"),
    ("是物流那边的问题，您等等吧。", "third_party_blame"),
    ("这个跟我们没关系。", "third_party_blame"),
    ("这个和我们公司没有关系。", "third_party_blame"),
    ("这个不归我们管。", "third_party_blame"),
    ("您去找快递吧。", "third_party_blame"),
    ("我们这边后台显示已经发货了。", "jargon"),
    ("系统出现了BUG。", "jargon"),
    ("接口报错了。", "jargon"),
    ("产品本身没问题。", "blame_shifting"),
    ("肯定是您操作不当。", "blame_shifting"),
    ("是你自己弄坏的。", "blame_shifting"),
])
def test_banned_patterns(text, rule_id):
    assert rule_id in [h.entry.id for h in find_banned(text, PACK.banned)]


@pytest.mark.parametrize("text", [
    "目前快递因天气原因延误，我已联系快递公司优先处理。",    # 001 §3.2 场景二: explaining is not blame
    "我已经联系快递员，今天下午给您送到。",
    "没关系，您慢慢说。",
    "这不是借口，我们一定给您处理好。",                    # 借口 sounds like 接口
    "程序暂时出现了一点小问题。",                          # 001 §2.1's plain words
    "如果您使用时遇到问题，可以随时联系我们。",
])
def test_banned_patterns_leave_ordinary_speech(text):
    assert [h.entry.id for h in find_banned(text, PACK.banned)] == []


def test_jargon_note_gives_the_plain_words():
    jargon = next(e for e in PACK.banned if e.id == "jargon")
    assert "程序暂时出现了一点小问题" in jargon.note
