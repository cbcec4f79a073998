"""The banned list's families (issue 31, lex17): the agent's own 不清楚 / 不行 / 自己查 / 管不了
are banned however they are worded (003 §三.5(4)4 D, 001 §3.2 场景二); asking what is unclear to
the customer, a condition, the agent's own checking and a self-service option besides are not.
Second round (ho17fix): 麻烦 as the polite request, the apology for trouble caused and the
reassurance that denies it; 不知道 reported from someone else or asked about the customer; 不清楚
softened (不太清楚, 不是很清楚) is still the banned word. Hand-written sentences, hits and near misses alike."""

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
    # second round (ho17fix)
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
    # third round (b3fix): 没办法 as the agent's own refusal
    ("那没办法，高峰期就是慢。", ["cannot_help"]),
    ("这个真没办法。", ["cannot_help"]),
    ("您这个情况没办法退。", ["cannot_help"]),
    ("我们这边也没办法，您等等吧。", ["cannot_help"]),
    ("要是我这边也没办法，那就没人能办了。", ["cannot_help"]),   # a condition about the agent itself
    ("我说不行就是不行。", ["no_way", "no_way"]),                          # the agent reports nobody but itself
    # fifth round (b4fix): the fault laid on what the customer should have done then
    ("这份合同您签的时候就应该看清楚。", ["blame_shifting"]),
    ("你下单的时候就该看好尺码。", ["blame_shifting"]),
    ("您办卡那会儿就应该了解清楚。", ["blame_shifting"]),
    ("您当时就应该问清楚。", ["blame_shifting"]),
    ("你早该问清楚的。", ["blame_shifting"]),
    ("您下单那会儿就该核对好地址。", ["blame_shifting"]),
    ("你买的时候就应该问清楚能不能退。", ["blame_shifting"]),
    # 自己查 still banned as a push, 不知道 still the agent's own
    ("您自己查一下吧。", ["look_yourself"]),
    ("你自己上网查呢？", ["look_yourself"]),
    ("物业说他们也不知道，我也不知道。", ["dont_know"]),          # the agent's own, beside the report
    # (b5fix) 啰嗦 said of the customer; 后台 as the system's backend
    ("您别啰嗦了，直接说订单号。", ["luosuo"]),
    ("你怎么这么啰嗦。", ["luosuo"]),
    ("我觉得您有点啰嗦。", ["luosuo"]),
    ("后台检测到您的卡有一笔异常交易。", ["jargon"]),
    ("系统后台显示这笔订单已经取消了。", ["jargon"]),
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
    # second round (ho17fix)
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
    # third round (b3fix): 没办法 quoted, reported, the customer's own, or a condition
    "您是说页面一直提示“没办法下单”，对吗？",
    "营业厅说的「没办法补办」是指当天补不了。",
    "客服上次回复说没办法加急，真是抱歉，我来帮您催。",
    "系统提示没办法绑定的话，您先把旧卡解绑。",
    "您现在没办法登录是吧？我帮您重置密码。",
    "您那边是不是没办法上网？",
    "您没办法到店的话，我们派人上门取件。",
    "如果实在没办法修好，我们直接给您换新的。",
    "万一明天还没办法送达，我们全额退款。",
    "营业厅说不行，是因为您的卡欠费了，我帮您看看。",          # 不行 reported, as 没办法 (b3fix)
    "您是说页面一直显示“不行”两个字，对吗？",
    # fifth round (b4fix): advice, an expectation, the agent's own fault
    "您办理的时候应该会收到短信。",
    "您到时候应该看一下短信。",
    "您签合同的时候应该看到了第五条。",
    "我们当时就应该跟您说清楚，是我们的疏忽。",
    "您下次办的时候就应该看一下条款，我给您发过去。",
    "您本来就应该享受这个优惠。",
    "您出发之前就得确认好证件。",                                # an instruction for what comes
    "您到了的时候就应该先去前台登记。",
    "您登机之前就应该确认一下登机口。",
    # a question about what the customer does or did
    "您平时主要是自己做决定吗？",
    "您是自己在网上查的吗？",
    "您之前自己找过售后没有？",
    "您一般自己看账单吗？",
    # 不知道 quoted or reported with a third person not knowing
    "您是说物业讲他们也不知道，对吗？",
    "您说保安回答说“不知道谁停的车”，我记下了。",
    "楼下那家说他根本不知道漏水的事，我们去协调。",
    # (b5fix) the agent's own talk called 啰嗦; 后台 as the back office's people
    "我多嘱咐两句，您别嫌我啰嗦，每天记得按时吃药。",
    "我再啰嗦两句，出门记得带身份证。",
    "我可能有点啰嗦，您多担待。",
    "申请提交了，后台审核通过以后短信通知您。",
    "后台的同事明天上午会联系您。",
])
def test_near_misses_are_not(text):
    assert ids(text) == []
