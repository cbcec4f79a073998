"""The rule language's `place: after_when`, rule-level `unless:` and a condition's `direction:`,
and the outbound refusal written with them (custom_rules.yaml outbound_refusal*, refusal12)."""

import re
from dataclasses import replace

import pytest
from pydantic import ValidationError

from analyzers.analyze import analyze
from analyzers.rulelang.evaluate import Call, hits, pack_rule_findings, rule_findings
from analyzers.rulelang.examples import example_call
from analyzers.rulelang.schema import Condition, ExampleLine
from lexicons import load_pack
from rulepacks import custom_rules_error, rule

PACK = load_pack()
OPENING = "A: 您好，我是售后服务中心的客服小王，给您打电话是想做一个服务回访，请问您现在方便接听吗？"


def transcript(*lines, end_s=None):
    t, _ = example_call(tuple(ExampleLine.model_validate(x) for x in lines))
    return t if end_s is None else replace(t, duration_s=end_s)


def test_after_when_spans_from_the_when_hits_end_to_the_calls_end_and_quotes_nothing():
    t = transcript("A: 您好。", "C: 不需要。", end_s=30.0)
    r = rule(when={"role": "customer", "phrases": ["不需要"]}, require={"role": "agent", "regex": ".", "after": {"regex": "不需要"}},
             place="after_when", message="declined ({cue}); nothing after it")
    (f,) = rule_findings(Call(t, PACK), r)
    assert (f.start_s, f.end_s, f.text, f.detail) == (t.utterances[1].end_s, 30.0, "", "declined (不需要); nothing after it")
    placed = rule(when={"role": "customer", "phrases": ["不需要"]}, require={"role": "agent", "phrases": ["抱歉"]})
    (g,) = rule_findings(Call(t, PACK), placed)
    assert (g.start_s, g.text) == (t.utterances[1].start_s, "不需要。")  # without it: on the when hits
    answered = transcript("A: 您好。", "C: 不需要。", "A: 好的。")
    assert rule_findings(Call(answered, PACK), r) == []


def test_unless_leaves_a_rule_out_of_calls_where_its_condition_hits():
    missing = {"require": {"role": "agent", "phrases": ["再见"]}}
    t = transcript("A: 您好。", "C: 不需要。")
    assert len(rule_findings(Call(t, PACK), rule(**missing))) == 1
    assert rule_findings(Call(t, PACK), rule(unless={"role": "customer", "phrases": ["不需要"]}, **missing)) == []
    assert len(rule_findings(Call(t, PACK), rule(unless={"role": "agent", "phrases": ["不需要"]}, **missing))) == 1


def test_a_conditions_direction_hits_only_in_calls_of_that_direction():
    t = transcript("C: 不需要。")
    c = Condition.model_validate({"phrases": ["不需要"], "direction": "outbound"})
    assert hits(Call(t, PACK, "outbound"), c) == (0,) and hits(Call(t, PACK, "inbound"), c) == ()


@pytest.mark.parametrize("fields, says", [
    ({"find": {"regex": "a"}, "place": "after_when"}, "'place: after_when' goes with 'require' and 'when'"),
    ({"when": {"regex": "a"}, "require": {"regex": "b"}, "place": "before_when"}, "place"),
    ({"find": {"regex": "a"}, "unless": {"role": "agent"}}, "needs exactly one test"),
    ({"find": {"regex": "a", "direction": "sideways"}}, "direction"),
])
def test_a_bad_place_unless_or_direction_is_refused_in_words(fields, says):
    with pytest.raises(ValidationError, match=re.escape(says)):
        rule(**fields)


def test_a_bad_place_is_named_with_file_and_line(tmp_path):
    error = custom_rules_error(tmp_path, "rules:\n  - id: r\n    find: {regex: a}\n    place: after_when\n    severity: info\n"
                               "    message: m\n    examples: {hit: ['x'], miss: ['y']}\n")
    assert error.line in (2, 4) and "goes with 'require' and 'when'" in str(error)


def _refusal(*lines):
    return [f for f in analyze(transcript(OPENING, *lines), PACK, "outbound").findings if f.category == "closing_missing"]


@pytest.mark.parametrize("reply, detail", [
    (None, "the customer declined (不需要); the agent said nothing after it"),
    ("A: 好的，那再见。", "the customer declined (不需要); the reply lacks an apology (对不起，打扰您了) and an appointment (请问什么时候方便…)"),
    ("A: 好的，那我改天再联系您。", "the customer declined (不需要); the reply lacks an apology (对不起，打扰您了)"),
    ("A: 对不起，打扰您了。", "the customer declined (不需要); the reply lacks an appointment (请问什么时候方便…)"),
])
def test_the_packs_refusal_rules_report_as_outbound_refusal_each_case(reply, detail):
    (f,) = _refusal("C: 我不需要，谢谢。", *([reply] if reply else []))
    assert (f.rule_id, f.severity, f.detail) == ("outbound_refusal", "major", detail)
    if reply is None:
        assert f.text == "" and f.start_s > 0
    else:
        assert f.text == reply[3:]


def test_a_refused_call_is_judged_by_the_refusal_not_the_closing_or_repeat_back():
    lines = ("C: 什么事？我现在很忙，真的没时间，以后也别打了。", "A: 对不起，打扰您了，请问什么时候方便再与您联系？")
    out = analyze(transcript(OPENING, *lines), PACK, "outbound")
    assert out.closing_ok and not [f for f in out.findings if f.category in ("closing_missing", "confirmation_missing")]
    inbound = analyze(transcript(OPENING, *lines), PACK, "inbound")  # no refusal inbound: the closing rules judge it
    assert {f.rule_id for f in inbound.findings if f.category == "closing_missing"} == {"satisfaction_check", "thanks_goodbye"}
    later = transcript(OPENING, "C: 方便。", "A: 还有其他需要吗？", "C: 不需要了。")  # a later 不需要 is no refusal
    assert pack_rule_findings(later, PACK, "outbound_refusal", "outbound") == []


def test_an_anchor_that_several_rules_share_is_read_once_per_call():
    from analyzers.rulelang.evaluate import anchor_hits

    c = Call(transcript("A: 您好。", "C: 不需要。"), PACK, "outbound")
    a = Condition.model_validate({"role": "customer", "phrases": ["不需要"]})
    b = Condition.model_validate({"role": "customer", "phrases": ["不需要"]})  # a YAML alias is such a copy
    before = len(c.gaps)
    assert anchor_hits(c, a) == anchor_hits(c, b) == (1,) and len(c.gaps) == before + 1
    assert anchor_hits(c, Condition.model_validate({"role": "agent", "phrases": ["不需要"]})) == ()
