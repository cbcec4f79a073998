"""Handling the customer's matter: complaint first, confirm the details, follow up with a time.

- `complaint_apology_missing`: the customer complains or is upset, and the agent's
  next turn does not open with an acknowledgement or apology: 003 §四.2(2)4
  "先处理客户情绪，再处理事件", 001 §3.2 场景三 立即致歉, 000 §2.3.
- `confirmation_missing`: the agent never repeats back or confirms the request or
  details in the whole call: 001 §2.1 复述确认, 000 §2.1 您是说……对吗, 003 §四.2(1)2.
- `followup_time_missing`: the agent promises a callback, reply or action without a
  time frame: 001 §2.1 第三步 即时响应, 000 §2.2 承诺明确的回复时限.
"""

from __future__ import annotations

from .model import AGENT, CUSTOMER, Finding, Transcript
from .rules import ComplaintRules, ConfirmationRules, FollowupRules, OvertalkRules
from .text import count_chars, first_alternative, normalise, sentences
from .turns import customer_cues, turns


def complaint_findings(transcript: Transcript, rules: ComplaintRules, turn_rules: OvertalkRules) -> list[Finding]:
    findings = []
    for turn, cue, reply in customer_cues(turns(transcript, turn_rules), rules.customer_phrases):
        ack = first_alternative(reply.text, rules.acknowledge_phrases)
        if ack and ack[0] <= rules.within_chars:
            continue
        where = "later in the turn, after the business" if ack else "in the agent's next turn"
        findings.append(Finding(
            "complaint_apology_missing", "apology_first", rules.severity, AGENT,
            reply.start_s, reply.end_s, reply.said,
            f"customer upset ({cue[1]}: {turn.said}); no acknowledgement or apology first "
            f"(非常理解您的心情, 非常抱歉 …) {where}"))
    return findings


def confirmation_findings(transcript: Transcript, rules: ConfirmationRules) -> list[Finding]:
    agent = sorted((u for u in transcript.utterances if u.speaker == AGENT), key=lambda u: u.start_s)
    customer_chars = sum(count_chars(u.text) for u in transcript.utterances if u.speaker == CUSTOMER)
    if not agent or customer_chars < rules.min_customer_chars:
        return []
    if any(first_alternative(sentence, rules.phrases) for u in agent for sentence in sentences(u.text)):
        return []
    return [Finding("confirmation_missing", "repeat_back", rules.severity, AGENT,
                    agent[0].start_s, max(u.end_s for u in agent), "",
                    "the agent never repeats back or confirms the customer's request or details "
                    "(您是说…对吗, 跟您确认一下 …)")]


def _promise(text: str, rules: FollowupRules):
    """The first promise phrase in a sentence of `text` that is not about this very call."""
    for sentence in sentences(text):
        sentence = normalise(sentence)
        if rules.this_call_phrases and first_alternative(sentence, rules.this_call_phrases):
            continue
        if p := first_alternative(sentence, rules.promise_phrases):
            return p
    return None


def followup_findings(transcript: Transcript, rules: FollowupRules, turn_rules: OvertalkRules) -> list[Finding]:
    findings = []
    for turn in turns(transcript, turn_rules):
        if turn.speaker != AGENT:
            continue
        promised = [(u, p) for u in turn.utterances
                    if (p := _promise(u.text, rules))]
        if not promised:
            continue
        text = turn.text
        if first_alternative(text, rules.time_phrases) or first_alternative(text, rules.asks_time_phrases):
            continue
        for u, promise in promised:
            findings.append(Finding(
                "followup_time_missing", "followup_time", rules.severity, AGENT,
                u.start_s, u.end_s, u.text,
                f"promises {promise[1]} with no time frame (…分钟内, 今天内, 明天…前)"))
    return findings
