"""Masking of personal numbers in text before it is written anywhere.

Phone numbers, ID-card numbers, bank-card numbers and order numbers all look the same
in a transcript: a run of six or more digits, which whisper writes as Arabic digits,
often split by spaces ("13 9 12 3 45 67 8"), or as Chinese numerals (一三九…).
Every such run is masked except its last four digits, which is what QA staff need to
tell two numbers apart. Shorter numbers (prices, dates, 工号一二三四) stay readable.
"""

from __future__ import annotations

import re

_DIGIT = "0-9０-９零〇一二三四五六七八九幺"
#: A run of digits, allowing the separators ASR puts inside spoken numbers; an ID card
#: may end in X.
_NUMBER_RUN = re.compile(rf"[{_DIGIT}](?:[{_DIGIT}]|[ ](?=[{_DIGIT}]))*[Xx]?")
#: Spaces only: whisper splits spoken numbers with spaces; a hyphen is a date (2024-11-23).
_SEPARATORS = frozenset(" ")

#: Order numbers can be as short as six digits; a six-digit price is masked too, which
#: loses nothing QA needs.
MIN_DIGITS = 6
KEEP_LAST = 4


def mask_numbers(text: str, *, min_digits: int = MIN_DIGITS, keep_last: int = KEEP_LAST) -> str:
    """`text` with every run of at least `min_digits` digits masked but its last `keep_last`,
    as one token without the spaces ASR put between the digits: 订单号是 7 7 1 2 0 9 7 5 3
    becomes 订单号是****9753 (one star per masked digit)."""

    def mask(match: re.Match) -> str:
        run = match.group(0)
        digits = [c for c in run if c not in _SEPARATORS]
        if len(digits) < min_digits:
            return run
        kept = digits[len(digits) - keep_last :] if keep_last else []
        return "*" * (len(digits) - len(kept)) + "".join(kept)

    return _NUMBER_RUN.sub(mask, text)


#: A masked number as written before masks were joined: stars and digits split by spaces
#: ("** * *0 45 3"); it starts with a star, so a plain "12 34" is never touched.
_SPACED_MASK = re.compile(rf"\*(?:[*{_DIGIT}Xx]| (?=[*{_DIGIT}Xx]))*")


def join_masked(text: str) -> str:
    """Masked numbers as one readable token: "订单号是** * *0 45 3" -> "订单号是****0453".
    For output written before mask_numbers joined them (the report shows old runs too)."""
    return _SPACED_MASK.sub(lambda m: m.group(0).replace(" ", ""), text)
