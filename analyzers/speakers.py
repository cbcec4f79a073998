"""Speaker naming and word-to-speaker assignment for mono calls (pure functions).

Diarization only says "speaker A" and "speaker B"; which of them is the agent is a
question of what they say: the agent greets (您好…为您服务…有什么可以帮您), so whoever
greets in the opening is the agent. Speaking first is the fallback, as most call
centres answer with the greeting.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Callable, Sequence

from analyzers.model import AGENT, CUSTOMER, SpeechSpan, Utterance, Word, other_party

#: Cues that only the agent says in an opening; loose on purpose (ASR errors).
GREETING_CUES = re.compile(r"为您服务|为你服务|帮到您|帮您|工号|客服|专员|很高兴")


def speaker_at(time_s: float, spans: Sequence[SpeechSpan]) -> str:
    """The speaker of the span containing `time_s`, else of the nearest span."""
    best, best_dist = spans[0].speaker, float("inf")
    for span in spans:
        if span.start_s <= time_s <= span.end_s:
            return span.speaker
        dist = min(abs(time_s - span.start_s), abs(time_s - span.end_s))
        if dist < best_dist:
            best, best_dist = span.speaker, dist
    return best


def join_words(words: Sequence[Word]) -> str:
    """Utterance text from word tokens: no spaces between CJK, one between Latin words."""
    text = ""
    for w in words:
        if text and re.match(r"[A-Za-z0-9]", w.text) and re.search(r"[A-Za-z0-9]$", text):
            text += " "
        text += w.text
    return text


def group_words(words: Sequence[Word], speaker_of: Callable[[Word], str], gap_s: float) -> list[Utterance]:
    """Utterances from consecutive words: a new one at each speaker change or pause > gap_s."""
    groups: list[tuple[str, list[Word]]] = []
    for w in words:
        speaker = speaker_of(w)
        if groups and groups[-1][0] == speaker and w.start_s - groups[-1][1][-1].end_s <= gap_s:
            groups[-1][1].append(w)
        else:
            groups.append((speaker, [w]))
    return [
        Utterance(speaker, ws[0].start_s, max(x.end_s for x in ws), join_words(ws), tuple(ws))
        for speaker, ws in groups
    ]


def assign_words(words: Sequence[Word], spans: Sequence[SpeechSpan], gap_s: float) -> list[Utterance]:
    """Utterances from mono words, each word given to the speaker of its diarized span."""
    if not spans:
        return []
    return group_words(words, lambda w: speaker_at((w.start_s + w.end_s) / 2, spans), gap_s)


def greeter_is_customer(utterances: Sequence[Utterance], opening_s: float = 20.0) -> bool:
    """True when the speaker labelled customer greets in the opening and the agent does not."""
    if not utterances:
        return False
    t0 = utterances[0].start_s
    said = {AGENT: "", CUSTOMER: ""}
    for u in utterances:
        if u.start_s - t0 <= opening_s and u.speaker in said:
            said[u.speaker] += u.text
    return bool(GREETING_CUES.search(said[CUSTOMER])) and not GREETING_CUES.search(said[AGENT])


def swap_roles(utterances: Sequence[Utterance]) -> list[Utterance]:
    """`utterances` with agent and customer exchanged (nothing else changes)."""
    return [dataclasses.replace(u, speaker=other_party(u.speaker)) for u in utterances]
