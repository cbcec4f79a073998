"""A pack's rules and its scorecard: each rule's findings counted by the item it names."""

from __future__ import annotations

from ..rules import ScorecardRules
from .schema import Rule


def selector(rule: Rule) -> str:
    return f"{rule.category}:{rule.finding_id}"


def scored(scorecard: ScorecardRules, rules: tuple[Rule, ...]) -> ScorecardRules:
    """`scorecard` with every rule's findings owned by its `item`: a selector added to an
    item graded by deduction, a point of its own on an item graded by points (礼貌用语:
    one grade down per point missed). Rules without an item are shown, not graded."""
    items = []
    for item in scorecard.items:
        mine = tuple(dict.fromkeys(selector(r) for r in rules if r.item == item.id))  # rules reporting as one: once
        if mine and item.points:
            item = item.model_copy(update={"points": (*item.points, *((s,) for s in mine))})
        elif mine:
            item = item.model_copy(update={"findings": (*item.findings, *mine)})
        items.append(item)
    return scorecard.model_copy(update={"items": tuple(items)})
