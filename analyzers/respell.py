"""The last route of `text._holds`: a group's regexes tried on the text respelled by sound,
skipped where a regex cannot match any respelling.

`text._respelled` only writes a stretch's chars over a window, so the respelled text's chars
are the text's and the stretches'. A char that every match of a regex holds (`required_chars`)
and that no stretch of it spells must then be in the text itself; where it is not, the regex
cannot match the respelling and the walk (a third of `_holds`) is spared: the same answer.
"""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=4096)
def required_chars(pattern: str) -> frozenset[str]:
    """Chars that every match of `pattern` holds (a subset: only what is proven is listed)."""
    from re import _parser

    parsed = _parser.parse(pattern)
    if parsed.state.flags & (re.IGNORECASE | re.VERBOSE):  # case folding: a literal is not one char
        return frozenset()
    return _required(parsed)


def _required(items) -> frozenset[str]:
    from re import _constants as c

    found: set[str] = set()
    for op, av in items:
        if op is c.LITERAL:
            found.add(chr(av))
        elif op is c.SUBPATTERN and not (av[1] & re.IGNORECASE):  # (?i:...) folds case
            found |= _required(av[3])
        elif op is c.BRANCH:  # what every branch holds
            found |= functools.reduce(frozenset.intersection, map(_required, av[1]))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
            found |= _required(av[2])
        # anything else (classes, lookarounds, optional repeats, backreferences) proves nothing
    return frozenset(found)


def wanting(pattern: str, stretches: tuple[str, ...]) -> tuple[str, ...]:
    """The chars a text must hold for `pattern` to match it respelled toward `stretches`."""
    given = frozenset("".join(stretches))
    return tuple(sorted(ch for ch in required_chars(pattern) if ch not in given))


@functools.lru_cache(maxsize=4096)
def _union(group) -> tuple[tuple[str, ...], frozenset[str]]:
    """(every stretch of the group's regexes, once, in a kept tuple; their chars)."""
    stretches = tuple(dict.fromkeys(s for _, _, kept in group.regexes for s in kept))
    return stretches, frozenset("".join(stretches))


def heard_holds(text: str, group) -> bool:
    """Whether a regex of `group` matches `text` respelled toward its stretches (as
    `text.search_by_sound` tries it), walking only where the text holds its `wanting` chars.

    `_respelled` leaves a text as it is unless it shares a char with the stretches and has a
    window sounding like one (`soundregex.may_sound_like`); asked once for the union of the
    group's stretches, a no answers for every regex (nearly all texts: one search, not eight)."""
    stretches, chars = _union(group)
    if not stretches or chars.isdisjoint(text) or not _soundregex.may_sound_like(text, stretches):
        return False
    respelled = _text._respelled
    for (_, regex, stretches), chars, wanted in zip(group.regexes, group.stretch_chars, group.wanted):
        if not stretches:
            continue
        for ch in wanted:
            if ch not in text:
                break
        else:
            if (heard := respelled(text, stretches, chars)) is not text and regex.search(heard):
                return True
    return False


from . import soundregex as _soundregex  # noqa: E402
from . import text as _text  # noqa: E402  (it imports this module)
