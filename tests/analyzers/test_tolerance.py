"""Every phrase a rule reads is matched tolerant of whisper's homophone slips (issue 33 item 4):
literal phrases and the literal stretches of `re:` phrases alike, by one function
(analyzers.text.sounds_alike), with the banned list's guard (never a lone char by sound)."""

import re

from analyzers.analyze import analyze
from analyzers.text import (contains_alternative, contains_any, find_phrase, first_alternative, normalise,
                            regex_stretches, respelled, sounds_alike, strip_punct)
from lexicons import load_pack
from transcripts import A, C, call, say

PACK = load_pack()


def test_regex_stretches_spell_out_groups_alternations_and_optional_parts():
    assert set(regex_stretches("满意(吗|么)")) == {"满意吗", "满意么"}
    assert set(regex_stretches("(对|是)(吗|吧)$")) == {"对吗", "对吧", "是吗", "是吧"}
    assert set(regex_stretches("可以(帮|为)?您")) == {"可以帮您", "可以为您", "可以您"}
    # a wildcard or an open repeat cuts the stretch; lone chars are never stretches
    assert set(regex_stretches("还有(其他|别的).{0,8}(帮|需要)")) == {"还有其他", "还有别的", "需要"}
    assert regex_stretches("[0-9]{3,}号") == ()
    # lookarounds spell nothing
    assert regex_stretches("(?<![不别没])着急") == ("着急",)


def test_slip_dingdanhao_in_a_literal_and_in_a_regex():
    # 订单号 -> 订单好 (hao = hao)
    assert contains_any(normalise("麻烦您报一下订单好"), ("订单号",))
    assert re.search("(订单|快递)号", "您的订单好是多少") is None
    assert contains_any("您的订单好是多少", ("re:(订单|快递)号",))
    assert contains_alternative("您的订单好是多少", "re:(订单|快递)号")
    assert first_alternative("您的订单好是多少", ("re:(订单|快递)号",)) == (2, "re:(订单|快递)号")


def test_slip_huidian_counts_as_a_promise():
    # 回电 -> 回店 (dian = dian): the follow-up rule's promise list
    assert first_alternative(normalise("我们稍后给您回店"), PACK.followup.promise_phrases) == (4, "给您回电")


def _closing(text: str):
    t = call(say(C, 0.0, "好的，就这样吧。"), say(A, 3.0, text))
    return {f.rule_id for f in analyze(t, PACK).findings if f.category == "closing_missing"}


def test_slip_manyi_in_the_satisfaction_regex():
    # 满意吗 -> 满意马 (ma = ma) and 满意 -> 满一 (yi = yi): the pack's re:满意(吗|么|嘛|不)
    assert "satisfaction_check" in _closing("感谢您的来电，再见。")
    assert "satisfaction_check" not in _closing("您对这次服务满意马？感谢您的来电，再见。")
    assert "satisfaction_check" not in _closing("您对这次服务满一吗？感谢您的来电，再见。")


def test_near_homophones_of_the_issue_are_not_accepted():
    # 对吧 -> 对班 (ba/ban), 满意 -> 买一 (man/mai), 小李 -> 想里 (xiao/xiang) differ in sound:
    # accepting them cost a false complaint cue on the example negatives (docs/decisions.md).
    assert not sounds_alike("对班", "对吧")
    assert not sounds_alike("买一", "满意")
    assert not sounds_alike("想里", "小李")
    assert not contains_any(normalise("身份证后四位是0312对班"), PACK.confirmation.phrases)


def test_a_lone_char_never_matches_by_sound():
    # 为 must never match 喂, neither as a literal nor as a regex's lone char
    assert find_phrase("为您服务", "喂") == []
    assert not contains_any("为您服务", ("喂",))
    assert not contains_any("为您服务", ("re:喂",))
    assert respelled("为您服务", regex_stretches("喂")) == "为您服务"


def test_a_heard_numeral_stands_for_itself():
    # 尾号是八 says a number; it is no slip for the tag question 是吧
    assert not contains_any("尾号是八", PACK.confirmation.phrases)
    assert contains_any("尾号是8对吧", PACK.confirmation.phrases)
    assert not sounds_alike("是八", "是吧")
    # 一 is the exception: whisper writes it for every yi
    assert sounds_alike("满一", "满意")


def test_the_three_matchers_agree_on_regex_hits_by_sound():
    texts = ["您的订单好是多少", "您对服务满意马", "尾号是八", "为您服务", "还有其他问题吗"]
    groups = [("re:(订单|快递)号",), ("re:满意(吗|么|嘛|不)",), PACK.confirmation.phrases, PACK.closing.satisfaction_check_phrases]
    for text in texts:
        for group in groups:
            group = tuple(group)
            each = any(contains_alternative(strip_punct(text), alt) for alt in group)
            assert contains_any(text, group) == each == (first_alternative(text, group) is not None), (text, group)
