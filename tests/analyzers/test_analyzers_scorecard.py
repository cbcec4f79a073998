import pytest

from analyzers.analyze import analyze
from analyzers.model import Finding
from analyzers.rules import Deduction, FlagRules, GradeMinScore, ScoreItem, ScorecardRules
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
    cut = GradeMinScore(A=90, B=80, C=70, D=60, E=50)
    assert [grade_for_score(s, cut) for s in (100, 90, 89.9, 70, 50, 49.99)] == ["A", "A", "B", "C", "E", "F"]


def f2(category, severity="minor", rule_id="r"):
    return Finding(category, rule_id, severity, A, 0.0, 1.0)


RULES = ScorecardRules(
    items=(ScoreItem(id="wording", name="规范用语", weight=3, findings=("banned_phrase",)),
           ScoreItem(id="polite", name="礼貌用语", weight=1, points=(("thanks_missing",), ("reply_missing",),
                                                                ("hold_notice_missing", "hold_reason_missing")),
                     manual_points=1),
           ScoreItem(id="handling", name="沟通处理技巧", weight=2, findings=("banned_phrase:third_party_blame",)),
           ScoreItem(id="mandarin", name="普通话标准程度", weight=2, manual=True)),
    deduction=Deduction(info=0, minor=1, major=2, critical=5),
    grade_min_score=GradeMinScore(A=90, B=70, C=50, D=30, E=10),
    flag=FlagRules(below_score=50, severities=("critical",), item_grades=("F",)))


def test_items_graded_by_severity_and_weighted():
    card = score_call([f("banned_phrase"), f("banned_phrase", "major")], RULES)
    # wording: minor 1 + major 2 grades down = D (2 points = 40); polite A; handling A.
    assert [(i.item_id, i.grade, i.points) for i in card.items] == [
        ("wording", "D", 2), ("polite", "A", 5), ("handling", "A", 5), ("mandarin", "", None)]
    assert card.score == pytest.approx((3 * 40 + 1 * 100 + 2 * 100) / 6, abs=0.01)
    assert card.automatic_share == pytest.approx(6 / 8)
    assert card.items[0].finding_refs == (0, 1) and card.items[3].automatic is False


def test_points_item_goes_one_grade_down_per_point_missed():
    # 003 §四.2(1)3: one grade per point, however often the point is missed.
    card = score_call([f("thanks_missing")] * 3 + [f("reply_missing"), f("hold_notice_missing")], RULES)
    assert next(i for i in card.items if i.item_id == "polite").grade == "D"   # three points


def test_info_findings_are_shown_not_graded():
    card = score_call([f("hold_reason_missing", "info")], RULES)
    polite = next(i for i in card.items if i.item_id == "polite")
    assert (polite.grade, polite.finding_refs) == ("A", (0,))


def test_rule_specific_selector_wins():
    card = score_call([f2("banned_phrase", "major", "third_party_blame")], RULES)
    assert [(i.item_id, i.grade) for i in card.items[:3]] == [("wording", "A"), ("polite", "A"), ("handling", "C")]


def test_flag_reasons():
    assert score_call([f("banned_phrase")], RULES).flag_reasons == ()
    critical = score_call([f("banned_phrase", "critical")], RULES)
    assert critical.flagged and critical.items[0].grade == "F"
    assert any("graded F" in r for r in critical.flag_reasons)
    assert any(r.startswith("critical banned_phrase") for r in critical.flag_reasons)
    low = score_call([f("banned_phrase", "major")] * 3 + [f2("banned_phrase", "critical", "third_party_blame")], RULES)
    assert any(r.startswith("score ") for r in low.flag_reasons)


def test_good_call_scores_a():
    a = analyze(conversation(good_lines()), PACK)
    assert a.findings == () and a.score == 100 and a.grade == "A" and not a.flagged
    assert a.greeting_ok and a.closing_ok
    assert set(a.dimension_grades) == {"standard_wording", "customer_info", "polite_wording", "intent",
                                       "expression", "handling", "knowledge"}
    assert {i.name for i in a.items} >= {"规范用语", "确认客户信息", "礼貌用语", "了解客户意图", "表达能力",
                                        "沟通处理技巧", "业务知识", "普通话标准程度", "业务熟练度", "回答匹配度", "领悟能力"}
    assert all(i.grade == "" and i.points is None for i in a.items if not i.automatic)
    assert 0 < a.automatic_share < 1
    assert a.lexicon_version.startswith("zh-CN@")


def test_bad_call_gets_low_grade_and_flag():
    lines = [(A, "喂，什么事？"), (C, "我的订单一直没到，你们怎么回事，都一个星期了。"),
             (A, "不知道，您自己看物流吧，这不是我们的问题。"), (C, "那怎么办？"), (A, "没办法，以后再说吧。")]
    a = analyze(conversation(lines), PACK)
    assert not a.greeting_ok and not a.closing_ok
    assert a.banned_count == 7
    assert a.item_grades["standard_wording"] == "F" and a.item_grades["handling"] == "F"
    assert a.score < 50 and a.grade == "D" and a.flagged
    assert any("critical" in r for r in a.flag_reasons)
    # the default pack flags by grade (D or worse), no longer by a score threshold
    assert any("规范用语" in r for r in a.flag_reasons) and any(r.startswith("graded D") for r in a.flag_reasons)
    assert not any(r.startswith("score ") for r in a.flag_reasons)


def test_one_slip_keeps_call_unflagged():
    lines = good_lines()
    lines[4] = (A, lines[4][1] + "好的，这个有点麻烦。")
    a = analyze(conversation(lines), PACK)
    assert a.banned_count == 1
    assert a.item_grades["standard_wording"] == "B"
    graded = sum(i.weight for i in a.items if i.automatic)
    assert a.score == pytest.approx((graded - 3) * 100 / graded + 3 * 80 / graded, abs=0.01)   # 规范用语 weighs 3, B = 80
    assert a.grade == "A" and not a.flagged


def test_hold_counts_and_findings_in_order():
    t = call(at(A, 0.0, 4.0, GREETING), at(C, 4.5, 6.0, "查订单"), at(A, 6.5, 7.5, "好的"),
             at(A, 15.0, 16.0, "查到了"), at(A, 16.5, 19.0, "还有其他可以帮您吗"), at(A, 19.5, 21.0, CLOSING_BYE))
    a = analyze(t, PACK)
    assert a.hold_count == 1
    cats = [x.category for x in a.findings]
    assert {"hold", "hold_notice_missing", "hold_apology_missing"} <= set(cats)
    assert [x.start_s for x in a.findings] == sorted(x.start_s for x in a.findings)
    # Notice and apology are one point of 礼貌用语 (003 §四.2(1)3): one grade down.
    assert a.item_grades["polite_wording"] == "B"


def test_grade_policy_flags_d_or_worse_and_says_why():
    """The default pack's policy (rules.yaml flag.grades [D, E, F], any critical finding)."""
    rules = RULES.model_copy(update={"flag": FlagRules(grades=("D", "E", "F"), severities=("critical",))})
    b = score_call([f("banned_phrase", "major")], rules)  # wording C (60): (180 + 100 + 200) / 6 = 80 = B
    assert b.grade == "B" and not b.flagged and b.flag_reasons == ()
    c = score_call([f("banned_phrase", "major")] * 3, rules)  # wording F: (0 + 100 + 200) / 6 = 50 = C
    assert c.grade == "C" and not c.flagged
    # and handling C too: (0 + 100 + 2 * 60) / 6 = 36.7 = D
    d = score_call([f("banned_phrase", "major")] * 3 + [f2("banned_phrase", "major", "third_party_blame")], rules)
    assert d.grade == "D" and d.flagged
    assert d.flag_reasons == ("graded D (score 36.67): calls graded D, E, F are reviewed",)
    crit = score_call([f2("banned_phrase", "critical", "third_party_blame")], rules)
    assert crit.grade == "C" and crit.flag_reasons == ("critical banned_phrase:third_party_blame at 0:00.0",)


def test_the_default_pack_flags_by_grade():
    assert PACK.scorecard.flag.grades == ("D", "E", "F") and PACK.scorecard.flag.below_score is None
    assert PACK.scorecard.flag.severities == ("critical",)
