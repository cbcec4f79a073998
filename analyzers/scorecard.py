"""Scorecard: findings per dimension -> grade A-F -> weighted 0-100 total -> grade, flag."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Finding
from .rules import GRADE_POINTS, GRADES, ScorecardRules


@dataclass(frozen=True)
class DimensionScore:
    name: str
    findings: int
    grade: str
    points: int


@dataclass(frozen=True)
class Scorecard:
    dimensions: tuple[DimensionScore, ...]
    score: float
    grade: str
    flagged: bool
    flag_reasons: tuple[str, ...]


def grade_for_count(count: int, max_findings: tuple[int, ...]) -> str:
    for grade, most in zip(GRADES, max_findings):
        if count <= most:
            return grade
    return "F"


def grade_for_score(score: float, min_scores: tuple[float, ...]) -> str:
    for grade, least in zip(GRADES, min_scores):
        if score >= least - 1e-9:
            return grade
    return "F"


def score_call(findings: list[Finding] | tuple[Finding, ...], rules: ScorecardRules) -> Scorecard:
    dims = []
    for dim in rules.dimensions:
        count = sum(1 for f in findings if f.category in dim.categories)
        grade = grade_for_count(count, dim.max_findings)
        dims.append(DimensionScore(dim.name, count, grade, GRADE_POINTS[grade]))
    total_weight = sum(d.weight for d in rules.dimensions)
    if total_weight > 0:
        score = sum(d.weight * s.points / 5 * 100 for d, s in zip(rules.dimensions, dims)) / total_weight
    else:
        score = 100.0
    score = round(score, 2)
    reasons = []
    if score < rules.flag_below_score:
        reasons.append(f"score {score:g} < {rules.flag_below_score:g}")
    for f in findings:
        if f.severity in rules.flag_severities or f.category in rules.flag_categories:
            reasons.append(f"{f.severity} {f.category}:{f.rule_id} at {f.start_s:.1f} s")
    return Scorecard(tuple(dims), score, grade_for_score(score, rules.grade_min_score),
                     bool(reasons), tuple(reasons))
