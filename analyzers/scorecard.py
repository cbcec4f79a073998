"""The standard's scorecard (003 §四 客户服务过程的评估): items graded A-F, a weighted score.

Each item of `ScorecardRules.items` is graded from the findings it owns:

- by deduction: A (5 points) less one grade per grade point of its findings'
  severities (`deduction`; the zh-CN pack: info 0, minor 1, major 2, critical 5);
- by points (礼貌用语): A less one grade per point with a graded finding, as 003
  §四.2(1)3 says ("出现其中一点没有使用礼貌用语的评为B级，依次类推").

A = 5 … F = 0 (003 §四.1(3)). Items no recording can judge (普通话标准程度, 业务熟练度 …)
are `manual`: listed, ungraded. The call's score is the weighted mean of the graded
items' points on 0-100 (points / 5 * 100); `automatic_share` is the share of all the
items' weight that was graded automatically. Info findings are shown, never graded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from operator import attrgetter

from .model import Finding, ItemScore
from .rules import GRADES, GradeMinScore, ScoreItem, ScorecardRules
from .timeline import clock


@dataclass(frozen=True)
class DimensionScore:
    """A graded item in the shape of the former dimensions (kept for compatibility)."""

    name: str
    findings: int
    grade: str
    points: int


@dataclass(frozen=True)
class Scorecard:
    items: tuple[ItemScore, ...]
    score: float
    grade: str
    flagged: bool
    flag_reasons: tuple[str, ...]
    #: Share (0-1) of the items' total weight that was graded automatically.
    automatic_share: float

    @property
    def dimensions(self) -> tuple[DimensionScore, ...]:
        return tuple(DimensionScore(i.item_id, len(i.finding_refs), i.grade, i.points)
                     for i in self.items if i.automatic and i.points is not None)


def grade_for_count(count: int, max_findings: tuple[int, ...]) -> str:
    for grade, most in zip(GRADES, max_findings):
        if count <= most:
            return grade
    return "F"


def grade_for_score(score: float, min_scores: GradeMinScore) -> str:
    for grade, least in min_scores:  # A, B, C, D, E and each one's lowest score
        if score >= least - 1e-9:
            return grade
    return "F"


def grade_for_points(points: int) -> str:
    return GRADES[5 - max(0, min(5, points))]


def _selects(selector: str, finding: Finding) -> int:
    """0 when `selector` does not name `finding`; 1 by category, 2 by category:rule_id."""
    category, _, rule_id = selector.partition(":")
    if category != finding.category:
        return 0
    if not rule_id:
        return 1
    return 2 if rule_id == finding.rule_id else 0


def owner(finding: Finding, items: tuple[ScoreItem, ...]) -> tuple[int, int] | None:
    """(item index, point index or -1) of the most specific selector naming `finding`."""
    best: tuple[int, int, int] | None = None
    for i, item in enumerate(items):
        groups = [(-1, item.findings)] + [(p, sel) for p, sel in enumerate(item.points)]
        for point, selectors in groups:
            for selector in selectors:
                rank = _selects(selector, finding)
                if rank and (best is None or rank > best[0]):
                    best = (rank, i, point)
    return None if best is None else (best[1], best[2])


@functools.lru_cache(maxsize=64)
def _owners(items: tuple[ScoreItem, ...]) -> dict[tuple[str, str], tuple[int, int] | None]:
    """`owner` memoised per (category, rule_id), the only fields it reads, filled as met."""
    return {}


def score_call(findings: list[Finding] | tuple[Finding, ...], rules: ScorecardRules) -> Scorecard:
    owned: dict[int, list[tuple[int, int]]] = {i: [] for i in range(len(rules.items))}
    known = _owners(rules.items)
    for n, f in enumerate(findings):
        key = (f.category, f.rule_id)
        if key not in known:
            known[key] = owner(f, rules.items)
        where = known[key]
        if where is not None:
            owned[where[0]].append((n, where[1]))
    items = []
    for i, item in enumerate(rules.items):
        refs = tuple(n for n, _ in owned[i])
        if item.manual:
            items.append(ItemScore(item.id, item.name, "", None, item.weight, False, refs))
            continue
        graded = [(n, p) for n, p in owned[i] if rules.grades_down(findings[n].severity) > 0]
        if item.points:
            down = len({p for _, p in graded if p >= 0})
        else:
            down = sum(rules.grades_down(findings[n].severity) for n, _ in graded)
        points = max(0, 5 - down)
        items.append(ItemScore(item.id, item.name, grade_for_points(points), points, item.weight, True, refs))
    graded_weight = sum(x.weight for x in items if x.automatic)
    total_weight = sum(x.weight for x in items)
    if graded_weight > 0:
        score = sum(x.weight * x.points / 5 * 100 for x in items if x.automatic) / graded_weight
    else:
        score = 100.0
    score = round(score, 2)
    grade = grade_for_score(score, rules.grade_min_score)
    share = round(graded_weight / total_weight, 4) if total_weight > 0 else 0.0
    reasons = flag_reasons(score, grade, items, findings, rules)
    if reasons and any(f.low_confidence for f in findings):
        # A finding heard with low confidence stays (marked) but flags nothing by itself:
        # the call is flagged only if it would be without such findings.
        if not score_call([f for f in findings if not f.low_confidence], rules).flagged:
            reasons = []
    return Scorecard(tuple(items), score, grade, bool(reasons), tuple(reasons), share)


def flag_reasons(score: float, grade: str, items, findings, rules: ScorecardRules) -> list[str]:
    """Why the call is flagged, in plain words, worst first: its grade or score, then
    critical (or listed) findings, then items at a flagged grade. Empty: not flagged.
    No finding's text is quoted (it may hold a number the output masks later)."""
    reasons = []
    flag = rules.flag
    if grade in flag.grades:
        reasons.append(f"graded {grade} (score {score:g}): calls graded {', '.join(flag.grades)} are reviewed")
    if flag.below_score is not None and score < flag.below_score:
        reasons.append(f"score {score:g} is below {flag.below_score:g}")
    flagged = sorted((f for f in findings if f.severity in flag.severities or f.category in flag.categories),
                     key=lambda f: (_SEVERITY_RANK.get(f.severity, 9), f.start_s))
    for f in flagged:
        heard = " (heard with low confidence)" if f.low_confidence else ""
        reasons.append(f"{f.severity} {f.category}:{f.rule_id} at {clock(f.start_s)}{heard}")
    for x in items:
        if x.automatic and x.grade in flag.item_grades:
            reasons.append(f"scorecard item {x.name} ({x.item_id}) graded {x.grade}")
    return reasons


_SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2, "info": 3}


_START, _END = attrgetter("start_s"), attrgetter("end_s")  # in C: every word of the call


def with_confidence(findings, utterances, low_below: float | None) -> list[Finding]:
    """`findings` with the mean and least probability of the words each rests on: its
    speaker's words that overlap its span (a finding that quotes no text rests on timing,
    not words, and gets none). `low_below`: a mean under it marks the finding low_confidence."""
    # per speaker, each utterance's words' time span (in transcript order), so that a finding
    # skips the utterances it cannot overlap
    spans: dict[str, list] = {}
    if any(f.text for f in findings):
        for u in utterances:
            if u.words:
                spans.setdefault(u.speaker, []).append((u, min(map(_START, u.words)), max(map(_END, u.words))))
    out = []
    for f in findings:
        probs = [] if not f.text else [
            w.probability for u, first, last in spans.get(f.speaker, ()) if first < f.end_s and f.start_s < last
            for w in u.words if w.start_s < f.end_s and f.start_s < w.end_s]
        if not probs:
            out.append(f)
            continue
        mean = round(sum(probs) / len(probs), 4)
        low = low_below is not None and mean < low_below
        out.append(replace(f, confidence_mean=mean, confidence_min=round(min(probs), 4), low_confidence=low))
    return out
