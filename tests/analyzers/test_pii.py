"""Masking of personal numbers (phone, ID card, bank card, order number)."""

from __future__ import annotations

import pytest

from analyzers.pii import join_masked, mask_numbers


@pytest.mark.parametrize("text, expected", [
    ("手机号码是13912345678。", "手机号码是*******5678。"),
    # as whisper splits it: one token, one star per masked digit (issue 22: it read as "** * ** * *5 67 8")
    ("手机号码是13 9 12 3 45 67 8。", "手机号码是*******5678。"),
    ("订单号是 7 7 1 2 0 9 7 5 3", "订单号是 *****9753"),
    ("身份证号11010519491231002X", "身份证号**************002X"),
    ("卡号6222 0212 3456 7890 123", "卡号***************0123"),
    ("订单号是771208。", "订单号是**1208。"),
    ("一三九一二三四五六七八", "*******五六七八"),
])
def test_personal_numbers_are_masked_but_the_last_four(text, expected):
    assert mask_numbers(text) == expected


@pytest.mark.parametrize("text", ["一千零八十元", "工号一二三四", "价格是100元，日期2024-11-23", "共12345元", "您好"])
def test_short_numbers_prices_and_dates_stay(text):
    assert mask_numbers(text) == text


@pytest.mark.parametrize("text, expected", [
    ("顶单号是** * *0 45 3", "顶单号是****0453"),   # a masked number as older runs wrote it
    ("手机** * ** * *5 67 8，谢谢", "手机*******5678，谢谢"),
    ("卡号**** **** **** ***0 123", "卡号***************0123"),
    ("价格 12 34 元，共 5 件", "价格 12 34 元，共 5 件"),    # no star: not a masked number
    ("*******5678", "*******5678"),
])
def test_masked_numbers_are_joined_into_one_readable_token(text, expected):
    assert join_masked(text) == expected


def test_a_masked_number_is_never_unmasked_by_joining():
    masked = mask_numbers("请记一下 1 3 9 1 2 3 4 5 6 7 8 和订单 771208")
    assert masked == "请记一下 *******5678 和订单 **1208"
    assert join_masked(masked) == masked


# --- numbers however they are separated (issue 37) -----------------------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

_CHINESE = {"0": ("零", "〇"), "1": ("一", "幺"), "2": ("二",), "3": ("三",), "4": ("四",), "5": ("五",),
            "6": ("六",), "7": ("七",), "8": ("八",), "9": ("九",)}
_SEPARATORS = (" ", "  ", "-", " - ", "－", "—", ",", "，", " ， ", "、", ".", "．", "。", "\u3000")
#: Words around a number: no digit, no unit (元, 秒 …) and no X, so only the number is masked.
_WORDS = st.text(alphabet="您好请记下手机号码是的谢谢我要查订单卡身份证，。？！ ", max_size=8)


def _digits(n: int):
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


#: Personal numbers as they are: phones, ID cards (18 digits, maybe ending in X), bank cards.
_NUMBERS = st.one_of(
    st.tuples(st.just("1"), st.sampled_from("3456789"), _digits(9)).map("".join),
    st.tuples(_digits(17), st.sampled_from("0123456789X")).map("".join),
    st.tuples(st.just("62"), st.integers(14, 17).flatmap(_digits)).map("".join),
)


@st.composite
def _spoken(draw, number: str) -> str:
    """`number` as whisper or a clerk may write it: each digit Arabic, full width or
    Chinese, split into groups by any separators."""
    style = draw(st.sampled_from(["ascii", "full", "chinese", "mixed"]))
    out = []
    for i, d in enumerate(number):
        s = draw(st.sampled_from(["ascii", "full", "chinese"])) if style == "mixed" else style
        if d == "X" or s == "ascii":
            out.append(d)
        elif s == "full":
            out.append(chr(ord(d) - ord("0") + ord("０")))
        else:
            out.append(draw(st.sampled_from(_CHINESE[d])))
        if i < len(number) - 1 and draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(_SEPARATORS)))
    return "".join(out)


@settings(max_examples=400, deadline=None)
@given(data=st.data(), before=_WORDS, after=_WORDS)
def test_a_personal_number_is_masked_however_it_is_written(data, before, after):
    number = data.draw(_NUMBERS)
    spoken = data.draw(_spoken(number))
    masked = mask_numbers(before + spoken + after)
    digits = [c for c in spoken if c not in "".join(_SEPARATORS)]
    assert masked == before + "*" * (len(number) - 4) + "".join(digits[-4:]) + after


@given(before=_WORDS, after=_WORDS, text=st.text(max_size=40))
def test_masking_is_idempotent_and_keeps_text_without_numbers(before, after, text):
    assert mask_numbers(mask_numbers(text)) == mask_numbers(text)
    assert mask_numbers(before + after) == before + after


@pytest.mark.parametrize("text, expected", [
    ("我的手机是139-1234-5678", "我的手机是*******5678"),
    ("139，1234，5678", "*******5678"),
    ("一三九，一二三四，五六七八。", "*******五六七八。"),
    ("幺三九 零零零零 五六七八", "*******五六七八"),
    ("＋86 139 1234 5678", "＋*********5678"),
    ("20241123_103015_13912345678.wav", "20241123_103015_*******5678.wav"),
    ("2012-03-12-3456-7890", "************7890"),         # starts like a date: still a number
    ("13912345678元", "*******5678元"),                   # eleven digits are never an amount
])
def test_numbers_split_by_hyphens_commas_and_full_width_punctuation_are_masked(text, expected):
    assert mask_numbers(text) == expected


@pytest.mark.parametrize("text", [
    "回电时间2024-11-23 10:30", "日期2024.11.23", "录音20241123103015", "20241123_103015",
    "退款1,280,000元", "共123456.50元", "¥1234567", "通话了123456秒", "10:30-11:45",
    # ranges of two short numbers: the rate check's band in a finding's detail, a wait range
    "band 120-210 chars/min", "等待90～120秒", "第1-3步",
])
def test_dates_times_amounts_and_durations_stay(text):
    assert mask_numbers(text) == text


def test_masked_ids_stay_unique_and_give_no_digit_away():
    from analyzers.pii import masked_ids

    assert masked_ids(["来电139-1234-5678", "来电138-8888-5678", "来电138-8888-5678~2", "call01"]) == [
        "来电*******5678", "来电*******5678~2", "来电*******5678~2~2", "call01"]


def test_a_range_exemption_never_lets_a_phone_number_through():
    """Seven or more digits in groups are a number, whatever joins them."""
    for text in ("139-1234-5678", "010-12345678", "123-4567", "1234-567"):
        assert "*" in mask_numbers(text), text
