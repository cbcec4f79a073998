"""Holds: long silences inside a call, and whether the agent announced and closed them.

003 §四.2(1)3: 请稍等 before; for a long wait the reason (查询需要一定的时间); after 6 s
or more, 对不起，让您久等了 / 谢谢您的等待.

Silences are measured on speech detection, not ASR (see `timeline`), and only
between the first and last speech: ringing before and hang-up after are not holds.
"""

from __future__ import annotations

from .intents import CallIntents, meant
from .model import AGENT, Finding, Span, Transcript, Utterance
from .rules import HoldRules
from .text import contains_any, normalise
from .timeline import all_speech

#: Float slack so a silence of exactly `min_hold_s` counts despite rounding.
_EPS = 1e-6


def find_holds(transcript: Transcript, rules: HoldRules) -> list[Span]:
    speech = all_speech(transcript)
    holds = []
    for (_, prev_end), (next_start, _) in zip(speech, speech[1:]):
        if next_start - prev_end >= rules.min_hold_s - _EPS:
            holds.append(Span(prev_end, next_start))
    return holds


def _says_any(utterances: list[Utterance], phrases: tuple[str, ...],
              meaning: CallIntents | None = None, intent: str | None = None) -> bool:
    """A phrase in one of `utterances`, or one of them means `intent` (docs/meaning.md)."""
    return (any(contains_any(normalise(u.text), phrases) for u in utterances)
            or meant(meaning, utterances, intent) is not None)


def _before(agent: list[Utterance], hold: Span, rules: HoldRules) -> list[Utterance]:
    # "Started before the hold" rather than "ended before": ASR ends can run a
    # little into the silence that speech detection measured.
    near = [
        u for u in agent
        if u.start_s < hold.start_s and u.end_s >= hold.start_s - rules.notice_lookback_s
    ]
    return near[-rules.notice_utterances :] if rules.notice_utterances > 0 else []


def _after(agent: list[Utterance], hold: Span, rules: HoldRules) -> list[Utterance]:
    near = [
        u for u in agent
        if u.start_s > hold.start_s and u.start_s <= hold.end_s + rules.apology_lookahead_s
    ]
    return near[: rules.apology_utterances] if rules.apology_utterances > 0 else []


def hold_findings(transcript: Transcript, rules: HoldRules, meaning: CallIntents | None = None) -> list[Finding]:
    """`meaning`: the call's intent decisions, read where the rules name an intent."""
    agent = sorted((u for u in transcript.utterances if u.speaker == AGENT), key=lambda u: u.start_s)
    findings: list[Finding] = []
    for hold in find_holds(transcript, rules):
        s, e = hold.start_s, hold.end_s
        findings.append(Finding("hold", "hold", rules.hold_severity, AGENT, s, e, "",
                                f"silence {hold.duration_s:.1f} s"))
        before = _before(agent, hold, rules)
        said = " / ".join(u.text for u in before)
        if not _says_any(before, rules.notice_phrases, meaning, rules.notice_meaning):
            findings.append(Finding("hold_notice_missing", "hold_notice", rules.notice_missing_severity,
                                    AGENT, s, e, said, "no hold notice before the silence"))
        elif (rules.reason_phrases and hold.duration_s >= rules.reason_min_hold_s - _EPS
              and not _says_any(before, rules.reason_phrases, meaning, rules.reason_meaning)):
            # 003 §四.2(1)3: a long wait needs its reason with the notice (请稍等，查询需要一定的时间).
            findings.append(Finding("hold_reason_missing", "hold_reason", rules.reason_missing_severity,
                                    AGENT, s, e, said,
                                    f"hold notice without a reason for a {hold.duration_s:.1f} s wait"))
        after = _after(agent, hold, rules)
        if not _says_any(after, rules.apology_phrases, meaning, rules.apology_meaning):
            said = " / ".join(u.text for u in after)
            findings.append(Finding("hold_apology_missing", "hold_apology", rules.apology_missing_severity,
                                    AGENT, s, e, said, "no thanks/apology after the silence"))
    return findings
