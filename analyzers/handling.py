"""Handling the customer's matter: complaint first, follow up with a time (the repeat-back
is the pack's rule repeat_back, custom_rules.yaml).

- `complaint_apology_missing`: the customer complains or is upset, and the agent's
  next turn does not open with an acknowledgement or apology: 003 §四.2(2)4
  "先处理客户情绪，再处理事件", 001 §3.2 场景三 立即致歉, 000 §2.3.
- `followup_time_missing`: the agent promises a callback, reply or action without a
  time frame: 001 §2.1 第三步 即时响应, 000 §2.2 承诺明确的回复时限.
"""

from __future__ import annotations

from .intents import CallIntents, meant
from .model import AGENT, CUSTOMER, Finding, Transcript
from .rules import ComplaintRules, FollowupRules, OvertalkRules
from .text import count_chars, first_alternative, normalise, sentences
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


def _promised_by_meaning(u, rules: FollowupRules, meaning: CallIntents | None):
    """(0, evidence) when `u` means a promise without a time, else None."""
    m = meant(meaning, [u], rules.without_time_meaning)
    return (0, m[1].evidence()) if m else None


def _promise(text: str, rules: FollowupRules):
    """The first promise phrase in a sentence of `text` that is not about this very call."""
    for sentence in sentences(text):
        sentence = normalise(sentence)
        if rules.this_call_phrases and first_alternative(sentence, rules.this_call_phrases):
            continue
        if p := first_alternative(sentence, rules.promise_phrases):
            return p
    return None


def followup_findings(transcript: Transcript, rules: FollowupRules, turn_rules: OvertalkRules,
                      meaning: CallIntents | None = None) -> list[Finding]:
    """`meaning`: an utterance that means a promise without a time is a promise; one that
    means a promise with its time gives the turn its time frame."""
    findings = []
    for turn in turns(transcript, turn_rules):
        if turn.speaker != AGENT:
            continue
        promised = [(u, p) for u in turn.utterances
                    if (p := _promise(u.text, rules) or _promised_by_meaning(u, rules, meaning))]
        if not promised:
            continue
        text = turn.text
        if first_alternative(text, rules.time_phrases) or first_alternative(text, rules.asks_time_phrases) \
                or meant(meaning, turn.utterances, rules.with_time_meaning):
            continue
        for u, promise in promised:
            findings.append(Finding(
                "followup_time_missing", "followup_time", rules.severity, AGENT,
                u.start_s, u.end_s, u.text,
                f"promises {promise[1]} with no time frame (…分钟内, 今天内, 明天…前)"))
    return findings
