"""Overtalk: the agent starting to speak while the customer is still speaking.

Only for stereo calls: each party has its own channel, so overlap is measured.
In mono, diarization cannot tell overlap from its own boundary errors.
A short backchannel (嗯, 是的, 好的; at most `backchannel_max_s`) is listening, not
overtalk (001 §2.1: 通过“嗯”“是的”等回应示意关注).
Party speech comes from per-channel speech detection when present (tighter
than whisper's padded segments), else from utterances (see `timeline`).
"""

from __future__ import annotations

from .model import AGENT, CUSTOMER, Finding, Transcript
from .rules import OvertalkRules
from .timeline import party_intervals
from .turns import hands_floor_back, is_backchannel_text


def overtalk_findings(transcript: Transcript, rules: OvertalkRules) -> list[Finding]:
    if transcript.layout != "stereo":
        return []
    agent = party_intervals(transcript, AGENT)
    customer = party_intervals(transcript, CUSTOMER)
    findings = []
    for a_start, a_end in agent:
        for c_start, c_end in customer:
            # Strictly inside: a simultaneous start is nobody interrupting, and the
            # customer starting inside the agent's turn is not the agent's fault.
            if not (c_start < a_start < c_end):
                continue
            overlap_end = min(a_end, c_end)
            if overlap_end - a_start >= rules.min_overlap_s - 1e-6:
                spoken = [u.text for u in transcript.utterances
                          if u.speaker == AGENT and u.start_s < a_end and a_start < u.end_s]
                if a_end - a_start <= rules.backchannel_max_s + 1e-6 and all(
                        is_backchannel_text(t, rules.backchannel_phrases) or hands_floor_back(t, rules)
                        for t in spoken):
                    # 嗯 / 是的 while the customer talks is listening (001 §2.1), not
                    # interrupting; so is 您说 / 您接着说 (the floor handed back) and a short sound
                    # the ASR wrote nothing for.
                    continue
                said = " / ".join(
                    u.text for u in transcript.utterances
                    if u.speaker == AGENT and u.start_s < overlap_end and a_start < u.end_s
                )
                findings.append(Finding("overtalk", "agent_interrupts", rules.severity, AGENT,
                                        a_start, overlap_end, said,
                                        f"agent spoke over the customer for {overlap_end - a_start:.1f} s"))
    return findings
