"""Outbound calls: the opening states the purpose and asks for a good time; a refusal is
met with an apology and an appointment (003 §三.5(4)1 B, §四.2(2)3 A, §三.5(4)3 e).

The opening groups themselves are checked by `phrases.greeting_findings` with the
pack's `outbound_groups`; this module adds the refusal rule.
"""

from __future__ import annotations

from .intents import CallIntents, meant
from .model import AGENT, CUSTOMER, DIRECTIONS, INBOUND, OUTBOUND, Finding, Transcript  # noqa: F401
from .rules import OvertalkRules, RefusalRules
from .text import first_alternative
from .turns import turns

#: A refusal answers the purpose the agent states at the start ("表明来意后被拒绝"): it is
#: looked for in the customer's first this-many turns after the agent's first (a 喂 when
#: picking up comes before it and does not count).
REFUSAL_TURNS = 1


def refusal_findings(
    transcript: Transcript, rules: RefusalRules, turn_rules: OvertalkRules, meaning: CallIntents | None = None
) -> tuple[bool, list[Finding]]:
    """(whether the customer refused, findings): `closing_missing` (rule `outbound_refusal`)
    when the agent's next turn lacks an apology (对不起，打扰您了) or an appointment
    (什么时候方便) or there is no next agent turn. `meaning`: a refusal is also a turn
    that means `customer_meaning`; a reply that means `answered_meaning` answers it."""
    ts = turns(transcript, turn_rules)
    findings = []
    customer_turns = 0
    for i, turn in enumerate(ts):
        if turn.speaker != CUSTOMER or not any(t.speaker == AGENT for t in ts[:i]):
            continue
        customer_turns += 1
        if customer_turns > REFUSAL_TURNS:
            break  # a later 不需要了 answers 还有其他需要吗, it is no refusal of the call
        cue = first_alternative(turn.text, rules.customer_phrases)
        if not cue and (m := meant(meaning, turn.utterances, rules.customer_meaning)):
            cue = (0, m[1].evidence())
        if not cue:
            continue
        reply = next((t for t in ts[i + 1:] if t.speaker == AGENT), None)
        if reply is None:
            return True, [Finding("closing_missing", "outbound_refusal", rules.severity, AGENT, turn.end_s,
                                  max(turn.end_s, transcript.duration_s), "",
                                  f"the customer declined ({cue[1]}); the agent said nothing after it")]
        missing = [what for what, phrases in (("an apology (对不起，打扰您了)", rules.apology_phrases),
                                               ("an appointment (请问什么时候方便…)", rules.appointment_phrases))
                   if not first_alternative(reply.text, phrases)]
        if missing and meant(meaning, reply.utterances, rules.answered_meaning):
            missing = []  # the reply means the apology and the appointment, in other words
        if missing:
            findings.append(Finding(
                "closing_missing", "outbound_refusal", rules.severity, AGENT, reply.start_s, reply.end_s,
                reply.said, f"the customer declined ({cue[1]}); the reply lacks {' and '.join(missing)}"))
        return True, findings  # the first refusal decides how the call ends
    return False, findings
