"""Reading by meaning inside a rule: whether a turn opens with an utterance that means an
intent, and what made a finding: the evidence of the intent test that hit (meaning:
nearest example '…' (0.83)), as the checks that read by meaning say it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from ..model import Finding, Utterance
from ..text import count_chars
from .schema import Condition, IntentSetting


def meant_labels(c: Condition, setting: Callable[[str], str | None]) -> list[str]:
    """The intents whose hit makes `c` hit an utterance: its intent tests outside `not` and
    outside relations (which read other utterances); `setting` reads an intent setting."""
    found = []
    if c.intent is not None:
        label = setting(c.intent.setting) if isinstance(c.intent, IntentSetting) else c.intent
        found += [label] if label else []
    for sub in (*(c.all or ()), *(c.any or ())):
        found += meant_labels(sub, setting)
    return found


def first_evidence(c: Condition, idx: list[int], setting: Callable[[str], str | None],
                   evidence: Callable[[int, str], str | None], hits_of: Callable[[Condition], Sequence[int]],
                   count: int) -> str | None:
    """The evidence that made `c` hit the utterances `idx`: its own intent tests' first, else
    that of its `after` / `before` hit that keeps them (the nearest: the complaint answered)."""
    labels = meant_labels(c, setting)
    for i in idx:
        for label in labels:
            if (why := evidence(i, label)) is not None:
                return why
    far = c.within if c.within is not None else count
    for name, later in (("after", False), ("before", True)):
        other = getattr(c, name)
        labels = meant_labels(other, setting) if other is not None else []
        near = {a for a in hits_of(other) for i in idx if 0 < (a - i if later else i - a) <= far} if labels else ()
        for a in sorted(near, key=lambda a: min(abs(a - i) for i in idx)):
            for label in labels:
                if (why := evidence(a, label)) is not None:
                    return why
    return None


def opens_with(utterances: Sequence[Utterance], intents: Sequence[frozenset[str]], label: str, within: int) -> bool:
    """One of a turn's `utterances` (with their `intents`) that starts within `within` spoken
    chars of the turn means `label`."""
    at = 0
    for u, labels in zip(utterances, intents):
        if at > within:
            return False
        if label in labels:
            return True
        at += count_chars(u.text)
    return False


def evidence_of(meaning, utterances: Sequence[Utterance], label: str) -> str | None:
    """The evidence of the first of `utterances` that `meaning` (analyzers.intents.CallIntents,
    or None) says means `label`."""
    for u in utterances if meaning is not None else ():
        if (m := meaning.hit(u, label)) is not None:
            return m.evidence()
    return None


def because(finding: Finding, call, c: Condition, idx: list[int], setting: Callable[[str], str | None],
            anchors: Callable[[Condition], Sequence[int]]) -> Finding:
    """`finding` (of `call`'s utterances `idx`, hit by `c`) naming the meaning evidence that
    made it, when an intent test did: `; meaning: nearest example '…' (0.83)`."""
    if call.meaning is None:
        return finding

    def evidence(i: int, label: str) -> str | None:
        k = call.order[i]
        return evidence_of(call.meaning, call.members[k] if call.members is not None else
                           (call.transcript.utterances[k],), label)

    why = first_evidence(c, idx, setting, evidence, anchors, len(call.utts))
    return finding if why is None else replace(finding, detail=f"{finding.detail}; {why}")
