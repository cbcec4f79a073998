"""The rule language's schema: rules QA staff write in a pack's custom_rules.yaml.

A rule is a condition over a call's utterances (what is said, by whom, where, how
fast, how loud, after what) and what a hit means (category, severity, scorecard
item, a message in plain words). Conditions nest with all / any / not. The models
are frozen pydantic models like the rest of the pack (`analyzers.rules`), so the
loader reports a mistake with file, line and field. Evaluation: `evaluate`.
"""

from __future__ import annotations

import re
import string
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BeforeValidator, ConfigDict, Field, Strict, StrictBool, StringConstraints, model_validator

from ..model import AGENT, CUSTOMER
from ..rule_types import (LIST, AtLeastOne, Category, Count, Number, Phrases, Real, Section, Severity, Text,
                          TokenPattern, fail, kind)

ROLES = (AGENT, CUSTOMER)
#: Entities a condition can look for (analyzers.rulelang.entities); `words` for repeats only.
ENTITIES = ("number", "date", "amount")
REPEATABLE = (*ENTITIES, "words")
#: The category of a rule's findings unless the rule names one of the standard categories.
RULE_CATEGORY = "pack_rule"
#: The keys of a condition that test something (exactly one per condition).
TESTS = ("phrases", "pattern", "regex", "intent", "sentence", "chars", "duration", "silence", "response_time", "rate", "volume",
         "interruption", "entity", "repeats", "differs", "all", "any", "not", "together")


def _regex(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise fail(f"expected a regular expression, got {kind(value)}")
    try:
        re.compile(value)
    except re.error as exc:
        raise fail(f"bad regular expression {value!r}: {exc}") from None
    return value


def _one_of(options: tuple[str, ...]):
    def check(value: Any) -> str:
        if value not in options:
            raise fail(f"{value!r} is not one of {', '.join(options)}")
        return value
    return check


def _entities(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Role = Annotated[str, BeforeValidator(_one_of(ROLES))]
Regex = Annotated[str, BeforeValidator(_regex)]
Entity = Annotated[str, BeforeValidator(_one_of(ENTITIES))]
Repeatable = Annotated[str, BeforeValidator(_one_of(REPEATABLE))]
Entities = Annotated[tuple[Entity, ...], LIST, BeforeValidator(_entities), Field(min_length=1)]


class _Bounds(Section):
    """A range; at least one end is needed."""

    @model_validator(mode="after")
    def _some(self):
        ends = [f for f in type(self).model_fields if f != "total"]
        if all(getattr(self, f) is None for f in ends):
            raise fail(f"needs at least one of {', '.join(ends)}")
        return self


#: A pack field named by its section and field (courtesy.request_phrases).
PackField = Annotated[str, Strict(), StringConstraints(pattern=r"^[a-z][a-z_]*\.[a-z][a-z_]*$")]
#: The tests a `sentence` condition may hold: what a sentence's words say.
TEXT_TESTS = ("phrases", "pattern", "regex", "entity", "chars", "all", "any", "not", "together")


class PhraseList(Section):
    """A phrase list of the pack named instead of written out: `{list: courtesy.request_phrases}`."""

    list_: PackField = Field(alias="list")


class IntentSetting(Section):
    """The intent a pack setting names (courtesy.request_meaning, set by phrases.yaml
    `meaning:`): no hits while the setting is off or the run has no meaning decisions
    (literal phrases only), as the checks that read by meaning do."""

    setting: PackField


class Gap(_Bounds):
    """Seconds of silence (before an utterance, or before an answer)."""

    at_least_s: Optional[Number] = None
    at_most_s: Optional[Number] = None


class Length(_Bounds):
    """Spoken chars (a CJK char or digit one, a Latin word one; analyzers.text.count_chars)."""

    at_least: Optional[Count] = None
    at_most: Optional[Count] = None
    #: The utterances in scope (role, position) together, not each: all hit or none.
    total: StrictBool = False


class RateBand(_Bounds):
    """An utterance's speech rate in spoken chars per minute (analyzers.rate)."""

    above: Optional[Number] = None
    below: Optional[Number] = None


class Loudness(_Bounds):
    """An utterance's level (dBFS, measured per channel), absolute or against the
    speaker's own median level in the call."""

    above_dbfs: Optional[Real] = None
    below_dbfs: Optional[Real] = None
    above_median_db: Optional[Number] = None
    below_median_db: Optional[Number] = None


class Overlap(Section):
    """The agent starting to speak inside the customer's speech (analyzers.overtalk)."""

    #: Overlap that counts; absent: the pack's overtalk.min_overlap_s.
    at_least_s: Optional[Number] = None


class Repeat(Section):
    """What the other party said in the last `within` utterances, said again (or differently)."""

    what: Annotated[tuple[Repeatable, ...], LIST, BeforeValidator(_entities), Field(min_length=1)]
    within: AtLeastOne = 4
    #: For `words`: the shortest run of the same spoken chars that counts as repeating.
    min_chars: Annotated[int, Field(ge=2)] = 3
    #: For `words`: a read-back only (谢谢您，<their words>，…): the run opens one of the utterance's clauses,
    #: not their words inside an answer of the agent's own (您这个月的话费是…), and comes from a sentence of theirs
    #: that states, not asks (怎么多了二十元？ answered 多了二十元，是因为… repeats a question).
    read_back: StrictBool = False


class Condition(Section):
    """One test, with optional scope (who, where, relative to what) and count."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    # --- tests: exactly one ---
    phrases: Optional[Union[PhraseList, Phrases]] = None
    #: For `phrases`: ASR homophones (same toneless pinyin) match too (2+ chars).
    homophones: StrictBool = True
    #: For `phrases`: the first phrase starts within this many chars (punctuation not
    #: counted); for `intent` in a turn: an utterance starting within this many spoken chars
    #: of the turn means it ("opens with an apology").
    starts_within: Optional[Count] = None
    #: A spaCy Matcher token pattern over jieba tokens (as in banned.patterns).
    pattern: Optional[TokenPattern] = None
    regex: Optional[Regex] = None
    #: An intent label of the meaning classifier (needs utterance embeddings at run time).
    intent: Optional[Union[IntentSetting, Text]] = None
    #: Utterances one of whose sentences (split at 。？！；) the inner text test hits.
    sentence: Optional["Condition"] = None
    #: The utterance's length in spoken chars.
    chars: Optional[Length] = None
    #: The utterance's own length in seconds.
    duration: Optional[Gap] = None
    silence: Optional[Gap] = None
    response_time: Optional[Gap] = None
    rate: Optional[RateBand] = None
    volume: Optional[Loudness] = None
    interruption: Optional[Overlap] = None
    entity: Optional[Entities] = None
    repeats: Optional[Repeat] = None
    differs: Optional[Repeat] = None
    all: Optional[Annotated[tuple["Condition", ...], LIST, Field(min_length=1)]] = None
    any: Optional[Annotated[tuple["Condition", ...], LIST, Field(min_length=1)]] = None
    not_: Optional["Condition"] = Field(default=None, alias="not")
    #: Each condition hits some utterance in scope, not necessarily the same one (`all`: one utterance hits all).
    together: Optional[Annotated[tuple["Condition", ...], LIST, Field(min_length=1)]] = None
    # --- scope ---
    role: Optional[Role] = None
    first_s: Optional[Number] = None
    last_s: Optional[Number] = None
    first: Optional[AtLeastOne] = None
    last: Optional[AtLeastOne] = None
    after: Optional["Condition"] = None
    before: Optional["Condition"] = None
    not_after: Optional["Condition"] = None
    not_before: Optional["Condition"] = None
    #: Overlapping in time a hit of another condition (said while the other party speaks).
    during: Optional["Condition"] = None
    not_during: Optional["Condition"] = None
    #: In a turn (analyzers.turns; a backchannel is in none) that another condition hits
    #: as a turn, or in one that it does not: "the agent's turn that promises has no time".
    in_turn: Optional["Condition"] = None
    not_in_turn: Optional["Condition"] = None
    #: For after/before/not_after/not_before: at most this many utterances apart.
    within: Optional[AtLeastOne] = None
    #: Only the Nth hit (1 = first, -1 = last).
    nth: Optional[Annotated[int, Field(strict=True)]] = None
    at_least: Optional[AtLeastOne] = None
    at_most: Optional[Count] = None
    #: Hits only in calls of this direction (a rule's `unless: {direction: outbound, ...}`).
    direction: Optional[Literal["inbound", "outbound"]] = None

    @model_validator(mode="after")
    def _one_test(self) -> "Condition":
        present = [t for t in TESTS if getattr(self, "not_" if t == "not" else t) is not None]
        if len(present) != 1:
            got = f" (got {', '.join(present)})" if present else ""
            raise fail(f"needs exactly one test of: {', '.join(TESTS)}{got}")
        relations = [r for r in ("after", "before", "not_after", "not_before") if getattr(self, r) is not None]
        if self.within is not None and not relations:
            raise fail("'within' needs one of after, before, not_after, not_before", "within")
        if self.nth == 0:
            raise fail("counts from 1 (first) or from -1 (last); 0 is no hit", "nth")
        if self.at_least is not None and self.at_most is not None and self.at_most < self.at_least:
            raise fail("must be at least at_least", "at_most")
        if self.starts_within is not None and (self.phrases is None or not self.homophones) and self.intent is None:
            raise fail("goes with 'phrases' (homophones on) or 'intent'", "starts_within")
        if self.sentence is not None:
            for c in self.sentence.walk():
                tests = [t for t in TESTS if getattr(c, "not_" if t == "not" else t) is not None]
                scoped = [k for k in SCOPES if getattr(c, k) is not None]
                if tests[0] not in TEXT_TESTS or scoped:
                    raise fail(f"a sentence holds text tests only ({', '.join(TEXT_TESTS)}), no scope", "sentence")
        return self

    def walk(self):
        """This condition and every condition inside it."""
        yield self
        for sub in (*(self.all or ()), *(self.any or ()), *(self.together or ()), self.not_, self.sentence,
                    self.after, self.before, self.not_after, self.not_before, self.during, self.not_during,
                    self.in_turn, self.not_in_turn):
            if sub is not None:
                yield from sub.walk()


#: The keys of a condition that narrow its hits (what a `sentence` condition cannot have).
SCOPES = tuple(k for k in Condition.model_fields if k not in (*TESTS, "not_", "homophones", "starts_within"))
Condition.model_rebuild()

_WHO = {"a": AGENT, "agent": AGENT, "客服": AGENT, "坐席": AGENT, "c": CUSTOMER, "customer": CUSTOMER, "客户": CUSTOMER}
_LINE = re.compile(r"^\s*(a|c|agent|customer|客服|坐席|客户)\s*[:：]\s*(.+)$", re.IGNORECASE)


class ExampleLine(Section):
    """One utterance of an example; times absent: one after another at 4 chars a second."""

    speaker: Role
    text: Text
    start_s: Optional[Number] = None
    end_s: Optional[Number] = None
    level_db: Optional[Real] = None
    #: The meaning classifier's decision for this utterance (for rules with an intent test).
    intent: Optional[Text] = None

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, data: Any) -> Any:
        if isinstance(data, str):
            # "A: ..." / "C: ..."; a line without a speaker is the agent's
            m = _LINE.match(data)
            return {"speaker": _WHO[m.group(1).lower()], "text": m.group(2)} if m else {"speaker": AGENT, "text": data}
        if isinstance(data, dict):
            said = [k for k in data if str(k).lower() in _WHO]
            if len(said) == 1:
                rest = {k: v for k, v in data.items() if k != said[0]}
                return {"speaker": _WHO[said[0].lower()], "text": data[said[0]], **rest}
        return data


def _example(value: Any) -> Any:
    # One line (a text, or a mapping), or a dialogue (a list of lines).
    return [value] if isinstance(value, (str, dict)) else value


Example = Annotated[tuple[ExampleLine, ...], LIST, BeforeValidator(_example), Field(min_length=1)]


class Examples(Section):
    #: Each must make the rule fire.
    hit: Annotated[tuple[Example, ...], LIST, Field(min_length=1)]
    #: Each must leave the rule quiet.
    miss: Annotated[tuple[Example, ...], LIST, Field(min_length=1)]


class Window(Section):
    """Where an `each` hit's requirement is looked for: the utterances that started before it and
    ended at most `before_s` before it began, or that started after its start and at most
    `after_s` after its end."""

    before_s: Optional[Number] = None
    after_s: Optional[Number] = None

    @model_validator(mode="after")
    def _one(self):
        if (self.before_s is None) == (self.after_s is None):
            raise fail("needs exactly one of before_s, after_s")
        return self


#: What a rule's message may quote of its finding: `{duration_s:.1f}` = the finding's span in s;
#: `{cue}` = what its condition matched, `{cue_said}` = the words that matched (rulelang.cue).
MESSAGE_FIELDS = ("duration_s", "cue", "cue_said")


def _message(value: Any) -> Any:
    if not isinstance(value, str) or "{" not in value and "}" not in value:
        return value
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        value.format(**{name: "" if name.startswith("cue") else 0.0 for name in names})
    except (ValueError, IndexError, KeyError) as exc:
        raise fail(f"bad message template {value!r}: {exc} (write {{{{ for a brace)") from None
    if unknown := sorted(names - set(MESSAGE_FIELDS)):
        raise fail(f"{{{unknown[0]}}} is not one of {', '.join('{' + f + '}' for f in MESSAGE_FIELDS)} (write {{{{ for a brace)")
    return value


class Rule(Section):
    """A rule: `find` (a finding per hit), `require` (a finding when there is no hit) or
    `each` (a finding per hit, or with `require` per hit whose `window` holds no hit of it)."""

    id: Annotated[Text, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    #: The rule_id its findings carry (absent: `id`): several rules report as one check when
    #: each says one case of it (the refusal unanswered, or answered without an apology).
    reports_as: Optional[Annotated[Text, Field(pattern=r"^[a-z][a-z0-9_]*$")]] = None
    #: The standard's name and place of the rule (礼貌性称呼, 003 §三.5(2)).
    standard: Text = ""
    find: Optional[Condition] = None
    require: Optional[Condition] = None
    #: A finding per hit of this (a bare `silence` test: per silence, spanning it); with
    #: `require`, per hit whose `window` holds no hit of the requirement.
    each: Optional[Condition] = None
    window: Optional[Window] = None
    #: For `require`: the requirement holds only in calls where this hits (e.g. the
    #: customer gave a number); the finding then covers these hits.
    when: Optional[Condition] = None
    #: What a condition's hits are: utterances, or turns (one speaker's consecutive
    #: utterances joined, backchannels left out: analyzers.turns), where `after: ..., within: 1`
    #: is the other party's next turn.
    unit: Literal["utterance", "turn"] = "utterance"
    #: Where the message's {cue} comes from: the condition's own first matching test, then its
    #: after / before hit (absent), or only its `after` / `before` hit (e.g. the complaint answered).
    cue: Optional[Literal["after", "before"]] = None
    #: For `find`: one finding for the call (spanning its hits) instead of one per hit.
    once: StrictBool = False
    #: The rule is judged only in calls where each of these conditions hits (e.g. the
    #: customer said 10 chars in all); its findings stay where the rule places them.
    only_if: Optional[Annotated[tuple[Condition, ...], LIST, BeforeValidator(_example), Field(min_length=1)]] = None
    #: The rule does not apply in calls where this hits (in the rule's unit): the closing rules
    #: on an outbound call the customer refused, which the refusal's rules judge instead.
    unless: Optional[Condition] = None
    #: For `require` with `when`: `after_when`: the finding spans from the end of the `when`
    #: hits to the call's end and quotes nothing (nothing was said where something was due).
    place: Optional[Literal["after_when"]] = None
    #: false: the rule is checked by its examples and can be tried (`callqa rules try`),
    #: but analyses leave it out (a new rule waiting for a decision).
    active: StrictBool = True
    #: Calls of this direction only (absent: both).
    direction: Optional[Literal["inbound", "outbound"]] = None
    category: Category = RULE_CATEGORY
    severity: Severity
    #: The scorecard item (id) the findings count against; absent: shown, not graded.
    item: Optional[Text] = None
    #: Plain words; `{duration_s:.1f}` quotes the finding's span in seconds.
    message: Annotated[Text, BeforeValidator(_message)]
    examples: Examples

    @model_validator(mode="after")
    def _one_form(self) -> "Rule":
        if self.each is not None and self.find is not None:
            raise fail("'each' and 'find' both give a finding per hit: keep one", "each")
        if self.each is None and (self.find is None) == (self.require is None):
            raise fail("needs exactly one of 'find' (a finding per hit) or 'require' (a finding when nothing hits)")
        if self.window is not None and self.each is None:
            raise fail("'window' goes with 'each'", "window")
        if self.when is not None and self.require is None:
            raise fail("'when' goes with 'require' (for 'find', put the condition in 'all')", "when")
        if self.once and self.find is None:
            raise fail("'once' goes with 'find'", "once")
        if self.place is not None and self.when is None:
            raise fail("'place: after_when' goes with 'require' and 'when'", "place")
        if "{cue" in self.message and self.find is None and self.when is None:
            raise fail("{cue} / {cue_said} quote what 'find' or 'when' matched: this rule has neither", "message")
        if self.cue is not None and getattr(self.find if self.find is not None else self.when, self.cue, None) is None:
            raise fail(f"names the {self.cue!r} hit of 'find' (or 'when'), which has no {self.cue!r}", "cue")
        if self.unit == "turn" and any(c.in_turn or c.not_in_turn for p in self.parts() for c in p.walk()):
            raise fail("'in_turn' / 'not_in_turn' read the turns of a rule of utterances (unit: utterance)", "unit")
        return self

    @property
    def finding_id(self) -> str:
        """The rule_id of its findings: `reports_as`, else `id`."""
        return self.reports_as or self.id

    @property
    def condition(self) -> Condition:
        return self.find if self.find is not None else self.require if self.require is not None else self.each

    def parts(self) -> list[Condition]:
        """Every condition the rule holds (find / require, when, each, only_if)."""
        return [c for _, c in self.named_parts()]

    def named_parts(self):
        """(key, condition) of every condition the rule holds, for a message naming its key."""
        for key in ("find", "require", "when", "each"):
            if getattr(self, key) is not None:
                yield key, getattr(self, key)
        for c in self.only_if or ():
            yield "only_if", c
        if self.unless is not None:
            yield "unless", self.unless

    def uses_intent(self) -> bool:
        parts = self.parts()
        return any(c.intent is not None for p in parts for c in p.walk())


