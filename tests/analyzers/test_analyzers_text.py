import re

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzers.model import Utterance, Word
from analyzers.rate import speaking_s
from analyzers.text import (
    contains_alternative,
    contains_any,
    count_chars,
    find_phrase,
    first_alternative,
    normalise,
    sounds_alike,
    strip_punct,
)


def test_count_chars_han_digits_latin_words_no_punct():
    assert count_chars("您好") == 2
    assert count_chars("订单号12345") == 8          # digits one each
    assert count_chars("iPhone 手机") == 3          # a Latin word is one
    assert count_chars("您好，请问？！ ...") == 4    # punctuation and spaces are zero
    assert count_chars("ＡＢＣ１２") == 3             # full-width folds first
    assert count_chars("") == 0


def test_normalise_traditional_fullwidth_spaces():
    assert normalise("請您稍等 一下") == "请您稍等一下"
    assert normalise("讓您久等了！") == "让您久等了!"
    assert normalise("ABC") == "abc"


def test_homophones_need_two_chars_and_same_sound():
    assert sounds_alike("不知到", "不知道")
    assert not sounds_alike("不知了", "不知道")
    assert not sounds_alike("是要", "什么")     # only via rare readings of 什么's chars
    assert sounds_alike("啰嗦", "罗嗦")
    # whisper writes 你 for 您: the polite phrase still counts, but not the other way
    assert sounds_alike("还有什么可以帮你", "还有什么可以帮您")
    assert sounds_alike("是你使用不当", "是您使用不当")
    assert not sounds_alike("帮您", "帮你")
    assert not sounds_alike("不信", "不行")
    assert find_phrase("我不知到啊", "不知道") == [(1, 4, True)]
    assert find_phrase("为您服务", "喂") == []          # one char never by sound
    assert find_phrase("喂您好", "喂") == [(0, 1, False)]


def test_speaking_time_drops_only_long_inner_pauses():
    words = (Word("好的", 0.0, 1.0), Word("请", 1.5, 2.0), Word("稍等", 5.0, 6.0))
    u = Utterance("agent", 0.0, 6.0, "好的请稍等", words)
    # 0.5 s gap is phrasing (kept), 3.0 s gap is a pause (dropped).
    assert speaking_s(u, 0.7) == 3.0
    assert speaking_s(u, 5.0) == 6.0
    assert speaking_s(Utterance("agent", 2.0, 4.5, "好的"), 0.7) == 2.5


# -- phrase groups compiled once (issue 21: analysis speed) -----------------------------

_PHRASES = ["您好", "请稍等", "稍等", "谢谢", "感谢您", "再见", "不知道", "没办法", "麻烦您", "请问", "好的",
            "re:请.{0,3}等", "re:^喂"]
_CHARS = "您你好请问稍等谢感再见的了是不知到道没办法麻烦一下，。？喂为"


def _first_by_definition(text, alternatives):
    """first_alternative's definition, one alternative at a time: the earliest hit of any
    (exact or by sound, or a regex's match), the first listed on a tie."""
    bare = strip_punct(text)
    best = None
    for alt in alternatives:
        if alt.startswith("re:"):
            m = re.search(alt[3:], bare)
            pos = m.start() if m else None
        else:
            hits = find_phrase(bare, strip_punct(normalise(alt)), homophones=True)
            pos = min(h[0] for h in hits) if hits else None
        if pos is not None and (best is None or pos < best[0]):
            best = (pos, alt)
    return best


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PHRASES[:11]) | st.text(_CHARS, min_size=1, max_size=5), max_size=6),
       st.lists(st.sampled_from(_PHRASES), min_size=1, max_size=6))
def test_compiled_phrase_groups_answer_as_each_alternative_would(parts, alternatives):
    text = normalise("".join(parts))
    group = tuple(alternatives)
    assert first_alternative(text, group) == _first_by_definition(text, group)
    assert contains_any(text, group) == any(contains_alternative(text, a) for a in group)


def test_whitespace_and_punctuation_cut_as_the_per_char_tests_say():
    """normalise cuts whitespace with str.split and strip_punct punctuation with str.translate:
    over every code point, exactly the chars str.isspace / is_punct name."""
    import sys

    from analyzers.text import is_punct, strip_punct

    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    assert [c for c in chars if "".join(f"a{c}b".split()) == "ab"] == [c for c in chars if c.isspace()]
    text = "".join(chars)
    assert strip_punct(text) == "".join(c for c in text if not is_punct(c))
