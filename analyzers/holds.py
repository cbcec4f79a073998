"""Holds: long silences inside a call (003 §四.2(1)3 请稍等 / 让您久等了).

Silences are measured on speech detection, not ASR (see `timeline`), and only
between the first and last speech: ringing before and hang-up after are not holds.
Whether the agent announced and closed them is the rule pack's (custom_rules.yaml:
hold, hold_notice, hold_reason, hold_apology), which reads them through the rule
language's `silence` test and `each` rules.
"""

from __future__ import annotations

from .model import Span, Transcript
from .timeline import all_speech

#: Float slack so a silence of exactly `min_s` counts despite rounding.
_EPS = 1e-6


def find_holds(transcript: Transcript, min_s: float) -> list[Span]:
    """The silences of both parties at least `min_s` long, between the first and last speech."""
    speech = all_speech(transcript)
    return [Span(prev_end, next_start) for (_, prev_end), (next_start, _) in zip(speech, speech[1:])
            if next_start - prev_end >= min_s - _EPS]
