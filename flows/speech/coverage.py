"""Speech pieces whisper under-heard: detected speech it wrote (almost) nothing for.

Whisper's decoder may jump over seconds of speech inside one 30-s window: it writes one
segment whose timestamps span the skipped audio, with the text of what comes after
(measured on sample call01: the 7.9 s after an 8 s hold and the 4 s after them got one
character, 请, while whisper heard both fine from a window starting at them; see
docs/asr-evaluation.md, "Speech skipped after a hold"). No threshold of its own drops
them, so the gap is found here, by counting the characters each speech piece was given.
"""

from __future__ import annotations

from typing import Sequence

from analyzers.model import Word

#: A speech piece shorter than this (s) is never re-heard: a breath, a click, a lone 嗯.
MIN_PIECE_S = 1.0
#: A piece given fewer characters per second than this was under-heard: Mandarin speech
#: runs at 3-6 characters per second, so even a slow speaker with pauses and the gating's
#: padding gives more than 1.
MIN_CHARS_PER_S = 1.0
#: Word times are rounded to the millisecond (transcribe._segment_words), span edges not.
_EDGE_S = 0.0005


def chars(words: Sequence[Word]) -> int:
    """Letters and digits in `words` (punctuation and spaces do not count)."""
    return sum(ch.isalnum() for w in words for ch in w.text)


def piece_index(word: Word, spans_s: Sequence[tuple[float, float]]) -> int | None:
    """Index of the span (sorted, disjoint) that holds the word's start (within the
    millisecond its time was rounded to); None: none does."""
    for i, (s, e) in enumerate(spans_s):
        if s - _EDGE_S <= word.start_s <= e + _EDGE_S:
            return i
    return None


def underheard_runs(
    words: Sequence[Word],
    spans_s: Sequence[tuple[float, float]],
    min_piece_s: float = MIN_PIECE_S,
    min_chars_per_s: float = MIN_CHARS_PER_S,
) -> list[tuple[int, int]]:
    """(first, last) indices of runs of consecutive spans (those whisper heard, sorted,
    in the recording's clock) that are at least `min_piece_s` long and were given fewer
    than `min_chars_per_s` characters per second of `words`."""
    per_piece = [0] * len(spans_s)
    for w in words:
        i = piece_index(w, spans_s)
        if i is not None:
            per_piece[i] += chars([w])
    under = [e - s >= min_piece_s and n < min_chars_per_s * (e - s) for (s, e), n in zip(spans_s, per_piece)]
    runs: list[tuple[int, int]] = []
    for i, flag in enumerate(under):
        if not flag:
            continue
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def window_from(
    spans_s: Sequence[tuple[float, float]], first: int, last: int, gap_fill_s: float, window_s: float = 30.0
) -> list[tuple[float, float]]:
    """The spans from `first` on that fill one whisper window of gated audio (`gap_fill_s`
    between spans): at least through `last`, then while the total stays within `window_s`.
    What whisper would have heard had its window started at span `first`."""
    out: list[tuple[float, float]] = []
    length_s = 0.0
    for i in range(first, len(spans_s)):
        s, e = spans_s[i]
        added = (e - s) + (gap_fill_s if out else 0.0)
        if i > last and length_s + added > window_s:
            break
        out.append((s, e))
        length_s += added
    return out


def in_spans(words: Sequence[Word], spans_s: Sequence[tuple[float, float]]) -> list[Word]:
    """The words whose start lies in one of `spans_s`."""
    return [w for w in words if piece_index(w, spans_s) is not None]
