"""Masking of personal numbers (phone, ID card, bank card, order number)."""

from __future__ import annotations

import pytest

from analyzers.pii import mask_numbers


@pytest.mark.parametrize("text, expected", [
    ("手机号码是13912345678。", "手机号码是*******5678。"),
    ("手机号码是13 9 12 3 45 67 8。", "手机号码是** * ** * *5 67 8。"),  # as whisper splits it
    ("身份证号11010519491231002X", "身份证号**************002X"),
    ("卡号6222 0212 3456 7890 123", "卡号**** **** **** ***0 123"),
    ("订单号是771208。", "订单号是**1208。"),
    ("一三九一二三四五六七八", "*******五六七八"),
])
def test_personal_numbers_are_masked_but_the_last_four(text, expected):
    assert mask_numbers(text) == expected


@pytest.mark.parametrize("text", ["一千零八十元", "工号一二三四", "价格是100元，日期2024-11-23", "共12345元", "您好"])
def test_short_numbers_prices_and_dates_stay(text):
    assert mask_numbers(text) == text
