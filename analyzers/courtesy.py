"""礼貌用语 (003 §四.2(1)3): the points that are about the agent's words.

(`polite_request_missing`, asking without a polite word, is the pack's rule
`polite_request` in custom_rules.yaml.)
- `thanks_missing`: the customer answers the agent's request (provides information),
  and the agent's next turn has no thanks.
- `reply_missing`: the customer thanks or apologises, and the agent's next turn does
  not reply (不客气, 没关系, 应该的, or thanks in return).

The hold point (请稍等, a reason for a long wait, an apology after 6 s) is in `holds`.
The fifth point (apologise when the information given was wrong) needs to know that
it was wrong, which no recording shows: it is left to QA staff.
"""

from __future__ import annotations

from .intents import CallIntents, meant
from .model import AGENT, CUSTOMER, Finding, Transcript
from .rules import CourtesyRules, OvertalkRules
from .text import count_chars, first_alternative, sentences
from .turns import Turn, customer_cues, next_turn, turns


def _asks(turn: Turn, rules: CourtesyRules) -> bool:
    """The turn asks for information (a request phrase). Not by meaning: polite_request also
    hits a repeat-back (跟您确认一下…对吗, call11), whose 对 answer needs no thanks."""
    return any(first_alternative(s, rules.request_phrases) for u in turn.utterances for s in sentences(u.text))


def thanks_findings(transcript: Transcript, rules: CourtesyRules, turn_rules: OvertalkRules,
                    meaning: CallIntents | None = None) -> list[Finding]:
    ts = turns(transcript, turn_rules)
    findings = []
    for i, turn in enumerate(ts):
        if turn.speaker != AGENT or not _asks(turn, rules):
            continue
        answer = next_turn(ts, i, CUSTOMER)
        if answer is None or count_chars(answer.text) < 2:
            continue
        reply = next_turn(ts, i + 1, AGENT)
        if reply is None or first_alternative(reply.text, rules.thanks_phrases) \
                or meant(meaning, reply.utterances, rules.thanks_meaning):
            continue
        findings.append(Finding(
            "thanks_missing", "thanks_for_help", rules.thanks_severity, AGENT,
            reply.start_s, reply.end_s, reply.said,
            f"customer provided what was asked ({answer.said}); no thanks (谢谢, 感谢 …) in the agent's next turn"))
    return findings


def reply_findings(transcript: Transcript, rules: CourtesyRules, turn_rules: OvertalkRules,
                   meaning: CallIntents | None = None) -> list[Finding]:
    findings = []
    for turn, said, reply in customer_cues(turns(transcript, turn_rules), rules.customer_thanks_phrases):
        if first_alternative(reply.text, rules.reply_phrases) or meant(meaning, reply.utterances, rules.reply_meaning):
            continue
        findings.append(Finding(
            "reply_missing", "reply_to_thanks", rules.reply_severity, AGENT,
            reply.start_s, reply.end_s, reply.said,
            f"customer said {said[1]} ({turn.said}); no reply (不客气, 没关系 …) in the agent's next turn"))
    return findings


def courtesy_findings(transcript: Transcript, rules: CourtesyRules, turn_rules: OvertalkRules,
                      meaning: CallIntents | None = None) -> list[Finding]:
    """`meaning`: the call's intent decisions, read where the rules name an intent."""
    return [*thanks_findings(transcript, rules, turn_rules, meaning),
            *reply_findings(transcript, rules, turn_rules, meaning)]
