"""Raised voice: an agent utterance far louder than the agent's own usual level.

003 §三.5(1) 音量适中 and §四.2(2) 自控能力. The comparison is within the call and within
the agent's own channel (`Utterance.level_db`, measured by flows from the audio), so a
loud line or a quiet microphone moves every utterance alike and flags none. Mono calls
are not judged: their one channel mixes both voices.
"""

from __future__ import annotations

import statistics

from .model import AGENT, Finding, Transcript
from .rules import VoiceRules


def raised_voice_findings(transcript: Transcript, rules: VoiceRules) -> list[Finding]:
    """`raised_voice` findings for agent utterances `rules.raised_db` (dB) or more above
    the median level of the agent's utterances of at least `rules.min_duration_s` (s).

    Returns no finding for mono calls, for transcripts without levels, or with fewer than
    `rules.min_utterances` measured agent utterances.
    """
    if transcript.layout != "stereo":
        return []
    measured = [u for u in transcript.utterances
                if u.speaker == AGENT and u.level_db is not None and u.duration_s >= rules.min_duration_s]
    if len(measured) < rules.min_utterances:
        return []
    median_db = statistics.median(u.level_db for u in measured)
    return [
        Finding("raised_voice", "louder_than_usual", rules.severity, AGENT, u.start_s, u.end_s, u.text,
                f"{u.level_db - median_db:.0f} dB above the agent's usual level in this call "
                f"({u.level_db:.0f} vs median {median_db:.0f} dBFS; limit {rules.raised_db:g} dB)")
        for u in measured
        if u.level_db - median_db >= rules.raised_db
    ]
