"""Evaluating the rule language (`schema`) over one call: pure, no files, no models.

A condition's hits are utterances (indices into the call's utterances in time order).
A test picks utterances; its scope keeps those of a role, in a position, after or
before another condition's hit, the Nth; its count keeps all or none. `not` is the
utterances in its own scope that the inner condition does not hit. Signal tests read
what the analyzers already compute: holds (silence), rates,
overtalk (interruption) and the measured levels (volume).
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .. import tokens as tok
from ..model import AGENT, Finding, Transcript, Utterance
from ..rate import utterance_rates
from ..rules import RulePack
from ..turns import turns
from ..text import count_chars, first_alternative, normalise, split_sentences
from .entities import entities
from .cue import cue_of, uses_cue
from .keys import Same
from .plan import plan, plans_of
from .meant import because, opens_with
from .schema import Condition, IntentSetting, PhraseList, Rule
from .exchange import _differs, _repeats
from .signals import _duration, _inside, _interruption, _rate, _response_time, _silence, _volume


class RuleError(ValueError):
    """A rule cannot be evaluated on this call (e.g. an intent test without embeddings)."""


@dataclass
class Call:
    """One call as the rules see it: utterances in time order and what is computed once."""

    transcript: Transcript
    pack: RulePack
    direction: str = "inbound"
    #: The intents the meaning classifier found in each utterance (transcript order; a
    #: label or a collection of labels, `hit_intents`); None: no embeddings were computed.
    intents: tuple[Any, ...] | None = None
    #: What a finding quotes of each utterance (time order); None: its own text.
    said: tuple[str, ...] | None = None
    #: The meaning decisions with their evidence (analyzers.intents.CallIntents), for a
    #: finding to name the example its intent test matched; None: not given.
    meaning: Any = None
    #: For a call of turns: the utterances each turn joins (transcript order), their intents.
    members: tuple[tuple[Utterance, ...], ...] | None = None
    member_intents: tuple[tuple[frozenset[str], ...], ...] | None = None
    utts: list[Utterance] = field(init=False)
    _roles: dict = field(init=False, default_factory=dict, repr=False, compare=False)
    order: list[int] = field(init=False)
    #: The silences found, by their bounds (`silences`: several rules read the same ones).
    gaps: dict = field(init=False, default_factory=dict, repr=False)
    _by_intent: dict | None = field(init=False, default=None, repr=False, compare=False)
    plans: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.plans = plans_of(self.pack)
        bounds = [(u.start_s, u.end_s) for u in self.transcript.utterances]
        self.order = sorted(range(len(bounds)), key=bounds.__getitem__)
        self.utts = [self.transcript.utterances[i] for i in self.order]

    @functools.cached_property
    def texts(self) -> list[str]:
        return [normalise(u.text) for u in self.utts]

    @functools.cached_property
    def sentences(self) -> tuple["Call", list[int]]:
        """A call of the sentences (split at 。？！；) and the utterance each belongs to."""
        utts, owner = [], []
        for i, u in enumerate(self.utts):
            for s in split_sentences(self.texts[i]):
                utts.append(Utterance(u.speaker, u.start_s, u.end_s, s))
                owner.append(i)
        part = Call(replace(self.transcript, utterances=tuple(utts)), self.pack, self.direction)
        part.texts = [u.text for u in part.utts]  # normalised already
        return part, owner

    @functools.cached_property
    def everyone(self) -> frozenset[int]:
        """Every utterance's index: the pool of a condition that nothing narrows (read often)."""
        return frozenset(range(len(self.utts)))

    @functools.cached_property
    def sentence_rows(self) -> list[range]:
        """Each utterance's sentences (indices into `sentences`' call: `owner` is in order)."""
        owner = self.sentences[1]
        return [range(bisect.bisect_left(owner, i), bisect.bisect_right(owner, i)) for i in range(len(self.utts))]

    @functools.cached_property
    def turns(self) -> "Call":
        """The call as turns (analyzers.turns: one speaker's consecutive utterances, backchannels
        left out), each an utterance: its text the turn's, its intents those of its utterances."""
        ts = turns(self.transcript, self.pack.overtalk)
        utts = tuple(Utterance(t.speaker, t.start_s, t.end_s, t.text) for t in ts)
        intents = each = None
        if self.intents is not None:
            at = {id(u): i for i, u in enumerate(self.transcript.utterances)}
            each = tuple(tuple(_labels(self.intents[at[id(u)]]) for u in t.utterances) for t in ts)
            intents = tuple(frozenset().union(*labels) for labels in each)
        call = Call(replace(self.transcript, utterances=utts), self.pack, self.direction, intents,
                    tuple(t.said for t in ts), self.meaning, tuple(t.utterances for t in ts), each)
        call.texts = [u.text for u in call.utts]  # Turn.text is normalised
        return call

    @functools.cached_property
    def turn_of(self) -> list[int | None]:
        """The index (into `turns.utts`) of each utterance's turn; None for a backchannel."""
        at = {id(u): j for j, k in enumerate(self.turns.order) for u in self.turns.members[k]}
        return [at.get(id(u)) for u in self.utts]

    def of_role(self, role: str | None) -> frozenset[int]:
        if ("set", role) not in self._roles:
            self._roles["set", role] = frozenset(self.in_order(role))
        return self._roles["set", role]

    def in_order(self, role: str | None) -> tuple[int, ...]:
        """The utterances of `role` (None: all), in time order: every rule asks, so kept."""
        if role not in self._roles:
            self._roles[role] = tuple(i for i, u in enumerate(self.utts) if role is None or u.speaker == role)
        return self._roles[role]

    def quote(self, i: int) -> str:
        return self.said[i] if self.said is not None else self.utts[i].text

    def meaning_of(self, intent: str) -> tuple[int, ...]:
        """The utterances (time order) whose decided intents hold `intent`."""
        if self._by_intent is None:
            self._by_intent = {}
            for k, i in enumerate(self.order):
                for label in _labels(self.intents[i]):
                    self._by_intent.setdefault(label, []).append(k)
        return self._by_intent.get(intent, ())

    @functools.cached_property
    def rates(self) -> list[float | None]:
        rates = utterance_rates(self.transcript, self.pack.rate)
        return [rates[i] for i in self.order]


# --- tests: which utterances ------------------------------------------------------


def pack_field(pack: RulePack, path: str) -> Any:
    """The pack's value at `section.field` (a PhraseList's or an IntentSetting's reference)."""
    section, name = path.split(".")
    return getattr(getattr(pack, section), name)


def _phrases(call: Call, c: Condition, pool: set[int] | None) -> set[int]:
    """A phrase test with `starts_within`: where the first phrase starts, punctuation not counted.
    Every other phrase test (by sound or as written) is compiled once per condition (plan._phrase_test)."""
    if c.starts_within is None:
        raise AssertionError("a bare phrase test is plan's (rulelang.plan._phrase_test)")  # pragma: no cover
    phrases = pack_field(call.pack, c.phrases.list_) if isinstance(c.phrases, PhraseList) else c.phrases
    return {i for i, t in _texts(call, pool) if (p := first_alternative(t, phrases)) and p[0] <= c.starts_within}


@functools.lru_cache(maxsize=256)
def _matcher(pattern: str):
    m = tok.matcher()
    m.add("rule", [json.loads(pattern)])
    return m


def _labels(decided: Any) -> frozenset[str]:
    # One utterance's intents as Call.intents holds them: a label, labels, or None.
    return frozenset({decided} if isinstance(decided, str) else decided or ())


def _pattern(call: Call, c: Condition, pool: set[int] | None) -> set[int]:
    m = _matcher(c.pattern)
    return {i for i, t in _texts(call, pool) if m(tok.make_doc(t))}


def _intent(call: Call, c: Condition) -> set[int]:
    intent = c.intent
    if isinstance(intent, IntentSetting):
        intent = pack_field(call.pack, intent.setting)
        if intent is None or call.intents is None:  # switched off, or a literal-only run
            return set()
    if call.intents is None:
        raise RuleError(f"the intent test ({intent!r}) needs the meaning classifier's decisions, and this call "
                        "has none (no utterance embeddings were computed)")
    found = set(call.meaning_of(intent))
    if c.starts_within is not None and call.member_intents is not None:  # a turn: its opening utterances
        found = {k for k in found if opens_with(call.members[call.order[k]], call.member_intents[call.order[k]],
                                                  intent, c.starts_within)}
    return found


def hit_intents(matches: Sequence[Mapping[str, Any]]) -> tuple[frozenset[str], ...]:
    """The meaning matcher's decisions (per utterance, intent -> analyzers.intents.IntentMatch,
    as flows.meaning.matcher gives them) as the `intents` an analysis takes: per utterance
    the intents that hit."""
    return tuple(frozenset(name for name, m in per.items() if m.hit) for per in matches)


def _chars(call: Call, c: Condition, pool: set[int] | None) -> set[int]:
    counts = {i: count_chars(call.utts[i].text) for i, _ in _texts(call, pool)}  # own text: a Latin word is one
    if c.chars.total:  # the utterances in scope together: all of them or none
        return set(counts) if _inside(sum(counts.values()), c.chars.at_least, c.chars.at_most) else set()
    return {i for i, n in counts.items() if _inside(n, c.chars.at_least, c.chars.at_most)}


def _entity(call: Call, c: Condition, pool: set[int] | None) -> set[int]:
    return {i for i, t in _texts(call, pool) if any(k in c.entity for k, _ in entities(t))}


def _sentence(call: Call, c: Condition, pool: set[int] | None) -> set[int]:
    # The sentences as utterances of their own (the speaker and times of theirs).
    parts, owner = call.sentences
    rows = call.sentence_rows
    inside = None if pool is None else {k for i in pool for k in rows[i]}
    return {owner[k] for k in hits(parts, c.sentence, inside)}


def _regex(call: Call, c: Condition, pool: set[int] | None) -> set[int]:
    rx = re.compile(c.regex)
    return {i for i, t in _texts(call, pool) if rx.search(t)}


_TESTS = {"phrases": _phrases, "pattern": _pattern, "regex": _regex, "intent": _intent, "sentence": _sentence, "chars": _chars,
          "duration": _duration,
          "silence": _silence, "response_time": _response_time, "rate": _rate, "volume": _volume, "interruption": _interruption,
          "entity": _entity, "repeats": _repeats, "differs": _differs}


def _texts(call: Call, pool: set[int] | None):
    """(index, normalised text) of the utterances in `pool` (None: all), in no set order: every
    test collects a set (or a sum) of them."""
    texts = call.texts
    return enumerate(texts) if pool is None else ((i, texts[i]) for i in pool)


#: Tests that read each utterance's words alone, so that they need look only inside a pool.
_TEXTUAL = ("phrases", "pattern", "regex", "chars", "entity", "repeats", "differs", "sentence")


def _test(call: Call, c: Condition, pool: set[int] | None, one: bool = False) -> set[int]:
    if c.all is not None:
        return combine.all_hits(call, c.all, pool)
    if c.any is not None:
        if one:  # whether anything hits: the first alternative that hits answers
            return next((set(found) for s in c.any if (found := hits(call, s, pool, one=True))), set())
        return combine.any_hits(call, c.any, pool)
    if c.not_ is not None:
        scope = call.everyone if pool is None else pool
        return scope - set(hits(call, c.not_, pool))
    if c.together is not None:
        found = [set(hits(call, s, pool)) for s in c.together]
        return set().union(*found) if all(found) else set()
    name = combine.test_name(c)
    if name is None:
        raise AssertionError("a condition without a test passed validation")  # pragma: no cover
    test = _TESTS[name]
    if name in _TEXTUAL:
        if one and pool is not None and not (c.chars is not None and c.chars.total):
            # whether anything hits: utterance by utterance, up to the first hit
            return next(({i} for i in sorted(pool) if test(call, c, {i})), set())
        return test(call, c, pool)
    found = test(call, c)
    return found if pool is None else found & pool


# --- scope: who, where, relative to what, which, how many ---------------------------


def _position(call: Call, c: Condition, found: set[int], universe: Sequence[int] | None = None) -> set[int]:
    """`found` narrowed by c's first/last(_s), counted among `universe` (None: the call).
    `first`/`first_s` and `last`/`last_s`: each pair given together is either (the last 3
    utterances and any other ending in the last 30 s); the two ends together are both."""
    if c.first is None and c.last is None and c.first_s is None and c.last_s is None:
        return found
    pool = call.in_order(c.role) if universe is None else \
        [i for i in universe if c.role is None or call.utts[i].speaker == c.role]
    if not pool:
        return set()
    if c.first is not None or c.first_s is not None:
        start = call.utts[pool[0]].start_s
        window = set(pool[:c.first]) if c.first is not None else set()
        if c.first_s is not None:
            window |= {i for i in pool if call.utts[i].start_s <= start + c.first_s + 1e-6}
        found &= window
    if c.last is not None or c.last_s is not None:
        end = max(call.utts[i].end_s for i in pool)
        window = set(pool[-c.last:]) if c.last is not None else set()
        if c.last_s is not None:
            window |= {i for i in pool if call.utts[i].end_s >= end - c.last_s - 1e-6}
        found &= window
    return found


def _related(call: Call, c: Condition, found: set[int]) -> set[int]:
    if not combine.relates(c):
        return found
    far = c.within if c.within is not None else len(call.utts)
    for name, later, keep in (("after", False, True), ("before", True, True),
                              ("not_after", False, False), ("not_before", True, False)):
        other = getattr(c, name)
        if other is None:
            continue
        if not found:  # nothing left to keep: the other condition need not be read (b5fix: speed)
            return found
        anchors = anchor_hits(call, other)  # in order: the nearest anchor before / after i decides
        if later:
            near = {i for i in found if (k := bisect.bisect_right(anchors, i)) < len(anchors) and anchors[k] - i <= far}
        else:
            near = {i for i in found if (k := bisect.bisect_left(anchors, i)) > 0 and i - anchors[k - 1] <= far}
        found = near if keep else found - near
    for name, keep in (("during", True), ("not_during", False)):
        other = getattr(c, name)
        if other is None or not found:
            continue
        spans = [(call.utts[a].start_s, call.utts[a].end_s) for a in hits(call, other)]
        near = {i for i in found if any(s < call.utts[i].end_s and call.utts[i].start_s < e for s, e in spans)}
        found = near if keep else found - near
    return found


def hits(call: Call, c: Condition, pool: set[int] | None = None, one: bool = False) -> tuple[int, ...]:
    """The utterances (indices into `call.utts`, in time order) that `c` hits; with `pool`,
    those of them in the pool (what an enclosing condition keeps at most: its role), found
    without testing the others. A count or an Nth hit counts the whole call. `one`: the
    caller asks only whether anything hits (a `require`): some hits, or none."""
    seen = call.plans.get(id(c))  # what hits reads of c, compiled once per pack (rulelang.plan)
    p = seen[1] if seen is not None and seen[0] is c else plan(call.plans, call.pack, c)
    if p.direction is not None and p.direction != call.direction:
        return ()
    if p.counted:
        pool, one = None, False
    elif p.turnwise:  # those narrow after the test
        one = False
    if p.role is not None:
        mine = call.of_role(p.role)
        pool = mine if pool is None else pool & mine
    # Position and relations keep an utterance or not whatever else hits: narrow first, test the rest.
    pool = call.everyone if pool is None else pool
    if not pool:  # position and relations only narrow: their anchors need not be read
        return ()
    if p.positional:
        pool = _position(call, c, pool)
    if p.relates:
        pool = _related(call, c, pool)
    if not pool:  # nothing left to test (every test keeps only utterances of the pool)
        return ()
    found = p.test(call, c, pool, one)
    if p.turnwise:
        for name, keep in (("in_turn", True), ("not_in_turn", False)):  # read on the hits' turns only
            if (other := getattr(c, name)) is not None and found:  # a backchannel is in no turn: kept by neither
                hit = set(hits(call.turns, other, {call.turn_of[i] for i in found} - {None}))
                found = {i for i in found if call.turn_of[i] is not None and (call.turn_of[i] in hit) == keep}
    ordered = sorted(found)
    if not p.counted:
        return tuple(ordered)
    if c.nth is not None:
        k = c.nth - 1 if c.nth > 0 else len(ordered) + c.nth
        ordered = [ordered[k]] if 0 <= k < len(ordered) else []
    if (c.at_least is not None and len(ordered) < c.at_least) or (c.at_most is not None and len(ordered) > c.at_most):
        return ()
    return tuple(ordered)


# --- rules: findings ---------------------------------------------------------------


def _finding(rule: Rule, call: Call, idx: list[int], fallback: tuple[float, float],
             at: tuple[float, float] | None = None, quote: int | None = 3, cue: tuple[str, str] = ("", "")) -> Finding:
    """A finding quoting utterances `idx` (`quote`: the first so many, None: all), spanning
    them (`at`: that span instead); `cue`: the message's {cue} and {cue_said} (rulelang.cue)."""
    utts = [call.utts[i] for i in idx]
    span = at or ((min(u.start_s for u in utts), max(u.end_s for u in utts)) if utts else fallback)
    shown = idx if quote is None else idx[:quote]
    said = " / ".join(call.quote(i) for i in shown) + (" / …" if len(shown) < len(idx) else "")
    message = rule.message.format(duration_s=span[1] - span[0], cue=cue[0], cue_said=cue[1]) \
        if "{" in rule.message else rule.message
    return Finding(rule.category, rule.finding_id, rule.severity, AGENT, span[0], span[1], said, message)


def rule_findings(call: Call, rule: Rule) -> list[Finding]:
    """The findings of one rule on one call."""
    if rule.direction is not None and rule.direction != call.direction:
        return []
    if rule.unit == "turn":
        call = call.turns
    try:
        if rule.only_if and not all(hits(call, c, one=True) for c in rule.only_if):
            return []
        if rule.unless is not None and rule.unless.direction in (None, call.direction) \
                and anchor_hits(call, rule.unless):  # several rules share one
            return []
        if rule.each is not None:
            return each.each_findings(call, rule)
        if rule.find is not None:
            found = list(hits(call, rule.find))
            groups = ([found] if found else []) if rule.once else [[i] for i in found]
            if uses_cue(rule):  # the cue names the meaning evidence itself
                return [_finding(rule, call, idx, (0.0, 0.0), cue=cue_of(call, rule.find, idx, rule.cue)) for idx in groups]
            setting, anchors = (lambda path: pack_field(call.pack, path)), (lambda other: hits(call, other))
            return [because(_finding(rule, call, idx, (0.0, 0.0)), call, rule.find, idx, setting, anchors) for idx in groups]
        if rule.when is not None:
            cue = list(anchor_hits(call, rule.when))
            if not cue or hits(call, rule.require, one=True):
                return []
            said = cue_of(call, rule.when, cue, rule.cue) if uses_cue(rule) else ("", "")
            if rule.place == "after_when":  # from the `when` hits' end to the call's end, quoting nothing
                end = max(call.utts[i].end_s for i in cue)
                return [_finding(rule, call, [], (0.0, 0.0), at=(end, max(end, call.transcript.duration_s)), cue=said)]
            return [_finding(rule, call, cue, (0.0, 0.0), cue=said)]
        if hits(call, rule.require, one=True):
            return []
        return [_missing(call, rule)]
    except RuleError as exc:
        raise RuleError(f"rule {rule.id!r}: {exc}") from None


def _missing(call: Call, rule: Rule) -> Finding:
    """A `require` that nothing met: the finding covers where it was looked for (the
    condition's role and position, e.g. the agent's last 3 utterances), quoting them all when
    a position narrows it; when nobody in scope spoke, the first / last `first_s` / `last_s`
    seconds of the call, else the whole call."""
    c = rule.require
    pool = {i for i, u in enumerate(call.utts) if c.role is None or u.speaker == c.role}
    scope = sorted(_position(call, c, pool))
    if not scope:
        end = max(0.0, call.transcript.duration_s)
        span = ((0.0, min(c.first_s, end)) if c.first_s is not None
                else (max(0.0, end - c.last_s), end) if c.last_s is not None else (0.0, end))
        return _finding(rule, call, [], span)
    narrowed = any(x is not None for x in (c.first, c.last, c.first_s, c.last_s))
    found = _finding(rule, call, scope, (0.0, 0.0), quote=None)
    return found if narrowed else replace(found, text="")


def custom_findings(transcript: Transcript, pack: RulePack, direction: str = "inbound",
                    intents: tuple[str | None, ...] | None = None, meaning: Any = None) -> list[Finding]:
    """The findings of every active rule of the pack's custom_rules on one call; `meaning`
    (analyzers.intents.CallIntents): a finding an intent test made names its evidence."""
    rules = [r for r in pack.custom_rules if r.active]
    if not rules:
        return []
    call = Call(transcript, pack, direction, intents, meaning=meaning)
    return [f for rule in rules for f in rule_findings(call, rule)]


def pack_rule_findings(transcript: Transcript, pack: RulePack, rule_id: str, direction: str = "inbound",
                       intents: tuple | None = None) -> list[Finding]:
    """The findings of the pack's rule `rule_id` on one call (active or not): of the rules
    whose findings carry it (its own, or several reporting as one: Rule.reports_as)."""
    rules = [r for r in pack.custom_rules if r.finding_id == rule_id] or \
        [r for r in pack.custom_rules if r.id == rule_id]
    if not rules:
        raise ValueError(f"the pack has no rule {rule_id!r}")
    call = Call(transcript, pack, direction, intents)
    return [f for r in rules for f in rule_findings(call, r)]


from . import combine, each  # noqa: E402  (they read this module's hits and findings)


def anchor_hits(call: Call, c: Condition) -> tuple[int, ...]:
    """`hits(call, c)` over the whole call, kept on the call: an anchor (`after`, `before`,
    `when`, `unless`) that several rules share is read once (the refusal's trigger: seven rules)."""
    key = Same.of(c)
    if key not in call.gaps:
        call.gaps[key] = hits(call, c)
    return call.gaps[key]

