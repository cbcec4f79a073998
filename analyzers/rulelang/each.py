"""`each` rules (schema.Rule.each): a finding per hit of a condition (a bare `silence` test: per
silence, spanning it), or with `require` per hit whose `window` holds no hit of the requirement.
The pack's holds are written so (custom_rules.yaml hold, hold_notice, hold_reason, hold_apology)."""

from __future__ import annotations

import bisect

from ..model import Finding
from . import evaluate as _ev
from .evaluate import Call, _finding, _position, hits
from .keys import Same
from .signals import silences
from .schema import SCOPES, Condition, Rule, Window


#: (what, id(condition)) -> (the condition, the answer): kept by the condition's id, as an
#: lru_cache on the condition itself hashed the nested condition (~8 us) at every look-up.
_SEEN: dict[tuple[str, int], tuple[Condition, object]] = {}


def _once(what: str, c: Condition, make):
    seen = _SEEN.get((what, id(c)))
    if seen is None or seen[0] is not c:
        if len(_SEEN) >= 4096:
            _SEEN.clear()
        seen = _SEEN[what, id(c)] = (c, make(c))
    return seen[1]


def _bare_silence(c: Condition) -> bool:
    return _once("bare", c, lambda c: c.silence is not None and all(getattr(c, k) is None for k in SCOPES))


def _unplaced(c: Condition) -> Condition:
    """c without its role and position: applied to a window instead (`_window_hits`); a count
    or an Nth hit counts the whole call (as `hits` does), so it keeps its role."""
    return _once("unplaced", c, _unplace)


def _unplace(c: Condition) -> Condition:
    counted = c.nth is not None or c.at_least is not None or c.at_most is not None
    return c.model_copy(update={**({} if counted else {"role": None}),
                                "first": None, "last": None, "first_s": None, "last_s": None})


def _each_hits(call: Call, c: Condition) -> list[tuple[tuple[float, float], list[int]]]:
    """An `each` condition's hits as (span, utterances to quote): a silence test's silences
    themselves (nothing to quote; with scope, those whose next utterance the scope keeps:
    not after the customer's 你等一下), else the utterances it hits."""
    if c.silence is not None:
        held = silences(call, c.silence)
        if not _bare_silence(c):
            kept = _ev.anchor_hits(call, c)  # the utterance right after each silence; read once for the rules sharing c
            starts = [u.start_s for u in call.utts]
            held = [h for h in held if bisect.bisect_left(starts, h.start_s) in kept]
        return [((h.start_s, h.end_s), []) for h in held]
    return [((call.utts[i].start_s, call.utts[i].end_s), [i]) for i in hits(call, c)]


def _window(call: Call, span: tuple[float, float], w: Window | None) -> list[int]:
    """The utterances where an `each` hit's requirement is looked for (schema.Window); kept
    on the call, as several rules look around the same silences."""
    if w is None:
        return list(range(len(call.utts)))
    key = (span, Same.of(w))  # Same: the window's hash found once, not per look-up
    if key not in call.gaps:
        starts = call.gaps.setdefault("starts", [u.start_s for u in call.utts])  # in time order
        if w.before_s is not None:
            call.gaps[key] = [i for i in range(bisect.bisect_left(starts, span[0]))
                              if call.utts[i].end_s >= span[0] - w.before_s]
        else:
            call.gaps[key] = list(range(bisect.bisect_right(starts, span[0]),
                                        bisect.bisect_right(starts, span[1] + w.after_s)))
    return call.gaps[key]


def _window_hits(call: Call, c: Condition, window: list[int]) -> tuple[list[int], tuple[int, ...]]:
    """(c's role and position counted inside `window`, c's hits among them)."""
    scope = sorted(_position(call, c, {i for i in window if c.role is None or call.utts[i].speaker == c.role}, window))
    return scope, hits(call, _unplaced(c), set(scope))


def each_findings(call: Call, rule: Rule) -> list[Finding]:
    """`each`: a finding per hit; with `require`, per hit whose window (with `when`: a window
    that `when` hits) holds no hit of it, spanning the hit and quoting the window's scope."""
    found = []
    for span, quoted in _each_hits(call, rule.each):
        if rule.require is not None:
            window = _window(call, span, rule.window)
            if rule.when is not None and not _window_hits(call, rule.when, window)[1]:
                continue
            quoted, met = _window_hits(call, rule.require, window)
            if met:
                continue
        found.append(_finding(rule, call, quoted, span, at=span))
    return found
