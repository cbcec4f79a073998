"""b8fix (issue 31, round 9 from blind8): hand-written transcripts, hits and near misses, none a blind8 line."""

import pytest

from analyzers.analyze import analyze
from analyzers.turns import turns
from raised import default_pack, rules_raised
from transcripts import A, C, at, call, conversation

PACK = default_pack()


# --- turns: an agent's utterance that hands the floor back is listening, no turn (001 §2.1 第一步 适时回应) -------

@pytest.mark.parametrize("said", ["嗯，您说，我在听。", "好的阿姨，您慢慢说，我听着呢。", "您接着讲", "嗯嗯，先生您继续"])
def test_handing_the_floor_back_leaves_the_customer_one_turn(said):
    t = call(at(C, 0.0, 4.0, "我家楼下那个井盖丢了好几天了。"), at(A, 4.8, 7.5, said),
             at(C, 8.3, 12.0, "晚上黑灯瞎火的，差点摔进去。"), at(A, 12.8, 16.0, "真的很抱歉，请问是哪个小区？"))
    ts = turns(t, PACK.overtalk)
    assert [x.speaker for x in ts] == [C, A]
    assert len(ts[0].utterances) == 2


@pytest.mark.parametrize("said", ["您说的是哪个井盖？", "您说，是哪个小区？", "阿姨，阿姨", "您等一下",
                                  "没关系，您说。"])   # 没关系 answers an apology: a reply, a turn
def test_more_than_handing_the_floor_back_is_a_turn(said):
    t = call(at(C, 0.0, 4.0, "我家楼下那个井盖丢了好几天了。"), at(A, 4.8, 7.0, said),
             at(C, 7.8, 10.0, "就是三号楼那个。"))
    assert [x.speaker for x in turns(t, PACK.overtalk)] == [C, A, C]


def test_the_apology_is_still_owed_when_the_agent_takes_the_floor():
    lines = [(C, "买的吸尘器用了三天就不转了。"), (A, "嗯，您说，我在听。"), (C, "是在你们旗舰店买的。"),
             (A, "请问您的订单号是多少？")]
    assert "apology_first" in rules_raised(lines)


def test_no_apology_is_owed_on_the_listening_turn_itself():
    lines = [(C, "买的吸尘器用了三天就不转了。"), (A, "嗯，您说，我在听。"), (C, "你们这什么质量啊。"),
             (A, "非常抱歉给您带来不好的体验，请问您的订单号是多少？")]
    assert "apology_first" not in rules_raised(lines)


# --- apology_first: 到底 asking what is at fault in the thing is a question, no complaint -----------------------

@pytest.mark.parametrize("asked", ["那到底是不是火花塞的问题？", "到底是哪里的毛病啊？", "到底是不是软件的毛病？",
                                   "到底是不是充电器的问题呀"])
def test_asking_what_is_at_fault_is_no_complaint(asked):
    assert "apology_first" not in rules_raised([(C, asked), (A, "要到店里检测一下才能确定。")])


@pytest.mark.parametrize("asked", ["你们到底是不是在敷衍我？", "到底是不是你们的问题？", "你们到底怎么回事？", "到底还修不修了？"])
def test_to_di_that_blames_or_chases_still_complains(asked):
    assert "apology_first" in rules_raised([(C, asked), (A, "要到店里检测一下才能确定。")])


# --- transfer_notice: a record forwarded (with its callback) is no transfer of the call (002 转接) -------------------

@pytest.mark.parametrize("said", ["您反映的噪音问题我已经登记为督办件，转给城管中队处理，三个工作日内给您答复。",
                                  "给您生成了报修单，转到工程部，今天下午有师傅联系您。",
                                  "这个我们转交给所在街道核实，两天内会有人给您回电。",
                                  "您的意见我们会反馈给相关部门。"])
def test_a_record_forwarded_is_no_transfer(said):
    assert "transfer_notice" not in rules_raised([(C, "我家楼下的烧烤店天天吵到半夜。"), (A, said)])


@pytest.mark.parametrize("said", ["好的，我记下了，这就帮您转到城管热线。", "我给您登记一下，然后帮您转接到街道办。",
                                  "这个我转给我们组长，您直接跟她说。"])
def test_the_call_handed_on_still_needs_its_notice(said):
    assert "transfer_notice" in rules_raised([(C, "我家楼下的烧烤店天天吵到半夜。"), (A, said)])


# --- repeat_back_wrong: the agent's own number is no read-back; a bare read-back is checked ------------------------

@pytest.mark.parametrize("said", ["您好，理赔专席，我是工号五八二四的小何，同事跟我说了，您是要报案对吧？",
                                  "您好，我是工号五八二四，很高兴为您服务，您是想查理赔进度对吗？"])
def test_the_agents_own_number_is_no_wrong_read_back(said):
    assert "repeat_back_wrong" not in rules_raised([(C, "保单号是七二六一五八二三。"), (A, said)])


@pytest.mark.parametrize("said", ["好的，七二六一五八三二，我帮您查一下。", "谢谢您，保单号七二六一五八三二，我看一下。",
                                  "跟您确认一下，保单号七二六一五八三二，对吗？", "我是工号一二三四，跟您确认一下，保单编号七二六一五八三二，对吗？"])
def test_a_wrong_read_back_with_or_without_a_question(said):
    assert rules_raised([(C, "保单号是七二六一五八二三。"), (A, said)]).count("repeat_back_wrong") == 1


@pytest.mark.parametrize("said", ["好的，七二六一五八二三，我帮您查一下。", "好的，您名下另一张保单是七二六一五八三二。",
                                  "系统里留的是七二六一五八三二，您看是不是记错了？", "好的，二零二三年的保单已经到期了。"])
def test_no_wrong_read_back_where_it_is_right_or_no_read_back(said):
    assert "repeat_back_wrong" not in rules_raised([(C, "保单号是七二六一五八二三。"), (A, said)])


# --- rude (any banned entry by meaning): a bare backchannel means none of them (001 §2.1 第一步 嗯 / 是的) ------------

def _banned_by_meaning(text, intent="rude_banned"):
    from analyzers.intents import CallIntents, IntentMatch, utterance_key
    t = conversation([(A, "您好，很高兴为您服务。"), (C, "我的发票一直没收到，你们到底寄没寄？"), (A, text)])
    u = t.utterances[2]
    hit = IntentMatch(intent, True, 0.95, "哎呀，真麻烦。", 0.6, "麻烦", 0.4)
    meaning = CallIntents({utterance_key(u.speaker, u.start_s, u.end_s, u.text): {intent: hit}})
    return [f.rule_id for f in analyze(t, PACK, meaning=meaning).findings if f.category == "banned_phrase"]


@pytest.mark.parametrize("text", ["嗯嗯。", "嗯，好的。", "是的，是的", "对对"])
def test_a_bare_backchannel_is_no_banned_wording_by_meaning(text):
    assert _banned_by_meaning(text) == []


@pytest.mark.parametrize("text", ["嗯，那你自己再等等吧。", "行了行了，别说了。"])
def test_more_than_a_backchannel_is_still_read_by_meaning(text):
    assert "rude" in _banned_by_meaning(text)


# --- outbound_refusal: not knowing yet whether one is free is no decline (003 §三.5(4)3 e) ----------------------------

PITCH = "您好，我是驾校的招生老师小吴，给您打电话是想邀请您这周末来试驾体验课。"


@pytest.mark.parametrize("said", ["周末啊，我也不知道有没有空。", "这周末有没有时间我还说不准。", "我看情况吧，不确定能不能去。"])
def test_not_knowing_whether_one_is_free_is_no_refusal(said):
    lines = [(A, PITCH), (C, said), (A, "没关系，您先看看安排，我把地址发您手机上。")]
    assert "outbound_refusal" not in rules_raised(lines, direction="outbound")


@pytest.mark.parametrize("said", ["这周末我没空。", "没时间，别打了。", "不需要，谢谢。"])
def test_a_decline_is_still_one(said):
    lines = [(A, PITCH), (C, said), (A, "好的，那先这样。")]
    assert "outbound_refusal" in rules_raised(lines, direction="outbound")


# --- apology_first: 失望 as written, not by sound (是网 read shi wang) ------------------------------------------------

@pytest.mark.parametrize("said", ["这个是网上买的。", "是网络的问题吗？", "到底是不是网线的问题啊？", "我家宽带是网通的。"])
def test_shi_wang_is_no_disappointment(said):
    assert "apology_first" not in rules_raised([(C, said), (A, "请问您的订单号是多少？")])


@pytest.mark.parametrize("said", ["我对你们很失望。", "真是太失望了。"])
def test_disappointment_as_written_still_complains(said):
    assert "apology_first" in rules_raised([(C, said), (A, "请问您的订单号是多少？")])
