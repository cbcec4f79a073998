"""One regex that matches a text wherever any of several regexes does: a phrase group asks
its regexes (or their loosened forms) of ~300 texts a call, and one search in C answers
what a Python loop of searches did (respell.group_holds)."""

from __future__ import annotations

import re
from re import _compiler, _parser
from re import _constants as _sre

#: Ops that read a group's capture: a pattern with one is left alone (its groups' numbers
#: would change in the alternation).
_REFS = frozenset((_sre.GROUPREF, _sre.GROUPREF_EXISTS, _sre.GROUPREF_IGNORE, _sre.GROUPREF_LOC_IGNORE,
                   _sre.GROUPREF_UNI_IGNORE))


class _Refers(Exception):
    """The pattern reads a group's capture."""


def either(parsed: list, flags: int) -> re.Pattern | None:
    """The alternation of the parsed patterns (`re._parser.parse`, all compiled with
    `flags`), their groups made non-capturing; None for none, or where one refers to a group.
    Its search finds a match exactly where some pattern's search does (re tries every branch
    at every place)."""
    if not parsed:
        return None
    state = _parser.State()
    state.flags = flags
    try:
        branches = [_plain(p, state) for p in parsed]
    except _Refers:
        return None
    top = branches[0] if len(branches) == 1 else _parser.SubPattern(state, [(_sre.BRANCH, (None, branches))])
    try:
        return _compiler.compile(top, flags)
    except (re.error, RecursionError, OverflowError):  # too large a program: the regexes one by one
        return None


def either_of(regexes: list[re.Pattern]) -> re.Pattern | None:
    """`either` of compiled regexes (their pattern strings parsed again); None where their
    flags differ."""
    flags = {r.flags for r in regexes}
    if len(flags) != 1:
        return None
    flag = flags.pop()
    return either([_parser.parse(r.pattern, flag) for r in regexes], flag)


def _plain(sub, state) -> _parser.SubPattern:
    out = []
    for op, av in sub:
        if op in _REFS:
            raise _Refers(op)
        if op is _sre.SUBPATTERN:
            out.append((op, (None, av[1], av[2], _plain(av[3], state))))
        elif op is _sre.BRANCH:
            out.append((op, (av[0], [_plain(b, state) for b in av[1]])))
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            out.append((op, (av[0], av[1], _plain(av[2], state))))
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            out.append((op, (av[0], _plain(av[1], state))))
        elif op is _sre.ATOMIC_GROUP:
            out.append((op, _plain(av, state)))
        else:
            out.append((op, av))
    return _parser.SubPattern(state, out)
