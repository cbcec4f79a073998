"""The rule language's `{cue}` / `{cue_said}`, `cue:` and `reports_as` (issue 32 item 2, refusal12)."""

import re
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from analyzers.rulelang.evaluate import Call, rule_findings
from analyzers.rulelang.examples import example_call
from analyzers.rulelang.pack import scored
from analyzers.rulelang.schema import ExampleLine
from lexicons import load_pack
from rulepacks import custom_rules_error, rule

PACK = load_pack()


def call(*lines, intents=None, direction="inbound"):
    transcript, given = example_call(tuple(ExampleLine.model_validate(x) for x in lines))
    return Call(transcript, PACK, direction, intents if intents is not None else given)


class Meant:  # analyzers.intents.CallIntents' side the rules read: hit(utterance, intent)
    def hit(self, u, label):
        if label == "promise" and "通知" in u.text:
            return SimpleNamespace(evidence=lambda: f"meaning: nearest example '{u.text}' (0.83)")
        return None


def test_cue_is_the_phrase_the_first_matching_test_matched():
    c = call("A: 好的，我们会尽快处理。稍后回电给您。")
    promise = {"role": "agent", "any": [{"phrases": ["回电", "尽快处理"]}, {"phrases": ["稍后"]}]}
    (f,) = rule_findings(c, rule(find=promise, message="promises {cue} ({cue_said})"))
    # the earliest phrase of the first alternative that hits, not the first listed
    assert f.detail == "promises 尽快处理 (好的，我们会尽快处理。稍后回电给您。)"
    (s,) = rule_findings(c, rule(find={"sentence": {"all": [{"phrases": ["回电"]}, {"not": {"phrases": ["尽快"]}}]}},
                                 message="{cue}"))
    assert s.detail == "回电"  # the phrase of the sentence that hit (稍后回电给您。), not of the first sentence


def test_cue_of_an_intent_test_is_its_evidence_and_replaces_the_appended_one():
    c = call("A: 有结果会通知您。", "A: 好的。", intents=(frozenset({"promise"}), frozenset()))
    c.meaning = Meant()
    (f,) = rule_findings(c, rule(find={"role": "agent", "any": [{"phrases": ["回电"]}, {"intent": "promise"}]},
                                 message="promises {cue} with no time"))
    assert f.detail == "promises meaning: nearest example '有结果会通知您。' (0.83) with no time"
    plain = call("A: 有结果会通知您。", intents=(frozenset({"promise"}),))  # labels only: the label
    (g,) = rule_findings(plain, rule(find={"intent": "promise"}, message="{cue}"))
    assert g.detail == "meaning: promise"


def test_cue_after_names_the_hit_the_finding_answers_and_its_words():
    c = call("C: 你们怎么回事，我要投诉！", "A: 您的订单号是多少？我们马上处理。")
    upset = {"role": "customer", "any": [{"phrases": ["投诉", "怎么回事"]}]}
    find = {"role": "agent", "phrases": ["处理"], "after": upset, "within": 1}
    msg = "customer upset ({cue}: {cue_said})"
    (own,) = rule_findings(c, rule(find=find, message=msg))
    assert own.detail == "customer upset (处理: 您的订单号是多少？我们马上处理。)"  # its own test first
    (f,) = rule_findings(c, rule(find=find, message=msg, cue="after"))
    assert f.detail == "customer upset (怎么回事: 你们怎么回事，我要投诉！)"
    (n,) = rule_findings(c, rule(find={**find, "phrases": None, "not": {"phrases": ["抱歉"]}}, message=msg))
    assert n.detail == "customer upset (怎么回事: 你们怎么回事，我要投诉！)"  # a `not` matches nothing: the anchor's


def test_cue_of_a_require_is_what_when_matched():
    c = call("A: 您好。", "C: 不需要，别打了。")
    r = rule(when={"role": "customer", "phrases": ["别打了", "不需要"]}, require={"role": "agent", "phrases": ["抱歉"]},
             message="the customer declined ({cue})")
    assert [f.detail for f in rule_findings(c, r)] == ["the customer declined (不需要)"]


@pytest.mark.parametrize("fields, says", [
    ({"require": {"regex": "a"}, "message": "lacks {cue}"}, "quote what 'find' or 'when' matched"),
    ({"find": {"regex": "a"}, "cue": "after"}, "names the 'after' hit of 'find'"),
    ({"find": {"regex": "a"}, "cue": "later"}, "cue"),
    ({"find": {"regex": "a"}, "reports_as": "Not An Id"}, "reports_as"),
    ({"find": {"regex": "a"}, "message": "{cue_words}"}, "{cue_words} is not one of {duration_s}, {cue}, {cue_said}"),
])
def test_a_bad_cue_is_refused_in_words(fields, says):
    with pytest.raises(ValidationError, match=re.escape(says)):
        rule(**fields)


def test_a_bad_cue_is_named_with_file_and_line(tmp_path):
    error = custom_rules_error(tmp_path, "rules:\n  - id: r\n    require: {regex: a}\n    severity: info\n"
                               "    message: 'lacks {cue}'\n    examples: {hit: ['x'], miss: ['y']}\n")
    assert (error.line, error.field) == (5, "rules[0].message") and "quote what 'find' or 'when' matched" in str(error)


def test_rules_reporting_as_one_give_its_rule_id_and_count_once_on_the_scorecard():
    c = call("C: 我要投诉！", "A: 好的。")
    a = rule(id="late", reports_as="apology_first", find={"phrases": ["好的"]}, item="handling")
    b = rule(id="early", reports_as="apology_first", find={"phrases": ["投诉"]}, item="handling")
    assert [f.rule_id for r in (a, b) for f in rule_findings(c, r)] == ["apology_first", "apology_first"]
    card = scored(PACK.scorecard, (a, b))
    (item,) = [i for i in card.items if i.id == "handling"]
    base = next(i for i in PACK.scorecard.items if i.id == "handling")
    added = [s for s in (*item.findings, *(p for ps in item.points for p in ps)) if "apology_first" in str(s)]
    assert len(added) - len([s for s in (*base.findings, *(p for ps in base.points for p in ps))
                             if "apology_first" in str(s)]) == 1


def test_the_packs_complaint_and_promise_findings_quote_what_upset_and_what_was_promised():
    from analyzers.rulelang.evaluate import pack_rule_findings

    upset = call("C: 你们怎么回事，东西用了三天就坏了！", "A: 您的订单号是多少？").transcript
    (f,) = pack_rule_findings(upset, PACK, "apology_first")
    assert f.detail == ("customer upset (怎么回事: 你们怎么回事，东西用了三天就坏了！); no acknowledgement or apology "
                        "first (非常理解您的心情, 非常抱歉 …) in the agent's next turn")
    late = call("C: 我都问了好几次了。", "A: 您的订单已经发出了，明天下午送到，给您带来不便非常抱歉。").transcript
    (g,) = pack_rule_findings(late, PACK, "apology_first")  # rule apology_first_late, reported as apology_first
    assert g.rule_id == "apology_first" and g.detail.endswith("later in the turn, after the business")
    (p,) = pack_rule_findings(call("A: 我们会尽快处理，处理好了给您回电。").transcript, PACK, "followup_time")
    assert p.detail == "promises 尽快处理 with no time frame (…分钟内, 今天内, 明天…前)"
