"""b9fix (issue 31, round 10 from blind9): hand-written transcripts, hits and near misses, none a blind9 line."""

import pytest

from raised import agent_says, rules_raised
from transcripts import A, C


# --- banned words in innocent use (003 §三.5(4)4 D bans the rude use, not the word) -------------------------------

@pytest.mark.parametrize("said", ["您要是腿脚不方便，实在没办法来网点的话，打这个电话也能办。",
                                  "家里老人没办法到场的话，可以带上委托书。",
                                  "您说没办法付款，是一点付款就报错吗？",
                                  "你刚才说没办法打开那个页面，对吧？"])
def test_cannot_help_in_a_condition_or_quoted_back(said):
    assert "cannot_help" not in agent_says(said)


@pytest.mark.parametrize("said", ["这个没办法，您的话只能等下个月。", "没办法，规定就是这样。", "我们说了没办法退。",
                                  "我这边也没办法，系统锁了。"])
def test_cannot_help_refusing_still_banned(said):
    assert "cannot_help" in agent_says(said)


@pytest.mark.parametrize("said", ["您刚才说充电还是不行，是吧？", "您是说插座换了也不行，那我们安排检测。"])
def test_no_way_quoted_back(said):
    assert "no_way" not in agent_says(said)


@pytest.mark.parametrize("said", ["不行，这个办不了。", "您这个不行，得本人来。", "我说了不行。"])
def test_no_way_refusing_still_banned(said):
    assert "no_way" in agent_says(said)


@pytest.mark.parametrize("said", ["保单号不知道也没关系，我用身份证帮您查。", "不知道的话也没关系，我给您讲讲。",
                                  "具体型号不知道没事，您拍个照片发过来就行。", "您说不知道原来的密码，那我们走重置流程。"])
def test_dont_know_reassured_or_quoted_back(said):
    assert "dont_know" not in agent_says(said)


@pytest.mark.parametrize("said", ["这个我也不知道。", "不知道，没关系的话您自己问问。", "我是真不知道，您问别人吧。"])
def test_dont_know_still_banned(said):
    assert "dont_know" in agent_says(said)


@pytest.mark.parametrize("said", ["地址不清楚也没关系，我这边能查到。", "不太清楚的话也不要紧，我们上门看。"])
def test_not_clear_reassured(said):
    assert "not_clear" not in agent_says(said)


@pytest.mark.parametrize("said", ["这个我也不清楚。", "不清楚，您问问别人吧。"])
def test_not_clear_still_banned(said):
    assert "not_clear" in agent_says(said)


@pytest.mark.parametrize("said", ["您得自己找物业协商一下。", "这个您自己去找商家沟通吧。", "你们自己找对方商量。"])
def test_finding_a_party_to_settle_with_is_not_look_yourself(said):
    assert "look_yourself" not in agent_says(said)


@pytest.mark.parametrize("said", ["你自己找一下网上。", "您自己找找说明书。", "自己查一下吧。", "你自己找人问问去。"])
def test_looking_it_up_yourself_still_banned(said):
    assert "look_yourself" in agent_says(said)


# --- blame_shifting: the customer's failure asserted, unchecked (001 §3.2 场景一 是您使用不当) -----------------------

@pytest.mark.parametrize("said", ["您肯定是没插紧，再插一下。", "你一定是没设置对。", "您准是没拧到位。", "您肯定是没擦干净镜头。"])
def test_asserting_the_customer_failed_is_blame(said):
    assert "blame_shifting" in agent_says(said)


@pytest.mark.parametrize("said", ["您是不是没插紧？再插一下试试。", "可能是没保存好，我们一起看一下。", "您肯定没问题的，放心。",
                                  "您一定是没收到短信吧，我再发一遍。"])
def test_asking_or_hedging_is_no_blame(said):
    assert "blame_shifting" not in agent_says(said)


# --- apology_first: never told, a nuisance keeping the customer up (000 §2.3 不满或抱怨) -----------------------------

@pytest.mark.parametrize("said", ["买的时候也没有人告诉我要另收安装费。", "隔壁工地天天夜里施工，吵得老人睡不着。",
                                  "当初都没人通知我会自动续费。"])
def test_unfair_or_a_nuisance_is_a_complaint(said):
    assert "apology_first" in rules_raised([(C, said), (A, "请问您的手机号是多少？")])


@pytest.mark.parametrize("said", ["我想问问这个收费合不合理。", "房间靠马路会不会有点吵？", "没人跟我说过这个，我想了解一下。"])
def test_asking_is_no_complaint(said):
    assert "apology_first" not in rules_raised([(C, said), (A, "请问您的手机号是多少？")])
