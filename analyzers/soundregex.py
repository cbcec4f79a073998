"""Whether a text has a window that sounds like one of many phrases, as one compiled regex.

`homophones.windows` walks a trie in Python from every place whose char can be read as a
phrase's first syllable; most (text, phrase group) questions find nothing, and the walk
was a third of an analysis. The same test written as a regex: a phrase of 2+ chars is a
row of char classes, the class of its char c with accepted syllables A (`text._accepted_readings`)
holding every char that `windows` lets stand for it: c itself (at the first place only if c
can be read as one of A, as `windows` starts only there), and each char that is not a
numeral or punctuation (heard only as itself) one of whose readings (`text.char_pinyins`)
is in A. The phrases share their classes as a trie, and re's search runs in C. It answers
"some window exists", the same as `windows(..., first_only=True)` being non-empty; the
windows themselves (places, chars the same) still come from the walk.
"""

from __future__ import annotations

import functools
import re

from . import text as _text

#: id(phrases) -> (the tuple, its regex or None when no phrase has 2+ chars).
_REGEXES: dict[int, tuple[tuple[str, ...], re.Pattern | None]] = {}




def may_sound_like(text: str, phrases: tuple[str, ...]) -> bool:
    """Whether a window of `text` sounds like one of `phrases` (2+ chars): whether
    `homophones.windows(text, phrases, first_only=True)` finds one. The classes hold the
    GB2312 chars (whisper's simplified output; a short index, quick to compile): a text with
    another char that has a reading (or one outside the BMP) is walked."""
    if unheard(text):
        return bool(_text._homophones.windows(text, phrases, first_only=True))
    seen = _REGEXES.get(id(phrases))  # sound_regex's lookup inline: ~400 questions a call
    found = seen[1] if seen is not None and seen[0] is phrases else sound_regex(phrases)
    return found is not None and found.search(text) is not None


def sound_regex(phrases: tuple[str, ...]) -> re.Pattern | None:
    """The regex that finds a window sounding like one of `phrases` (kept per tuple, by identity)."""
    return _text._homophones.kept_per_tuple(_REGEXES, phrases, _compile)


def _compile(phrases: tuple[str, ...]) -> re.Pattern | None:
    root: dict = {}  # (char, accepted) -> child; None marks a phrase's end
    for phrase in phrases:
        if len(phrase) < 2:  # a lone char never matches by sound
            continue
        node = root
        for key in zip(phrase, _text._accepted_readings(phrase)):
            node = node.setdefault(key, {})
        node[None] = {}
    if not root:
        return None
    # One class of every first char leads, so that re skips in C the places none can start at,
    # and one of every second char looks ahead (a place that fails it tries no edge); the edges
    # whose first chars are one class share it, checked looking back.
    firsts: dict[frozenset[str], list[str]] = {}
    for (char, accepted), child in root.items():
        firsts.setdefault(_chars(char, accepted, True), []).append(_pattern(child))
    lead = frozenset().union(*firsts)
    second = frozenset().union(*(_chars(*key, False) for child in root.values() for key in child if key is not None))
    edges = [(f"(?<={_class(chars)})" if len(firsts) > 1 else "") + _either(rest) for chars, rest in firsts.items()]
    return re.compile(_class(lead) + f"(?={_class(second)})" + _either(edges))


def _either(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


def _pattern(node: dict) -> str:
    """The alternation of a trie node's edges after the first char; "" where a phrase ends."""
    if None in node:
        return ""
    parts = [_class(_chars(char, accepted, False)) + _pattern(child) for (char, accepted), child in node.items()]
    return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"


def _class(chars: frozenset[str]) -> str:
    return "[" + "".join(sorted(re.escape(c) for c in chars)) + "]" if chars else "(?!)"


@functools.lru_cache(maxsize=65536)
def _chars(char: str, accepted: frozenset[str], first: bool) -> frozenset[str]:
    """The chars that `windows` lets stand for `char` read as one of `accepted`."""
    heard = _heard_as()[0]
    chars = set().union(*(heard.get(s, ()) for s in accepted))
    # a char pypinyin does not know reads as itself: a one-letter syllable stands for it
    chars.update(s for s in accepted if len(s) == 1 and not _odd(s) and s in _text.char_pinyins(s))
    if not first or not accepted.isdisjoint(_text.char_pinyins(char)):  # itself (first: if read so)
        chars.add(char)
    return frozenset(chars)


@functools.lru_cache(maxsize=1)
def _heard_as() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """(syllable -> every GB2312 char, other than a numeral or punctuation, one of whose
    readings (`text.char_pinyins`) it is; the other chars of the BMP that pypinyin reads,
    which the classes leave out). Any other char reads as itself."""
    from pypinyin.pinyin_dict import pinyin_dict

    found: dict[str, set[str]] = {}
    other = set()
    for c in map(chr, pinyin_dict):
        if c > "\uffff" or _odd(c):
            continue
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            other.add(c)
            continue
        for reading in _text.char_pinyins(c):
            found.setdefault(reading, set()).add(c)
    return {s: frozenset(cs) for s, cs in found.items()}, frozenset(other)


@functools.lru_cache(maxsize=65536)
def unheard(text: str) -> bool:
    """Whether `text` holds a char the classes leave out (`_outside`), once per text: a call's
    texts are asked this for each of ~400 phrase groups."""
    return _outside().search(text) is not None


@functools.lru_cache(maxsize=1)
def _outside() -> re.Pattern:
    """A char that may be read as a syllable and is in no class: a BMP char pypinyin reads
    outside GB2312, or any char outside the BMP (re tests those of a class one by one)."""
    runs: list[list[int]] = []
    for o in sorted(map(ord, _heard_as()[1])):
        if runs and runs[-1][1] == o - 1:
            runs[-1][1] = o
        else:
            runs.append([o, o])
    spans = "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in runs)
    return re.compile("[" + spans + "\U00010000-\U0010FFFF]")


def prepare() -> None:
    """Build the char index and the outside-char test ahead of the first text."""
    _outside()


def _odd(c: str) -> bool:
    return c in _text.NUMERALS or _text.is_punct(c)
