import pytest

from analyzers.analyze import analyze
from analyzers.model import Finding
from analyzers.rules import Dimension, ScorecardRules
from analyzers.scorecard import grade_for_count, grade_for_score, score_call
from lexicons import load_pack
from transcripts import A, C, CLOSING_BYE, GREETING, at, call, conversation, good_lines

PACK = load_pack()


def f(category, severity="minor"):
    return Finding(category, "r", severity, A, 0.0, 1.0)


def test_grade_tables():
    table = (0, 1, 2, 3, 4)
    assert [grade_for_count(n, table) for n in range(6)] == ["A", "B", "C", "D", "E", "F"]
    assert grade_for_count(1, (0, 0, 1, 2, 2)) == "C"     # grades can be skipped
    cut = (90, 80, 70, 60, 50)
    assert [grade_for_score(s, cut) for s in (100, 90, 89.9, 70, 50, 49.99)] == ["A", "A", "B", "C", "E", "F"]


def test_weighted_total_and_flag():
    rules = ScorecardRules(
        dimensions=(Dimension("language", ("banned_phrase",), 3, (0, 1, 2, 3, 4)),
                    Dimension("holds", ("hold_notice_missing",), 1, (0, 1, 2, 3, 4))),
        flag_below_score=60, flag_severities=("critical",))
    card = score_call([f("banned_phrase"), f("banned_phrase")], rules)
    # language C (3 points = 60), holds A (100): (3*60 + 1*100) / 4 = 70.
    assert [(d.name, d.grade) for d in card.dimensions] == [("language", "C"), ("holds", "A")]
    assert card.score == 70 and card.grade == "C" and not card.flagged
    assert score_call([f("banned_phrase")] * 5, rules).score == 25
    assert score_call([f("banned_phrase")] * 5, rules).flagged
    critical = score_call([f("banned_phrase", "critical")], rules)
    assert critical.score == 85 and critical.flagged


def test_good_call_scores_a():
    a = analyze(conversation(good_lines()), PACK)
    assert a.findings == () and a.score == 100 and a.grade == "A" and not a.flagged
    assert a.greeting_ok and a.closing_ok
    assert set(a.dimension_grades) == {"greeting", "closing", "holds", "language", "speech_rate", "overtalk"}
    assert a.lexicon_version.startswith("zh-CN@")


def test_bad_call_gets_low_grade_and_flag():
    lines = [(A, "喂，什么事？"), (C, "我的订单一直没到，你们怎么回事，都一个星期了。"),
             (A, "不知道，您自己看物流吧，这不是我们的问题。"), (C, "那怎么办？"), (A, "没办法，以后再说吧。")]
    a = analyze(conversation(lines), PACK)
    assert not a.greeting_ok and not a.closing_ok
    assert a.banned_count == 7
    assert a.dimension_grades["language"] == "F"
    assert a.grade == "F" and a.flagged
    assert any("critical" in r for r in a.flag_reasons)


def test_one_slip_keeps_call_unflagged():
    lines = good_lines()
    lines[4] = (A, lines[4][1] + "好的，这个有点麻烦。")
    a = analyze(conversation(lines), PACK)
    assert a.banned_count == 1
    assert a.dimension_grades["language"] == "B"
    assert a.score == pytest.approx((7 * 100 + 3 * 80) / 10)   # language weighs 3 of 10, B = 80
    assert a.grade == "A" and not a.flagged


def test_hold_counts_and_findings_in_order():
    t = call(at(A, 0.0, 4.0, GREETING), at(C, 4.5, 6.0, "查订单"), at(A, 6.5, 7.5, "好的"),
             at(A, 15.0, 16.0, "查到了"), at(A, 16.5, 19.0, "还有其他可以帮您吗"), at(A, 19.5, 21.0, CLOSING_BYE))
    a = analyze(t, PACK)
    assert a.hold_count == 1
    cats = [x.category for x in a.findings]
    assert {"hold", "hold_notice_missing", "hold_apology_missing"} <= set(cats)
    assert [x.start_s for x in a.findings] == sorted(x.start_s for x in a.findings)
    assert a.dimension_grades["holds"] == "C"
