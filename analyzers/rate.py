"""Speech rate in spoken characters per minute of speaking time.

Speaking time is the utterance span minus long pauses inside it. Whisper keeps a
segment open across a pause (the agent typing while reading out an order
number), and counting that silence as speech would make a fast talker look slow.
Gaps up to `pause_s` are ordinary breathing/phrasing and stay in.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from .memo import latest_by_identity
from .model import AGENT, CUSTOMER, Finding, Transcript, Utterance
from .rules import RateRules
from .text import count_chars


_START = attrgetter("start_s")  # in C: ~600 utterance words a call


def speaking_s(utterance: Utterance, pause_s: float) -> float:
    """Seconds of `utterance` spent speaking, without inner pauses longer than `pause_s`."""
    total = max(0.0, utterance.end_s - utterance.start_s)
    words = sorted(utterance.words, key=_START)
    for before, after in zip(words, words[1:]):
        gap = after.start_s - before.end_s
        if gap > pause_s:
            total -= gap
    return max(0.0, total)


@latest_by_identity
def _measures(transcript: Transcript, pause_s: float) -> tuple[tuple[int, float], ...]:
    """(spoken chars, speaking seconds) per utterance, aligned with `transcript.utterances`:
    worked out once per call for the call's rates, each utterance's rate and the findings."""
    return tuple((count_chars(u.text), speaking_s(u, pause_s)) for u in transcript.utterances)


def chars_per_min(chars: int, seconds: float) -> float | None:
    if seconds <= 0:
        return None
    return chars * 60.0 / seconds


@dataclass(frozen=True)
class SpeakerRate:
    chars: int
    speaking_s: float

    @property
    def chars_per_min(self) -> float | None:
        if self.chars == 0:
            return None
        return chars_per_min(self.chars, self.speaking_s)


def speaker_rate(transcript: Transcript, speaker: str, rules: RateRules) -> SpeakerRate:
    """Call-level rate: all of the speaker's chars over all of their speaking time."""
    chars = 0
    seconds = 0.0
    for u, (n, s) in zip(transcript.utterances, _measures(transcript, rules.pause_s)):
        if u.speaker == speaker:
            chars += n
            seconds += s
    return SpeakerRate(chars, seconds)


def utterance_rates(transcript: Transcript, rules: RateRules) -> tuple[float | None, ...]:
    """Per-utterance chars/min aligned with `transcript.utterances`.

    None for utterances under `min_utterance_chars`: "好的" over 0.3 s would read
    as 400 chars/min and say nothing about the speaker's pace.
    """
    return tuple(None if chars < rules.min_utterance_chars else chars_per_min(chars, seconds)
                 for chars, seconds in _measures(transcript, rules.pause_s))


def rate_findings(transcript: Transcript, rules: RateRules) -> list[Finding]:
    """Agent too fast / too slow, led by the customer's pace (003 §三.5(1)3 A).

    `speech_rate_fast` / `speech_rate_slow` only when the agent is off the band AND
    not matching the customer (more than `match_tolerance` away from the customer's
    rate, or the customer said too little to have a pace). `pace_mismatch` is the
    agent far from the customer whatever the band.
    """
    agent_utts = [u for u in transcript.utterances if u.speaker == AGENT]
    if not agent_utts:
        return []
    agent = speaker_rate(transcript, AGENT, rules)
    customer = speaker_rate(transcript, CUSTOMER, rules)
    agent_cpm = agent.chars_per_min
    if agent_cpm is None or agent.chars < rules.min_chars:
        return []
    customer_cpm = customer.chars_per_min if customer.chars >= rules.min_chars else None
    start_s = min(u.start_s for u in agent_utts)
    end_s = max(u.end_s for u in agent_utts)
    findings: list[Finding] = []
    band = f"{rules.agent_min_chars_per_min:g}-{rules.agent_max_chars_per_min:g} chars/min"
    if customer_cpm:
        figures = f"agent {agent_cpm:.0f} chars/min, customer {customer_cpm:.0f} chars/min"
        matching = abs(agent_cpm / customer_cpm - 1) <= rules.match_tolerance
    else:
        figures = f"agent {agent_cpm:.0f} chars/min, customer too little speech to measure"
        matching = False
    why = f"band {band}, not within {rules.match_tolerance:.0%} of the customer"
    if agent_cpm > rules.agent_max_chars_per_min and not matching:
        findings.append(
            Finding("speech_rate_fast", "agent_rate_max", rules.fast_severity, AGENT,
                    start_s, end_s, "", f"{figures}; {why}")
        )
    elif agent_cpm < rules.agent_min_chars_per_min and not matching:
        findings.append(
            Finding("speech_rate_slow", "agent_rate_min", rules.slow_severity, AGENT,
                    start_s, end_s, "", f"{figures}; {why}")
        )
    if customer_cpm:
        ratio = agent_cpm / customer_cpm
        if not (rules.pace_ratio_min <= ratio <= rules.pace_ratio_max):
            findings.append(
                Finding("pace_mismatch", "pace_ratio", rules.pace_severity, AGENT,
                        start_s, end_s, "",
                        f"agent {agent_cpm:.0f} vs customer {customer_cpm:.0f} chars/min, "
                        f"ratio {ratio:.2f} outside {rules.pace_ratio_min:g}-{rules.pace_ratio_max:g}")
            )
    return findings
