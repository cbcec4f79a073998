"""Whether a phrase group (text.phrase_group) holds in a text, by every route: its regexes, its
literals exact, by sound and by a near syllable, and last its regexes tried on the text
respelled by sound, asked first once for the whole group (nearly every text has nothing to
respell)."""

from __future__ import annotations

import functools
import re
from re import _parser
from re import _constants as _sre


@functools.lru_cache(maxsize=65536)
def group_holds(text: str, group) -> bool:
    """text.contains_any's answer, kept per text and group: the rules ask a call's utterances
    the same question often (a quarter of the questions of a synthetic call were asked before)."""
    # Any route answers: the cheap ones first, the regexes respelled by sound (a walk each) last.
    # The regexes read the text with its punctuation, as contains_alternative does. What the
    # routes read of the text is read once per text (`text_view`), of the group once (`_plan`).
    n, chars, bare, unheard = text_view(text)
    by_sound = group.by_sound
    any_regex = by_sound[6]
    if any_regex is not None:  # one search for all the regexes (a text of none of their chars: none)
        if n >= by_sound[8] and (by_sound[7] is None or not by_sound[7].isdisjoint(chars)) \
                and any_regex(text):
            return True
    elif by_sound[2]:
        for (_, regex, _), need, (least, most) in zip(group.regexes, by_sound[2], by_sound[3]):
            if least <= n <= most and (need is None or not need.isdisjoint(chars)) and regex.search(text):
                return True
    if group.exact is not None and group.exact.search(bare):
        return True
    seen = _PLANS.get(id(group))
    spoken, near = (seen[1] if seen is not None and seen[0] is group else _plan(group))
    if spoken is not None:  # soundregex.may_sound_like, its regex found once
        if unheard and _soundregex.unheard(bare):
            if _text._homophones.windows(bare, group.spoken, first_only=True):
                return True
        elif spoken.search(bare):
            return True
    # nearsound.group_holds, its set test first on the text's chars (no reading of the text)
    if near is not None and (unheard or not near.near_chars.isdisjoint(chars)) \
            and not _near.heard_keys(bare).isdisjoint(near.near_keys) and near.holds(bare):
        return True
    return heard_holds(text, group, n, chars, unheard)  # as search_by_sound does, each regex respelled


@functools.lru_cache(maxsize=65536)
def text_view(text: str) -> tuple[int, frozenset[str], str, bool]:
    """What every phrase group's routes read of `text`, once per text: its length, its chars,
    its form without punctuation and whether it holds a char the sound classes leave out."""
    return len(text), char_set(text), _text.strip_punct(text), _soundregex.unheard(text)


#: id(group) -> (the group, (its literals' by-sound regex or None, its nearsound.NearGroup or
#: None)): what group_holds reads of a group beyond its fields, found on its first question.
_PLANS: dict[int, tuple] = {}


def _plan(group) -> tuple:
    if len(_PLANS) >= 8192:
        _PLANS.clear()
    spoken = (_soundregex.sound_regex(group.spoken) or _NEVER) if group.by_first else None
    _PLANS[id(group)] = (group, (spoken, _near._near_of(group)))
    return _PLANS[id(group)][1]


#: A regex that never matches: a group whose literals are all single chars has no by-sound window.
_NEVER = re.compile("(?!)")


@functools.lru_cache(maxsize=65536)
def char_set(text: str) -> frozenset[str]:
    """The chars of `text`, once per text: a set tests another set's few chars at set speed
    (`frozenset.isdisjoint(str)` reads the whole string each time)."""
    return frozenset(text)


def heard_holds(text: str, group, n: int | None = None, chars: frozenset[str] | None = None,
                unheard: bool | None = None) -> bool:
    """Whether a regex of `group` matches `text` respelled toward its stretches (as
    `text.search_by_sound` tries it); `n`, `chars`, `unheard`: the text's `text_view`, if read.

    `_respelled` leaves a text as it is unless it shares a char with the stretches and has a
    window sounding like one (`soundregex.may_sound_like`); asked once for the union of the
    group's stretches, a no answers for every regex (nearly all texts: one search, not eight).
    Respelling keeps a text's length: a regex that cannot match a text of this length (its
    `widths`) is not respelled for, and its stretches are not asked of a text too long for it."""
    if n is None:
        n, chars, unheard = len(text), char_set(text), _soundregex.unheard(text)
    stretches, stretch_chars, _, widths, longer, loose = group.by_sound[:6]
    if longer is not None and n > longer[0]:  # too long for the anchored regexes: the others' stretches
        stretches, stretch_chars = longer[1], longer[2]
    if not stretches or stretch_chars.isdisjoint(chars) or not _soundregex.may_sound_like(text, stretches):
        return False
    respelled = _text._respelled
    # a regex its loosened form misses cannot match the text respelled: no walk for it
    for (_, regex, kept), kept_chars, (least, most), wide in zip(group.regexes, group.stretch_chars, widths, loose):
        if kept and least <= n <= most and (unheard or wide is None or wide.search(text)) \
                and (heard := respelled(text, kept, kept_chars)) is not text and regex.search(heard):
            return True
    return False


def routes(regexes) -> tuple:
    """A group's `by_sound` field from its (index, compiled, stretches) regexes: every stretch
    once, their chars, per regex the chars one of which any match holds (`needed_chars`) and
    the lengths of text it may match in (`widths`), and where some regexes have a longest
    text: (the longest, the stretches of the others once, their chars) or else None (a text
    longer than any anchored regex's match asks only the others' stretches: an anchored
    regex's optional words (好的, 您的) are in most texts and would send each to a walk), and
    per regex its `loosen.loose_regex` (or None): a text it misses is not respelled for it.
    Then, for group_holds: all the regexes as one (`anyof.either`: its search, or None), the
    chars one of which any of their matches holds (None where a regex has no such set), and
    the shortest text any matches. Each pattern is parsed once here."""
    parsed = [_parser.parse(regex.pattern, regex.flags) for _, regex, _ in regexes]
    stretches = tuple(dict.fromkeys(s for _, _, kept in regexes for s in kept))
    lengths = tuple(widths(regex, p) for (_, regex, _), p in zip(regexes, parsed))
    longer = None
    if any(most < ANY_LENGTH for _, most in lengths):
        rest = tuple(dict.fromkeys(s for (_, _, kept), (_, most) in zip(regexes, lengths) if most == ANY_LENGTH
                                   for s in kept))
        longer = (max(most for _, most in lengths if most < ANY_LENGTH), rest, frozenset("".join(rest)))
    needs = tuple(needed_chars(regex, p) for (_, regex, _), p in zip(regexes, parsed))
    loose = tuple(_loosen.loose_regex(regex, kept, p) for (_, regex, kept), p in zip(regexes, parsed))
    flags = {regex.flags for _, regex, _ in regexes}
    one = _anyof.either(parsed, flags.pop()) if len(flags) == 1 else None
    return (stretches, frozenset("".join(stretches)), needs, lengths, longer, loose, None if one is None else one.search,
            frozenset().union(*needs) if needs and None not in needs else None,
            min((least for least, _ in lengths), default=0))


#: No longest text: a regex that is not anchored at both ends may match inside any text.
ANY_LENGTH = 1 << 62


def widths(regex: re.Pattern, parsed=None) -> tuple[int, int]:
    """(shortest, longest) text `regex` may match in: its shortest match, and its longest where
    it is anchored at both ends (^...$: the match is the whole text, or all but a final newline).
    `parsed`: its pattern parsed, if at hand."""
    if parsed is None:
        parsed = _parser.parse(regex.pattern, regex.flags)
    least, most = parsed.getwidth()
    items = list(parsed)
    anchored = not regex.flags & re.MULTILINE and len(items) >= 2 and items[0] == (_sre.AT, _sre.AT_BEGINNING) \
        and items[-1] == (_sre.AT, _sre.AT_END)
    return least, (most + 1 if anchored and most < _sre.MAXREPEAT else ANY_LENGTH)


#: A class wider than this is no use as a test (it holds most texts' chars anyway).
_MAX_NEEDED = 64


def needed_chars(regex: re.Pattern, parsed=None) -> frozenset[str] | None:
    """Chars one of which every match of `regex` holds (a text with none cannot match), the
    fewest such found; None where no element of the pattern settles it. `parsed`: its
    pattern parsed, if at hand."""
    if regex.flags & re.IGNORECASE:
        return None
    return _needed(_parser.parse(regex.pattern, regex.flags) if parsed is None else parsed)


def _needed(seq) -> frozenset[str] | None:
    """Of a sequence's elements that every match goes through, the smallest set of chars
    one of which the element consumes."""
    best = None
    for op, av in seq:
        got = _element(op, av)
        if got is not None and (best is None or len(got) < len(best)):
            best = got
    return best


def _element(op, av) -> frozenset[str] | None:
    if op is _sre.LITERAL:
        return frozenset(chr(av))
    if op is _sre.IN:
        if any(o not in (_sre.LITERAL, _sre.RANGE) for o, _ in av):
            return None  # a negated class, a category (\w): any char
        if sum(1 if o is _sre.LITERAL else a[1] - a[0] + 1 for o, a in av) > _MAX_NEEDED:
            return None
        return frozenset(chr(a) if o is _sre.LITERAL else chr(c) for o, a in av
                         for c in ((a,) if o is _sre.LITERAL else range(a[0], a[1] + 1)))
    if op is _sre.SUBPATTERN:
        return _needed(av[3])
    if op is _sre.BRANCH:  # each branch consumes a char of its own set, or settles nothing
        sets = [_needed(branch) for branch in av[1]]
        return None if any(s is None for s in sets) else frozenset().union(*sets)
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        return _needed(av[2]) if av[0] >= 1 else None
    return None  # a wildcard, a lookaround, an anchor: nothing consumed for certain


from . import anyof as _anyof  # noqa: E402
from . import loosen as _loosen  # noqa: E402
from . import nearsound as _near  # noqa: E402
from . import soundregex as _soundregex  # noqa: E402
from . import text as _text  # noqa: E402  (it imports this module)
