"""A regex loosened by sound: it matches a text wherever the regex may match the text
respelled toward the regex's stretches (`text.respelled`), so that a text it does not match
need not be respelled (a walk) to learn that the regex misses it.

Respelling keeps a text's length and writes a window that sounds like a stretch as that
stretch: a char of the respelled text is the text's own, or a stretch char whose place the
text fills with a char that sounds like it (`soundregex._chars`: the chars `windows` lets
stand for it). So each element that may consume a stretch char is widened to the chars that
sound like it, a negated class that may refuse such a char to any char, and the zero-width
tests other than ^ and $ are dropped (a lookahead on the text may fail where it held on the
respelled text). The loosened regex matches a superset of what respelling finds: a filter,
never an answer. A pattern it cannot widen soundly (a backreference, an atomic group, a
possessive repeat) has none.
"""

from __future__ import annotations

import re
from re import _compiler, _parser
from re import _constants as _sre

from . import soundregex as _soundregex
from . import text as _text

#: Any char at all ([\s\S]): what a widened negated class becomes.
_ANY_CHAR = (_sre.IN, [(_sre.CATEGORY, _sre.CATEGORY_SPACE), (_sre.CATEGORY, _sre.CATEGORY_NOT_SPACE)])
#: The anchors kept: a respelled text's length is the text's, so its ends are the same places.
_ENDS = (_sre.AT_BEGINNING, _sre.AT_BEGINNING_STRING, _sre.AT_END, _sre.AT_END_STRING)


class _Unsound(Exception):
    """The pattern holds an element that cannot be widened soundly."""


def loose_regex(regex: re.Pattern, stretches: tuple[str, ...], parsed=None) -> re.Pattern | None:
    """`regex` loosened toward `stretches` (its `text.regex_stretches`); None where it cannot
    be, or there is nothing to respell toward. Ask it of a text without a char that the sound
    classes leave out (`soundregex.outside`). `parsed`: the regex's pattern parsed, if at hand."""
    loose = loose_parsed(regex, stretches, parsed)
    return None if loose is None else _compiler.compile(loose, regex.flags)


def loose_parsed(regex: re.Pattern, stretches: tuple[str, ...], parsed=None) -> _parser.SubPattern | None:
    """`loose_regex` before it is compiled."""
    if not stretches or regex.flags & re.IGNORECASE:  # a case-folded class is not widened here
        return None
    heard: dict[str, set[str]] = {}  # stretch char -> the chars that may stand for it
    for stretch in stretches:
        for char, accepted in zip(stretch, _text._accepted_readings(stretch)):
            heard.setdefault(char, {char}).update(_soundregex._chars(char, accepted, False))
    if parsed is None:
        parsed = _parser.parse(regex.pattern, regex.flags)
    try:
        data = _widen(list(parsed), parsed.state, {c: frozenset(s) for c, s in heard.items()})
    except _Unsound:
        return None
    return _parser.SubPattern(parsed.state, data)


def _widen(items: list, state, heard: dict[str, frozenset[str]]) -> list:
    out = []
    for op, av in items:
        if op is _sre.LITERAL:
            chars = heard.get(chr(av))
            out.append((op, av) if chars is None else (_sre.IN, [(_sre.LITERAL, ord(c)) for c in sorted(chars)]))
        elif op is _sre.NOT_LITERAL:
            out.append(_ANY_CHAR if any(chr(av) in chars for chars in heard.values()) else (op, av))
        elif op is _sre.IN:
            out.append(_widen_class(av, heard))
        elif op is _sre.ANY:
            out.append((op, av))  # a heard char is never a newline
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
            out.append((op, (av[0], av[1], _sub(av[2], state, heard))))
        elif op is _sre.SUBPATTERN:
            out.append((op, (av[0], av[1], av[2], _sub(av[3], state, heard))))
        elif op is _sre.BRANCH:
            out.append((op, (av[0], [_sub(b, state, heard) for b in av[1]])))
        elif op is _sre.AT:
            if av in _ENDS:
                out.append((op, av))
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            continue  # a test of the text around: dropped, so the loosened regex only widens
        else:
            raise _Unsound(op)
    return out


def _sub(sub, state, heard):
    return _parser.SubPattern(state, _widen(list(sub), state, heard))


def _widen_class(av: list, heard: dict[str, frozenset[str]]) -> tuple:
    """A class that also holds each char that may stand for a stretch char it holds; a
    negated class that refuses a char that may stand for one: any char."""
    alone = _compiler.compile(_parser.SubPattern(_parser.State(), [(_sre.IN, av)]), 0)
    if av and av[0][0] is _sre.NEGATE:
        refused = any(alone.match(c) is None for chars in heard.values() for c in chars)
        return _ANY_CHAR if refused else (_sre.IN, av)
    added = sorted({c for char, chars in heard.items() if alone.match(char) for c in chars})
    return (_sre.IN, av + [(_sre.LITERAL, ord(c)) for c in added]) if added else (_sre.IN, av)
