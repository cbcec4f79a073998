"""Rules and matching by meaning: one finding per rule and sentence; decisions as data."""

from analyzers.analyze import analyze
from analyzers.intents import CallIntents, IntentMatch, utterance_key
from lexicons import load_pack
from tests.transcripts import A, C, conversation

OPEN = (A, "您好，很高兴为您服务，请问有什么可以帮您？")


def _banned(lines):
    return [f for f in analyze(conversation([OPEN, (C, "我的快递没到。"), *lines]), load_pack()).findings
            if f.category == "banned_phrase"]


def test_one_sentence_one_finding_per_rule():
    found = _banned([(A, "这是物流的问题，跟我们没关系，物流的问题。")])
    assert [f.rule_id for f in found] == ["third_party_blame"]
    assert found[0].detail.startswith("物流的问题 / 跟我们没关系")  # every phrase it matched, once
    # two sentences: two findings
    assert [f.rule_id for f in _banned([(A, "是物流的问题。跟我们没关系。")])] == ["third_party_blame"] * 2


def test_a_meaning_hit_satisfies_a_group_that_names_the_intent():
    call = conversation([(A, "您好，我是客服小李，您遇到啥情况了？"), (C, "快递没到。"), (A, "好的，我查一下。")])
    pack = load_pack()
    u = call.utterances[0]
    hit = IntentMatch("service_offer", True, 0.9, "请问您遇到什么问题了", 0.83, "遇到问题了", 0.5)
    missing = lambda a: [f.rule_id for f in a.findings if f.category == "greeting_missing"]  # noqa: E731
    assert "service_offer" in missing(analyze(call, pack))
    meaning = CallIntents({utterance_key(u.speaker, u.start_s, u.end_s, u.text): {"service_offer": hit}})
    assert "service_offer" not in missing(analyze(call, pack, meaning=meaning))
    # an intent no group names changes nothing (hold_notice is not in any phrase group)
    other = CallIntents({utterance_key(u.speaker, u.start_s, u.end_s, u.text): {"hold_notice": hit}})
    assert "service_offer" in missing(analyze(call, pack, meaning=other))


def _rude(text: str, probability: float, intent: str = "rude_banned"):
    """The banned findings of an agent line that the decisions say means `intent`."""
    call = conversation([OPEN, (C, "我的快递没到。"), (A, text)])
    u = call.utterances[2]
    hit = IntentMatch(intent, True, probability, "这不归我管。", 0.8, "这个业务归我们管", 0.4)
    meaning = CallIntents({utterance_key(u.speaker, u.start_s, u.end_s, u.text): {intent: hit}})
    return [(f.rule_id, f.detail.split(";")[0]) for f in analyze(call, load_pack(), meaning=meaning).findings
            if f.category == "banned_phrase"]


def test_a_rude_meaning_raises_one_finding_under_the_pack_s_rude_entry():
    # twelve entries name rude_banned; a sentence that means it in other words raises one finding
    assert _rude("这事儿我可管不了。", 0.9) == [("rude", "meaning: nearest example '这不归我管。' (0.80)")]
    # below the entry's meaning_min_probability (0.85 in the pack) it raises nothing
    assert _rude("这事儿我可管不了。", 0.8) == []
    # its words said: the word's finding only, not a second one by meaning
    assert _rude("不知道，这事儿我可管不了。", 0.99) == [("dont_know", "不知道")]
    # blame_customer reads blame_shifting's intent from the decision's 0.6 on
    assert _rude("是您自己没看说明书。", 0.9, "blame_customer") == [
        ("blame_shifting", "meaning: nearest example '这不归我管。' (0.80)")]


def test_the_pack_s_exceptions_hold_for_the_meaning():
    # 不知道您 excuses 不知道 (dont_know's allow): even a decision that the utterance is rude
    # does not override what QA staff allowed
    assert _rude("不知道您现在方便吗？", 0.99) == []
    assert _rude("麻烦您稍等。", 0.99) == []  # 麻烦您: mafan's allow form


def _upset_by_meaning(lines, upset_at: int) -> list[str]:
    """apology_first's findings when the complaint hook (off in the pack) reads line `upset_at` as upset."""
    call = conversation(lines)
    pack = load_pack()
    switched = pack.model_copy(update={"complaint": pack.complaint.model_copy(update={"customer_meaning": "customer_complaint"})})
    u = call.utterances[upset_at]
    hit = IntentMatch("customer_complaint", True, 0.9, "我真是受够了。", 0.5, "受够了", 0.4)
    meaning = CallIntents({utterance_key(u.speaker, u.start_s, u.end_s, u.text): {"customer_complaint": hit}})
    return [f.text for f in analyze(call, switched, meaning=meaning).findings if f.rule_id == "apology_first"]


def test_an_answer_to_a_request_or_read_back_is_no_complaint_by_meaning():
    # (b5fix) the customer's data, a yes to a read-back, an answer to the satisfaction question: 配合, not upset
    assert _upset_by_meaning([OPEN, (C, "我的卡被锁了。"), (A, "请您报一下卡号。"), (C, "六二一七八八零零。"),
                              (A, "好的，我查一下。")], 3) == []
    assert _upset_by_meaning([OPEN, (C, "我要改地址。"), (A, "您是说改成幸福路八号，对吗？"), (C, "对，就这个。"),
                              (A, "好的，已经改好了。")], 3) == []
    assert _upset_by_meaning([OPEN, (C, "我要改地址。"), (A, "已经改好了，这样处理您还满意吗？"), (C, "还行吧。"),
                              (A, "感谢您的来电，再见。")], 3) == []
    # a longer answer with no number is still read by meaning: a complaint in reply to the satisfaction question
    assert _upset_by_meaning([OPEN, (C, "我要改地址。"), (A, "已经改好了，您对我的服务满意吗？"),
                              (C, "我等了一上午，师傅连个电话都没有。"), (A, "感谢您的来电，再见。")], 3) == ["感谢您的来电，再见。"]
    # the same turn after an open question or a statement is still read by meaning
    assert _upset_by_meaning([OPEN, (C, "宽带从昨天起就上不去网。"), (A, "请问您的宽带账号是多少？")], 1) == ["请问您的宽带账号是多少？"]
    assert _upset_by_meaning([OPEN, (C, "我要退货。"), (A, "过了七天就退不了。"), (C, "凭啥不给退。"),
                              (A, "规则就是这样。")], 3) == ["规则就是这样。"]
