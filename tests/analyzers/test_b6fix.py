"""Round 7 of the natural-call fixes (issue 31, b6fix): the families behind blind6's false flags.
Hand-written sentences, hits and near misses alike (none a bench call's): a read-back of the
customer's detail is a confirmation (003 §四.2(1)2 确认客户信息), one week said two ways is one
value, 额 inside a word of the trade is no filler, 服务器 is no jargon, and the damage laid on the
customer told at length is still blame (001 §3.2 场景一)."""

import pytest

from analyzers.banned import find_banned
from analyzers.rulelang.entities import entities, same_value
from analyzers.rulelang.exchange import _openings, _stated
from lexicons import load_pack

PACK = load_pack()


def ids(text):
    return [h.entry.id for h in find_banned(text, PACK.banned)]


# --- entities: one span said two ways ---------------------------------------------------

@pytest.mark.parametrize("a, b", [
    ("这周六上午", "本周六上午"),        # this week's weekday is the weekday
    ("这个礼拜三", "周三"),
    ("下礼拜", "下周"),
    ("下个星期", "下周"),
    ("这个月的账单", "本月账单"),
    ("下月", "下个月"),
])
def test_one_span_said_two_ways_is_one_value(a, b):
    (ka, va), = entities(a)
    (kb, vb), = entities(b)
    assert ka == kb == "date" and same_value("date", va, vb)


@pytest.mark.parametrize("a, b", [
    ("这周五", "这周六"),
    ("本周", "下周"),
    ("这个月", "下个月"),
])
def test_another_span_is_another_value(a, b):
    (_, va), = entities(a)
    (_, vb), = entities(b)
    assert va != vb


def test_next_weeks_weekday_stays_a_week_word():
    # 下周六 is not this week's 周六: it is read as 下周 (another unit), never as 周六
    assert entities("下周六上午") == (("date", "下周"),)


# --- repeats: the clause a read-back opens ------------------------------------------------

def test_openings_are_the_clause_starts():
    assert _openings("谢谢您，滨江区江南大道三百号，我帮您查一下。", 5) == ["滨江区江南", "我帮您查一"]
    assert _openings("好的，谢谢。", 3) == []      # clauses shorter than n give nothing


# --- banned: jargon, blame_shifting -------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("今天上午我们的服务器在维护，部分功能用不了。", []),           # a word every app notice uses
    ("服务器升级完就好了。", []),
    ("服务器宕机了，正在恢复。", ["jargon"]),                       # its technical states stay
    ("服务器报错了。", ["jargon"]),
    ("这个是数据库的问题。", ["jargon"]),
])
def test_server_is_a_plain_word_its_failures_are_not(text, expected):
    assert [i for i in ids(text) if i == "jargon"] == expected


@pytest.mark.parametrize("text", [
    "那是您自己家装修的时候把防水管弄坏了。",
    "是您上次自己拆机的时候把主板搞坏的。",
    "就是你搬家那天自己不小心摔坏的。",
    "是你自己弄坏的。",
    "是您自己家装修的时候改了水管造成的。",                 # the cause, told at length
    "这是你上次自己拆开清洗的时候搞的。",
])
def test_damage_laid_on_the_customer_at_length_is_blame(text):
    assert "blame_shifting" in ids(text)


@pytest.mark.parametrize("text", [
    "这不是您弄坏的，是出厂的问题。",                 # 不是 clears the customer
    "如果是您自己拆的话容易弄坏，建议送修。",          # a warning
    "是您这边会不会不小心弄坏了，我们先派人看看。",     # asks, does not lay the fault
    "是我们安装的时候把管子弄坏了，非常抱歉。",         # the agent's side owns it
    "如果是您自己改线路的话，造成的损失要您自己承担。",    # a case, not what happened
    "是我们师傅安装的时候没固定好造成的。",
    "这不是您造成的，是配件的问题。",
])
def test_a_warning_a_question_or_our_own_fault_is_no_blame(text):
    assert "blame_shifting" not in ids(text)


def test_only_what_was_stated_is_read_back():
    assert _stated("我看看啊，表上写的是，余量，零点零。") == ["我看看啊表上写的是余量零点零"]
    assert _stated("怎么比上个月，多了二十元？") == []
    assert _stated("订单号是三三零一。那什么时候到?") == ["订单号是三三零一"]
