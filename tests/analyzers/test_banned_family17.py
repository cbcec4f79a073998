"""The banned list's families, second round (issue 31, ho17fix): 麻烦 as the polite request, the
apology for trouble caused and the reassurance that denies it; 不知道 reported from someone else or
asked about the customer; 不清楚 softened (不太清楚, 不是很清楚) is still the banned word
(003 §三.5(4)4 D). Hand-written sentences, hits and near misses alike."""

import pytest

from analyzers.banned import find_banned
from lexicons import load_pack

PACK = load_pack()


def ids(text):
    return [h.entry.id for h in find_banned(text, PACK.banned)]


@pytest.mark.parametrize("text, expected", [
    # 麻烦 as the agent's complaint
    ("这个退款很麻烦。", ["mafan"]),
    ("太麻烦了，您换个时间吧。", ["mafan"]),
    ("改签这个不是一般的麻烦。", ["mafan"]),
    ("补卡挺麻烦要跑营业厅。", ["mafan"]),
    ("您这不是找麻烦吗？", ["mafan"]),
    # 不知道: the agent not knowing
    ("我也不知道。", ["dont_know"]),
    ("这个我不知道什么时候到货。", ["dont_know"]),
    ("你问的这个不知道。", ["dont_know"]),
    ("您这个情况不知道怎么处理。", ["dont_know"]),              # 您 as a topic, the agent not knowing
    ("我是真不知道，还是您自己去问吧。", ["dont_know"]),
    # 不清楚 softened is still 不清楚
    ("这个我不太清楚。", ["not_clear"]),
    ("具体哪天到我不是很清楚，您等通知吧。", ["not_clear"]),
    ("这个政策我不大清楚。", ["not_clear"]),
    ("这块我们也不怎么清楚。", ["not_clear"]),
    ("这个我也说不清楚。", ["not_clear"]),
    # waving the customer off
    ("那随便您吧。", ["rude"]),
    ("行，随便你们。", ["rude"]),
    ("爱咋咋地。", ["rude"]),
])
def test_the_family_is_banned(text, expected):
    assert ids(text) == expected


@pytest.mark.parametrize("text", [
    # 麻烦 as the request, the apology, the reassurance
    "麻烦报一下您的会员卡号。",
    "好的，那麻烦稍等一下，我查一下。",
    "麻烦大家排一下队。",
    "真是给您添了不少麻烦，实在抱歉。",
    "给您造成的麻烦我们深表歉意。",
    "不麻烦不麻烦，应该的。",
    "一点儿也不麻烦，线上就能办。",
    "您放心，不会麻烦的，五分钟就好。",
    "没什么麻烦的，我帮您弄好。",
    # 不知道 reported from someone else, or asked about the customer
    "之前那个客服说不知道，真是抱歉，我来帮您查。",
    "快递员回复说他也不知道，我已经联系网点了。",
    "您是不是不知道怎么登录？我一步一步教您。",
    "您现在还不知道具体哪天回来吗？",
    "请问是暂时不知道出发日期，还是行程取消了？",
    # 不太清楚 asked of the customer or in a condition
    "您还有哪里不太清楚的吗？",
    "有不是很清楚的地方随时问我。",
    "如果您不太清楚怎么操作，我一步一步教您。",
    # hearing or the agent's own wording, not not-knowing
    "电话有杂音，我听不太清楚，您能再说一遍吗？",
    "抱歉，刚才我讲得不是很清楚，我再说一下。",
    # a free choice offered
    "上门时间随便您定。",
    "颜色随便您挑，都有货。",
])
def test_near_misses_are_not(text):
    assert ids(text) == []
