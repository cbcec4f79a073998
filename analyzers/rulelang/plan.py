"""A rule pack's conditions compiled once per pack: what `evaluate.hits` reads of a condition
on every utterance pool (its count, role, position, relations, turn tests and its test, the
phrase group a phrase test asks) worked out on first use and kept with the pack, so that
evaluating a rule neither re-reads the schema objects nor looks its phrase list up again."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import anyof
from ..text import group_holds, normalise, phrase_group, strip_punct
from .schema import Condition, PhraseList

#: test(call, c, pool, one) -> the utterances of `pool` that c's own test hits.
Test = Callable[[Any, Condition, set, bool], set]


@dataclass(frozen=True, slots=True)
class Plan:
    direction: str | None
    #: a count or an Nth hit: the whole call is counted
    counted: bool
    #: in_turn / not_in_turn: read on the hits' turns after the test
    turnwise: bool
    role: str | None
    positional: bool
    relates: bool
    test: Test


#: id(pack) -> (the pack, id(condition) -> (the condition, its plan)); the pack (and each
#: condition met that it does not hold) is kept, so an id is not reused while its entry lives.
_PACKS: dict[int, tuple[Any, dict[int, tuple[Condition, Plan]]]] = {}


def plans_of(pack: Any) -> dict[int, tuple[Condition, Plan]]:
    """The pack's compiled conditions (filled as the rules ask), one table per pack."""
    seen = _PACKS.get(id(pack))
    if seen is None or seen[0] is not pack:
        if len(_PACKS) >= 16:
            _PACKS.clear()
        seen = _PACKS[id(pack)] = (pack, {})
    return seen[1]


def plan(plans: dict[int, tuple[Condition, Plan]], pack: Any, c: Condition) -> Plan:
    """c's plan in `plans` (the table of c's pack), compiled the first time."""
    seen = plans.get(id(c))
    if seen is None or seen[0] is not c:
        if len(plans) >= 8192:
            plans.clear()
        seen = plans[id(c)] = (c, _compile(pack, c))
    return seen[1]


def _compile(pack: Any, c: Condition) -> Plan:
    from . import combine, evaluate as ev  # they import this module

    return Plan(c.direction, c.nth is not None or c.at_least is not None or c.at_most is not None,
                c.in_turn is not None or c.not_in_turn is not None, c.role,
                any(x is not None for x in (c.first, c.last, c.first_s, c.last_s)), combine.relates(c),
                _phrase_test(pack, c) or ev._test)


def _phrase_test(pack: Any, c: Condition) -> Test | None:
    """A bare phrase test by sound (the rules' commonest) with its group found once; None for
    any other test (evaluate._test reads it)."""
    from . import combine

    if c.phrases is None or c.starts_within is not None or combine.test_name(c) != "phrases" \
            or any(x is not None for x in (c.all, c.any, c.not_, c.together)):
        return None
    from .evaluate import pack_field

    listed = pack_field(pack, c.phrases.list_) if isinstance(c.phrases, PhraseList) else c.phrases
    if not c.homophones:
        return _exact_test(listed)
    group = phrase_group(listed)

    def test(call: Any, _c: Condition, pool: set, one: bool) -> set:
        texts = call.texts
        if one:  # whether anything hits: utterance by utterance, up to the first hit
            return next(({i} for i in sorted(pool) if group_holds(texts[i], group)), set())
        return {i for i in pool if group_holds(texts[i], group)}

    return test


def _exact_test(phrases) -> Test:
    """A phrase test as written (`homophones: false`): its literals, normalised once (not at
    every call), found in the text without punctuation, or its `re:` regexes in the text."""
    literal = [p for p in (strip_punct(normalise(p)) for p in phrases if not p.startswith("re:")) if p]
    found = re.compile("|".join(map(re.escape, literal))).search if literal else None
    regexes = [re.compile(p[3:]) for p in phrases if p.startswith("re:")]
    either = anyof.either_of(regexes) if len(regexes) > 1 else None  # one search for them all
    searches = [either.search] if either is not None else [r.search for r in regexes]

    def holds(t: str) -> bool:
        if found is not None and found(strip_punct(t)) is not None:
            return True
        for search in searches:
            if search(t) is not None:
                return True
        return False

    def test(call: Any, _c: Condition, pool: set, one: bool) -> set:
        texts = call.texts
        if one:
            return next(({i} for i in sorted(pool) if holds(texts[i])), set())
        return {i for i in pool if holds(texts[i])}

    return test


def prepare(pack: Any) -> None:
    """Compile every condition of the pack's rules, and the by-sound regexes their phrase
    tests ask (analyzers.soundregex), ahead of the first call: analyze.prepare."""
    from .. import soundregex
    from .evaluate import pack_field

    plans = plans_of(pack)
    for rule in pack.custom_rules:
        for part in rule.parts():
            for c in part.walk():
                plan(plans, pack, c)
                if c.phrases is None:
                    continue
                listed = pack_field(pack, c.phrases.list_) if isinstance(c.phrases, PhraseList) else c.phrases
                group = phrase_group(listed)
                longer = group.by_sound[4]
                for phrases in (group.spoken, group.by_sound[0], *(stretches for _, _, stretches in group.regexes),
                                *(() if longer is None else (longer[1],))):
                    if any(len(p) >= 2 for p in phrases):
                        soundregex.sound_regex(phrases)
    soundregex.prepare()
