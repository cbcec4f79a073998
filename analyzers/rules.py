"""The rule pack as plain, frozen data.

`lexicons.load_pack` builds a `RulePack` from the YAML files QA staff edit; the
analyzers only ever see this data, so tests can build a pack by hand and the
analyzers never touch files. Every collection is a tuple so a pack is hashable
and can key the matcher cache in `analyzers.phrases`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import GRADES, SEVERITIES  # noqa: F401 - the pack's readers import them from here too

#: Points per grade; a dimension's share of the score is points / 5.
GRADE_POINTS = {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1, "F": 0}

#: A phrase alternative starting with this prefix is a regular expression.
REGEX_PREFIX = "re:"


@dataclass(frozen=True)
class PhraseGroup:
    """A requirement such as "hello": every clause needs one of its alternatives.

    Most groups have one clause (`any:` in YAML); "thanks and goodbye" has two
    (`all:`). Alternatives starting with `re:` are regexes over the normalised text.
    """

    id: str
    clauses: tuple[tuple[str, ...], ...]
    #: The finding's severity when this group is missing; "" = the check's severity.
    severity: str = ""


@dataclass(frozen=True)
class BannedEntry:
    """One banned expression with its variants and the polite uses that excuse it."""

    id: str
    phrases: tuple[str, ...]
    severity: str
    #: Longer expressions that make a hit acceptable when they cover it (麻烦您).
    allow: tuple[str, ...] = ()
    note: str = ""
    #: Also match ASR homophones (same toneless pinyin); ignored for 1-char phrases.
    homophones: bool = True
    #: spaCy Matcher token patterns over jieba tokens, each as canonical JSON text (a
    #: list of token dicts; TAG is jieba's part-of-speech flag). Context-dependent uses
    #: (什么 only as a curt reply, 喂 only as an interjection) are patterns, not phrases.
    patterns: tuple[str, ...] = ()
    #: Token patterns (same form) that excuse a hit they cover, like `allow`.
    allow_patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class RateRules:
    #: Gaps between words longer than this are not speaking time.
    pause_s: float = 0.7
    agent_min_chars_per_min: float = 120.0
    agent_max_chars_per_min: float = 210.0
    #: agent rate / customer rate outside [min, max] is a pace mismatch.
    pace_ratio_min: float = 0.67
    pace_ratio_max: float = 1.5
    #: A speaker needs at least this many chars before their call rate is judged.
    min_chars: int = 20
    #: Utterances shorter than this get no per-utterance rate (timing too noisy).
    min_utterance_chars: int = 4
    fast_severity: str = "minor"
    slow_severity: str = "minor"
    pace_severity: str = "minor"
    #: An agent off the band is still "led by the customer's pace" (003 §三.5(1)3 A) when
    #: within this fraction of the customer's rate: no speech_rate_fast/slow then.
    match_tolerance: float = 0.10


@dataclass(frozen=True)
class HoldRules:
    min_hold_s: float = 6.0
    notice_lookback_s: float = 15.0
    notice_utterances: int = 2
    apology_lookahead_s: float = 15.0
    apology_utterances: int = 2
    notice_phrases: tuple[str, ...] = ()
    apology_phrases: tuple[str, ...] = ()
    hold_severity: str = "info"
    notice_missing_severity: str = "minor"
    apology_missing_severity: str = "minor"
    #: Said with the notice: why the customer waits (查询, 核实 …; 003 §四.2(1)3).
    reason_phrases: tuple[str, ...] = ()
    #: Holds at least this long need a reason with the notice ("较长时间" in 003).
    reason_min_hold_s: float = 6.0
    reason_missing_severity: str = "info"


@dataclass(frozen=True)
class GreetingRules:
    #: Agent utterances starting this long after the agent's first one are not the opening.
    opening_s: float = 15.0
    groups: tuple[PhraseGroup, ...] = ()
    severity: str = "major"
    #: The opening of an outbound call (purpose, a good time) instead of `groups`.
    outbound_groups: tuple[PhraseGroup, ...] = ()


@dataclass(frozen=True)
class ClosingRules:
    last_utterances: int = 3
    #: Agent utterances ending within this long of the agent's last one are the closing.
    closing_s: float = 30.0
    groups: tuple[PhraseGroup, ...] = ()
    severity: str = "major"


@dataclass(frozen=True)
class OvertalkRules:
    min_overlap_s: float = 0.5
    severity: str = "minor"
    #: Short agent responses (嗯, 是的, 好的) said while the customer talks are listening
    #: (001 §2.1 第一步), never overtalk; they also do not make a turn of their own.
    backchannel_phrases: tuple[str, ...] = ()
    backchannel_max_s: float = 1.5


@dataclass(frozen=True)
class RefusalRules:
    """003 §三.5(4)3 e 外呼时客户拒绝: apologise for the disturbance, ask when suits."""

    customer_phrases: tuple[str, ...] = ()
    apology_phrases: tuple[str, ...] = ()
    appointment_phrases: tuple[str, ...] = ()
    severity: str = "major"


@dataclass(frozen=True)
class VoiceRules:
    """003 音量适中 / 自控能力: an agent utterance far louder than the agent's own usual level."""

    #: dB above the median level of the agent's utterances in the same call.
    raised_db: float = 10.0
    #: The median needs this many measured agent utterances to mean anything.
    min_utterances: int = 4
    #: Utterances shorter than this (s) are not judged: a laugh or a cough is not a voice.
    min_duration_s: float = 0.8
    severity: str = "minor"


@dataclass(frozen=True)
class ComplaintRules:
    """001 场景三 立即致歉, 003 §四.2(2)4 先处理客户情绪，再处理事件."""

    #: In the customer's turn: a complaint or upset (投诉, 怎么回事, 太慢了 …).
    customer_phrases: tuple[str, ...] = ()
    #: In the agent's next turn: acknowledgement or apology (非常抱歉, 理解您的心情 …).
    acknowledge_phrases: tuple[str, ...] = ()
    #: ... starting within this many spoken chars of the turn ("before anything else").
    within_chars: int = 12
    severity: str = "major"


@dataclass(frozen=True)
class ConfirmationRules:
    """001 §2.1 复述确认, 000 §2.1 您是说……对吗, 003 §四.2(1)2 确认客户信息."""

    phrases: tuple[str, ...] = ()
    #: The customer must have said this much before a missing confirmation counts.
    min_customer_chars: int = 10
    severity: str = "minor"


@dataclass(frozen=True)
class FollowupRules:
    """001 §2.1 第三步 即时响应: a promise of a callback or reply comes with a time."""

    promise_phrases: tuple[str, ...] = ()
    time_phrases: tuple[str, ...] = ()
    #: A turn asking the customer for the time (什么时候方便) makes an appointment instead.
    asks_time_phrases: tuple[str, ...] = ()
    #: A sentence about the present call (今天给您打电话是想…) is no promise.
    this_call_phrases: tuple[str, ...] = ()
    severity: str = "minor"


@dataclass(frozen=True)
class CourtesyRules:
    """The 礼貌用语 points of 003 §四.2(1)3 that are about words (the hold is HoldRules)."""

    #: The agent asks the customer for information (提供一下, 告诉我, 是多少 …) ...
    request_phrases: tuple[str, ...] = ()
    #: ... with a polite marker in the same sentence (请, 麻烦您, 能否 …).
    polite_phrases: tuple[str, ...] = ()
    #: After the customer answers a request: the agent thanks (谢谢, 感谢 …).
    thanks_phrases: tuple[str, ...] = ()
    #: The customer thanks or apologises (谢谢, 不好意思 …) ...
    customer_thanks_phrases: tuple[str, ...] = ()
    #: ... and the agent replies (不客气, 没关系, 应该的 …).
    reply_phrases: tuple[str, ...] = ()
    polite_request_severity: str = "minor"
    thanks_severity: str = "minor"
    reply_severity: str = "minor"


@dataclass(frozen=True)
class ScoreItem:
    """One item of the standard's scorecard (003 §四.2), graded A-F from its findings.

    A finding belongs to the item with the most specific selector that names it:
    "banned_phrase:jargon" (category:rule_id) before "banned_phrase" (category).
    """

    id: str
    #: The standard's name for the item (规范用语, 礼貌用语 …).
    name: str
    weight: float
    #: Graded by deduction: one grade down per grade point of its findings' severities.
    selectors: tuple[str, ...] = ()
    #: Graded by points instead: one grade down per point with a graded finding
    #: (礼貌用语: "出现其中一点没有使用礼貌用语的评为B级，依次类推"); each point is selectors.
    points: tuple[tuple[str, ...], ...] = ()
    #: Points of the item no recording shows (left to QA staff; not graded down).
    manual_points: int = 0
    #: False: no recording can judge it; in the output ungraded, for QA staff.
    automatic: bool = True


@dataclass(frozen=True)
class ScorecardRules:
    items: tuple[ScoreItem, ...]
    #: Grades down per finding of each severity, as (severity, grades) pairs; a severity
    #: worth 0 (info) is shown but never graded.
    deduction: tuple[tuple[str, int], ...] = (("info", 0), ("minor", 1), ("major", 2), ("critical", 5))
    #: Lowest total (0-100) for A, B, C, D, E (non-increasing); below is F.
    grade_min_score: tuple[float, float, float, float, float] = (90, 70, 50, 30, 10)
    #: A total below this flags the call; None: no score threshold (the grade decides).
    flag_below_score: float | None = 50.0
    #: A call graded one of these is flagged (the default pack: D, E, F).
    flag_grades: tuple[str, ...] = ()
    flag_severities: tuple[str, ...] = ("critical",)
    flag_categories: tuple[str, ...] = ()
    #: Any automatically graded item with one of these grades flags the call.
    flag_item_grades: tuple[str, ...] = ("F",)

    def grades_down(self, severity: str) -> int:
        return dict(self.deduction).get(severity, 0)


@dataclass(frozen=True)
class RulePack:
    name: str
    version: str
    #: sha256 of the pack's files, so two packs with the same version string differ.
    content_hash: str
    rate: RateRules
    holds: HoldRules
    greeting: GreetingRules
    closing: ClosingRules
    banned: tuple[BannedEntry, ...]
    overtalk: OvertalkRules
    scorecard: ScorecardRules
    complaint: ComplaintRules = ComplaintRules()
    confirmation: ConfirmationRules = ConfirmationRules()
    followup: FollowupRules = FollowupRules()
    courtesy: CourtesyRules = CourtesyRules()
    voice: VoiceRules = VoiceRules()
    refusal: RefusalRules = RefusalRules()

    @property
    def lexicon_version(self) -> str:
        """The string that goes into the output tables."""
        return f"{self.name}@{self.version}+{self.content_hash[:12]}"
