"""A number read digit by digit ends where a numeral of a quantity or a decimal begins (lead20):
read without punctuation, …三三七一九，一点七升 joined the 一 of 一点七 to the number."""

from __future__ import annotations

import pytest

from analyzers.rulelang.entities import entities


@pytest.mark.parametrize("text, number", [
    ("订单号是，二零二六一二零五，三三七一九。", "2026120533719"),            # read in groups: one number
    ("好的，二零二六一二零五三三七一九，一点七升的电热水壶。", "2026120533719"),  # a decimal said after it
    ("尾号三三七六，一个包裹还没到。", "3376"),                               # a measure word after it
    ("运单号七七零三二八一五，两箱货。", "77032815"),
    ("手机13912345678，1.5升那款。", "13912345678"),
    ("验证码是三八一九，一次有效。", "3819"),
    ("卡号六二二八四八一零三三七六。", "622848103376"),                       # nothing after: as before
])
def test_a_read_number_ends_before_a_quantity(text, number):
    assert [v for k, v in entities(text) if k == "number"] == [number]
