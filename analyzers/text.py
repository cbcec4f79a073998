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
    return "".join(c for c in folded if not c.isspace())


@functools.lru_cache(maxsize=65536)
def strip_punct(text: str) -> str:
    """`text` without punctuation, for phrases that ASR may split with a comma."""
    return "".join(c for c in text if not is_punct(c))


@functools.lru_cache(maxsize=16384)
def is_punct(char: str) -> bool:
    return char in PUNCT or unicodedata.category(char)[0] in ("P", "S", "Z")


#: A run of Latin letters, or any other char str.isalnum() accepts (re's \w is isalnum or _).
_SPOKEN_UNIT = re.compile(r"[a-zA-Z]+|[^\W_a-zA-Z]")


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


def sounds_alike(heard: str, phrase: str) -> bool:
    """Same length, and each heard char can be read as the phrase's char is read."""
    if len(heard) != len(phrase):
        return False
    for h, p, accepted in zip(heard, phrase, _accepted_readings(phrase)):
        if h == p:
            continue
        if accepted.isdisjoint(char_pinyins(h)) or is_punct(h):
            return False
    return True


@functools.lru_cache(maxsize=4096)
def syllable_positions(text: str) -> dict[str, tuple[int, ...]]:
    """Toneless syllable -> positions of the chars of `text` that can be read so."""
    out: dict[str, list[int]] = {}
    get = out.get
    for i, c in enumerate(text):
        for syl in char_pinyins(c):
            positions = get(syl)
            if positions is None:
                out[syl] = [i]
            else:
                positions.append(i)
    return {k: tuple(v) for k, v in out.items()}


@functools.lru_cache(maxsize=4096)
def first_syllables(phrase: str) -> tuple[str, ...]:
    """The syllables the first char of `phrase` may be heard as (its reading in context, or
    what ASR confuses it with); () for a single char, which never matches by sound."""
    if len(phrase) < 2:
        return ()
    first = phrase_pinyin(phrase)[0]
    return tuple(sorted(ASR_CONFUSABLE.get(first, frozenset({first}))))


def find_phrase(text: str, phrase: str, homophones: bool = True) -> list[tuple[int, int, bool]]:
    """Every (start, end, by_sound) where `phrase` occurs in `text`.

    Exact hits first; with `homophones`, also same-length windows that sound the
    same. Single chars never match by sound (为 must not become 喂).
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
            if i not in exact and sounds_alike(text[i : i + n], phrase):
                hits.append((i, i + n, True))
        if exact:
            hits.sort()
    return hits


def contains_alternative(text: str, alternative: str, regex_prefix: str = "re:") -> bool:
    """Whether one alternative of a required phrase group occurs in normalised `text`."""
    if alternative.startswith(regex_prefix):
        return re.search(alternative[len(regex_prefix) :], text) is not None
    wanted = strip_punct(normalise(alternative))
    return bool(find_phrase(strip_punct(text), wanted, homophones=True))


def first_alternative(text: str, alternatives: tuple[str, ...] | list[str],
                      regex_prefix: str = "re:") -> tuple[int, str] | None:
    """The earliest (position, alternative) of any alternative in normalised `text`; None if none.

    Punctuation is ignored on both sides (ASR punctuates at will), so positions count
    spoken chars: `strip_punct(text)[position:]` starts with the match. Literal
    alternatives also match ASR homophones (`find_phrase`); `re:` ones are regexes over
    the text without punctuation. Of alternatives found at the same place, the first listed.
    """
    bare = strip_punct(text)
    group = _phrase_group(alternatives if isinstance(alternatives, tuple) else tuple(alternatives), regex_prefix)
    best: tuple[int, int] | None = None  # (position, index of the alternative)
    # This runs for every utterance and every phrase group of the pack: the literal
    # alternatives are one regex (leftmost place, then the first listed there), and only
    # alternatives whose first syllable the text holds are compared by sound.
    for index, regex in group.regexes:
        m = regex.search(bare)
        if m and (best is None or (m.start(), index) < best):
            best = (m.start(), index)
    if group.exact is not None:
        m = group.exact.search(bare)
        if m and (best is None or (m.start(), group.exact_index[m.group()]) < best):
            best = (m.start(), group.exact_index[m.group()])
    if group.by_first:
        by_syllable = syllable_positions(bare)
        for syl in group.by_first.keys() & by_syllable.keys():
            starts = by_syllable[syl]
            for index, wanted in group.by_first[syl]:
                last = len(bare) - len(wanted)
                for i in starts:
                    if i > last or (best is not None and (i, index) >= best):
                        break
                    if sounds_alike(bare[i : i + len(wanted)], wanted):
                        best = (i, index)
                        break
    return None if best is None else (best[0], group.alternatives[best[1]])


def contains_any(text: str, alternatives: tuple[str, ...] | list[str], regex_prefix: str = "re:") -> bool:
    """Whether any of `alternatives` occurs in normalised `text`: the same answer as
    `contains_alternative` for each, from the group compiled once (`first_alternative`)."""
    group = _phrase_group(alternatives if isinstance(alternatives, tuple) else tuple(alternatives), regex_prefix)
    if any(regex.search(text) for _, regex in group.regexes):  # over the text, as contains_alternative
        return True
    bare = strip_punct(text)
    if group.exact is not None and group.exact.search(bare):
        return True
    if group.by_first:
        by_syllable = syllable_positions(bare)
        for syl in group.by_first.keys() & by_syllable.keys():
            for _, wanted in group.by_first[syl]:
                last = len(bare) - len(wanted)
                for i in by_syllable[syl]:
                    if i > last:
                        break
                    if sounds_alike(bare[i : i + len(wanted)], wanted):
                        return True
    return False


@dataclass(frozen=True)
class _PhraseGroup:
    """The pack's side of `first_alternative` for one tuple of alternatives, built once."""

    alternatives: tuple[str, ...]
    #: (index, compiled) of the `re:` alternatives.
    regexes: tuple[tuple[int, re.Pattern], ...]
    #: The literal alternatives (normalised, without punctuation) as one alternation, in
    #: their listed order; `exact_index` gives the first alternative of each text.
    exact: re.Pattern | None
    exact_index: dict[str, int]
    #: Syllable -> (index, text) of the literal alternatives of 2+ chars whose first char
    #: may be heard as it, in listed order (single chars never match by sound).
    by_first: dict[str, tuple[tuple[int, str], ...]]


@functools.lru_cache(maxsize=4096)
def _phrase_group(alternatives: tuple[str, ...], regex_prefix: str) -> _PhraseGroup:
    regexes, exact_index, by_first = [], {}, {}
    for index, alt in enumerate(alternatives):
        if alt.startswith(regex_prefix):
            regexes.append((index, re.compile(alt[len(regex_prefix):])))
            continue
        wanted = strip_punct(normalise(alt))
        if not wanted:
            continue
        exact_index.setdefault(wanted, index)
        for syl in first_syllables(wanted):
            by_first.setdefault(syl, []).append((index, wanted))
    ordered = sorted(exact_index, key=exact_index.__getitem__)
    exact = re.compile("|".join(map(re.escape, ordered))) if ordered else None
    return _PhraseGroup(alternatives, tuple(regexes), exact, exact_index,
                        {k: tuple(v) for k, v in by_first.items()})


#: Where a sentence ends (ASR that writes no punctuation gives one sentence per utterance).
_SENTENCE_END = re.compile(r"[。？！?!；;…]")


def sentences(text: str) -> list[str]:
    """The normalised sentences of `text`, without their end marks."""
    return [s for s in _SENTENCE_END.split(normalise(text)) if s]
