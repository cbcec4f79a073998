"""Near-homophones (analyzers/nearsound.py): a long phrase heard with a syllable's ending slipped."""

from __future__ import annotations


import pytest

from analyzers.nearsound import MIN_SYLLABLES, near_alike, near_starts, near_syllables
from analyzers.text import contains_alternative, contains_any, first_alternative


@pytest.mark.parametrize("said, heard", [
    ("gan", "gai"), ("man", "mai"), ("xie", "xian"), ("jie", "jian"), ("ba", "ban"),
    ("xiao", "xiang"), ("bin", "bing"), ("yin", "ying"), ("ye", "yan")])
def test_the_measured_ending_slips_go_both_ways(said, heard):
    assert heard in near_syllables(said)
    assert said in near_syllables(heard)


def test_an_unmeasured_slip_is_not_near():
    assert near_syllables("zhi") == frozenset()  # no initial slip was seen often enough (记电 for 致电)
    assert "ji" not in near_syllables("zhi")
    assert "bu" not in near_syllables("bing")


def test_call06s_closing_thanks_is_heard_through_two_slips_in_six_chars():
    # whisper base on call06: 感谢您的来电 as 该先您的来点 (gan->gai, xie->xian, 电->点 same sound)
    assert near_alike("该先您的来点", "感谢您的来电")
    thanks = ("感谢", "谢谢", "多谢", "感谢您的来电")
    assert contains_any("该先您的来点，祝您生活愉快，再见", thanks)
    assert first_alternative("好的，该先您的来点，再见", thanks) == (2, "感谢您的来电")
    assert contains_alternative("该先您的来点", "感谢您的来电")


def test_one_slip_per_three_chars_at_most():
    assert near_alike("还买意吗", "还满意吗")            # 1 slip in 4 chars
    assert not near_alike("该先您的", "感谢您的")        # 2 in 4
    assert near_alike("该先您的来店", "感谢您的来电")    # 2 in 6 (店 is 电's own sound)
    assert not near_alike("该先您的兰点", "感谢您的来电")  # 3 in 6: 兰 lan for 来 lai


def test_a_char_outside_the_table_breaks_the_match():
    assert not near_alike("该先您的乃点", "感谢您的来电")   # 乃 nai for 来 lai: an initial, not an ending


def test_short_phrases_never_match_by_a_near_syllable():
    assert MIN_SYLLABLES == 4
    assert not near_starts("麻烦给我一个投诉电话", "发给我")   # fan/fa: measured false hit at 3 chars
    assert not near_alike("对班", "对吧")
    assert not contains_any("您这个订单是要办理退货对班", ("对吧", "是吧"))
    assert not near_alike("买一", "满意")


def test_a_rare_reading_of_the_heard_char_does_not_make_a_slip():
    # 么 can be read ma (near man) and 是 ti: measured false hits before the everyday reading only
    assert not near_starts("有什么不满意的地方您尽管提", "满不满意")
    assert not near_starts("两融账户就是可以借钱来炒股的账户", "提个意见")
    assert not near_starts("感谢您的接听今天的回访就到这里", "您的建议")


def test_a_numeral_or_a_mark_never_stands_for_a_char():
    assert not near_alike("还买意8", "还满意吧")
    assert not near_alike("还买意,", "还满意吗")


def test_the_exact_phrase_is_no_near_match():
    assert not near_alike("感谢您的来电", "感谢您的来电")
    assert near_starts("好的感谢您的来电", "感谢您的来电") == []


def test_contains_any_agrees_with_contains_alternative_on_near_matches():
    group = ("感谢", "还满意吗", "感谢您的来电", "re:满意(吗|么)")
    for text in ("该先您的来点", "您对这次的处理还买意吗", "有什么不满意的地方", "该谢您对我们的支持"):
        assert contains_any(text, group) == any(contains_alternative(text, a) for a in group)


def test_the_set_test_before_the_window_search_loses_no_near_match():
    # NearGroup._candidates drops a phrase by a set test per text: for every long phrase of
    # the pack, each text with one or two slipped chars (and its own, and a stranger) must
    # get the answer that a window search over every phrase of the group gives.
    from analyzers import nearsound, text
    from lexicons import load_pack

    pack = load_pack("zh-CN")
    lists = [getattr(getattr(pack, s), f) for s in ("courtesy", "closing", "greeting", "holds", "followup")
             for f in type(getattr(pack, s)).model_fields if isinstance(getattr(getattr(pack, s), f), tuple)]
    groups = {id(g): g for g in (text._group_of(ps, "re:") for ps in lists if ps)}
    by_reading: dict[str, str] = {}
    longs = sorted({p for g in groups.values() for p in g.exact_index if nearsound.near_phrase(p)})
    for c in "".join(longs) + "该先买班想冰星尽在间点店兰还意一边线街见烟演也眼":
        by_reading.setdefault(nearsound.main_reading(c), c)
    checked = found = 0
    for group in groups.values():
        near = nearsound._near_of(group)
        if near is None:
            continue
        for _, phrase in near.phrases:
            table = nearsound.near_phrase(phrase)
            slips = [(k, by_reading[s]) for k, syls in enumerate(table.near) for s in sorted(syls) if s in by_reading]
            variants = {phrase, "喂你好" + phrase[::-1]}
            for k, c in slips:
                variants.add("好的" + phrase[:k] + c + phrase[k + 1:] + "再见")
                for k2, c2 in slips:
                    if k2 > k:
                        variants.add(phrase[:k] + c + phrase[k + 1:k2] + c2 + phrase[k2 + 1:])
            for bare in variants:
                every = [(start, index) for index, p in near.phrases for start in nearsound.near_starts(bare, p)]
                assert near.holds(bare) == bool(every) == nearsound.group_holds(group, bare), (phrase, bare)
                assert near.first(bare, None) == (min(every) if every else None), (phrase, bare)
                checked, found = checked + 1, found + bool(every)
    assert checked > 200 and found > 50, (checked, found)
