"""Masking of personal numbers in text before it is written anywhere.

Phone numbers, ID-card numbers, bank-card numbers and order numbers all look the same
in a transcript or a file name: a run of six or more digits, written as Arabic digits
(half or full width) or Chinese numerals (一三九…, 零/〇 for 0, 幺 for 1), whole or split
by spaces, hyphens, commas or dots, half or full width ("139-1234-5678", "139，1234，5678",
"一三九 一二三四 五六七八"). Every such run is masked except its last four digits, which is
what QA staff need to tell two numbers apart.

What stays readable (the standard asks for times, amounts and durations to be said and
checked; none of them is a personal number):
- runs of fewer than six digits (prices, 工号一二三四, 10:30, 11月23号);
- a date, with or without a time: 2024-11-23, 2024.11.23, 20241123, 20241123_103015,
  2024-11-23 10:30 (a number that merely starts with a date stays masked);
- an amount or a duration: at most nine digits (thousands commas allowed, two decimals)
  right before a currency or time unit (元 块 秒 分钟 小时 …) or after ¥/￥/$;
- a range of two numbers of at most three digits each (a rate band 120-210, 90～120).
An eight-digit number that reads as a date, or a 12/14-digit one that reads as a date and
time, is therefore kept: no phone, ID or bank-card number has that shape.
"""

from __future__ import annotations

import re

#: The characters of a spoken or written digit.
_DIGIT = "0-9０-９零〇一二三四五六七八九幺"
_ARABIC = "0-9０-９"
#: What may sit between the groups of one number: spaces (whisper splits spoken digits
#: with them), or one hyphen, comma or dot (half or full width) with spaces around it.
_SEP = r"(?:[ \u3000]*[-－‐‑‒–—―,，、.．。·][ \u3000]*|[ \u3000]+)"
#: One number however it is split; an ID card may end in X.
_RUN = rf"[{_DIGIT}](?:[{_DIGIT}]|{_SEP}(?=[{_DIGIT}]))*(?:{_SEP}?[Xx](?![A-Za-z]))?"
#: Not followed by more of a number: what a date or an amount must end with.
_END = rf"(?![{_DIGIT}Xx]|{_SEP}[{_DIGIT}])"
_YEAR = r"(?:19|20)\d\d"
_TIME = r"(?:[ T_-]?(?:[01]\d|2[0-3])(?::?[0-5]\d){1,2})?"
_DATE = (rf"{_YEAR}(?P<ds>[-./])(?:0?[1-9]|1[0-2])(?P=ds)(?:0?[1-9]|[12]\d|3[01]){_TIME}"
         rf"|{_YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]){_TIME}")
_INT = rf"(?:[{_ARABIC}]{{1,3}}(?:[,，][{_ARABIC}]{{3}}){{1,2}}|[{_ARABIC}]{{1,9}})(?:[.．][{_ARABIC}]{{1,2}})?"
#: Currency, time and percent units: a number right before one is an amount or a duration.
_UNITS = "元|块|圆|角|毛|美元|欧元|港币|人民币|秒|分钟|个小时|小时|%|％"
_AMOUNT = rf"[¥￥$]\s?{_INT}{_END}|{_INT}(?=\s?(?:{_UNITS}))"
#: A range of two short numbers (a rate band 120-210, 90～120 秒): no personal number is two
#: groups of at most three digits (phones, IDs and cards have seven digits or more).
_RANGE = rf"[{_ARABIC}]{{1,3}}[ \u3000]?[-－~～–—][ \u3000]?[{_ARABIC}]{{1,3}}{_END}"
#: Tried in this order at each place: a date, amount or range there is kept, a run is masked.
_NUMBER = re.compile(rf"(?P<date>{_DATE}){_END}|(?P<amount>{_AMOUNT})|(?P<range>{_RANGE})|(?P<run>{_RUN})")
_IS_DIGIT = re.compile(rf"[{_DIGIT}Xx]")

#: Order numbers can be as short as six digits.
MIN_DIGITS = 6
KEEP_LAST = 4


def mask_numbers(text: str, *, min_digits: int = MIN_DIGITS, keep_last: int = KEEP_LAST) -> str:
    """`text` with every run of at least `min_digits` digits masked but its last `keep_last`,
    as one token without the separators between the digits: 订单号是 7 7 1 2 0 9 7 5 3
    becomes 订单号是****9753 and 139-1234-5678 becomes *******5678 (one star per masked
    digit). Dates and amounts stay (see the module doc)."""

    def mask(match: re.Match) -> str:
        run = match.group(0)
        if match.lastgroup != "run":
            return run
        digits = _IS_DIGIT.findall(run)
        if len(digits) < min_digits:
            return run
        kept = digits[len(digits) - keep_last :] if keep_last else []
        return "*" * (len(digits) - len(kept)) + "".join(kept)

    return _NUMBER.sub(mask, text)


#: A masked number as written before masks were joined: stars and digits split by spaces
#: ("** * *0 45 3"); it starts with a star, so a plain "12 34" is never touched.
_SPACED_MASK = re.compile(rf"\*(?:[*{_DIGIT}Xx]| (?=[*{_DIGIT}Xx]))*")


def join_masked(text: str) -> str:
    """Masked numbers as one readable token: "订单号是** * *0 45 3" -> "订单号是****0453".
    For output written before mask_numbers joined them (the report shows old runs too)."""
    return _SPACED_MASK.sub(lambda m: m.group(0).replace(" ", ""), text)


def masked_ids(ids: list[str]) -> list[str]:
    """`ids` (call ids made from file names) masked, still unique: where two mask to the
    same id, the later ones get "~2", "~3", … in the order given (a hash of the original
    would give the masked digits away)."""
    out, seen = [], set()
    for name in ids:
        masked = candidate = mask_numbers(name)
        n = 1
        while candidate in seen:
            n += 1
            candidate = f"{masked}~{n}"
        seen.add(candidate)
        out.append(candidate)
    return out
