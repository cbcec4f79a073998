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
