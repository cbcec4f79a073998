"""speed22: a phrase group's question answered from what is read once per text and per group
(respell.text_view, anyof.either, nearsound.near_chars) gives the routes' own answer."""

from __future__ import annotations

import re

import pytest

from analyzers import anyof, nearsound, respell, soundregex, text
from analyzers.rulelang import plan
from tests.analyzers.test_respell import pack_groups


def _routes_one_by_one(t: str, group) -> bool:
    """group_holds before speed22: each route asked as its own function, each regex on its own."""
    bare = text.strip_punct(t)
    return (any(regex.search(t) for _, regex, _ in group.regexes)
            or (group.exact is not None and group.exact.search(bare) is not None)
            or (bool(group.by_first) and soundregex.may_sound_like(bare, group.spoken))
            or nearsound.group_holds(group, bare)
            or respell.heard_holds(t, group))


_PATTERNS = [r"(您|你)说的是[^，。？！,?!]{2,20}(是吧|对吧|对吗)", r"^(好的?|嗯)?[，,]?手机", r"(?<![跟和给])您(再)?说一下",
             r"号码?(是)?多少(?!钱)", r"(a|bc)+d$", r"[0-9]{4}"]


@pytest.mark.parametrize("t, hit", [
    ("您说的是明天上午对吧", True), ("好的，手机号多少", True), ("嗯手机", True), ("麻烦您说一下", True),
    ("跟您说一下", False), ("卡号是多少", True), ("号码多少钱", False), ("abcbcd", True), ("abcd，", False),
    ("尾号1234", True), ("尾号123", False), ("今天天气不错", False), ("", False),
])
def test_either_matches_where_any_regex_does(t, hit):
    regexes = [re.compile(p) for p in _PATTERNS]
    one = anyof.either_of(regexes)
    assert one is not None
    assert (one.search(t) is not None) == any(r.search(t) for r in regexes) == hit
    assert one.groups == 0  # every group made plain


def test_either_leaves_alone_what_it_cannot_join():
    assert anyof.either_of([re.compile(r"(a)\1"), re.compile("b")]) is None  # a backreference
    assert anyof.either_of([re.compile("a", re.IGNORECASE), re.compile("b")]) is None  # flags differ
    assert anyof.either([], 0) is None
    one = anyof.either_of([re.compile("(?P<x>a)b")])  # a named group, alone
    assert one is not None and one.search("xab") and not one.search("ba")


def test_near_chars_hold_every_char_read_as_a_key():
    """near_chars is a superset: a char (not punctuation, no char the sound classes leave out)
    whose everyday reading is not itself is a GB2312 char with that reading among its readings,
    or a numeral."""
    from pypinyin.pinyin_dict import pinyin_dict

    heard = soundregex._heard_as()[0]
    checked = 0
    for c in map(chr, pinyin_dict):
        if c > "\uffff" or text.is_punct(c) or soundregex.unheard(c):
            continue
        reading = nearsound.main_reading(c)
        if reading != c:
            assert c in heard.get(reading, ()) or c in text.NUMERALS, (c, reading)
            checked += 1
    assert checked > 6000
    keys = nearsound.near_syllables("gan") | nearsound.near_syllables("an")  # gai, gang?; ai, a
    chars = nearsound.near_chars(frozenset(keys))
    assert "该" in chars and "爱" in chars and "a" in chars and "感" not in chars


def test_text_view():
    assert respell.text_view("您好，请问！") == (6, frozenset("您好，请问！"), "您好请问", False)
    assert respell.text_view("妳好")[3] is soundregex.unheard("妳好")


_GROUPS = [
    ("感谢您的耐心等待", "不好意思", "re:(您|你)说的是[^，。？！,?!]{2,20}(是吧|对吧|对吗)", "re:^(好的?|嗯)[，,]?稍等"),
    ("满意", "还有什么可以帮您", "re:提供(一下|下)", "re:(号|号码)(是)?多少(?!钱)"),
    ("对吧", "re:给您(添|造成)(了)?麻烦", "re:(?<![跟和给向])(您|你)(再)?(说|讲|报)一下"),
]
_TEXTS = [
    "感谢您的耐心等待", "该先您的耐心等待", "干谢您的耐心等到。", "不好一思", "您说的是明天上午对吧？", "你说的是这个对吗",
    "好的，稍等", "嗯稍等一下", "您满一吗", "还有什么可以帮你", "麻烦提供下身份证", "麻烦题供一下", "号码是多少",
    "号码多少钱", "对班？", "给您添麻烦了", "给你造成了麻烦", "您再说一下", "跟您说一下", "麻烦您再报一下",
    "今天天气不错", "妳说的是明天对吧", "感謝您的耐心等待", "", "。", "1234", "ok", "卡號是多少",
]


@pytest.mark.parametrize("alternatives", _GROUPS)
def test_group_holds_answers_as_the_routes_one_by_one(alternatives):
    group = text.phrase_group(alternatives)
    answers = []
    for t in _TEXTS:
        text.clear_caches()
        got = respell.group_holds(t, group)
        assert got == _routes_one_by_one(t, group), (alternatives[0], t)
        answers.append(got)
    assert 5 < sum(answers) < len(_TEXTS) - 5  # hits and misses both


def test_group_holds_answers_as_the_routes_on_the_pack_groups():
    """Every pack group on texts of its own alternatives, near slips of them and other groups'."""
    groups = pack_groups()
    texts = set(_TEXTS)
    for g in groups[::3]:
        texts.update(g.spoken[:3])
        texts.update(f"好的，{s}，对吧" for s in g.by_sound[0][:2])
    texts.discard("")
    compared = found = 0
    for group in groups:
        for t in sorted(texts):
            got = respell.group_holds(t, group)
            assert got == _routes_one_by_one(t, group), (group.alternatives[:2], t)
            compared, found = compared + 1, found + got
    assert compared > 8000 and found > 300


def test_the_as_written_test_searches_its_regexes_as_one():
    test = plan._exact_test(("稍等", "re:^(好的?|嗯)[，,]?稍等", "re:(号|号码)(是)?多少(?!钱)", "re:麻烦(您|你)"))

    class Call:
        texts = ["请稍，等一下", "号码是多少", "号码多少钱", "麻烦你了", "今天天气不错", "好的稍後"]

    assert test(Call, None, set(range(6)), False) == {0, 1, 3}
    assert test(Call, None, {2, 4, 5}, True) == set()
    assert test(Call, None, {2, 3, 4}, True) == {3}
