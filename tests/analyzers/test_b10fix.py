"""b10fix (issue 31, round 11 from blind10): hand-written transcripts, hits and near misses, none a blind10 line."""

import pytest

from raised import agent_says, rules_raised
from transcripts import A, C


# --- banned words in innocent use (003 §三.5(4)4 D bans the rude use, not the word) -------------------------------

@pytest.mark.parametrize("said", ["您是说老人的医保卡没办法刷，对吧？", "你的意思是订单没办法取消吗？", "您刚才是说快递员没办法上楼？"])
def test_cannot_help_read_back_with_its_subject(said):
    assert "cannot_help" not in agent_says(said)


@pytest.mark.parametrize("said", ["您说的这个没办法。", "您是说这个我们也没办法。", "您说再多也没办法。"])
def test_cannot_help_verdict_still_banned(said):
    assert "cannot_help" in agent_says(said)


@pytest.mark.parametrize("said", ["以后老人要是说不知道密码，直接报身份证号就行。", "如果家里人不知道账号的话，用手机号也能查。",
                                  "万一师傅不知道路，您给他打个电话。", "小孩说不知道学号是吧？", "老人讲他也不知道放哪了。"])
def test_dont_know_in_a_condition_or_a_family_members_words(said):
    assert "dont_know" not in agent_says(said)


@pytest.mark.parametrize("said", ["如果我不知道，我会去问同事。", "这个我也不知道。", "我们说了不知道。"])
def test_dont_know_the_agents_own_still_banned(said):
    assert "dont_know" in agent_says(said)


@pytest.mark.parametrize("said", ["您是第几步不清楚？我陪您一起弄。", "具体哪个环节不太清楚呢？", "您看是哪块内容不是很清楚？"])
def test_not_clear_asking_which_part(said):
    assert "not_clear" not in agent_says(said)


@pytest.mark.parametrize("said", ["哪个我也不清楚？", "什么时候到不清楚。", "这个我也不太清楚。"])
def test_not_clear_the_agents_own_still_banned(said):
    assert "not_clear" in agent_says(said)


@pytest.mark.parametrize("said", ["我们在后台帮您把密码重置一下。", "后台给您改过来了，您刷新看看。", "我这边从后台为您补发一张券。"])
def test_jargon_backend_as_our_side_acting_for_the_customer(said):
    assert "jargon" not in agent_says(said)


@pytest.mark.parametrize("said", ["后台检测到您的账号异常。", "后台显示下单失败。", "后台数据还没同步过来。"])
def test_jargon_the_system_backend_still_jargon(said):
    assert "jargon" in agent_says(said)


@pytest.mark.parametrize("said", ["保费打完折，算下来大概是两千八百块左右。", "两项费用加起来大概是五百块。", "三个月一共大概是九十块钱。"])
def test_vague_a_worked_out_sum_rounded(said):
    assert "vague" not in agent_says(said)


@pytest.mark.parametrize("said", ["现在还在审核，大概是下周吧。", "大概是三千块左右吧。", "大概是装错了。"])
def test_vague_a_guess_still_banned(said):
    assert "vague" in agent_says(said)


# --- the customer's words read as written where by sound they took everyday words (003 §四.2(2)4; 003 §三.(4)3 D c) --

def test_apology_first_daodi_as_written():
    # 到的 sounds like 到底 (的 read dí): no chasing, no complaint
    assert "apology_first" not in rules_raised([(C, "师傅是昨天下午到的，活干得挺细。"), (A, "好的，那我给您登记一下。")])
    assert "apology_first" in rules_raised([(C, "你们到底还修不修了？"), (A, "请问您的工单号是多少？")])


def test_closing_illness_as_written():
    lines = [(C, "我家这个月燃气费怎么翻倍了？"), (A, "已经帮您核实了，是抄表有误，感谢您的来电，再见。")]
    assert "closing_illness" not in rules_raised(lines)
    assert "closing_illness" in rules_raised([(C, "我这两天发烧了，燃气费能晚几天交吗？"), (A, "可以的，感谢您的来电，再见。")])


def test_reply_to_thanks_not_by_sound():
    assert "reply_to_thanks" not in rules_raised([(C, "我平常就接接电话，别的不用。"), (A, "明白，那这个套餐您确实用不上。")])
    assert "reply_to_thanks" in rules_raised([(C, "好的，谢谢你啊。"), (A, "还有别的问题吗？")])


# --- misses a rule can fix ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("said", ["我刚才已经跟您说得很清楚了，不能退。", "我都给你讲得够明白了。", "我之前已经解释得非常清楚了。",
                                  "我已经跟您说的很清楚了。"])
def test_arguing_told_already_and_clearly(said):
    assert "arguing" in agent_says(said)


@pytest.mark.parametrize("said", ["您已经说得很清楚了，我这就给您登记。", "是我刚才没跟您说清楚，我再讲一遍。", "我给您说得清楚一点。",
                                  "我已经跟您说的那个方案，每月三十九元。", "我都说的是实话。"])
def test_arguing_not_the_customers_account_or_owning_it(said):
    assert "arguing" not in agent_says(said)


@pytest.mark.parametrize("said", ["这也太不讲理了吧，我又不是故意的。", "你们真是欺负人。", "那我这钱就白花了？"])
def test_apology_first_unfairness_exclaimed_or_money_lost(said):
    assert "apology_first" in rules_raised([(C, said), (A, "规定就是这样，特价的不能退。")])


@pytest.mark.parametrize("said", ["你们不会不讲理的吧？", "这钱是白天转的。"])
def test_apology_first_no_upset(said):
    assert "apology_first" not in rules_raised([(C, said), (A, "规定就是这样，特价的不能退。")])


# --- blind9's meaning-off flags (round 10's leftovers) --------------------------------------------------------------

@pytest.mark.parametrize("said", ["哎呀，刚到手就碰上这种事，换谁都着急。麻烦您提供一下订单号。", "换我也得上火，麻烦您报一下订单号。",
                                  "搁谁身上都受不了，您订单号是多少？"])
def test_apology_first_empathy_of_anyone(said):
    assert "apology_first" not in rules_raised([(C, "刚收到的水壶就裂了，你们怎么回事？"), (A, said)])


def test_apology_first_swapping_whoever_is_no_empathy():
    assert "apology_first" in rules_raised([(C, "饭送来都凉了，等了一个小时！"), (A, "您要换个地址吗？换谁送都一样。")])


@pytest.mark.parametrize("said", ["好的，感谢您来电，咱们周六见。", "谢谢您，那明天见，路上注意安全。"])
def test_thanks_goodbye_the_visit_day_as_goodbye(said):
    assert "thanks_goodbye" not in rules_raised([(C, "那就周六上午吧。"), (A, said)])


def test_thanks_goodbye_see_as_a_verb_is_no_goodbye():
    assert "thanks_goodbye" in rules_raised([(C, "那就周六上午吧。"), (A, "好的，谢谢您，明天见到师傅您把单子给他就行。")])


def test_outbound_purpose_the_offer_the_call_brings():
    lines = [(A, "您好，请问是吴先生吗？"), (C, "是我。"),
             (A, "吴先生您好，我是移动的小陈，是这样的，我们这边有一个流量包的优惠活动，您现在方便听一下吗？")]
    assert "outbound_purpose" not in rules_raised(lines, direction="outbound")
    lines[2] = (A, "吴先生您好，我是移动的小陈，有个事儿，您现在方便吗？")
    assert "outbound_purpose" in rules_raised(lines, direction="outbound")
