"""Holds: the silence operator (analyzers.holds) and the pack's four hold rules
(custom_rules.yaml hold, hold_notice, hold_reason, hold_apology)."""

from analyzers.holds import find_holds
from analyzers.model import SpeechSpan
from analyzers.rulelang.evaluate import Call, pack_rule_findings, rule_findings
from analyzers.rulelang.schema import Condition, Gap
from lexicons import load_pack
from transcripts import A, C, at, call

PACK = load_pack()
HOLD_RULES = ("hold", "hold_notice", "hold_reason", "hold_apology")


def hold_findings(t, pack=PACK):
    """The findings of the pack's hold rules, per rule in the order above."""
    return [f for rule in HOLD_RULES for f in pack_rule_findings(t, pack, rule)]


def hold_call(gap_s, before="好的，请您稍等，我帮您查一下。", after="让您久等了，已经查到了。", spans=()):
    return call(
        at(C, 0.0, 3.0, "我想查一下我的订单。"),
        at(A, 3.5, 6.5, before),
        at(A, 6.5 + gap_s, 9.5 + gap_s, after),
        spans=spans,
    )


def cats(t):
    return [f.category for f in hold_findings(t)]


def test_four_second_pause_is_no_hold():
    assert cats(hold_call(4.0)) == []


def test_5_9_is_not_a_hold_6_1_is():
    assert cats(hold_call(5.9)) == []
    found = hold_findings(hold_call(6.1))
    assert [f.category for f in found] == ["hold"]
    assert (found[0].start_s, found[0].end_s) == (6.5, 12.6)
    assert found[0].severity == "info"


def test_notice_missing():
    assert cats(hold_call(8.0, before="好的，我看看。")) == ["hold", "hold_notice_missing"]


def test_apology_missing():
    assert cats(hold_call(8.0, after="查到了，明天送到。")) == ["hold", "hold_apology_missing"]


def test_both_missing_and_span_is_the_hold():
    found = hold_findings(hold_call(8.0, before="好的。", after="查到了。"))
    assert [f.category for f in found] == ["hold", "hold_notice_missing", "hold_apology_missing"]
    assert {(f.start_s, f.end_s) for f in found} == {(6.5, 14.5)}


def test_traditional_notice_and_apology_count():
    assert cats(hold_call(8.0, before="好的，請您稍等。", after="讓您久等了。")) == ["hold"]


def test_notice_too_long_before_is_missing():
    t = call(
        at(A, 0.0, 2.0, "请您稍等。"),
        at(A, 2.5, 4.0, "好的。"), at(A, 4.5, 6.0, "嗯嗯。"), at(A, 6.5, 8.0, "我看看。"),
        at(A, 16.0, 18.0, "让您久等了。"),
    )
    # The notice is three agent utterances back; only the last two count.
    assert cats(t) == ["hold", "hold_notice_missing"]


def test_no_holds_before_first_or_after_last_speech():
    t = call(at(A, 20.0, 22.0, "您好。"), at(C, 22.5, 24.0, "你好。"), duration_s=60.0)
    assert find_holds(t, 6.0) == []


def test_speech_spans_beat_utterances():
    # The ASR segment hides a silence that speech detection saw (agent typing).
    t = call(
        at(A, 0.0, 20.0, "好的请您稍等让您久等了"),
        spans=(SpeechSpan(A, 0.0, 4.0), SpeechSpan(A, 12.0, 20.0)),
    )
    assert [(h.start_s, h.end_s) for h in find_holds(t, 6.0)] == [(4.0, 12.0)]
    no_spans = call(at(A, 0.0, 20.0, "好的请您稍等让您久等了"))
    assert find_holds(no_spans, 6.0) == []


def test_threshold_is_configurable():
    assert cats(hold_call(4.0)) == []
    (rule,) = [r for r in PACK.custom_rules if r.id == "hold"]
    shorter = rule.model_copy(update={"each": Condition(silence=Gap(at_least_s=3.0))})
    found = rule_findings(Call(hold_call(4.0), PACK), shorter)
    assert [(f.category, f.start_s, f.end_s, f.detail) for f in found] == [("hold", 6.5, 10.5, "silence 4.0 s")]


def test_finding_details_and_quotes():
    found = hold_findings(call(at(A, 0.0, 3.0, "好的，请稍等。"), at(A, 23.0, 26.0, "查到了。")))
    assert [(f.category, f.text, f.detail) for f in found] == [
        ("hold", "", "silence 20.0 s"),
        ("hold_reason_missing", "好的，请稍等。", "hold notice without a reason for a 20.0 s wait"),
        ("hold_apology_missing", "查到了。", "no thanks/apology after the silence")]
