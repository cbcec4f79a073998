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


@functools.lru_cache(maxsize=65536)
def heard_keys(bare: str) -> frozenset[str]:
    """The chars of `bare` and their everyday readings (`main_reading`): all that
    `near_alike` reads of a window, as one set per text."""
    chars = frozenset(bare)
    return chars.union(map(main_reading, chars))


@dataclass(frozen=True, eq=False)
class NearGroup:
    """The literal alternatives of a phrase group long enough to match by a near syllable."""

    #: (index of the alternative, its normalised text), listed order
    phrases: tuple[tuple[int, str], ...]
    #: char or syllable -> (bits of the (phrase, char) places it may stand in as the same
    #: sound or itself, bits of those it may stand in as a near syllable)
    bits: dict[str, tuple[int, int]]
    #: per phrase: (its places' bits, the fewest places a window holds as the same sound)
    needs: tuple[tuple[int, int], ...]
    #: the keys of `bits`, and those that stand in some place as a near syllable
    keys: frozenset[str] = frozenset()
    near_keys: frozenset[str] = frozenset()
    #: chars one of which a text holds wherever `heard_keys` meets `near_keys`, unless it holds
    #: a char the sound classes leave out (`soundregex.unheard`): a set test on the text's chars
    #: settles most texts without reading them (`near_chars`)
    near_chars: frozenset[str] = frozenset()

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
        """The phrases `bare` may match by a near syllable: a set test per text and group
        (a near window holds a near syllable of the phrase and all but `allowed` of its
        chars as themselves or the same sound, so a text that lacks them cannot match)."""
        heard = heard_keys(bare)
        if heard.isdisjoint(self.near_keys):  # most texts: no near syllable of any phrase
            return []
        same = near = 0
        for key in heard & self.keys:
            s, n = self.bits[key]
            same, near = same | s, near | n
        if not near:
            return []
        return [j for j, (mask, need) in enumerate(self.needs) if near & mask and (same & mask).bit_count() >= need]


def near_group(literals: dict[str, int]) -> NearGroup | None:
    """A group's near side from its literal alternatives (normalised text -> index); None
    when none is long enough."""
    phrases = tuple((index, p) for p, index in literals.items() if near_phrase(p) is not None)
    if not phrases:
        return None
    bits: dict[str, list[int]] = {}
    needs, place = [], 0
    for _, phrase in phrases:
        table = near_phrase(phrase)
        needs.append((((1 << len(phrase)) - 1) << place, len(phrase) - table.allowed))
        for char, same, near in zip(phrase, table.same, table.near):
            for key in {char} | same:
                bits.setdefault(key, [0, 0])[0] |= 1 << place
            for key in near:
                bits.setdefault(key, [0, 0])[1] |= 1 << place
            place += 1
    near_keys = frozenset(k for k, (_, n) in bits.items() if n)
    return NearGroup(phrases, {k: (s, n) for k, (s, n) in bits.items()}, tuple(needs),
                     frozenset(bits), near_keys, near_chars(near_keys))


def near_chars(keys: frozenset[str]) -> frozenset[str]:
    """The chars whose everyday reading (`main_reading`) or whose self may be one of `keys`,
    for a text without a char the sound classes leave out: each GB2312 char one of whose
    readings is a key (its everyday reading is one of them), each numeral read as a key (the
    classes leave numerals out), and a key that is one char (a char pypinyin does not read
    reads as itself). A superset: a text with none of them has no key in `heard_keys`."""
    from analyzers import soundregex as _soundregex  # it imports text, which imports this module

    heard = _soundregex._heard_as()[0]
    chars = {k for k in keys if len(k) == 1}
    for key in keys:
        chars.update(heard.get(key, ()))
    chars.update(c for c in _text.NUMERALS if main_reading(c) in keys)
    return frozenset(chars)


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
    near = _near_of(group)  # the set test first, inline: most texts are settled by it
    return near is not None and not heard_keys(bare).isdisjoint(near.near_keys) and near.holds(bare)
