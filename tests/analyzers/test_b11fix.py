"""b11fix (issue 31, round 12 from blind11): hand-written transcripts, hits and near misses, none a blind11 line."""

import pytest

from raised import agent_says, rules_raised
from transcripts import A, C


# --- closing_travel: away NOW (003 §三.(4)3 D d 出门在外), the wish in its family -----------------------------------

@pytest.mark.parametrize("told", ["我前天那趟高铁晚点了，在车站等了四个钟头，你们得给个说法。",
                                  "上个月在国外刷卡被多扣了一笔钱。", "去年在度假村订的房到现在还没退款。"])
def test_closing_travel_a_past_trip_is_no_trigger(told):
    assert "closing_travel" not in rules_raised([(C, told), (A, "非常抱歉，已经给您登记了，感谢您的来电，再见。")])


@pytest.mark.parametrize("told", ["我昨天到的昆明，现在还在机场等行李。", "我人在外地出差，卡刷不了。", "我这会儿在火车上，信号不太好。"])
def test_closing_travel_away_now_still_asks_the_wish(told):
    assert "closing_travel" in rules_raised([(C, told), (A, "好的，已经帮您处理了，感谢您的来电，再见。")])


@pytest.mark.parametrize("wish", ["祝您出差一路顺利，再见。", "祝您一切顺利，再见。", "那您路上注意安全，再见。", "祝您路上平安，再见。"])
def test_closing_travel_the_wish_in_other_words(wish):
    assert "closing_travel" not in rules_raised([(C, "我在高铁上呢，信号不好。"), (A, "好的，已经改好了。"), (A, wish)])


def test_closing_travel_a_wish_without_the_journey_is_none():
    assert "closing_travel" in rules_raised([(C, "我在高铁上呢，信号不好。"), (A, "好的，祝您生活愉快，再见。")])


# --- transfer_notice: a suggestion passed on is no call handed on (002 转接) --------------------------------------

@pytest.mark.parametrize("said", ["小区门口装减速带的意见我记下了，转给交通部门。", "感谢您的宝贵建议，我们会转交给产品部门研究。"])
def test_transfer_notice_a_suggestion_passed_on(said):
    assert "transfer_notice" not in agent_says(said)


@pytest.mark.parametrize("said", ["我帮您转接到售后。", "这个意见挺好，不过得主管定，我现在给您转过去。"])
def test_transfer_notice_the_call_handed_on_still_needs_the_notice(said):
    assert "transfer_notice" in agent_says(said)


# --- polite_request: advice for later; a bare request named by its digits (003 §四.2(1)3) ------------------------

@pytest.mark.parametrize("said", ["如果以后还是扣错了，您再打过来说一下手机号。", "万一明天快递没到，您及时告诉我们单号。"])
def test_polite_request_advice_for_later(said):
    assert "polite_request" not in agent_says(said)


@pytest.mark.parametrize("said", ["身份证后六位说一下。", "卡号后四位报一下。", "要是有订单号的话，订单号报一下。"])
def test_polite_request_bare_request_now(said):
    assert "polite_request" in agent_says(said)


def test_thanks_for_help_after_a_bare_request_by_its_digits():
    assert "thanks_for_help" in rules_raised([(A, "卡号后四位说一下。"), (C, "五二八一。"), (A, "查到了，您这张卡是冻结状态。")])
    assert "thanks_for_help" not in rules_raised([(A, "卡号后四位说一下。"), (C, "五二八一。"), (A, "好的谢谢，查到了。")])


# --- reply_to_thanks: the thanks waved off in other words (003 §四.2(1)3 ✓3) ---------------------------------------

@pytest.mark.parametrize("reply", ["应当的，您慢走。", "小意思，您收好短信。", "哪里的话，您别放在心上。", "这是我们该做的。"])
def test_reply_to_thanks_other_words(reply):
    assert "reply_to_thanks" not in rules_raised([(C, "太谢谢你了。"), (A, reply)])


@pytest.mark.parametrize("reply", ["那里的营业厅周日不开门。", "您该做的是先把卡挂失。"])
def test_reply_to_thanks_near_misses_still_flagged(reply):
    assert "reply_to_thanks" in rules_raised([(C, "谢谢啊。"), (A, reply)])


# --- followup_time: the call itself named a 回访 (003 §四.2(2)3 A) -----------------------------------------------

def test_followup_time_the_call_is_the_visit():
    said = "张先生您好，我是客服小周，想就您上个月的维修做个简短回访，您现在方便吗？"
    assert "followup_time" not in rules_raised([(A, said), (C, "方便。")], direction="outbound")


def test_followup_time_a_visit_promised_later_still_needs_a_time():
    assert "followup_time" in agent_says("我们后面会给您做个回访，您等通知就行。")


# --- outbound_purpose: the customer's own call returned -------------------------------------------------------

def test_outbound_purpose_a_callback_names_the_reason():
    lines = [(A, "您好，请问是陈先生吗？"), (C, "是我。"),
             (A, "陈先生您好，我是客服小林，您上午来电说燃气表不走字，现在给您回个电话，您这会儿方便吗？"), (C, "方便，你说。")]
    assert "outbound_purpose" not in rules_raised(lines, direction="outbound")


# --- jargon: the back office's people acting there (001 §2.1 第二步) ----------------------------------------------

@pytest.mark.parametrize("said", ["这个需要技术部的同事在后台重新开通。", "我们这边在后台处理好了再通知您。"])
def test_jargon_people_acting_in_the_back_office(said):
    assert "jargon" not in agent_says(said)


@pytest.mark.parametrize("said", ["系统在后台检测到您的登录异常。", "后台显示您的订单同步失败。"])
def test_jargon_the_system_still_jargon(said):
    assert "jargon" in agent_says(said)


# --- satisfaction_check: the customer's mind at rest, asked (000 §3.1) --------------------------------------------

@pytest.mark.parametrize("asked", ["这么安排您这边还放心吗？", "这样处理您心里踏实了吧？"])
def test_satisfaction_peace_of_mind_asked(asked):
    lines = [(C, "我家停电了，老人在家。"), (A, "师傅四十分钟内到。"), (A, asked), (C, "行。"), (A, "感谢您的来电，再见。")]
    assert "satisfaction_check" not in rules_raised(lines)


def test_satisfaction_peace_of_mind_told_is_no_question():
    lines = [(C, "我家停电了，老人在家。"), (A, "师傅四十分钟内到，这样处理您就放心吧。"), (C, "行。"), (A, "感谢您的来电，再见。")]
    assert "satisfaction_check" in rules_raised(lines)


# --- apology_first: the customer's feeling named as certain (003 §四.2(2)4 先处理客户情绪) ----------------------------

COMPLAINT = "你们怎么回事，热水器装了一个礼拜就坏了，我要投诉！"


@pytest.mark.parametrize("said", ["装了一个礼拜就坏，您肯定挺窝火的。请问您的安装单号是？", "这事搁谁碰上都确实着急，请问您的安装单号是？"])
def test_apology_first_the_feeling_named(said):
    assert "apology_first" not in rules_raised([(C, COMPLAINT), (A, said)])


@pytest.mark.parametrize("said", ["这个确实很麻烦，请问您的安装单号是？", "师傅肯定能修好，请问您的安装单号是？"])
def test_apology_first_a_fact_judged_is_no_acknowledgement(said):
    assert "apology_first" in rules_raised([(C, COMPLAINT), (A, said)])


# --- outbound_time_check: 方便 asked with a bare 不 (003 §三.5(4)1 B) -----------------------------------------------

def test_outbound_time_check_bare_bu():
    opening = [(A, "您好，请问是王先生吗？"), (C, "是我。")]
    asked = opening + [(A, "王先生您好，我是燃气公司的小李，打电话是想约个安检时间，现在跟您说两句方便不？"), (C, "你说。")]
    told = opening + [(A, "王先生您好，我是燃气公司的小李，打电话是想约个安检时间，方便不方便都得约。"), (C, "哦。")]
    assert "outbound_time_check" not in rules_raised(asked, direction="outbound")
    assert "outbound_time_check" in rules_raised(told, direction="outbound")
