"""The rule pack: what the analyzers check against, as frozen, validated models.

This is the pack's one schema: field names, types, limits, defaults and the checks
across fields. `lexicons.load_pack` validates the YAML files QA staff edit against it
(naming file, line and field of any mistake); the analyzers only ever read the models,
so they never touch files, and a test can build a section by hand (`HoldRules(...)`,
or `pack.holds.model_copy(update=...)`). A field without a default must be written in
the YAML. Every collection is a tuple, so a pack is hashable and can key caches.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StrictBool, create_model, model_validator

from .intents import MIN_PROBABILITY
from .model import GRADES, SEVERITIES
from .rule_types import (LIST, AtLeastOne, Category, Count, Fraction, Grade, GradesDown, LiteralPhrase,
                         Number, Percent, Phrases, Points, Real, Section, Selector, Severity, Text,
                         TokenPattern, Version, fail, unique_ids)
from .rulelang.schema import Rule
from .text import find_phrase, normalise


class BannedEntry(Section):
    """One banned expression with its variants and the polite uses that excuse it."""

    id: Text
    phrases: Annotated[tuple[LiteralPhrase, ...], LIST, Field(min_length=1)] = ()
    #: spaCy Matcher token patterns over jieba tokens, kept as canonical JSON text (TAG is
    #: jieba's part-of-speech flag): uses banned only in context (什么 as a curt reply).
    patterns: Annotated[tuple[TokenPattern, ...], LIST, Field(min_length=1)] = ()
    severity: Severity
    #: Longer expressions that make a hit acceptable when they cover it (麻烦您).
    allow: Annotated[tuple[LiteralPhrase, ...], LIST] = ()
    #: Token patterns (same form) that excuse a hit they cover, like `allow`.
    allow_patterns: Annotated[tuple[TokenPattern, ...], LIST] = ()
    #: An intent of the pack's examples/ whose meaning hits raise this entry too, with the
    #: nearest example as the finding's evidence; None = phrases and patterns only.
    meaning: Text | None = None
    #: A meaning hit raises this entry only from this probability on (None: the decision's
    #: own threshold, analyzers.intents.MIN_PROBABILITY); higher for an intent whose model
    #: also hits ordinary talk (docs/meaning.md).
    meaning_min_probability: Fraction | None = None
    note: Text = ""
    #: Also match ASR homophones (same toneless pinyin); ignored for 1-char phrases.
    homophones: StrictBool = True

    @model_validator(mode="after")
    def _usable(self) -> "BannedEntry":
        if not self.phrases and not self.patterns and not self.meaning:
            raise fail("needs 'phrases' (literal text), 'patterns' (token patterns) or 'meaning' (an intent)")
        if self.meaning_min_probability is not None:
            if not self.meaning:
                raise fail("'meaning_min_probability' needs a 'meaning' (an intent)", "meaning_min_probability")
            if self.meaning_min_probability < MIN_PROBABILITY:
                # below the decision's threshold no weaker hit ever reaches the rules: it would do nothing
                raise fail(f"must be at least {MIN_PROBABILITY} (an intent's hits start there)", "meaning_min_probability")
        # An allowed form that contains no phrase (nor a sound-alike: 步行 for 不行) can never
        # cover a hit: a typo. A pattern's hit has no fixed text, so pattern entries are exempt.
        for i, allowed in enumerate(() if self.patterns else self.allow):
            if not any(find_phrase(normalise(allowed), normalise(p), self.homophones) for p in self.phrases):
                raise fail(f"{allowed!r} contains none of the phrases, so it can never excuse a hit", "allow", i)
        return self


class RateRules(Section):
    #: Gaps between words longer than this are not speaking time.
    pause_s: Number
    agent_min_chars_per_min: Number
    agent_max_chars_per_min: Number
    #: agent rate / customer rate outside [min, max] is a pace mismatch.
    pace_ratio_min: Number
    pace_ratio_max: Number
    #: A speaker needs at least this many chars before their call rate is judged.
    min_chars: Count
    #: Utterances shorter than this get no per-utterance rate (timing too noisy).
    min_utterance_chars: Count
    fast_severity: Severity = "minor"
    slow_severity: Severity = "minor"
    pace_severity: Severity = "minor"
    #: An agent off the band is still "led by the customer's pace" (003 §三.5(1)3 A) when
    #: within this fraction of the customer's rate: no speech_rate_fast/slow then.
    match_tolerance: Fraction

    @model_validator(mode="after")
    def _bands(self) -> "RateRules":
        if self.agent_min_chars_per_min >= self.agent_max_chars_per_min:
            raise fail("must be above agent_min_chars_per_min", "agent_max_chars_per_min")
        if self.pace_ratio_min >= self.pace_ratio_max:
            raise fail("must be above pace_ratio_min", "pace_ratio_max")
        return self


class HoldRules(Section):
    """What is said around a hold; the holds themselves and their checks are the rules
    hold, hold_notice, hold_reason and hold_apology of custom_rules.yaml."""

    notice_phrases: Phrases
    apology_phrases: Phrases
    #: Said with the notice: why the customer waits (查询, 核实 …; 003 §四.2(1)3).
    reason_phrases: Phrases
    #: Intents (the pack's examples/) that say the notice / apology / reason as well as the
    #: phrases do (phrases.yaml `meaning:`, docs/meaning.md); None: the phrases only.
    notice_meaning: Text | None = None
    apology_meaning: Text | None = None
    reason_meaning: Text | None = None


class GreetingRules(Section):
    """The opening's steps (custom_rules.yaml's greeting rules read them): per step its
    phrases and the intent that says it too (None: the phrases only)."""

    hello_phrases: Phrases
    service_offer_phrases: Phrases
    self_identification_phrases: Phrases
    #: Outbound calls: the purpose of the call, whether now is a good time.
    outbound_purpose_phrases: Phrases
    outbound_time_check_phrases: Phrases
    hello_meaning: Text | None = None
    service_offer_meaning: Text | None = None
    self_identification_meaning: Text | None = None
    outbound_purpose_meaning: Text | None = None
    outbound_time_check_meaning: Text | None = None


class ClosingRules(Section):
    """The closing's steps (custom_rules.yaml's closing rules read them): a satisfaction
    check; thanks together with a goodbye; per step the intents that say it too."""

    satisfaction_check_phrases: Phrases
    thanks_phrases: Phrases
    goodbye_phrases: Phrases
    satisfaction_check_meaning: Text | None = None
    thanks_meaning: Text | None = None
    farewell_meaning: Text | None = None
    invite_call_again_meaning: Text | None = None


class OvertalkRules(Section):
    min_overlap_s: Number
    severity: Severity = "minor"
    #: Short agent responses (嗯, 是的, 好的) said while the customer talks are listening
    #: (001 §2.1 第一步), never overtalk; they also do not make a turn of their own.
    backchannel_phrases: Phrases
    backchannel_max_s: Number
    #: Short agent utterances that hand the floor back (您说, 您请讲, 您接着说), with backchannels and
    #: a form of address (嗯，阿姨您说): listening too (001 §2.1 第一步 不随意打断), not overtalk (b7fix).
    yield_phrases: tuple[str, ...] = ()
    #: Forms of address allowed in such an utterance (阿姨, 先生); never enough alone.
    yield_address_phrases: tuple[str, ...] = ()
    #: Softeners allowed there (没事, 不急); never enough alone, and they make it a turn (a reply: b8fix).
    yield_soften_phrases: tuple[str, ...] = ()


class ComplaintRules(Section):
    """001 场景三 立即致歉, 003 §四.2(2)4 先处理客户情绪，再处理事件 (the pack's rule
    apology_first, custom_rules.yaml, reads these and holds its threshold)."""

    #: In the customer's turn: a complaint or upset (投诉, 怎么回事, 太慢了 …).
    customer_phrases: Phrases
    #: In the agent's next turn, first: acknowledgement or apology (非常抱歉, 理解您的心情 …).
    acknowledge_phrases: Phrases
    #: Intents that are a complaint (customer) / an acknowledgement (agent) as well.
    customer_meaning: Text | None = None
    acknowledge_meaning: Text | None = None


class ConfirmationRules(Section):
    """001 §2.1 复述确认, 000 §2.1 您是说……对吗, 003 §四.2(1)2 确认客户信息."""

    #: Read by the pack's rule repeat_back (custom_rules.yaml), which also holds its thresholds.
    phrases: Phrases
    #: An intent that confirms as well as the phrases.
    meaning: Text | None = None


class FollowupRules(Section):
    """001 §2.1 第三步 即时响应: a promise of a callback or reply comes with a time (the
    pack's rule followup_time, custom_rules.yaml, reads these)."""

    promise_phrases: Phrases
    time_phrases: Phrases
    #: A turn asking the customer for the time (什么时候方便) makes an appointment instead.
    asks_time_phrases: Phrases
    #: A sentence about the present call (今天给您打电话是想…) is no promise.
    this_call_phrases: Phrases
    #: Intents: a promise with its time (satisfies) / a promise without one (a promise).
    with_time_meaning: Text | None = None
    without_time_meaning: Text | None = None


class CourtesyRules(Section):
    """The 礼貌用语 points of 003 §四.2(1)3 that are about words (the hold is HoldRules)."""

    #: The agent asks the customer for information (提供一下, 告诉我, 是多少 …) ...
    request_phrases: Phrases
    #: ... with a polite marker in the same sentence (请, 麻烦您, 能否 …).
    polite_phrases: Phrases
    #: After the customer answers a request: the agent thanks (谢谢, 感谢 …).
    thanks_phrases: Phrases
    #: The customer thanks or apologises (谢谢, 不好意思 …) ...
    customer_thanks_phrases: Phrases
    #: ... and the agent replies (不客气, 没关系, 应该的 …).
    reply_phrases: Phrases
    #: Intents: a polite request (a request, and polite) / thanks for help / a reply to thanks.
    request_meaning: Text | None = None
    thanks_meaning: Text | None = None
    reply_meaning: Text | None = None


class RefusalRules(Section):
    """003 §三.5(4)3 e 外呼时客户拒绝: apologise for the disturbance, ask when suits (the phrase
    lists and meaning switches custom_rules.yaml's outbound_refusal rules read)."""

    customer_phrases: Phrases
    apology_phrases: Phrases
    appointment_phrases: Phrases
    #: Intents: the customer refuses / the agent's reply apologises and asks when suits.
    customer_meaning: Text | None = None
    answered_meaning: Text | None = None


class VoiceRules(Section):
    """003 音量适中 / 自控能力: an agent utterance far louder than the agent's own usual level."""

    #: dB above the median level of the agent's utterances in the same call.
    raised_db: Number
    #: The median needs this many measured agent utterances to mean anything.
    min_utterances: AtLeastOne
    #: Utterances shorter than this (s) are not judged: a laugh or a cough is not a voice.
    min_duration_s: Number
    severity: Severity


class ScoreItem(Section):
    """One item of the standard's scorecard (003 §四.2), graded A-F from its findings.

    A finding belongs to the item with the most specific selector that names it:
    "banned_phrase:jargon" (category:rule_id) before "banned_phrase" (category).
    """

    id: Text
    #: The standard's name for the item (规范用语, 礼貌用语 …).
    name: Text
    weight: Number
    #: True: no recording can judge it; in the output ungraded, for QA staff.
    manual: StrictBool = False
    #: Graded by deduction: one grade down per grade point of its findings' severities.
    findings: Annotated[tuple[Selector, ...], LIST, Field(min_length=1)] = ()
    #: Graded by points instead: one grade down per point with a graded finding
    #: (礼貌用语: "出现其中一点没有使用礼貌用语的评为B级，依次类推"); each point is selectors.
    points: Points = ()
    #: Points of the item no recording shows (left to QA staff; not graded down).
    manual_points: Count = 0

    @model_validator(mode="after")
    def _one_way(self) -> "ScoreItem":
        if self.manual and (self.findings or self.points):
            raise fail("a manual item has no 'findings' or 'points' (no recording can judge it)", "manual")
        if not self.manual and bool(self.findings) == bool(self.points):
            raise fail("needs exactly one of 'findings' (graded by deduction) or 'points' "
                       "(one grade down per point missed), or 'manual: true'")
        return self


def _items(items: tuple[ScoreItem, ...]) -> tuple[ScoreItem, ...]:
    if not items:
        raise fail("needs at least one item")
    owner: dict[str, str] = {}
    for i, item in enumerate(items):
        for key, selectors in (("findings", item.findings), ("points", [s for p in item.points for s in p])):
            for sel in selectors:
                if sel in owner:
                    raise fail(f"{sel!r} is already counted by item {owner[sel]!r}", i, key)
                owner[sel] = item.id
    unique_ids(items)
    if sum(i.weight for i in items if not i.manual) <= 0:
        raise fail("the graded items' weights must not all be zero")
    return items


class _NonIncreasing(Section):
    """A grade table: each grade's value at most the value of the grade above."""

    @model_validator(mode="after")
    def _order(self) -> "_NonIncreasing":
        grades = list(type(self).model_fields)
        for above, grade in zip(grades, grades[1:]):
            if getattr(self, grade) > getattr(self, above):
                raise fail(f"must be at most the value for the grade above ({getattr(self, above):g})", grade)
        return self


# Built from the constants, so the keys are the analyzers' severities and grades.
#: Grades down per finding of each severity; a severity worth 0 (info) is shown, never graded.
Deduction = create_model("Deduction", __base__=Section, **{s: (GradesDown, ...) for s in SEVERITIES})
#: Lowest total (0-100) for A, B, C, D, E (non-increasing); below E's is F.
GradeMinScore = create_model("GradeMinScore", __base__=_NonIncreasing, **{g: (Percent, ...) for g in GRADES[:5]})


class FlagRules(Section):
    """Which calls QA staff review: any one of these flags the call."""

    #: A total below this flags the call; absent: no score threshold (an explicit null is refused).
    below_score: Percent = None
    grades: Annotated[tuple[Grade, ...], LIST] = ()
    severities: Annotated[tuple[Severity, ...], LIST] = ()
    categories: Annotated[tuple[Category, ...], LIST] = ()
    #: Any automatically graded item with one of these grades flags the call.
    item_grades: Annotated[tuple[Grade, ...], LIST] = ()
    #: A finding whose words' mean ASR probability is below this is "heard with low
    #: confidence" and flags no call by itself; absent: no finding is.
    low_confidence_below: Fraction = None


class ScorecardRules(Section):
    items: Annotated[tuple[ScoreItem, ...], LIST, AfterValidator(_items)]
    deduction: Deduction
    grade_min_score: GradeMinScore
    flag: FlagRules

    def grades_down(self, severity: str) -> int:
        return getattr(self.deduction, severity) if severity in SEVERITIES else 0


class NearMissRule(Section):
    """A rule whose findings say "this sentence IS `intent`": one a reviewer rejects is a
    near miss of that intent (`callqa examples add`, flows.meaning.add_examples)."""

    #: a category, or category:rule_id (which wins over the bare category)
    rule: Selector
    intent: Text


def _one_per_rule(entries: tuple[NearMissRule, ...]) -> tuple[NearMissRule, ...]:
    seen = [e.rule for e in entries]
    for i, rule in enumerate(seen):
        if rule in seen[:i]:
            raise fail(f"{rule!r} is listed twice", i, "rule")
    return entries


class RulePack(Section):
    """A whole pack. Sections in the order of rules.yaml; `banned` is phrases.yaml's."""

    name: Text
    version: Version
    #: sha256 of the pack's files, so two packs with the same version string differ.
    content_hash: str
    rate: RateRules
    holds: HoldRules
    greeting: GreetingRules
    closing: ClosingRules
    overtalk: OvertalkRules
    complaint: ComplaintRules
    confirmation: ConfirmationRules
    followup: FollowupRules
    courtesy: CourtesyRules
    outbound_refusal: RefusalRules
    #: rules.yaml near_misses: which rules' rejected findings feed which intent's negatives.
    near_misses: Annotated[tuple[NearMissRule, ...], LIST, AfterValidator(_one_per_rule)] = ()
    voice: VoiceRules
    scorecard: ScorecardRules
    banned: Annotated[tuple[BannedEntry, ...], LIST, AfterValidator(unique_ids)]
    #: Rules written in the rule language (custom_rules.yaml; analyzers.rulelang).
    custom_rules: Annotated[tuple[Rule, ...], LIST, AfterValidator(unique_ids)] = ()

    @model_validator(mode="after")
    def _rules_scored(self) -> "RulePack":
        # A rule's item must count its findings: the loader adds its selector to the item.
        items = {i.id: i for i in self.scorecard.items}
        for n, rule in enumerate(self.custom_rules):
            if rule.item is None:
                continue
            item = items.get(rule.item)
            if item is None or item.manual:
                raise fail(f"{rule.item!r} is not a graded scorecard item", "custom_rules", n, "item")
            if f"{rule.category}:{rule.id}" not in (*item.findings, *(s for p in item.points for s in p)):
                raise fail(f"the scorecard item {rule.item!r} does not count this rule's findings "
                           f"(analyzers.rulelang.scored adds them)", "custom_rules", n, "item")
        return self

    @model_validator(mode="after")
    def _references(self) -> "RulePack":
        # `{list: section.field}` names a phrase list of the pack, `{setting: ...}` an intent setting.
        for n, rule in enumerate(self.custom_rules):
            for part in rule.parts():
                for c in part.walk():
                    problem = self.reference_problem(getattr(c.phrases, "list_", None), "phrases") \
                        or self.reference_problem(getattr(c.intent, "setting", None), "meaning")
                    if problem:
                        raise fail(problem, "custom_rules", n)
        return self

    @classmethod
    def reference_problem(cls, path: str | None, want: str) -> str | None:
        """What is wrong with a rule's reference to the pack field `path` ("phrases": a phrase
        list, "meaning": an intent setting); None when nothing is."""
        if path is None:
            return None
        section, name = path.split(".")
        model = cls.model_fields[section].annotation if section in cls.model_fields else None
        if name in getattr(model, "model_fields", {}) and name.endswith(want if want == "meaning" else "phrases"):
            return None
        return f"{path!r} names no {want} field of the pack"

    @property
    def lexicon_version(self) -> str:
        """The string that goes into the output tables."""
        return f"{self.name}@{self.version}+{self.content_hash[:12]}"
