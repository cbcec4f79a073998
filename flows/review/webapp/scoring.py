"""The final score of a reviewed call (pure: no IO).

The findings that count are those a reviewer confirmed or added, plus those nobody
rejected (finalising confirms what is left, so in a finalised call that is the same
thing); a rejected finding, or one whose appeal was overturned, does not count. They are
graded again by the rule pack's scorecard (analyzers.scorecard.score_call), then the
reviewer's manual grades (A = 5 … F = 0) join the weighted mean as the pack weights them.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzers.model import Finding
from analyzers.rules import GRADES, ScorecardRules
from analyzers.scorecard import grade_for_score, score_call


@dataclass(frozen=True)
class FinalScore:
    score: float
    grade: str
    #: item_id -> points (0-5) of every item that counted
    points: dict[str, int]


def counts(row: dict, verdict: str | None) -> bool:
    """Whether a finding row (with `present`, `origin`) counts under `verdict`."""
    if verdict == "rejected":
        return False
    if row.get("origin") == "manual" or row.get("present", True):
        return True
    return verdict == "confirmed"  # an orphan counts only where a reviewer confirmed it


def as_finding(row: dict) -> Finding:
    return Finding(category=row["category"], rule_id=row["rule_id"], severity=row["severity"],
                   speaker=row.get("speaker") or "agent", start_s=row["start_s"], end_s=row["end_s"],
                   text=row.get("text") or "", detail=row.get("detail") or "")


def gradable_items(items: list[dict]) -> list[dict]:
    """The items a reviewer grades: the manual ones, or every item where the call's
    scorecard has no manual item (an older pack)."""
    manual = [i for i in items if not i["automatic"]]
    return manual or list(items)


def final_score(items: list[dict], kept: list[Finding], manual_grades: dict[str, str],
                rules: ScorecardRules) -> FinalScore:
    """Score (0-100) and grade of a call from the findings that count and manual grades.

    Parameters: `items` the call's scorecard rows (item_id, weight, automatic, points) in
    pack order; `kept` the findings that count; `manual_grades` item_id -> "A".."F";
    `rules` the pack's scorecard. Items neither graded automatically nor by hand are left
    out of the mean, as `score_call` leaves manual items out.
    """
    card = {i.item_id: i.points for i in score_call(kept, rules).items if i.automatic}
    points: dict[str, int] = {}
    weight: dict[str, float] = {}
    for item in items:
        iid = item["item_id"]
        if iid in manual_grades:
            points[iid] = 5 - GRADES.index(manual_grades[iid]) if manual_grades[iid] in GRADES else 0
        elif item["automatic"]:
            p = card.get(iid, item.get("points"))
            if p is None:
                continue
            points[iid] = p
        else:
            continue
        weight[iid] = item["weight"]
    total = sum(weight.values())
    score = round(sum(weight[i] * points[i] / 5 * 100 for i in points) / total, 2) if total > 0 else 100.0
    return FinalScore(score, grade_for_score(score, rules.grade_min_score), points)
