"""Character error rate for Mandarin transcripts (used by accuracy tests and tools).

Both sides are normalised the same way before comparing: Traditional -> Simplified,
punctuation and whitespace dropped, Latin letters lower-cased. Without that, whisper's
habit of printing 廣州 for 广州 or adding commas would count as errors that no QA rule
cares about.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from rapidfuzz.distance import Levenshtein


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # opencc-python-reimplemented: pure Python, no native build

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified Chinese (a real converter, phrase-aware)."""
    return _t2s().convert(text)


def normalize_for_cer(text: str) -> str:
    """Simplified, lower-case, with punctuation, symbols and spaces removed."""
    text = to_simplified(unicodedata.normalize("NFKC", text)).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def char_errors(hypothesis: str, reference: str) -> tuple[int, int]:
    """(edit distance, reference length) after normalisation, for pooling over clips."""
    hyp = normalize_for_cer(hypothesis)
    ref = normalize_for_cer(reference)
    return Levenshtein.distance(hyp, ref), len(ref)


def pooled_cer(pairs) -> float:
    """Character error rate over several (hypothesis, reference) pairs: all their edits
    over all their reference characters."""
    errors = total = 0
    for hypothesis, reference in pairs:
        e, n = char_errors(hypothesis, reference)
        errors, total = errors + e, total + n
    return errors / total


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate of one hypothesis against one reference (0.0 = exact)."""
    errors, n = char_errors(hypothesis, reference)
    return errors / n if n else float(bool(normalize_for_cer(hypothesis)))
