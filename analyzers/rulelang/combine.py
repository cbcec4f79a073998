"""The rule language's `all` and `any` over a pool of utterances, each condition tested only
on what is still open (evaluate.hits: a condition's hits in a pool are its hits in the call
kept to the pool, except where it reads the pool as a whole), and what is kept per condition."""

from __future__ import annotations

from collections.abc import Sequence

from . import evaluate as _ev
from .schema import Condition


#: Condition fields whose hits in a pool are their hits in the call kept to the pool (what
#: `all_hits` may narrow); `chars.total` and `together` read the pool as a whole: not these.
_POOLWISE = frozenset({"phrases", "homophones", "starts_within", "pattern", "regex", "intent", "sentence", "chars",
                       "duration", "silence", "response_time", "rate", "volume", "interruption", "entity", "repeats",
                       "differs", "all", "any", "not_", "role", "first_s", "last_s", "first", "last", "after", "before",
                       "not_after", "not_before", "during", "not_during", "in_turn", "not_in_turn", "within", "nth",
                       "at_least", "at_most"})
#: id(condition) -> (the condition, whether a narrower pool may be given it, whether it reads no words).
_SHAPE: dict[int, tuple[Condition, bool, bool]] = {}


def _shape(c: Condition) -> tuple[bool, bool]:
    """(whether c's hits in a pool are its hits kept to the pool, whether nothing in it reads words)."""
    seen = _SHAPE.get(id(c))
    if seen is None or seen[0] is not c:
        parts = list(c.walk())
        poolwise = all(x.model_fields_set <= _POOLWISE and not (x.chars is not None and x.chars.total) for x in parts)
        wordless = not any(getattr(x, name) is not None for x in parts for name in _ev._TEXTUAL)
        if len(_SHAPE) >= 4096:
            _SHAPE.clear()
        seen = _SHAPE[id(c)] = (c, poolwise, wordless)
    return seen[1], seen[2]


def all_hits(call: _ev.Call, conditions: Sequence[Condition], pool: set[int] | None) -> set[int]:
    """The utterances every condition hits. Each is tested only on what the ones before it
    hit (the same hits: a test in a pool is its hits kept to the pool), those that read no
    words first; a condition that reads its pool as a whole is given the outer pool."""
    shapes = [_shape(s) for s in conditions]
    found: set[int] | None = None
    for k in sorted(range(len(conditions)), key=lambda k: not shapes[k][1]):
        inner = pool if found is None or not shapes[k][0] else found
        got = set(_ev.hits(call, conditions[k], inner))
        found = got if found is None else found & got
        if not found:  # nothing any later condition hits can be kept
            return found
    return found


def any_hits(call: _ev.Call, conditions: Sequence[Condition], pool: set[int] | None) -> set[int]:
    """The utterances some condition hits; each tested only on what the ones before it left."""
    found: set[int] = set()
    everything = call.everyone if pool is None else pool
    for s in conditions:
        inner = everything - found if found and _shape(s)[0] else pool
        found |= set(_ev.hits(call, s, inner))
    return found


#: id(condition) -> (the condition, the name of its test): found once, not per utterance pool.
_NAMES: dict[int, tuple[Condition, str | None]] = {}


def test_name(c: Condition) -> str | None:
    """The name of c's test (a key of evaluate._TESTS); None when it has none."""
    seen = _NAMES.get(id(c))
    if seen is None or seen[0] is not c:
        if len(_NAMES) >= 4096:
            _NAMES.clear()
        seen = _NAMES[id(c)] = (c, next((name for name in _ev._TESTS if getattr(c, name) is not None), None))
    return seen[1]


#: Fields that relate no hit to another condition's (all but after, before, during … and any
#: field this list does not know, which evaluate._related may read).
_UNRELATED = (_POOLWISE | {"together"}) - {"after", "before", "not_after", "not_before", "during", "not_during"}
#: id(condition) -> (the condition, whether it may have a relation).
_RELATES: dict[int, tuple[Condition, bool]] = {}


def relates(c: Condition) -> bool:
    """Whether c may keep its hits by another condition's (after, before, during …)."""
    seen = _RELATES.get(id(c))
    if seen is None or seen[0] is not c:
        if len(_RELATES) >= 4096:
            _RELATES.clear()
        seen = _RELATES[id(c)] = (c, not c.model_fields_set <= _UNRELATED)
    return seen[1]
