"""Required phrases: the agent's closing at the end (the greeting is custom_rules.yaml's
hello, service_offer … rules); the missing-phrase details in plain words."""

from __future__ import annotations

from .intents import CallIntents, meant
from .model import AGENT, Finding, Transcript, Utterance
from .rule_types import REGEX_PREFIX
from .rules import ClosingRules, PhraseGroup
from .text import contains_any, normalise


def group_satisfied(texts: list[str], group: PhraseGroup) -> bool:
    """Every clause of `group` has some alternative in one of the normalised `texts`.

    Texts are searched one by one so a phrase never straddles two utterances.
    """
    return all(
        any(contains_any(text, clause, REGEX_PREFIX) for text in texts)
        for clause in group.clauses
    )


def _agent(transcript: Transcript) -> list[Utterance]:
    return sorted((u for u in transcript.utterances if u.speaker == AGENT), key=lambda u: u.start_s)


def closing(transcript: Transcript, rules: ClosingRules) -> list[Utterance]:
    """The agent's last `last_utterances` plus any ending within `closing_s` of the last."""
    agent = _agent(transcript)
    if not agent:
        return []
    last_end = max(u.end_s for u in agent)
    tail_from = len(agent) - max(1, rules.last_utterances)
    return [u for i, u in enumerate(agent) if i >= tail_from or u.end_s >= last_end - rules.closing_s]


def _clause_said(texts: list[str], utterances: list[Utterance], clause, intents: tuple[str, ...],
                 meaning: CallIntents | None) -> bool:
    """One clause: a phrase in one of the `texts`, or an utterance that means one of `intents`."""
    return (any(contains_any(text, clause, REGEX_PREFIX) for text in texts)
            or any(meant(meaning, utterances, intent) for intent in intents))


def _check(
    category: str, utterances: list[Utterance], groups: tuple[PhraseGroup, ...],
    severity: str, empty_span: tuple[float, float], meaning: CallIntents | None = None,
) -> tuple[bool, list[Finding]]:
    texts = [normalise(u.text) for u in utterances]
    if utterances:
        span = (min(u.start_s for u in utterances), max(u.end_s for u in utterances))
    else:
        span = empty_span
    said = " / ".join(u.text for u in utterances)
    findings = [
        Finding(category, group.id, group.severity or severity, AGENT, span[0], span[1], said,
                describe_missing(group.id, group.clauses))
        for group in groups
        if not all(_clause_said(texts, utterances, clause, intents, meaning)
                   for clause, intents in zip(group.clauses, group.clause_intents))
    ]
    return not findings, findings


#: What each phrase group of the packs is, in plain words (the finding's detail says
#: "no <this> such as …"); a group not listed is named by its id.
GROUP_NAMES = {
    "hello": "greeting",
    "service_offer": "offer of help",
    "self_identification": "self-introduction",
    "outbound_purpose": "reason for the call",
    "outbound_time_check": "check that now is a good time",
    "satisfaction_check": "check that the matter is settled",
    "thanks_goodbye": "thanks and goodbye",
}
#: Examples quoted per clause: enough to recognise the requirement, not the whole list.
EXAMPLES_PER_CLAUSE = 3


def _examples(clause) -> list[str]:
    """The first few plain alternatives of a clause (regexes are left out)."""
    return [alt for alt in clause if not alt.startswith(REGEX_PREFIX)][:EXAMPLES_PER_CLAUSE]


def describe_missing(group_id: str, clauses) -> str:
    """A missing phrase group in plain words for QA staff, e.g. "no self-introduction such
    as 我是… / 我叫… / 工号…"; a group of two clauses: "no thanks and goodbye: 感谢… / 谢谢…
    together with 再见… / 拜拜…". Never the pattern list itself."""
    name = GROUP_NAMES.get(group_id, group_id.replace("_", " "))
    parts = [" / ".join(f"{alt}…" for alt in _examples(c)) for c in clauses]
    parts = [p for p in parts if p]
    if not parts:
        return f"no {name}"
    if len(parts) == 1:
        return f"no {name} such as {parts[0]}"
    return f"no {name}: " + " together with ".join(parts)


def plain_detail(category: str, rule_id: str, detail: str) -> str:
    """`detail` in plain words; a detail written before describe_missing existed
    ("missing: a|b|re:… + c|d") is turned into the same words."""
    if detail.startswith("missing: ") and category in ("greeting_missing", "closing_missing"):
        clauses = [_split_outside_brackets(c, "|") for c in detail.removeprefix("missing: ").split(" + ")]
        return describe_missing(rule_id, clauses)
    return detail


def _split_outside_brackets(text: str, sep: str) -> list[str]:
    """`text` split at `sep`, but not inside (…) or […] (a regex's own alternatives)."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth = max(0, depth - 1)
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def closing_findings(transcript: Transcript, rules: ClosingRules,
                     meaning: CallIntents | None = None) -> tuple[bool, list[Finding]]:
    duration = max(0.0, transcript.duration_s)
    empty = (max(0.0, duration - rules.closing_s), duration)
    return _check("closing_missing", closing(transcript, rules), rules.groups, rules.severity, empty, meaning)
