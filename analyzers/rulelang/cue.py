"""A rule message's `{cue}`: what made the finding, in the words the checks used to quote.

The cue of a finding's utterances is what the first test of its condition that hits one of
them matched: the phrase of a `phrases` test (the earliest in the text, as
`first_alternative`), inside a `sentence` the phrase of the first sentence that hits, or an
intent test's evidence (meaning: nearest example '…' (0.83)). Tests under `not` match
nothing. When the condition's own tests match nothing, the cue is that of its `after` /
`before` hit nearest the finding (the complaint a reply answers). `{cue_said}` quotes the
utterance (or turn) whose words gave the cue.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Sequence

from ..text import first_alternative
from .meant import evidence_of
from .schema import Condition, IntentSetting, PhraseList, Rule

#: The message fields a cue fills.
CUE_FIELDS = ("cue", "cue_said")


def uses_cue(rule: Rule) -> bool:
    """Whether the rule's message names `{cue}` or `{cue_said}`."""
    return "{" in rule.message and _names_cue(rule.message)


@functools.lru_cache(maxsize=256)
def _names_cue(message: str) -> bool:
    return any(name in CUE_FIELDS for _, name, _, _ in string.Formatter().parse(message) if name)


def _matched(call, c: Condition, i: int) -> str | None:
    """What c's first test that hits utterance i matched there (None: no test matched)."""
    from .evaluate import hits, pack_field  # evaluate imports this module's callers

    if c.phrases is not None:
        phrases = pack_field(call.pack, c.phrases.list_) if isinstance(c.phrases, PhraseList) else c.phrases
        found = first_alternative(call.texts[i], phrases)
        return found[1] if found else None
    if c.intent is not None:
        label = pack_field(call.pack, c.intent.setting) if isinstance(c.intent, IntentSetting) else c.intent
        if label is None or call.intents is None:
            return None
        k = call.order[i]
        decided = call.intents[k]
        if not (decided == label or (not isinstance(decided, str) and label in (decided or ()))):
            return None
        members = call.members[k] if call.members is not None else (call.transcript.utterances[k],)
        return evidence_of(call.meaning, members, label) or f"meaning: {label}"
    if c.sentence is not None:
        parts, owner = call.sentences
        for k in (k for k, o in enumerate(owner) if o == i):
            if hits(parts, c.sentence, {k}) and (m := _matched(parts, c.sentence, k)) is not None:
                return m
        return None
    for sub in (*(c.all or ()), *(c.any or ()), *(c.together or ())):
        if hits(call, sub, {i}) and (m := _matched(call, sub, i)) is not None:
            return m
    return None


def cue_of(call, c: Condition, idx: Sequence[int], only: str | None = None) -> tuple[str, str]:
    """(cue, cue_said) of the finding that c's hits `idx` make; ("", "") when nothing matched.
    `only`: "after" / "before": what that hit matched, not c's own tests (Rule.cue)."""
    from .evaluate import anchor_hits

    for i in idx if only is None else ():
        if (m := _matched(call, c, i)) is not None:
            return m, call.quote(i)
    far = c.within if c.within is not None else len(call.utts)
    for name, later in (("after", False), ("before", True)):
        if (other := getattr(c, name)) is None or only not in (None, name):
            continue
        near = {a for a in anchor_hits(call, other) for i in idx if 0 < (a - i if later else i - a) <= far}
        for a in sorted(near, key=lambda a: min(abs(a - i) for i in idx)):
            if (m := _matched(call, other, a)) is not None:
                return m, call.quote(a)
    return "", ""
