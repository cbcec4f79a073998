"""The by-sound test as a regex (analyzers/soundregex.py) answers as the trie walk does."""

from __future__ import annotations

import functools

from pydantic import BaseModel

from analyzers import homophones, soundregex, text
from analyzers.rulelang.schema import PhraseList


def _pack_phrase_tuples():
    """Every phrase tuple the default pack's checks and rules ask, and every regex's stretches."""
    from lexicons import load_pack

    pack = load_pack("zh-CN")
    lists = [getattr(getattr(pack, s), f) for s in type(pack).model_fields if isinstance(getattr(pack, s), BaseModel)
             for f in type(getattr(pack, s)).model_fields if isinstance(getattr(getattr(pack, s), f), tuple)]
    lists += [c.phrases for r in pack.custom_rules for part in r.parts() for c in part.walk()
              if c.phrases is not None and not isinstance(c.phrases, PhraseList)]
    groups = {id(g): g for g in (text.phrase_group(ps) for ps in lists if ps and all(isinstance(p, str) for p in ps))}
    tuples = [g.spoken for g in groups.values() if g.by_first]
    tuples += [stretches for g in groups.values() for _, _, stretches in g.regexes if stretches]
    from analyzers.banned import _matchers

    return tuples + [_matchers(pack.banned).sounded]  # banned.py walks only where the regex finds a window


@functools.lru_cache(maxsize=1)
def _rare_by_reading() -> dict[str, list[str]]:
    """Reading -> chars outside the regex's classes (not GB2312) read so: their texts are walked."""
    found: dict[str, list[str]] = {}
    for c in sorted(soundregex._heard_as()[1]):
        for reading in text.char_pinyins(c):
            found.setdefault(reading, []).append(c)
    return found


def _variants(phrase: str) -> set[str]:
    """The phrase, and it with each char swapped for chars read alike (GB2312 and rarer ones),
    a numeral, a mark, a letter, in a sentence; a char outside the BMP."""
    heard, rare = soundregex._heard_as()[0], _rare_by_reading()
    out = {phrase, "喂你好" + phrase[::-1], "𠀀" + phrase, phrase[:1] + "𠀀" + phrase[1:]}
    for k, c in enumerate(phrase):
        swaps = {"二", "三", "，", "a", "e", "o", "n"}
        for reading in sorted(text.char_pinyins(c)):
            swaps.update(sorted(heard.get(reading, ()))[:3] + rare.get(reading, [])[:1])
        for s in swaps:
            out.add("好的" + phrase[:k] + s + phrase[k + 1:] + "吗")
    return out


def test_the_regex_finds_a_window_exactly_where_the_walk_does():
    checked = found = 0
    for phrases in _pack_phrase_tuples():
        texts = {v for p in phrases if len(p) >= 2 for v in _variants(p)}
        for t in sorted(texts):
            walked = bool(homophones.windows(t, phrases, first_only=True))
            assert soundregex.may_sound_like(t, phrases) == walked, (phrases[:3], t)
            checked, found = checked + 1, found + walked
    assert checked > 5000 and found > 1000, (checked, found)


def test_a_text_with_a_char_outside_the_classes_is_walked():
    assert "鬮" in soundregex._heard_as()[1] and "鬮" not in soundregex._heard_as()[0].get("jiu", ())
    # 鬮 (jiu, not GB2312) for 就: found by the walk, as a GB2312 homophone is by the regex
    for heard in ("鬮是说", "旧是说"):
        assert soundregex.may_sound_like(heard, ("就是说",)) == bool(homophones.windows(heard, ("就是说",))) is True


def test_a_numeral_a_mark_or_an_unread_first_char_stands_for_nothing():
    assert soundregex.may_sound_like("你稍等", ("您稍等",))  # whisper's 你 for 您 (text.ASR_CONFUSABLE)
    assert not soundregex.may_sound_like("您稍等", ("你稍等",))  # not the other way
    assert not soundregex.may_sound_like("二稍等", ("而稍等",))  # 二 er is a numeral: only itself
    assert not soundregex.may_sound_like("稍，等", ("稍等",))
    assert not soundregex.may_sound_like("为", ("喂",))  # a lone char never matches by sound
    # 乐亭 reads lao-ting in context, and 乐 alone le / yue: the walk starts only where a char
    # reads lao, so it never finds 乐亭 itself by sound (the exact search does), and nor does the regex
    assert not homophones.windows("乐亭", ("乐亭",)) and not soundregex.may_sound_like("乐亭", ("乐亭",))
    assert homophones.windows("老亭", ("乐亭",)) and soundregex.may_sound_like("老亭", ("乐亭",))
    assert soundregex.may_sound_like("𠀀请稍等", ("请烧等",)) == bool(homophones.windows("𠀀请稍等", ("请烧等",)))


def test_respelling_is_skipped_only_where_no_window_sounds_like_a_stretch():
    for stretches in _pack_phrase_tuples():
        for t in sorted({v for p in stretches if len(p) >= 2 for v in _variants(p)})[:200]:
            windows = [w for w in homophones.windows(t, stretches, text.REGEX_MIN_SAME) if w[2] < len(stretches[w[0]])]
            if windows:
                assert soundregex.may_sound_like(t, stretches), (stretches[:2], t)
