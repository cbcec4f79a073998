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
    """`text` with every run of at least `min_digits` digits masked but its last `keep_last`."""

    def mask(match: re.Match) -> str:
        run = match.group(0)
        positions = [i for i, c in enumerate(run) if c not in _SEPARATORS]
        if len(positions) < min_digits:
            return run
        keep = set(positions[len(positions) - keep_last :]) if keep_last else set()
        return "".join(c if c in _SEPARATORS or i in keep else "*" for i, c in enumerate(run))

    return _NUMBER_RUN.sub(mask, text)
