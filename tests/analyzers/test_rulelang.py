"""The rule language's evaluator on hand-written dialogues (analyzers.rulelang)."""

import re
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from analyzers.model import Transcript, Utterance
from analyzers.rulelang.evaluate import Call, RuleError, hits, rule_findings
from analyzers.rulelang.examples import example_call
from analyzers.rulelang.schema import Condition, ExampleLine
from lexicons import load_pack
from rulepacks import custom_rules_error, rule

PACK = load_pack()


def call(*lines, direction="inbound", intents=None, layout="stereo"):
    transcript, given = example_call(tuple(ExampleLine.model_validate(x) for x in lines))
    if layout != "stereo":
        transcript = Transcript(transcript.call_id, transcript.duration_s, layout, transcript.utterances)
    return Call(transcript, PACK, direction, intents if intents is not None else given)


def hit(c, **cond):
    return list(hits(c, Condition.model_validate(cond)))


DIALOGUE = ("A: 您好，请问有什么可以帮您？", "C: 我的订单号是12345678，冰箱不制冷。", "A: 您是说冰箱不制冷，对吗？",
            "C: 对。", "A: 好的，请稍等。", "A: 感谢您的来电，再见。")


def test_phrases_match_homophones_unless_told_not_to():
    c = call("A: 请您烧等一下。")  # 稍等 heard as 烧等 (same toneless pinyin)
    assert hit(c, phrases=["稍等"]) == [0]
    assert hit(c, phrases=["稍等"], homophones=False) == []


def test_regex_and_token_pattern():
    c = call(*DIALOGUE)
    assert hit(c, regex="[0-9]{8}") == [1]
    assert hit(c, pattern=[{"TEXT": "冰箱"}]) == [1, 2]


def test_role_and_position():
    c = call(*DIALOGUE)
    assert hit(c, phrases=["冰箱"], role="agent") == [2]
    assert hit(c, regex=".", role="agent", first=1) == [0]
    assert hit(c, regex=".", role="agent", last=2) == [4, 5]
    assert hit(c, regex=".", first_s=3) == [0]  # only the first line starts within 3 s of the first
    assert hit(c, regex=".", role="customer", last_s=1) == [3]


def test_after_before_within_and_their_negations():
    c = call(*DIALOGUE)
    number = {"entity": "number", "role": "customer"}
    assert hit(c, role="agent", regex=".", after=number, within=1) == [2]
    assert hit(c, role="agent", regex=".", after=number) == [2, 4, 5]
    assert hit(c, role="agent", regex=".", not_after=number) == [0]
    assert hit(c, role="agent", regex=".", before=number) == [0]
    assert hit(c, role="agent", regex=".", not_before={"phrases": ["再见"]}) == [5]


def test_nth_and_counts():
    c = call(*DIALOGUE)
    assert hit(c, role="agent", regex=".", nth=2) == [2]
    assert hit(c, role="agent", regex=".", nth=-1) == [5]
    assert hit(c, role="agent", regex=".", nth=9) == []
    assert hit(c, role="agent", regex=".", at_least=4) == [0, 2, 4, 5]
    assert hit(c, role="agent", regex=".", at_least=5) == []
    assert hit(c, role="agent", regex=".", at_most=3) == []


def test_all_any_not():
    c = call(*DIALOGUE)
    assert hit(c, all=[{"phrases": ["冰箱"]}, {"role": "agent", "regex": "."}]) == [2]
    assert hit(c, any=[{"phrases": ["您好"]}, {"phrases": ["再见"]}]) == [0, 5]
    assert hit(c, role="agent", **{"not": {"phrases": ["您"]}}) == [4]  # 感谢您的来电 has 您


def test_entities_repeats_and_differs():
    c = call("C: 订单号是20481357，交了五十元。", "A: 订单号是20481357，对吗？", "A: 您交了十五元，对吗？")
    assert hit(c, entity=["number"]) == [0, 1]
    assert hit(c, entity="amount") == [0, 2]
    assert hit(c, repeats={"what": ["number"]}) == [1]
    assert hit(c, differs={"what": ["amount"]}) == [2]
    assert hit(c, differs={"what": ["number"]}) == []
    # only what the customer gave is compared: a calendar date against 前天, an order number
    # against a phone number are no repeats; a wrong day, a wrong digit or a wrong tail are
    c = call("C: 我前天下的单，手机13912345678。", "A: 是十二月五号下的单，订单号20481357，对吗？",
             "A: 尾号5679，对吗？", "A: 手机13912345687，对吗？")
    assert hit(c, differs={"what": ["date"]}) == []
    assert hit(c, differs={"what": ["number"]}) == [2, 3]
    c = call("C: 十二月五号下的单。", "A: 是十二月六号下的单，对吗？", "A: 周三下的单，对吗？")
    assert hit(c, differs={"what": ["date"]}) == [1]
    # the words of a product or a problem, repeated
    c = call("C: 我的冰箱不制冷。", "A: 冰箱不制冷是吗？", "A: 好的。")
    assert hit(c, repeats={"what": "words", "min_chars": 3}) == [1]


def test_signal_tests_read_what_the_analyzers_compute():
    c = call({"C": "我想查话费", "start_s": 0, "end_s": 2}, {"A": "好的", "start_s": 6, "end_s": 7},
             {"A": "您这个月的话费一共是八十六元", "start_s": 15, "end_s": 17, "level_db": -3},
             {"C": "嗯好的我知道了谢谢", "start_s": 16, "end_s": 19})
    assert hit(c, response_time={"at_least_s": 3}) == [1]
    assert hit(c, response_time={"at_least_s": 5}) == []
    assert hit(c, silence={"at_least_s": 7}) == [2]  # the 8 s gap (holds' measure), broken by line 2
    assert hit(c, rate={"above": 300}) == [2]       # 14 chars in 2 s
    assert hit(c, volume={"above_dbfs": -6}) == [2]
    assert hit(c, duration={"at_least_s": 3}) == [3]
    assert hit(c, role="customer", regex=".", during={"role": "agent", "regex": "."}) == [3]
    mono = call({"A": "您好", "level_db": -3}, layout="mono")
    assert hit(mono, volume={"above_dbfs": -6}) == []  # one channel mixes both voices


def test_interruption_is_the_overtalk_check():
    c = call({"C": "我的冰箱不制冷了，已经好几天了", "start_s": 0, "end_s": 6},
             {"A": "您先别着急，我帮您查一下", "start_s": 3, "end_s": 8})
    assert hit(c, interruption={}) == [1]
    assert hit(c, interruption={"at_least_s": 5}) == []


def test_intent_reads_the_classifier_decision_and_is_a_clean_error_without_one():
    r = rule(find={"intent": "open_question", "role": "agent"})
    given = call("A: 您能描述一下具体情况吗？", "C: 不制冷。", intents=("open_question", None))
    assert [f.start_s for f in rule_findings(given, r)] == [0.0]
    # the meaning matcher's decisions per utterance (intent -> match), as flows.meaning gives them
    from types import SimpleNamespace as Match

    from analyzers.rulelang.evaluate import hit_intents
    decided = hit_intents([{"open_question": Match(hit=True), "greeting": Match(hit=False)}, {}])
    assert decided == (frozenset({"open_question"}), frozenset())
    both = call("A: 您能描述一下具体情况吗？", "C: 不制冷。", intents=decided)
    assert [f.start_s for f in rule_findings(both, r)] == [0.0]
    with pytest.raises(RuleError, match=r"rule 'r': the intent test .* \(no utterance embeddings were computed\)"):
        rule_findings(call("A: 您能描述一下具体情况吗？"), r)


def test_find_require_when_once_and_direction():
    c = call(*DIALOGUE)
    found = rule_findings(c, rule(find={"role": "agent", "phrases": ["您"]}, category="pack_rule"))
    assert [(f.category, f.rule_id, f.speaker) for f in found] == [("pack_rule", "r", "agent")] * 3
    assert len(rule_findings(c, rule(find={"role": "agent", "phrases": ["您"]}, once=True))) == 1
    assert rule_findings(c, rule(require={"role": "agent", "phrases": ["您"]})) == []
    missing = rule_findings(c, rule(require={"role": "agent", "phrases": ["先生"]}))
    assert [(f.start_s, f.end_s) for f in missing] == [(c.utts[0].start_s, c.utts[5].end_s)]
    # placed where it was looked for: the agent's last two utterances, quoted
    closing = rule_findings(c, rule(require={"role": "agent", "last": 2, "phrases": ["满意"]}))
    assert [(f.start_s, f.end_s, f.text) for f in closing] == [
        (c.utts[4].start_s, c.utts[5].end_s, "好的，请稍等。 / 感谢您的来电，再见。")]
    assert missing[0].text == ""  # the whole call is not quoted
    # `when`: required only where the cue is, and the finding is at the cue
    cue = {"role": "customer", "entity": "number"}
    assert rule_findings(c, rule(when=cue, require={"role": "agent", "repeats": {"what": "number"}}))[0].text \
        == "我的订单号是12345678，冰箱不制冷。"
    assert rule_findings(c, rule(when={"phrases": ["投诉"]}, require={"phrases": ["抱歉"]})) == []
    assert rule_findings(c, rule(find={"phrases": ["您"]}, direction="outbound")) == []


@pytest.mark.parametrize("bad, says", [
    ({"role": "agent"}, "needs exactly one test"),
    ({"phrases": ["a"], "regex": "b"}, "got phrases, regex"),
    ({"regex": "("}, "bad regular expression"),
    ({"regex": "a", "within": 2}, "'within' needs one of after"),
    ({"regex": "a", "nth": 0}, "counts from 1"),
    ({"regex": "a", "role": "boss"}, "'boss' is not one of agent, customer"),
    ({"entity": ["phone"]}, "'phone' is not one of number, date, amount"),
    ({"silence": {}}, "needs at least one of at_least_s, at_most_s"),
])
def test_a_bad_condition_is_refused_in_words(bad, says):
    with pytest.raises(ValidationError, match=says):
        Condition.model_validate(bad)


def test_a_rule_needs_find_or_require():
    with pytest.raises(ValidationError, match="exactly one of 'find'"):
        rule()
    with pytest.raises(ValidationError, match="'when' goes with 'require'"):
        rule(find={"regex": "a"}, when={"regex": "b"})


def test_unsorted_utterances_are_read_in_time_order():
    t = Transcript("x", 10, "stereo", (Utterance("agent", 5, 6, "再见"), Utterance("agent", 0, 1, "您好")))
    c = Call(t, PACK)
    assert [u.text for u in c.utts] == ["您好", "再见"]
    assert hit(c, phrases=["再见"], after={"phrases": ["您好"]}) == [1]


@pytest.mark.parametrize("text, found", [
    ("订单号是33578201。", (("number", "33578201"),)),
    ("三三五七八二零一", (("number", "33578201"),)),          # digits read one by one
    ("一共一千零八十元", (("amount", "1080"),)),
    ("两万五千元", (("amount", "25000"),)),
    ("3.5元，三点五元", (("amount", "3.5"), ("amount", "3.5"))),
    ("12月3号下午，明天上午", (("date", "m12d3"), ("date", "明天"))),
    ("周五", (("date", "周五"),)),
    ("三到五个工作日", ()),                                  # a range of days is no date
    # (ho17fix) a price without 元 after a price word; the place dropped as said (三千九百八 = 3980)
    ("原价两千六百八，今天下单只要一千五百九十九", (("amount", "2680"), ("date", "今天"), ("amount", "1599"))),
    ("月租是一百二，一共一千四百四十元", (("amount", "120"), ("amount", "1440"))),
    ("学费一万五，分三期", (("amount", "15000"),)),
    ("这个套餐一共十二个月", ()),                            # a count, not a price
    ("一共三十多人报名", ()),
    ("只要三节课就能学会", ()),
    ("两千五百元，两千五元", (("amount", "2500"), ("amount", "2500"))),
    ("一百零八元", (("amount", "108"),)),
])
def test_entities_in_arabic_or_chinese_numerals(text, found):
    from analyzers.rulelang.entities import entities

    assert entities(text) == found


def test_a_long_number_is_the_same_as_its_last_digits():
    from analyzers.rulelang.entities import same_value

    assert same_value("number", "13912345678", "5678")
    assert not same_value("number", "13912345678", "678")   # 3 digits say too little
    assert not same_value("amount", "1080", "80")


# --- rlholds: `each` (a finding per hit, or per hit whose window lacks the requirement),
# `window`, and a message that quotes the finding's span -----------------------------------

HOLDS = ({"A": "好的，请稍等。", "start_s": 0, "end_s": 2}, {"A": "查到了。", "start_s": 10, "end_s": 11},
         {"C": "好的。", "start_s": 11.5, "end_s": 12}, {"A": "让您久等了。", "start_s": 30, "end_s": 32})


def test_each_silence_is_a_finding_spanning_it_with_its_length_in_the_message():
    found = rule_findings(call(*HOLDS), rule(each={"silence": {"at_least_s": 6}}, message="silence {duration_s:.1f} s"))
    assert [(f.start_s, f.end_s, f.text, f.detail) for f in found] == [
        (2, 10, "", "silence 8.0 s"), (12, 30, "", "silence 18.0 s")]
    # a silence after which nobody speaks again is no silence inside the call; at_most_s bounds it
    found = rule_findings(call(*HOLDS), rule(each={"silence": {"at_least_s": 6, "at_most_s": 10}}))
    assert [(f.start_s, f.end_s) for f in found] == [(2, 10)]


def test_each_silence_with_scope_keeps_the_silences_whose_next_utterance_it_keeps():
    # (b5fix) a silence the customer asked for (你等一下) is dropped; the others still span the silence itself
    lines = ({"A": "请您报一下卡号。", "start_s": 0, "end_s": 2}, {"C": "你等一下，我找找。", "start_s": 2.5, "end_s": 4},
             {"C": "六二二八四八。", "start_s": 12, "end_s": 14}, {"A": "好的。", "start_s": 14.5, "end_s": 15},
             {"A": "查到了。", "start_s": 23, "end_s": 24})
    scoped = {"silence": {"at_least_s": 6}, "not_after": {"role": "customer", "phrases": ["等一下"]}, "within": 2}
    found = rule_findings(call(*lines), rule(each=scoped, message="silence {duration_s:.1f} s"))
    assert [(f.start_s, f.end_s, f.text, f.detail) for f in found] == [(15, 23, "", "silence 8.0 s")]
    assert len(rule_findings(call(*lines), rule(each={"silence": {"at_least_s": 6}}))) == 2


def test_each_of_an_utterance_condition_is_a_finding_per_utterance():
    found = rule_findings(call(*HOLDS), rule(each={"role": "agent", "phrases": ["久等"]}))
    assert [(f.start_s, f.end_s, f.text) for f in found] == [(30, 32, "让您久等了。")]


def test_each_with_require_looks_in_the_window_and_counts_position_there():
    before = {"each": {"silence": {"at_least_s": 6}}, "window": {"before_s": 15}}
    notice = {"role": "agent", "last": 1, "phrases": ["稍等"]}
    found = rule_findings(call(*HOLDS), rule(**before, require=notice))
    # the first silence has its notice right before it; the second's last agent line is 查到了
    assert [(f.start_s, f.end_s, f.text) for f in found] == [(12, 30, "查到了。")]
    assert len(rule_findings(call(*HOLDS), rule(**before, require={**notice, "last": 2}))) == 0
    # ended more than before_s before the silence began: outside the window (nothing to quote)
    found = rule_findings(call(*HOLDS), rule(**{**before, "window": {"before_s": 0.5}}, require={**notice, "last": 2}))
    assert [(f.start_s, f.text) for f in found] == [(12, "")]
    after = {"each": {"silence": {"at_least_s": 6}}, "window": {"after_s": 5}}
    found = rule_findings(call(*HOLDS), rule(**after, require={"role": "agent", "first": 1, "phrases": ["久等"]}))
    assert [(f.start_s, f.text) for f in found] == [(2, "查到了。")]   # the second's apology came in time


def test_each_with_when_checks_only_windows_where_when_hits():
    fields = {"each": {"silence": {"at_least_s": 6}}, "window": {"before_s": 15},
              "when": {"role": "agent", "last": 2, "phrases": ["稍等"]}, "require": {"role": "agent", "phrases": ["查询"]}}
    found = rule_findings(call(*HOLDS), rule(**fields))
    assert [(f.start_s, f.end_s) for f in found] == [(2, 10), (12, 30)]   # both windows hold 稍等, neither 查询
    found = rule_findings(call(*HOLDS), rule(**{**fields, "when": {**fields["when"], "last": 1}}))
    assert [(f.start_s, f.end_s) for f in found] == [(2, 10)]


@pytest.mark.parametrize("fields, says", [
    ({"each": {"regex": "a"}, "find": {"regex": "a"}}, "'each' and 'find' both"),
    ({"find": {"regex": "a"}, "window": {"before_s": 3}}, "'window' goes with 'each'"),
    ({"each": {"regex": "a"}, "window": {}}, "exactly one of before_s, after_s"),
    ({"each": {"regex": "a"}, "window": {"before_s": 1, "after_s": 1}}, "exactly one of before_s, after_s"),
    ({"find": {"regex": "a"}, "message": "a {length} wait"}, "{length} is not one of {duration_s}"),
    ({"find": {"regex": "a"}, "message": "a {duration_s:.1x} wait"}, "bad message template"),
])
def test_a_bad_each_window_or_message_is_refused_in_words(fields, says):
    with pytest.raises(ValidationError, match=re.escape(says)):
        rule(**fields)
    assert rule(find={"regex": "a"}, message="{{literal}} {duration_s:.0f} s").message


def test_a_bad_message_is_named_with_file_and_line(tmp_path):
    error = custom_rules_error(tmp_path, "rules:\n  - id: wait\n    each: {silence: {at_least_s: 6}}\n    severity: info\n"
                               "    message: 'a {seconds} s wait'\n    examples: {hit: ['x'], miss: ['y']}\n")
    assert (error.line, error.field) == (5, "rules[0].message")
    assert "{seconds} is not one of {duration_s}" in str(error)


def test_chars_total_counts_the_utterances_in_scope_together():
    c = call("A: 您好。", "C: 我要退货。", "A: 好的。", "C: 订单号是一二三。")  # the customer: 4 + 7 chars
    assert hit(c, role="customer", chars={"at_least": 5}) == [3]                 # each on its own
    assert hit(c, role="customer", chars={"at_least": 11, "total": True}) == [1, 3]  # together: all hit
    assert hit(c, role="customer", chars={"at_least": 12, "total": True}) == []
    assert hit(c, role="customer", last=1, chars={"at_least": 11, "total": True}) == []  # the scope's only
    assert hit(call("A: ok good", "A: 好"), chars={"at_most": 3, "total": True}) == [0, 1]  # a Latin word is one
    with pytest.raises(ValidationError, match="needs at least one of at_least, at_most"):
        Condition.model_validate({"chars": {"total": True}})


def test_only_if_judges_a_rule_only_in_calls_where_each_condition_hits():
    c = call(*DIALOGUE)
    missing = {"require": {"role": "agent", "phrases": ["先生"]}}
    told = rule(only_if={"role": "customer", "entity": "number"}, **missing)   # one condition, or a list
    (f,) = rule_findings(c, told)
    assert (f.start_s, f.end_s, f.text) == (c.utts[0].start_s, c.utts[5].end_s, "")  # placed as without it
    assert rule_findings(c, rule(only_if=[{"role": "customer", "entity": "number"}, {"phrases": ["投诉"]}],
                                 **missing)) == []
    assert rule_findings(call("C: 我的订单号是12345678。"),
                         rule(only_if=[{"role": "agent", "chars": {"at_least": 0}}], **missing)) == []
    assert len(rule_findings(call("C: 我的订单号是12345678。"), rule(**missing))) == 1  # the whole call, without it
    with pytest.raises(ValidationError, match="needs exactly one test"):
        rule(only_if=[{"role": "agent"}], **missing)


def test_a_finding_an_intent_test_made_names_its_evidence():
    class Meant:  # analyzers.intents.CallIntents' side the rules read: hit(utterance, intent)
        def hit(self, u, label):
            if label == "promise" and "通知" in u.text:
                return SimpleNamespace(evidence=lambda: f"meaning: nearest example '{u.text}' (0.90)")
            return None

    c = call("A: 有结果会通知您。", "A: 好的。", intents=(frozenset({"promise"}), frozenset()))
    c.meaning = Meant()
    (f,) = rule_findings(c, rule(find={"role": "agent", "any": [{"phrases": ["回电"]}, {"intent": "promise"}]}))
    assert f.detail == "m; meaning: nearest example '有结果会通知您。' (0.90)"
    (g,) = rule_findings(c, rule(find={"role": "agent", "not": {"intent": "promise"}}))
    assert g.detail == "m"  # a negated intent test made nothing
    (t,) = rule_findings(c, rule(find={"role": "agent", "intent": "promise"}, unit="turn"))
    assert t.detail.endswith("(0.90)")  # a turn names its utterance's evidence
    (a,) = rule_findings(c, rule(find={"role": "agent", "phrases": ["好的"], "after": {"intent": "promise"}, "within": 1}))
    assert a.detail == "m; meaning: nearest example '有结果会通知您。' (0.90)"  # the hit it answers


def test_in_turn_reads_the_turn_each_utterance_is_in():
    # the agent's turn of two utterances, the customer's, the agent's next turn
    c = call("A: 我们会尽快处理。", "A: 明天给您回电。", "C: 好的。", "A: 我们会通知您。")
    promise = {"role": "agent", "phrases": ["尽快", "通知"]}
    assert hit(c, **promise, not_in_turn={"phrases": ["明天"]}) == [3]
    assert hit(c, **promise, in_turn={"phrases": ["明天"]}) == [0]
    # the customer's 嗯 inside the agent's speech is listening: in no turn, and ends none
    backchannel = call(*[{"A": "我们会尽快处理。", "start_s": 0, "end_s": 3}, {"C": "嗯", "start_s": 1.0, "end_s": 1.3},
                         {"A": "明天给您回电。", "start_s": 3.2, "end_s": 5}])
    assert hit(backchannel, phrases=["嗯"], not_in_turn={"phrases": ["明天"]}) == []  # in no turn: kept by neither
    assert hit(backchannel, phrases=["尽快"], in_turn={"phrases": ["明天"]}) == [0]  # 嗯 ends no turn
    with pytest.raises(ValidationError, match="read the turns of a rule of utterances"):
        rule(find={"phrases": ["尽快"], "in_turn": {"phrases": ["明天"]}}, unit="turn")


def test_together_needs_every_condition_somewhere_not_in_one_utterance():
    c = call("A: 谢谢您的来电。", "C: 好的。", "A: 再见。")
    both = {"together": [{"phrases": ["谢谢"]}, {"phrases": ["再见"]}]}
    assert hit(c, role="agent", **both) == [0, 2]
    assert hit(c, role="agent", all=[{"phrases": ["谢谢"]}, {"phrases": ["再见"]}]) == []
    assert hit(c, role="agent", last=1, **both) == []  # the thanks is outside the scope


def test_last_with_last_s_is_either_window():
    c = call({"A": "您好", "start_s": 0, "end_s": 2}, {"A": "一", "start_s": 10, "end_s": 11},
             {"A": "二", "start_s": 20, "end_s": 21}, {"A": "三", "start_s": 40, "end_s": 41})
    assert hit(c, role="agent", last=1, regex=".") == [3]
    assert hit(c, role="agent", last_s=25, regex=".") == [2, 3]
    assert hit(c, role="agent", last=1, last_s=25, regex=".") == [2, 3]
    assert hit(c, role="agent", last=3, last_s=1, regex=".") == [1, 2, 3]
    assert hit(c, role="agent", first=1, first_s=10, regex=".") == [0, 1]


def test_a_missing_requirement_quotes_its_whole_scope_and_spans_its_window_when_silent():
    need = rule(require={"role": "agent", "first_s": 30, "phrases": ["您好"]})
    c = call(*(f"A: 第{n}句。" for n in range(5)))
    (f,) = rule_findings(c, need)
    assert f.text == " / ".join(f"第{n}句。" for n in range(5))
    silent = Call(Transcript("t", 100.0, "stereo", (Utterance("customer", 1, 2, "喂？"),)), PACK)
    (f,) = rule_findings(silent, need)
    assert (f.start_s, f.end_s, f.text) == (0.0, 30.0, "")
    (f,) = rule_findings(silent, rule(require={"role": "agent", "last_s": 30, "phrases": ["再见"]}))
    assert (f.start_s, f.end_s) == (70.0, 100.0)


def test_a_sentence_test_in_a_pool_reads_only_the_pools_own_sentences():
    # Call.sentence_rows: each utterance's sentences; a pool of utterances tests only theirs
    c = call("A: 您好。请问有什么可以帮您？", "C: 。", "C: 我想退货。谢谢。", "A: 好的。")
    parts, owner = c.sentences
    assert [[parts.utts[k].text for k in rows] for rows in c.sentence_rows] == \
        [["您好", "请问有什么可以帮您"], [], ["我想退货", "谢谢"], ["好的"]]
    said = {"sentence": {"phrases": ["谢谢"]}}
    assert hit(c, **said) == [2]
    assert list(hits(c, Condition.model_validate(said), {0, 1, 3})) == []
    assert list(hits(c, Condition.model_validate(said), {1, 2})) == [2]
    assert hit(c, role="agent", **said) == []  # the customer's thanks: not in the agent's pool
