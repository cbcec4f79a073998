"""Who spoke when: merged speech intervals per party and talk time.

Speech detection (`speech_spans`) times speech from the audio itself; ASR
segments are padded and merged by whisper, so they overstate speech and hide
short gaps. The spans are used wherever they carry the needed speaker; the
utterances are the fallback.
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import AGENT, CUSTOMER, Transcript

Interval = tuple[float, float]


def clock(t_s: float) -> str:
    """Seconds as m:ss.s (negative times as 0:00.0): how findings' times are written for
    people, in flag reasons and in the report."""
    minutes, seconds = divmod(max(0.0, float(t_s)), 60.0)
    return f"{int(minutes)}:{seconds:04.1f}"


def merge(intervals: Iterable[Interval], max_gap_s: float = 0.0, *, inclusive: bool = True) -> list[Interval]:
    """Sorted union of `intervals` (s), joining neighbours whose gap is at most `max_gap_s`
    (less than it when not `inclusive`); by default overlapping and touching ones join.

    The one interval merge of the project: speech detection joins segments closer than its
    minimum silence (not inclusive, as silero does), whisper's gating joins padded spans over
    short pauses (inclusive), and the rules take the union of a party's speech.
    """
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] >= i[0]):
        gap_s = start - merged[-1][1] if merged else None
        if gap_s is not None and (gap_s <= max_gap_s if inclusive else gap_s < max_gap_s):
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def has_party_spans(transcript: Transcript) -> bool:
    """Speech spans labelled agent/customer exist (per-channel detection, i.e. stereo)."""
    return any(s.speaker in (AGENT, CUSTOMER) for s in transcript.speech_spans)


def party_intervals(transcript: Transcript, speaker: str) -> list[Interval]:
    """Merged speech of one party: speech spans when labelled by party, else utterances."""
    if has_party_spans(transcript):
        raw = [(s.start_s, s.end_s) for s in transcript.speech_spans if s.speaker == speaker]
    else:
        raw = [(u.start_s, u.end_s) for u in transcript.utterances if u.speaker == speaker]
    return merge(raw)


def all_speech(transcript: Transcript) -> list[Interval]:
    """Merged speech of anyone: speech spans if any (any label), else utterances."""
    if transcript.speech_spans:
        raw = [(s.start_s, s.end_s) for s in transcript.speech_spans]
    else:
        raw = [(u.start_s, u.end_s) for u in transcript.utterances]
    return merge(raw)


def talk_s(transcript: Transcript, speaker: str) -> float:
    return sum(end - start for start, end in party_intervals(transcript, speaker))
