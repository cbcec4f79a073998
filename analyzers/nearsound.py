"""Near-homophones: a long phrase heard with a syllable's ending slipped (感谢 as 该先).

`analyzers.text` matches a phrase where each heard char reads as the phrase's char does
(same toneless pinyin). On telephone audio whisper also slips a syllable's ending: 对吧 as
对班, 满意 as 买一, 小李 as 想里, 滨海 as 冰台, 中介 as 中间. `NEAR_FINALS` lists the final
pairs whisper was measured to swap (tools/near_confusions.py: isolated slips on the real
clips, clean and telephone, and issue 33's list; docs/decisions.md). A phrase of at least
`MIN_SYLLABLES` chars matches a window where at most one char in `SYLLABLES_PER_NEAR` is
such a near syllable and every other char is the phrase's own or sounds the same: a short
phrase never matches this way (不信 is never 不行).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin
from pypinyin.style._utils import get_finals, get_initials

from analyzers import text as _text

#: Final pairs whisper swaps, each an isolated slip seen in the data (same initial, same
#: vowel, the ending differs): 滨->冰 新->星 敬->尽 (in/ing), 咱->在 满->买 (an/ai), 介->间
#: (ie/ian), 吧->班 (a/an), 小->想 (iao/iang). Unordered: a slip goes either way.
NEAR_FINAL_PAIRS: tuple[tuple[str, str], ...] = (
    ("in", "ing"), ("an", "ai"), ("ie", "ian"), ("a", "an"), ("iao", "iang"),
)

#: The fewest chars a phrase has before a near syllable may stand in it.
MIN_SYLLABLES = 4
#: At most one near syllable per this many chars of the phrase (6 chars: two).
SYLLABLES_PER_NEAR = 3


def _final_table(pairs: tuple[tuple[str, str], ...]) -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for a, b in pairs:
        table.setdefault(a, set()).add(b)
        table.setdefault(b, set()).add(a)
    return {k: frozenset(v) for k, v in table.items()}


NEAR_FINALS = _final_table(NEAR_FINAL_PAIRS)


#: How a final of the table is spelled without an initial consonant (pinyin's y-forms).
_ZERO_INITIAL = {"in": "yin", "ing": "ying", "ie": "ye", "ian": "yan", "iao": "yao", "iang": "yang"}


@functools.lru_cache(maxsize=8192)
def near_syllables(syllable: str) -> frozenset[str]:
    """The syllables whisper may write for `syllable` by a slipped ending (gan -> gai)."""
    initial = get_initials(syllable, strict=True)
    others = NEAR_FINALS.get(get_finals(syllable, strict=True), ())
    return frozenset(initial + f if initial else _ZERO_INITIAL.get(f, f) for f in others)


@functools.lru_cache(maxsize=8192)
def main_reading(char: str) -> str:
    """A heard char's everyday toneless reading (its first in pypinyin's dictionary)."""
    return lazy_pinyin(char, style=Style.NORMAL, errors=lambda s: list(s))[0]


@dataclass(frozen=True)
class _NearPhrase:
    """One phrase's side of the near search, built once."""

    phrase: str
    #: per char: the syllables that count as the same sound (text.py's readings)
    same: tuple[frozenset[str], ...]
    #: per char: the near syllables (not the same ones)
    near: tuple[frozenset[str], ...]
    allowed: int  # near syllables allowed in one window


@functools.lru_cache(maxsize=4096)
def near_phrase(phrase: str) -> _NearPhrase | None:
    """`phrase`'s near-search table; None if it is too short to match by a near syllable."""
    if len(phrase) < MIN_SYLLABLES:
        return None
    same = _text._accepted_readings(phrase)
    near = tuple(frozenset().union(*(near_syllables(s) for s in readings)) - readings for readings in same)
    return _NearPhrase(phrase, same, near, len(phrase) // SYLLABLES_PER_NEAR)


@functools.lru_cache(maxsize=65536)
def near_alike(heard: str, phrase: str) -> bool:
    """Whether `heard` is `phrase` with 1 to `allowed` chars heard by a slipped ending and
    every other char the phrase's own or of the same sound (never a numeral or a mark). A
    heard char counts by its everyday reading only: rare readings let chance windows in."""
    table = near_phrase(phrase)
    if table is None or len(heard) != len(phrase):
        return False
    slips = 0
    for h, p, same, near in zip(heard, phrase, table.same, table.near):
        if h == p:
            continue
        if _text.is_punct(h) or h in _text.NUMERALS:
            return False
        reading = main_reading(h)  # not every reading: 么 as ma made 么不满意 near 满不满意
        if reading in same:
            continue
        if reading not in near:
            return False
        slips += 1
        if slips > table.allowed:
            return False
    return slips > 0


#: Syllables too common in Mandarin speech to anchor a search on (您 的 是 …): checked, not looked up.
COMMON = frozenset("de shi yi bu le wo ni nin zai you zhe ge men na hao ma me ba a ne".split())


@functools.lru_cache(maxsize=4096)
def anchors(phrase: str) -> tuple[tuple[int, str], ...]:
    """(offset, syllable) pairs one of which a near window must hold: with at most `allowed`
    near chars, any `allowed` + 1 chars hold one that sounds as the phrase's own (the rarest
    chosen, so that few windows are compared)."""
    table = near_phrase(phrase)
    if table is None:
        return ()
    rare = sorted(range(len(phrase)), key=lambda k: (bool(table.same[k] & COMMON), k))[:table.allowed + 1]
    return tuple((k, syl) for k in sorted(rare) for syl in sorted(table.same[k]))


def near_starts(text: str, phrase: str) -> list[int]:
    """The starts of the windows of `text` (no punctuation) that match `phrase` by a near
    syllable (`near_alike`), in order."""
    pins = anchors(phrase)
    if not pins:
        return []
    by_syllable = _text.syllable_positions(text)
    last = len(text) - len(phrase)
    starts = {i - k for k, syl in pins for i in by_syllable.get(syl, ()) if 0 <= i - k <= last}
    return [i for i in sorted(starts) if near_alike(text[i:i + len(phrase)], phrase)]


@dataclass(frozen=True, eq=False)
class NearGroup:
    """The literal alternatives of a phrase group long enough to match by a near syllable."""

    #: (index of the alternative, its normalised text), listed order
    phrases: tuple[tuple[int, str], ...]
    #: syllable -> the phrases (positions in `phrases`) with that syllable among their anchors
    by_anchor: dict[str, tuple[int, ...]]

    def first(self, bare: str, best: tuple[int, int] | None) -> tuple[int, int] | None:
        """The earliest (position, index) near match in `bare` if earlier than `best`."""
        for j in self._candidates(bare):
            index, phrase = self.phrases[j]
            for start in near_starts(bare, phrase):
                if best is None or (start, index) < best:
                    best = (start, index)
                break
        return best

    def holds(self, bare: str) -> bool:
        return any(near_starts(bare, self.phrases[j][1]) for j in self._candidates(bare))

    def _candidates(self, bare: str) -> list[int]:
        held = self.by_anchor.keys() & _text.syllable_positions(bare).keys()
        return sorted({j for syl in held for j in self.by_anchor[syl]})


def near_group(literals: dict[str, int]) -> NearGroup | None:
    """A group's near side from its literal alternatives (normalised text -> index); None
    when none is long enough."""
    phrases = tuple((index, p) for p, index in literals.items() if near_phrase(p) is not None)
    if not phrases:
        return None
    by_anchor: dict[str, set[int]] = {}
    for j, (_, phrase) in enumerate(phrases):
        for _, syl in anchors(phrase):
            by_anchor.setdefault(syl, set()).add(j)
    return NearGroup(phrases, {k: tuple(sorted(v)) for k, v in by_anchor.items()})


@functools.lru_cache(maxsize=4096)
def _near_of(group) -> NearGroup | None:
    """The near side of a text._PhraseGroup (hashed by identity), from its literals."""
    return near_group(group.exact_index)


def first_found(group, bare: str, best: tuple[int, int] | None) -> tuple[int, str] | None:
    """text.first_alternative's answer: `best` (position, index) or an earlier near match,
    as (position, alternative)."""
    near = _near_of(group)
    if near is not None:
        best = near.first(bare, best)
    return None if best is None else (best[0], group.alternatives[best[1]])


def group_holds(group, bare: str) -> bool:
    """Whether a long literal alternative of a text._PhraseGroup matches `bare` by a near syllable."""
    near = _near_of(group)
    return near is not None and near.holds(bare)
