"""Handling the customer's matter: complaint first (the repeat-back and the follow-up with
a time are the pack's rules repeat_back and followup_time, custom_rules.yaml).

- `complaint_apology_missing`: the customer complains or is upset, and the agent's
  next turn does not open with an acknowledgement or apology: 003 §四.2(2)4
  "先处理客户情绪，再处理事件", 001 §3.2 场景三 立即致歉, 000 §2.3.
"""

from __future__ import annotations

from .intents import CallIntents, meant
from .model import AGENT, CUSTOMER, Finding, Transcript
from .rules import ComplaintRules, OvertalkRules
from .text import count_chars, first_alternative
from .turns import Turn, next_turn, turns


def _complaints(ts, rules: ComplaintRules, meaning: CallIntents | None):
    """(customer turn, what made it a complaint, the agent's next turn) for each answered
    complaint: the first complaint phrase, else an utterance that means a complaint."""
    for i, turn in enumerate(ts):
        if turn.speaker != CUSTOMER:
            continue
        cue = first_alternative(turn.text, rules.customer_phrases)
        if not cue and (m := meant(meaning, turn.utterances, rules.customer_meaning)):
            cue = (0, m[1].evidence())
        reply = next_turn(ts, i, AGENT) if cue else None
        if reply is not None:
            yield turn, cue, reply


def _acknowledged_first(reply: Turn, rules: ComplaintRules, meaning: CallIntents | None) -> bool:
    """An utterance starting within `within_chars` spoken chars of the reply means an acknowledgement."""
    if meaning is None or not rules.acknowledge_meaning:
        return False
    first, at = [], 0
    for u in reply.utterances:
        if at > rules.within_chars:
            break
        first.append(u)
        at += count_chars(u.text)
    return meant(meaning, first, rules.acknowledge_meaning) is not None


def complaint_findings(transcript: Transcript, rules: ComplaintRules, turn_rules: OvertalkRules,
                       meaning: CallIntents | None = None) -> list[Finding]:
    """`meaning`: the call's intent decisions, read where the rules name an intent."""
    findings = []
    for turn, cue, reply in _complaints(turns(transcript, turn_rules), rules, meaning):
        ack = first_alternative(reply.text, rules.acknowledge_phrases)
        if (ack and ack[0] <= rules.within_chars) or _acknowledged_first(reply, rules, meaning):
            continue
        where = "later in the turn, after the business" if ack else "in the agent's next turn"
        findings.append(Finding(
            "complaint_apology_missing", "apology_first", rules.severity, AGENT,
            reply.start_s, reply.end_s, reply.said,
            f"customer upset ({cue[1]}: {turn.said}); no acknowledgement or apology first "
            f"(非常理解您的心情, 非常抱歉 …) {where}"))
    return findings
