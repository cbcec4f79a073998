"""The banned list's families (issue 31, lex17): the agent's own 不清楚 / 不行 / 自己查 / 管不了
are banned however they are worded (003 §三.5(4)4 D, 001 §3.2 场景二); asking what is unclear to
the customer, a condition, the agent's own checking and a self-service option besides are not.
Hand-written sentences, hits and near misses alike."""

import pytest

from analyzers.banned import find_banned
from lexicons import load_pack

PACK = load_pack()


def ids(text):
    return [h.entry.id for h in find_banned(text, PACK.banned)]


@pytest.mark.parametrize("text, expected", [
    # 不清楚: the agent not knowing
    ("这个我也不清楚。", ["not_clear"]),
    ("我不清楚您说的那个活动。", ["not_clear"]),
    ("要是我这边也不清楚，那就没人知道了。", ["not_clear"]),   # a condition about the agent itself
    # 不行: the agent refusing
    ("这个不行。", ["no_way"]),
    ("不行，这个办不了。", ["no_way"]),
    ("这个实在不行。", ["no_way"]),
    # 自己看 / 自己查: sending the customer off
    ("你自己在手机上查一下就知道了。", ["look_yourself"]),
    ("您自己去网上查吧。", ["look_yourself"]),
    ("自己上官网看。", ["look_yourself"]),
    ("你自己查。", ["look_yourself"]),
    # disowning with a word in between
    ("这个跟我们总部没关系。", ["third_party_blame"]),
    ("跟我们这边没什么关系。", ["third_party_blame"]),
    ("退款我这边管不了。", ["third_party_blame"]),
    ("这事我们客服管不着。", ["third_party_blame"]),
    # the cause laid on the customer, the product cleared
    ("这都是您自己没放平造成的。", ["blame_shifting"]),
    ("是你自己摔了一下导致的。", ["blame_shifting"]),
    ("机器本身不会有问题。", ["blame_shifting"]),
])
def test_the_family_is_banned(text, expected):
    assert ids(text) == expected


@pytest.mark.parametrize("text", [
    "您看还有哪里不清楚的吗？",
    "您还有什么不清楚的地方吗？",
    "有什么不清楚的可以随时问我。",
    "如果您还有不清楚的，随时打我们电话。",
    "要是物业那边不清楚怎么弄，您让他们打给我们。",
    "要是明天还不行的话，您再打过来。",
    "如果还是不行，您再联系我们。",
    "万一重启以后还不行，我们派师傅上门。",
    "您看这样行不行？",
    "我自己查一下，您稍等。",
    "我这边自己看一下系统记录。",
    "您也可以自己在APP上查询物流。",
    "您用自己的手机号登录就行。",
    "您自己不用查，我们查好了发短信给您。",
    "这个跟我们总部确认一下就好。",
    "这跟您没关系，是我们的失误。",
    "这个我们管得了，您放心。",
    "这个故障不是您造成的，是机器本身的问题。",
    "您自己不用担心，这不是您造成的。",
    "您自己选的套餐是每月五十九元。",
])
def test_near_misses_are_not(text):
    assert ids(text) == []
