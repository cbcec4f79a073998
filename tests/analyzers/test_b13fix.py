"""b13fix (issue 31, round 14 from blind12 and blind13): hand-written transcripts, hits and near misses, none a blind line."""

import pytest

from raised import agent_says, rules_raised
from transcripts import A, C

_BYE = "好的，已经帮您处理了，感谢您的来电，再见。"


# --- closing_illness: unwell NOW (003 §三.(4)3 D c 身体不适/在就医), not a past stay told as a claim or bill -------------

@pytest.mark.parametrize("told", ["我上上周住院割了个胆囊，报销的钱到现在还没到。", "前几天在医院做手术的费用清单能寄给我吗？",
                                  "住院押金退款怎么还没到账？", "我想问下住院津贴怎么申请。"])
def test_closing_illness_a_past_stay_or_a_claim_is_no_trigger(told):
    assert "closing_illness" not in rules_raised([(C, told), (A, _BYE)])


@pytest.mark.parametrize("told", ["我前天做的手术，现在还在住院，材料能晚点交吗？", "我这两天住院呢，保单的事下周再说。",
                                  "我发着高烧呢，你长话短说。"])
def test_closing_illness_unwell_now_still_asks_the_wish(told):
    assert "closing_illness" in rules_raised([(C, told), (A, _BYE)])


# --- followup_time: the time a turn later, asked in other words, a month, a past promise kept (000 §2.2) -------------

def test_followup_time_the_time_given_in_a_later_turn():
    call = [(A, "行，这事我来跟进。"), (C, "好。"), (A, "单号是多少？"), (C, "七七八八。"), (A, "明天上午十点前给您回电话。")]
    assert "followup_time" not in rules_raised(call)


def test_followup_time_no_time_in_the_next_turns_still_counts():
    call = [(A, "行，这事我来跟进。"), (C, "好。"), (A, "单号是多少？"), (C, "七七八八。"), (A, "好的，已经记下了。"),
            (C, "嗯。"), (A, "还有别的吗？"), (C, "没了。"), (A, "明天上午十点前给您回电话。")]
    assert "followup_time" in rules_raised(call)


@pytest.mark.parametrize("later", ["有结果了我第一时间通知您。", "处理完以后马上给您回电。"])
def test_followup_time_a_later_time_that_waits_on_the_work_is_none(later):
    assert "followup_time" in rules_raised([(A, "我报给技术部，这事我来跟进。"), (C, "要多久？"), (A, later)])


@pytest.mark.parametrize("said", ["那您看哪天有空，我们再跟您联系。", "您啥时候方便，我再给您打过去。", "您看几点合适，我给您回电。",
                                  "哪个时间方便，我们再联系您？"])
def test_followup_time_asking_when_in_other_words(said):
    assert "followup_time" not in agent_says(said)


@pytest.mark.parametrize("said", ["您看哪天送都行，师傅会联系您。", "有空的话我们再联系您。"])
def test_followup_time_no_question_of_when_still_counts(said):
    assert "followup_time" in agent_says(said)


@pytest.mark.parametrize("said", ["新政策五月份出来，到时候再跟您联系。", "月底前给您答复。", "下个月初会有专人联系您。", "三个月内给您答复。"])
def test_followup_time_a_month_is_a_bound(said):
    assert "followup_time" not in agent_says(said)


@pytest.mark.parametrize("said", ["您上个月的工单我们会尽快给您答复。", "上个月底的账单我们核实后通知您。"])
def test_followup_time_a_past_month_is_no_bound(said):
    assert "followup_time" in agent_says(said)


@pytest.mark.parametrize("said", ["您好，我是客服小赵，前天答应给您回电话说补卡的进度，您现在方便吗？",
                                  "您好，上次说好跟您联系确认送装时间，现在说话方便吗？"])
def test_followup_time_a_past_promise_kept_by_this_call(said):
    assert "followup_time" not in rules_raised([(A, said), (C, "方便。")], direction="outbound")


def test_followup_time_this_call_with_jiushi():
    said = "王先生您好，我是电信的小赵，给您打电话就是想问问您要不要升级宽带，您现在方便吗？"
    assert "followup_time" not in rules_raised([(A, said), (C, "方便。")], direction="outbound")


def test_satisfaction_check_not_owed_for_a_revisit_title_or_a_later_revisit():
    offer = [(A, "您好，请问是周先生吗？"), (C, "是我。"), (A, "周先生您好，我是电信的回访专员小林，给您打电话是想介绍一下提速活动，您现在方便吗？"),
             (C, "方便。"), (A, "三百兆一个月九十九，您看要不要办？"), (C, "办吧。"),
             (A, "好的，已经登记了，装好以后会有同事给您回访，感谢您的接听，再见。")]
    assert "satisfaction_check" not in rules_raised(offer, direction="outbound")


def test_followup_time_a_promise_made_now_still_counts():
    assert "followup_time" in agent_says("我答应您，处理好了就给您回电话。")


# --- satisfaction_check: inbound calls and the outbound 回访 (001 §3.1 第五步, §2.1 跟进到底; 000 §3.1) ---------------

_OFFER = [(A, "您好，请问是周先生吗？"), (C, "是我。"), (A, "周先生您好，我是电信的小林，给您打电话是想介绍一下新出的宽带套餐，您现在方便吗？"),
          (C, "方便，你说。"), (A, "三百兆一个月九十九，您看要不要办？"), (C, "行，办一个吧。"), (A, "好的，已经给您登记了，感谢您的接听，再见。")]
_REVISIT = [(A, "您好，请问是周先生吗？"), (C, "是我。"), (A, "周先生您好，我是电信的小林，给您做个装机回访，您现在方便吗？"),
            (C, "方便，你说。"), (A, "师傅上周装的宽带，现在网速正常吧？"), (C, "正常。"), (A, "好的，感谢您的接听，再见。")]


def test_satisfaction_check_not_owed_on_an_outbound_offer():
    assert "satisfaction_check" not in rules_raised(_OFFER, direction="outbound")


def test_satisfaction_check_owed_on_an_outbound_revisit():
    assert "satisfaction_check" in rules_raised(_REVISIT, direction="outbound")
    asked = _REVISIT[:4] + [(A, "师傅上周装的宽带，您用着还满意吗？")] + _REVISIT[5:]
    assert "satisfaction_check" not in rules_raised(asked, direction="outbound")


def test_satisfaction_check_still_owed_inbound():
    assert "satisfaction_check" in rules_raised([(C, "我想改一下套餐。"), (A, "已经给您改好了。"), (C, "好。"), (A, "感谢您的来电，再见。")])


@pytest.mark.parametrize("took_up", ["您满意就好，感谢您的来电，再见。", "修好了就好，感谢您的来电，再见。", "能用就好，感谢您的来电，再见。"])
def test_satisfaction_check_volunteered_and_taken_up(took_up):
    call = [(C, "热水器不出热水。"), (A, "您把电源拔了再插上试试。"), (C, "哎，好了，能用了，挺满意的。"), (A, took_up)]
    assert "satisfaction_check" not in rules_raised(call)


@pytest.mark.parametrize("said", ["那就好，感谢您的来电，再见。", "好的，感谢您的来电，再见。"])
def test_satisfaction_check_a_bare_acknowledgement_is_no_check(said):
    call = [(C, "热水器不出热水。"), (A, "您把电源拔了再插上试试。"), (C, "哎，好了。"), (A, said)]
    assert "satisfaction_check" in rules_raised(call)


# --- thanks_for_help: the thanks after the read-back is confirmed (003 §四.2(1)3 得到客户帮助或配合时致谢) ---------------

def test_thanks_for_help_after_a_confirmed_read_back():
    call = [(A, "请报一下身份证后六位。"), (C, "三一零零二五。"), (A, "310025。"), (C, "对的。"), (A, "好的谢谢您，我查一下。")]
    assert "thanks_for_help" not in rules_raised(call)


def test_thanks_for_help_a_read_back_never_thanked_still_counts():
    call = [(A, "请报一下身份证后六位。"), (C, "三一零零二五。"), (A, "310025。"), (C, "对的。"), (A, "好的，我查一下。")]
    assert "thanks_for_help" in rules_raised(call)


# --- shenme: the bare 什么 without punctuation, then a demand to repeat (003 §三.5(4)4 D 禁用语 什么) -----------------

@pytest.mark.parametrize("said", ["什么你说啥", "什么 您说清楚点", "什么你讲慢点"])
def test_shenme_bare_with_no_comma(said):
    assert "shenme" in agent_says(said)


@pytest.mark.parametrize("said", ["什么你都可以问我。", "什么时候方便您说一下。", "请问您说的是什么意思？"])
def test_shenme_not_inside_a_question_or_phrase(said):
    assert "shenme" not in agent_says(said)


# --- apology_first: 太满意 is no 太慢 (000 §2.3 不满或抱怨) ----------------------------------------------------------

def test_apology_first_a_satisfied_customer_is_not_upset():
    call = [(A, "这样处理您看满意吗？"), (C, "满意，太满意了，谢谢你啊。"), (A, "不客气，感谢您的来电，再见。")]
    assert "apology_first" not in rules_raised(call)


@pytest.mark.parametrize("said", ["你们这送得太慢了。", "说实话我不太满意。", "这个处理我不是很满意。"])
def test_apology_first_slowness_and_softened_dissatisfaction_still_count(said):
    assert "apology_first" in rules_raised([(C, said), (A, "请问您的订单号是多少？")])


# --- outbound_purpose: a call-back named; the purpose at the first turn after a bare introduction (003 §四.2(2)3 A) ---

def test_outbound_purpose_a_callback_named_by_its_promise():
    call = [(A, "您好，请问是孟女士吗？"), (C, "是。"), (A, "孟女士您好，我是京东客服小韩，昨天答应给您回个电话说换货的进度，您现在方便吗？"),
            (C, "方便。")]
    assert "outbound_purpose" not in rules_raised(call, direction="outbound")


def _outbound_raised(lines):
    """The rule ids raised on an outbound call read slowly (120 chars a minute: the purpose past 15 s)."""
    from analyzers.analyze import analyze
    from raised import default_pack
    from transcripts import conversation
    call = conversation(lines, cpm={A: 120.0, C: 120.0})
    assert call.utterances[4].start_s > 15
    return [f.rule_id for f in analyze(call, default_pack(), direction="outbound").findings]


_CUT_IN = [(A, "您好，请问是孟女士吗？"), (C, "是，你谁啊？"), (A, "孟女士您好，我是联通的客户经理小韩。"), (C, "什么事啊？"),
           (A, "给您打电话是想跟您说一下宽带到期续费的优惠。")]


def test_outbound_purpose_cut_in_after_a_bare_introduction():
    assert "outbound_purpose" not in _outbound_raised(_CUT_IN)


def test_outbound_purpose_small_talk_before_the_question_still_counts():
    chatted = _CUT_IN[:2] + [(A, "孟女士您好，我是联通的客户经理小韩，最近家里网速还行吧？")] + _CUT_IN[3:]
    assert "outbound_purpose" in _outbound_raised(chatted)
