"""Text helpers shared by the analyzers: normalisation, char counting, pinyin.

ASR output may come in traditional characters, with full-width forms, with or
without punctuation; every rule compares text only after `normalise`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin, pinyin
from analyzers import nearsound as _near  # near-homophones of long phrases; it reads this module's helpers

#: Sentence/clause punctuation after NFKC (full-width forms fold to ASCII, 。、 stay).
PUNCT = frozenset("，。、；：？！…,.;:?!·~～\"'“”‘’()（）《》<>[]【】-—")


@functools.lru_cache(maxsize=1)
def _t2s():
    # Built lazily: OpenCC reads its own conversion tables once; no project files.
    import opencc

    return opencc.OpenCC("t2s").convert


@functools.lru_cache(maxsize=1)
def _t2s_trigger_chars() -> frozenset[str] | None:
    """Chars without which OpenCC t2s leaves a text unchanged; None if unknown.

    Converting is the slowest step of `normalise` (pure-Python dictionary walk) and
    nearly every ASR text is simplified already. A text changes only where a
    dictionary key that maps to something else matches, so it needs at least one
    char that the char table changes, or one of the few phrase keys made of
    unchanged chars (沈默 -> 沉默).
    """
    convert = _t2s()
    convert("")
    try:
        tables = [d for chain in convert.__self__._dict_chain_data for (_, _, d) in chain]
    except (AttributeError, TypeError, ValueError):  # another OpenCC build: always convert
        return None
    changing = {k for d in tables for k, v in d.items() if len(k) == 1 and k != v}
    for d in tables:
        for k, v in d.items():
            if len(k) > 1 and k != v and not changing.intersection(k):
                changing.update(k)
    return frozenset(changing)


@functools.lru_cache(maxsize=65536)
def normalise(text: str) -> str:
    """Simplified, NFKC-folded, lower-cased text with whitespace removed.

    Whitespace goes because whisper puts spaces between Chinese words
    inconsistently; punctuation stays because sentence starts matter (喂，...).
    """
    convert = _t2s()
    trigger = _t2s_trigger_chars()
    if trigger is not None and trigger.isdisjoint(text):
        simplified = text
    else:
        simplified = convert(text)
    if len(simplified) != len(text):
        # Phrase-level conversions can change length; per char keeps positions 1:1.
        simplified = "".join(convert(c) for c in text)
    folded = unicodedata.normalize("NFKC", simplified).lower()
    return "".join(folded.split())  # split() cuts at exactly the chars str.isspace() names


@functools.lru_cache(maxsize=65536)
def strip_punct(text: str) -> str:
    """`text` without punctuation, for phrases that ASR may split with a comma."""
    return text.translate(_KEEP_UNLESS_PUNCT)


class _PunctTable(dict):
    """strip_punct's str.translate table: code point -> None (`is_punct`) or itself, filled as met."""

    def __missing__(self, code: int) -> int | None:
        kept = self[code] = None if is_punct(chr(code)) else code
        return kept


_KEEP_UNLESS_PUNCT = _PunctTable()


@functools.lru_cache(maxsize=16384)
def is_punct(char: str) -> bool:
    return char in PUNCT or unicodedata.category(char)[0] in ("P", "S", "Z")


#: A run of Latin letters, or any other char str.isalnum() accepts (re's \w is isalnum or _).
_SPOKEN_UNIT = re.compile(r"[a-zA-Z]+|[^\W_a-zA-Z]")


@functools.lru_cache(maxsize=65536)  # the rate and the rules' `chars:` tests count the same texts
def count_chars(text: str) -> int:
    """Spoken units: each CJK char and digit is one, a run of Latin letters is one word.

    Punctuation, symbols and spaces are not spoken and count zero.
    """
    return len(_SPOKEN_UNIT.findall(unicodedata.normalize("NFKC", text)))


@functools.lru_cache(maxsize=8192)
def char_pinyins(char: str) -> frozenset[str]:
    """Every toneless reading of a Han char; other chars stand for themselves.

    All readings for the heard char: ASR picked it for its sound, and which of
    its readings that sound was cannot be told from the wrong char.
    """
    readings = pinyin(char, style=Style.NORMAL, heteronym=True, errors=lambda s: [[s]])
    flat = {r for item in readings for r in item}
    return frozenset(flat) if flat else frozenset({char})


@functools.lru_cache(maxsize=4096)
def phrase_pinyin(phrase: str) -> tuple[str, ...]:
    """The phrase's own toneless reading, one syllable per char, read in context.

    In context, not every reading: 什么 is shen-me, and letting its chars' rare
    readings (什 shi, 么 yao) in would make 是要 "sound like" 什么.
    """
    readings = lazy_pinyin(phrase, style=Style.NORMAL, errors=lambda s: list(s))
    if len(readings) != len(phrase):
        readings = [lazy_pinyin(c, style=Style.NORMAL, errors=lambda s: list(s))[0] for c in phrase]
    return tuple(readings)


#: Syllables that whisper writes for each other often enough to count as the same
#: sound: it prints the everyday 你 (ni) for the polite 您 (nin) all the time. Kept
#: this small on purpose: IME-style fuzzy pinyin (in/ing, an/ang...) would make
#: 不信 sound like 不行.
ASR_CONFUSABLE = {"nin": frozenset({"nin", "ni"})}


@functools.lru_cache(maxsize=4096)
def _accepted_readings(phrase: str) -> tuple[frozenset[str], ...]:
    """Per char of `phrase`, the syllables a heard char may be read as to stand for it."""
    return tuple(ASR_CONFUSABLE.get(reading, frozenset({reading})) for reading in phrase_pinyin(phrase))


#: Heard numerals stand for themselves: 尾号是八 is a number said, never a slip for 是吧.
#: Not 一: whisper writes it for every yi (您是否满一 for 满意, measured in the examples).
NUMERALS = frozenset("0123456789零〇二两三四五六七八九十百千万幺")


@functools.lru_cache(maxsize=65536)
def sounds_alike(heard: str, phrase: str, min_same: int = 0) -> bool:
    """Same length, at least `min_same` chars the same, and each other heard char can be
    read as the phrase's char is read (a heard numeral or punctuation mark only as itself)."""
    if len(heard) != len(phrase):
        return False
    same = 0
    for h, p, accepted in zip(heard, phrase, _accepted_readings(phrase)):
        if h == p:
            same += 1
            continue
        if accepted.isdisjoint(char_pinyins(h)) or is_punct(h) or h in NUMERALS:
            return False
    return same >= min_same


def syllable_positions(text: str) -> dict[str, tuple[int, ...]]:
    """Toneless syllable -> positions (ascending) of the chars of `text` that can be read so."""
    return _homophones.places(text)[0]  # kept per text there, with each char's readings


@functools.lru_cache(maxsize=4096)
def first_syllables(phrase: str) -> tuple[str, ...]:
    """The syllables the first char of `phrase` may be heard as (its reading in context, or
    what ASR confuses it with); () for a single char, which never matches by sound."""
    if len(phrase) < 2:
        return ()
    first = phrase_pinyin(phrase)[0]
    return tuple(sorted(ASR_CONFUSABLE.get(first, frozenset({first}))))


def find_phrase(text: str, phrase: str, homophones: bool = True, min_same: int = 0) -> list[tuple[int, int, bool]]:
    """Every (start, end, by_sound) where `phrase` occurs in `text`.

    Exact hits first; with `homophones`, also same-length windows that sound the
    same (`sounds_alike`, `min_same`). Single chars never match by sound (为 must not become 喂).
    """
    hits: list[tuple[int, int, bool]] = []
    n = len(phrase)
    if n == 0:
        return hits
    start = text.find(phrase)
    while start != -1:
        hits.append((start, start + n, False))
        start = text.find(phrase, start + 1)
    if homophones and n >= 2:
        by_syllable = syllable_positions(text)
        # Only places whose first char can be read as the phrase's first syllable are
        # compared in full: this is the analyzers' hot path (every utterance x phrase).
        firsts = first_syllables(phrase)
        if len(firsts) == 1:
            starts = by_syllable.get(firsts[0], ())
        else:
            starts = sorted({i for syl in firsts for i in by_syllable.get(syl, ())})
        if not starts:
            return hits
        exact = {h[0] for h in hits}
        last = len(text) - n
        for i in starts:
            if i > last:
                break
            if i not in exact and sounds_alike(text[i : i + n], phrase, min_same):
                hits.append((i, i + n, True))
        if exact:
            hits.sort()
    return hits


#: The most spellings one literal stretch of a regex expands to; a longer product is cut
#: into stretches matched by sound one by one.
MAX_SPELLINGS = 64


def _cross(left: frozenset[str], right: frozenset[str]) -> frozenset[str]:
    return frozenset(a + b for a in left for b in right)


def _spellings(items) -> tuple[frozenset[str], frozenset[str] | None]:
    """(stretches cut off, spellings of the whole or None) for a parsed regex sequence:
    literal chars, small char classes, groups, alternations and ? repeats spell out; any
    other item (., a range, an open repeat) cuts the stretch there. Zero-width items
    (anchors, lookarounds) are skipped: they test the text, they spell nothing."""
    from re import _constants as c

    done: set[str] = set()
    current: frozenset[str] | None = frozenset({""})
    whole = True

    def cut() -> None:
        nonlocal current, whole
        done.update(current or ())
        current, whole = frozenset({""}), False

    def join(part: frozenset[str] | None) -> None:
        nonlocal current
        if part is None:
            cut()
        elif len(current) * len(part) > MAX_SPELLINGS:
            cut()
            current = part
        else:
            current = _cross(current, part)

    for op, av in items:
        if op is c.LITERAL:
            join(frozenset({chr(av)}))
        elif op is c.IN:
            chars = [chr(v) for o, v in av if o is c.LITERAL]
            join(frozenset(chars) if len(chars) == len(av) else None)
        elif op is c.SUBPATTERN or op is c.BRANCH:
            branches = [av[3]] if op is c.SUBPATTERN else av[1]
            parts = [_spellings(b) for b in branches]
            done.update(s for cut_off, _ in parts for s in cut_off)
            wholes = [w for _, w in parts]
            join(None if None in wholes else frozenset().union(*wholes))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[:2] == (0, 1):
            cut_off, inner = _spellings(av[2])
            done.update(cut_off)
            join(None if inner is None else inner | {""})
        elif op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue
        else:
            cut()
    if whole:
        return frozenset(done), current
    done.update(current)
    return frozenset(done), None


@functools.lru_cache(maxsize=4096)
def regex_stretches(pattern: str) -> tuple[str, ...]:
    """The literal stretches of 2+ chars a regex spells (可以(帮|为)您 -> 可以帮您, 可以为您),
    longest first: where the text sounds like one, the regex may match by sound."""
    from re import _parser

    cut_off, whole = _spellings(_parser.parse(pattern))
    spelled = cut_off | (whole or frozenset())
    return tuple(sorted((s for s in spelled if len(s) >= 2), key=lambda s: (-len(s), s)))


#: Chars a window must share with a regex's stretch to be respelled as it (see respelled).
REGEX_MIN_SAME = 1


@functools.lru_cache(maxsize=65536)
def respelled(text: str, stretches: tuple[str, ...]) -> str:
    """`text` with each window that sounds like one of `stretches` (`sounds_alike`, so
    2+ chars and never a lone char) written as that stretch; same length, so a match's
    positions are the text's. Earlier stretches (the longer) win where windows overlap.

    A window keeps one char of its stretch (`REGEX_MIN_SAME`): a stretch is a piece of
    a larger pattern whose wildcards find the rest anywhere, so a window wholly by sound
    matched by chance (我是工号 respelled 我提供号 met 提供.{0,6}号 in a plain greeting)."""
    return _respelled(text, stretches, frozenset("".join(stretches)))


def _respelled(text: str, stretches: tuple[str, ...], chars: frozenset[str]) -> str:
    """`respelled`, uncached, `chars` the stretches' chars."""
    if not stretches or (REGEX_MIN_SAME >= 1 and chars.isdisjoint(text)) \
            or not _soundregex.may_sound_like(text, stretches):  # no window sounds like a stretch
        return text  # a window keeps a char of its stretch (REGEX_MIN_SAME): none to keep here
    # One walk over the text for all stretches (homophones.windows); each stretch in turn, in
    # its order, takes its by-sound windows left to right.
    found = sorted((index, start) for index, start, same in _homophones.windows(text, stretches, REGEX_MIN_SAME)
                   if same < len(stretches[index]))
    if not found:
        return text
    chars = list(text)
    taken = [False] * len(text)
    for index, start in found:
        end = start + len(stretches[index])
        if not any(taken[start:end]):
            chars[start:end] = stretches[index]
            taken[start:end] = [True] * (end - start)
    return "".join(chars)


def search_by_sound(regex: re.Pattern, text: str, stretches: tuple[str, ...], wide: re.Pattern | None = None
                    ) -> re.Match | None:
    """`regex`'s first match in `text`, or else in `text` respelled toward its stretches:
    the one way every rule's regex phrase is matched tolerant of ASR homophones. `wide`: the
    regex loosened (`loosen.loose_regex`): a text it misses is not respelled."""
    m = regex.search(text)
    if m is not None or not stretches or (wide is not None and not _soundregex.unheard(text) and not wide.search(text)):
        return m
    heard = respelled(text, stretches)
    return None if heard is text else regex.search(heard)


def contains_alternative(text: str, alternative: str, regex_prefix: str = "re:") -> bool:
    """Whether one alternative of a required phrase group occurs in normalised `text`."""
    if alternative.startswith(regex_prefix):
        pattern = alternative[len(regex_prefix) :]
        return search_by_sound(re.compile(pattern), text, regex_stretches(pattern)) is not None
    wanted, bare = strip_punct(normalise(alternative)), strip_punct(text)
    return bool(find_phrase(bare, wanted, homophones=True) or _near.near_starts(bare, wanted))


def first_alternative(text: str, alternatives: tuple[str, ...] | list[str],
                      regex_prefix: str = "re:") -> tuple[int, str] | None:
    """The earliest (position, alternative) of any alternative in normalised `text`; None if none.

    Punctuation is ignored on both sides (ASR punctuates at will), so positions count
    spoken chars: `strip_punct(text)[position:]` starts with the match. Literal
    alternatives also match ASR homophones (`find_phrase`); `re:` ones are regexes over
    the text without punctuation. Of alternatives found at the same place, the first listed.
    """
    bare = strip_punct(text)
    group = _group_of(alternatives, regex_prefix)
    best: tuple[int, int] | None = None  # (position, index of the alternative)
    # This runs for every utterance and every phrase group of the pack: the literal
    # alternatives are one regex (leftmost place, then the first listed there), and only
    # alternatives whose first syllable the text holds are compared by sound.
    for (index, regex, stretches), wide in zip(group.regexes, group.by_sound[5]):
        m = search_by_sound(regex, bare, stretches, wide)
        if m and (best is None or (m.start(), index) < best):
            best = (m.start(), index)
    if group.exact is not None:
        m = group.exact.search(bare)
        if m and (best is None or (m.start(), group.exact_index[m.group()]) < best):
            best = (m.start(), group.exact_index[m.group()])
    # literal alternatives by sound: the earliest place, then the first listed (no walk where no window is)
    if group.by_first and _soundregex.may_sound_like(bare, group.spoken):
        for index, i, _ in _homophones.windows(bare, group.spoken):
            if best is None or (i, index) < best:
                best = (i, index)
    return _near.first_found(group, bare, best)  # or a long phrase with a slipped syllable


def clear_caches() -> None:
    """Forget what was kept per text (normalised forms, readings, answers): the figures of
    bench/bench_analysis.py's "cold" runs, where each call's texts cost what a new text costs."""
    for cached in (normalise, strip_punct, count_chars, sounds_alike, respelled, _holds, _respell.char_set,
                   _respell.text_view, _near.near_alike, _near.heard_keys, _homophones.places, _soundregex.unheard):
        cached.cache_clear()


def contains_any(text: str, alternatives: tuple[str, ...] | list[str], regex_prefix: str = "re:") -> bool:
    """Whether any of `alternatives` occurs in normalised `text`: the same answer as
    `contains_alternative` for each, from the group compiled once (`first_alternative`)."""
    return _holds(text, _group_of(alternatives, regex_prefix))


def phrase_group(alternatives: tuple[str, ...] | list[str], regex_prefix: str = "re:") -> "_PhraseGroup":
    """The group of `alternatives` compiled once, for `group_holds`."""
    return _group_of(alternatives, regex_prefix)


def phrase_test(alternatives: tuple[str, ...] | list[str], regex_prefix: str = "re:"):
    """`contains_any` for one group of alternatives, as a function of the text (the group
    found once for many texts)."""
    group = _group_of(alternatives, regex_prefix)
    return lambda text: _holds(text, group)




@dataclass(frozen=True, eq=False)  # equal only to itself: hashed by identity where it is a key
class _PhraseGroup:
    """The pack's side of `first_alternative` for one tuple of alternatives, built once."""

    alternatives: tuple[str, ...]
    #: (index, compiled, `regex_stretches`) of the `re:` alternatives.
    regexes: tuple[tuple[int, re.Pattern, tuple[str, ...]], ...]
    #: The literal alternatives (normalised, without punctuation) as one alternation, in
    #: their listed order; `exact_index` gives the first alternative of each text.
    exact: re.Pattern | None
    exact_index: dict[str, int]
    #: Syllable -> (index, text) of the literal alternatives of 2+ chars whose first char
    #: may be heard as it, in listed order (single chars never match by sound).
    by_first: dict[str, tuple[tuple[int, str], ...]]
    #: Per alternative, its text as `by_first` compares it ("" for a regex or an empty one).
    spoken: tuple[str, ...] = ()
    #: Per regex of `regexes`, the chars of its stretches.
    stretch_chars: tuple[frozenset[str], ...] = ()
    #: respell.py's `routes`: (every regex's stretches, once; their chars; per regex, chars one of
    #: which every match holds, or None; per regex, the lengths of text it may match in; the
    #: stretches for a text too long for the anchored regexes, or None; per regex, `loosen.loose_regex`;
    #: the regexes as one regex's search or None, their needed chars' union or None, their shortest match).
    by_sound: tuple = ((), frozenset(), (), (), None, (), None, None, 0)


#: id(alternatives) -> (the tuple, regex_prefix, its group): the rules pass the pack's own
#: tuples, so identity finds the group without hashing every alternative at every utterance.
_GROUPS: dict[int, tuple[tuple[str, ...], str, _PhraseGroup]] = {}


def _group_of(alternatives: tuple[str, ...] | list[str], regex_prefix: str) -> _PhraseGroup:
    if not isinstance(alternatives, tuple):
        return _phrase_group(tuple(alternatives), regex_prefix)
    seen = _GROUPS.get(id(alternatives))
    if seen is None or seen[0] is not alternatives or seen[1] != regex_prefix:
        if len(_GROUPS) >= 4096:
            _GROUPS.clear()
        seen = _GROUPS[id(alternatives)] = (alternatives, regex_prefix, _phrase_group(alternatives, regex_prefix))
    return seen[2]


@functools.lru_cache(maxsize=4096)
def _phrase_group(alternatives: tuple[str, ...], regex_prefix: str) -> _PhraseGroup:
    regexes, exact_index, by_first, spoken = [], {}, {}, [""] * len(alternatives)
    for index, alt in enumerate(alternatives):
        if alt.startswith(regex_prefix):
            pattern = alt[len(regex_prefix):]
            regexes.append((index, re.compile(pattern), regex_stretches(pattern)))
            continue
        wanted = strip_punct(normalise(alt))
        if not wanted:
            continue
        exact_index.setdefault(wanted, index)
        spoken[index] = wanted
        for syl in first_syllables(wanted):
            by_first.setdefault(syl, []).append((index, wanted))
    ordered = sorted(exact_index, key=exact_index.__getitem__)
    exact = re.compile("|".join(map(re.escape, ordered))) if ordered else None
    return _PhraseGroup(alternatives, tuple(regexes), exact, exact_index,
                        {k: tuple(v) for k, v in by_first.items()}, tuple(spoken),
                        tuple(frozenset("".join(stretches)) for _, _, stretches in regexes), _respell.routes(regexes))


#: Where a sentence ends (ASR that writes no punctuation gives one sentence per utterance).
_SENTENCE_END = re.compile(r"[。？！?!；;…]")


def sentences(text: str) -> list[str]:
    """The normalised sentences of `text`, without their end marks."""
    return split_sentences(normalise(text))


def split_sentences(normalised: str) -> list[str]:
    """`sentences` of a text normalised already."""
    return [s for s in _SENTENCE_END.split(normalised) if s]


from . import homophones as _homophones  # noqa: E402  (it reads this module's readings)
from . import soundregex as _soundregex  # noqa: E402  (it reads this module's readings)
from . import respell as _respell  # noqa: E402  (it reads this module's respelling)

# contains_any for a group compiled once (`phrase_group`): the rules' phrase test
_holds = group_holds = _respell.group_holds
