"""Every model line of the service standard passes the check it is a model for.

The standard is ../shared/standard/ (five documents); each test names the document's
file and section its lines come from. A model line must give no finding of its kind:
the standard's own script cannot be a violation of the standard.
"""

import pytest

from analyzers.banned import find_banned
from analyzers.analyze import analyze
from analyzers.rulelang.evaluate import pack_rule_findings
from lexicons import load_pack
from transcripts import A, C, at, call, conversation, say

PACK = load_pack()

D000 = "000_750d97d4dd0c10a2.txt"   # 职业化客户服务标准操作流程
D001 = "001_97fae5e580a88b4e.txt"   # 售后客服人员培训手册
D003 = "003_88c473ecd290393c.txt"   # 客服部的服务体系建设
D004 = "004_81634d338f4b3155.txt"   # 配送售后的服务标准管理

STANDARD_GREETING = "您好，很高兴为您服务，我是XX公司的客服代表XXX，请问有什么可以帮到您？"   # 000 §2.1
STANDARD_CHECK = "这样处理您是否满意？"                                               # 001 §3.1 step 5
STANDARD_CLOSING = "感谢您的理解，有任何问题随时欢迎致电。"                                # 001 §3.1 step 6


def _greeting(text):
    a = analyze(call(at(A, 0.0, 5.0, text), at(C, 5.5, 8.0, "你好。")), PACK)
    return a.greeting_ok, [f for f in a.findings if f.category == "greeting_missing"]


def _closing(lines):
    body = [(A, STANDARD_GREETING), (C, "我的订单还没到。"), (A, "已经帮您催促了，明天上午送到。")]
    a = analyze(conversation(body + lines), PACK)
    return a.closing_ok, [f for f in a.findings if f.category == "closing_missing"]


# --- greeting -------------------------------------------------------------------

@pytest.mark.parametrize("doc, line", [
    (D000, "您好，很高兴为您服务，我是XX公司的客服代表XXX，请问有什么可以帮到您？"),   # §2.1 规范接待
    # 000 §2.1 "清晰报出身份或部门": by department (issue 17: 这里是…中心 / …客服)
    (D000, "您好，这里是售后服务中心，很高兴为您服务，请问有什么可以帮到您？"),
    (D000, "您好，XX商城客服，很高兴为您服务，请问有什么可以帮您？"),
    (D000, "您好，工号1023为您服务，请问有什么可以帮您？"),
    (D000, "您好，很高兴为您服务，我是客服小李，工号一零二三，请问有什么需要帮助？"),
])
def test_greeting_model_lines(doc, line):
    assert _greeting(line) == (True, []), doc


def test_001_greeting_line_has_hello_and_offer_but_no_identity():
    # 001 §3.1 step 1 问候开场: "您好，很高兴为您服务，请问有什么可以帮到您？" names no one;
    # 000 §2.1 asks for 身份或部门 as well. The two documents differ: the identity is
    # still asked for, as a minor finding, while hello and service offer pass.
    ok, found = _greeting("您好，很高兴为您服务，请问有什么可以帮到您？")
    assert [(f.rule_id, f.severity) for f in found] == [("self_identification", "minor")], D001


@pytest.mark.parametrize("heard", [
    "您好，很高兴为您服务，我是客服小李，请问我什么可以帮到您？",   # whisper: 有 -> 我
    "您好，很高兴为您服务，我是客服小李，请问有什么可谓",           # whisper: 可以帮到您 -> 可谓
    "您好，我是客服小李，请问有什么可谓",                         # ... and no 为您服务 either
    "你好，很高兴为你服务，我是客服小李，请问有什么可以帮到你？",    # whisper writes 你 for 您
])
def test_one_asr_slip_keeps_the_greeting_allowed(heard):
    # 000 §2.1's greeting as whisper writes it: neither a missing greeting nor banned 什么.
    assert _greeting(heard) == (True, []), D000
    assert find_banned(heard, PACK.banned) == [], D000


# --- satisfaction / resolution check --------------------------------------------

@pytest.mark.parametrize("doc, line", [
    (D001, "这样处理您是否满意？"),                 # §3.1 step 5 满意度确认
    (D000, "请问您的问题解决了吗？"),               # §3.1 服务确认: 确认问题是否得到解决
    (D000, "请问您的需求是否得到满足，问题是否得到解决？"),
    (D004, "请问您对这个处理结果满意吗？"),          # 解决问题后确认满意度
    (D001, "您看这样处理可以吗？"),
])
def test_satisfaction_check_model_lines(doc, line):
    ok, found = _closing([(A, line), (C, "满意，谢谢。"), (A, STANDARD_CLOSING)])
    assert [f.rule_id for f in found if f.rule_id == "satisfaction_check"] == [], doc


@pytest.mark.parametrize("line", ["请问您对我的服务满意吗？", "请问您对我的服务买一帽", "请问您对我们的处理还满意吗？"])
def test_asking_the_customers_view_of_this_service_is_a_satisfaction_check(line):
    # the question's frame (请问您对…服务) carries it when whisper mishears its last word (买一帽)
    ok, found = _closing([(A, line), (C, "满意，谢谢。"), (A, STANDARD_CLOSING)])
    assert [f.rule_id for f in found if f.rule_id == "satisfaction_check"] == [], D001
    ok, found = _closing([(A, "感谢您对我们服务的支持。"), (C, "好的。"), (A, STANDARD_CLOSING)])
    assert [f.rule_id for f in found if f.rule_id == "satisfaction_check"] == ["satisfaction_check"]


@pytest.mark.parametrize("line", [
    "请问还有其他可以帮您的吗？",       # 003 §三.5(4)3 e B: 有我需要记录或帮助的吗 (after a refused appointment)
    "请问还有什么需要我帮您记录的吗？",
    "请问您还有其他需要帮助的吗？",     # call11's line (docs/sample-truth.md P4)
])
def test_asking_for_other_needs_is_no_satisfaction_check(line):
    # 001 §3.1 step 5 asks whether *this* matter is settled (这样处理您是否满意), a step of its
    # own before step 6's goodbye; asking for other needs does not answer it.
    ok, found = _closing([(A, line), (C, "没有了，谢谢。"), (A, STANDARD_CLOSING)])
    assert [f.rule_id for f in found] == ["satisfaction_check"], D001


# --- closing ----------------------------------------------------------------------

@pytest.mark.parametrize("doc, line", [
    (D003, "感谢您对xx的支持，祝您愉快，再见！"),                                               # §三.5(4)3 A
    (D003, "谢谢您对我们工作的支持，如有任何疑问，欢迎您随时与我们联系，我们将竭诚为您服务。"),      # B 客户异议
    (D003, "非常感谢您对我们的关注，谢谢您提供的宝贵建议/意见，我们会在工作中不断完善我们的服务。"),  # C 客户建议
    (D003, "感谢您对xx的支持，祝您生日快乐！"),                                                 # D a) 客户生日
    (D003, "感谢您对xx的支持，祝您一路平安！"),                                                 # D b) 开车
    (D003, "感谢您对xx的支持，祝您早日康复！"),                                                 # D c) 身体不适
    (D003, "感谢您对xx的支持，祝您旅途愉快！"),                                                 # D d) 出门在外
    (D001, "感谢您的理解，有任何问题随时欢迎致电。"),                                            # §3.1 step 6 结束道别
    (D001, "谢谢您的来电，欢迎您再次来电，再见。"),
])
def test_closing_model_lines(doc, line):
    ok, found = _closing([(A, STANDARD_CHECK), (C, "满意，谢谢。"), (A, line)])
    assert (ok, found) == (True, []), doc


def test_closing_needs_thanks_and_a_farewell():
    ok, found = _closing([(A, STANDARD_CHECK), (C, "满意。"), (A, "祝您愉快。")])
    assert [f.rule_id for f in found] == ["thanks_goodbye"], D003
    ok, found = _closing([(A, STANDARD_CHECK), (C, "满意。"), (A, "谢谢。")])
    assert [f.rule_id for f in found] == ["thanks_goodbye"], D003


# --- hold wording -------------------------------------------------------------------

@pytest.mark.parametrize("notice, back", [
    ("请稍等！", "对不起，让您久等了。"),                 # 003 §四.2(1)3
    ("请稍等，查询需要一定的时间。", "谢谢您的等待。"),
])
def test_hold_model_lines(notice, back):
    t = call(at(A, 0.0, 3.0, notice), at(A, 12.0, 15.0, back), at(C, 15.5, 17.0, "好的。"))
    found = [f for r in ("hold", "hold_notice", "hold_reason", "hold_apology") for f in pack_rule_findings(t, PACK, r)]
    assert [f.category for f in found] == ["hold"], D003


# --- no model line is a banned phrase -------------------------------------------------

MODEL_LINES = [
    (D000, "您好，很高兴为您服务，我是XX公司的客服代表XXX，请问有什么可以帮到您？"),
    (D000, "嗯，我明白了。"),
    (D000, "您是说……对吗？"),
    (D000, "您能具体描述一下遇到的情况吗？"),
    (D000, "除了这个方面，您还有其他的考虑吗？"),
    (D000, "非常理解您遇到这个问题时的心情，给您带来不便，我深感抱歉。"),
    (D001, "我明白等待快递延误时的焦急，换作是我也会希望尽快得到解释。"),
    (D001, "您是说购买的XX产品出现了XX故障，对吗？"),
    (D001, "程序暂时出现了一点小问题。"),
    (D001, "我会在1小时内联系技术部门，给您回电说明进度。"),
    (D001, "您的问题我已经记录清楚，现在我们一起看看怎么解决。"),
    (D001, "您好，很高兴为您服务，请问有什么可以帮到您？"),
    (D001, "您能描述一下具体的情况吗？"),
    (D001, "故障是在使用XX功能时出现的吗？"),
    (D001, "您可以选择换货或申请退款，两种方式都无需额外费用。"),
    (D001, "这样处理您是否满意？"),
    (D001, "感谢您的理解，有任何问题随时欢迎致电。"),
    (D001, "非常抱歉给您带来不好的体验。请您提供订单号和问题照片，我们将为您安排免费退换货，运费由我们承担。"),
    (D001, "您反馈的物流问题我已经查到，目前快递因XX原因延误，我已联系快递公司优先处理，预计今天内会送达，稍后给您发送物流更新短信。"),
    (D001, "非常理解您的心情，给您造成困扰我们深感抱歉。"),
    (D001, "我会立即将您的情况反馈给主管，10分钟内给您回复。"),
    (D001, "先生，您先别着急，产品刚买就出问题，换作是我也会着急。"),
    (D003, "感谢您对xx的支持，祝您愉快，再见！"),
    (D003, "谢谢您对我们工作的支持，如有任何疑问，欢迎您随时与我们联系，我们将竭诚为您服务。"),
    (D003, "非常感谢您对我们的关注，谢谢您提供的宝贵建议/意见，我们会在工作中不断完善我们的服务。"),
    (D003, "对不起，打扰您了，请问先生/女士什么时候方便/有空我们再与您联系。"),
    (D003, "非常抱歉打扰您了，如果您不需要此项服务，那么请问您是否对我公司其他业务感兴趣？"),
    (D003, "有我需要记录或帮助的吗？"),
    (D003, "请稍等，查询需要一定的时间。"),
    (D003, "对不起，让您久等了。"),
    (D003, "谢谢您的等待。"),
    (D004, "我公司理解您的困扰，感谢您的耐心。"),
]


@pytest.mark.parametrize("doc, line", MODEL_LINES)
def test_no_model_line_is_a_banned_phrase(doc, line):
    assert [(h.entry.id, h.phrase) for h in find_banned(line, PACK.banned)] == [], doc


# --- item 2's checks: the standard's own lines pass them --------------------------------

@pytest.mark.parametrize("doc, line", [
    (D001, "非常理解您的心情，给您造成困扰我们深感抱歉。"),                           # §3.2 场景三 立即致歉
    (D001, "非常抱歉给您带来不好的体验。请您提供订单号和问题照片。"),                   # §3.2 场景一
    (D001, "先生，您先别着急，产品刚买就出问题，换作是我也会着急。"),                   # §4.1 情绪安抚
    (D001, "我明白等待快递延误时的焦急，换作是我也会希望尽快得到解释。"),               # §1.2 同理心
    (D000, "非常理解您遇到这个问题时的心情，给您带来不便，我深感抱歉。"),               # §2.3
    (D004, "我公司理解您的困扰，感谢您的耐心。"),                                    # 情绪管理与客户关怀
])
def test_complaint_model_lines(doc, line):
    from analyzers.rulelang.evaluate import pack_rule_findings
    t = conversation([(A, STANDARD_GREETING), (C, "你们怎么回事，东西用了三天就坏了，我要投诉！"), (A, line)])
    assert pack_rule_findings(t, PACK, "apology_first") == [], doc  # custom_rules.yaml


@pytest.mark.parametrize("doc, line", [
    (D001, "您是说购买的XX产品出现了XX故障，对吗？"),      # §2.1 复述确认
    (D000, "您是说……对吗？"),                            # §2.1 有效倾听
])
def test_confirmation_model_lines(doc, line):
    from analyzers.rulelang.evaluate import pack_rule_findings
    t = conversation([(A, STANDARD_GREETING), (C, "我买的东西用了三天就坏了。"), (A, line), (C, "对。")])
    assert pack_rule_findings(t, PACK, "repeat_back") == [], doc  # custom_rules.yaml


@pytest.mark.parametrize("doc, line", [
    (D001, "我会在1小时内联系技术部门，给您回电说明进度。"),                          # §2.1 即时响应
    (D001, "我会立即将您的情况反馈给主管，10分钟内给您回复。"),                       # §3.2 场景三
    (D001, "我已联系快递公司优先处理，预计今天内会送达，稍后给您发送物流更新短信。"),    # §3.2 场景二
    (D003, "对不起，打扰您了，请问先生什么时候方便我们再与您联系。"),                  # §三.5(4)3 e
])
def test_followup_model_lines(doc, line):
    from analyzers.rulelang.evaluate import pack_rule_findings
    t = conversation([(A, STANDARD_GREETING), (C, "那什么时候能给我结果？"), (A, line)])
    assert pack_rule_findings(t, PACK, "followup_time") == [], doc  # custom_rules.yaml


@pytest.mark.parametrize("doc, line", [
    (D001, "请您提供订单号和问题照片。"),          # §3.2 场景一
    (D001, "您能描述一下具体的情况吗？"),          # §3.1 step 2
    (D000, "您能具体描述一下遇到的情况吗？"),      # §2.1 需求澄清
])
def test_polite_request_model_lines(doc, line):
    from analyzers.rulelang.evaluate import pack_rule_findings
    assert pack_rule_findings(call(at(A, 0.0, 4.0, line)), PACK, "polite_request") == [], doc


def test_a_call_scripted_from_the_standard_has_no_finding():
    # 001 §3.1's six steps with 000/001/003 wording: greeting with department, complaint
    # apology, polite request, thanks, repeat-back, hold with reason and apology,
    # follow-up with a time, satisfaction check, reply to thanks, 001's closing.
    script = [
        (A, "您好，这里是售后服务中心，很高兴为您服务，请问有什么可以帮到您？"),
        (C, "你们怎么回事，电饭煲用了三天就坏了！"),
        (A, "非常理解您的心情，给您造成困扰我们深感抱歉。麻烦您提供一下订单号。"),
        (C, "订单号是33578201。"),
        (A, "谢谢您。您是说订单33578201的电饭煲出现了故障，对吗？"),
        (C, "对，就是这样。"),
        (A, "请稍等，查询需要一定的时间。"),
        "hold",
        (A, "对不起，让您久等了。我会立即反馈给主管，10分钟内给您回复。"),
        (C, "好的，谢谢。"),
        (A, "不客气。这样处理您是否满意？"),
        (C, "满意。"),
        (A, "感谢您的理解，有任何问题随时欢迎致电。"),
    ]
    utts, t_s = [], 0.5
    for line in script:
        if line == "hold":
            t_s += 12.0
            continue
        utts.append(say(line[0], t_s, line[1], 165.0))
        t_s = utts[-1].end_s + 0.6
    t = call(*utts)
    a = __import__("analyzers.analyze", fromlist=["analyze"]).analyze(t, PACK)
    assert [f.category for f in a.findings] == ["hold"], (D000, D001, D003)
    # ... and grades A on the standard's scorecard (003 §四), unflagged.
    assert a.grade == "A" and a.score == 100 and not a.flagged and a.flag_reasons == ()
    assert all(i.grade == "A" for i in a.items if i.automatic)
