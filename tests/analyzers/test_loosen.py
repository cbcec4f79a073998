"""A regex loosened by sound (analyzers/loosen.py) matches wherever the regex matches the text
respelled toward its stretches: a filter that never turns away a text respelling would find."""

from __future__ import annotations

import re

from analyzers import loosen, text
from tests.analyzers.test_respell import _misheard, _pack_groups


def _loose(pattern: str) -> re.Pattern | None:
    return loosen.loose_regex(re.compile(pattern), text.regex_stretches(pattern))


def test_a_loosened_literal_takes_a_char_read_the_same():
    wide = _loose("请稍等.{0,4}(一下|片刻)")
    assert wide.search("请稍等一下") and wide.search("请稍登一下")  # 登 is read deng as 等
    stretches = text.regex_stretches("请稍等.{0,4}(一下|片刻)")
    assert text._respelled("请稍登一下", stretches, frozenset("".join(stretches))) == "请稍等一下"
    assert not wide.search("好的，我看一下")  # no window sounds like 请稍等: no walk needed


def test_what_a_loosened_regex_drops_or_widens():
    # a lookahead may refuse the text where the respelled text passes: dropped
    assert _loose("多少(?!钱)").search("多少钱")
    # a negated class that may refuse a char heard for a stretch char: any char
    assert re.search("您好[^您]{0,3}服务", "您好为您服务") is None and _loose("您好[^您]{0,3}服务").search("您好为您服务")
    # a negated class of punctuation refuses no heard char: kept
    assert not _loose("可以[^。？]{0,2}帮您").search("可以。帮您")
    # the ends stay: a respelled text keeps its length
    assert not _loose("^好的$").search("好的呀")


def test_a_pattern_it_cannot_widen_soundly_has_none():
    assert _loose(r"(好的)\1") is None  # a backreference reads the text itself
    assert _loose("(?i)ok好的") is None  # a case-folded class is not widened
    assert _loose("(?>好的)了") is None  # an atomic group may refuse where the respelled text passes
    assert _loose("[，,]") is None  # no stretch: nothing to respell toward


def test_every_pack_regex_loosened_passes_what_respelling_finds():
    checked = passed = rejected = 0
    for group in _pack_groups():
        for (_, regex, kept), wide in zip(group.regexes, group.by_sound[5]):
            if not kept:
                continue
            assert wide is not None, regex.pattern  # the pack's regexes all loosen
            texts = {"好的好的", "您好请问有什么可以帮您"} | _misheard(kept[:8], ("嗯{}的", "您的{}，是吧"))
            for t in texts:
                respelled = text._respelled(t, kept, frozenset("".join(kept)))  # uncached: a kept answer is another str
                if respelled == t:
                    continue
                checked += 1
                if regex.search(respelled):
                    passed += 1
                    assert wide.search(t), (regex.pattern, t)
                elif not wide.search(t):
                    rejected += 1
    assert checked > 1000 and passed > 100 and rejected > 100, (checked, passed, rejected)
