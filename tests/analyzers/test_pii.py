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
