"""The one entry point: `analyze(transcript, pack) -> Analysis`."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .banned import banned_findings, prepare_matchers
from .intents import CallIntents
from .model import AGENT, CUSTOMER, DIRECTIONS, INBOUND, Finding, Transcript
from .overtalk import overtalk_findings
from .rate import rate_findings, speaker_rate, utterance_rates
from .rules import RulePack
from .rulelang.evaluate import custom_findings
from .rulelang.plan import prepare as prepare_rules
from .scorecard import DimensionScore, ItemScore, score_call, with_confidence
from .timeline import talk_s
from .voice import raised_voice_findings


@dataclass(frozen=True)
class Analysis:
    findings: tuple[Finding, ...]
    #: None when the speaker said nothing countable.
    agent_chars_per_min: float | None
    customer_chars_per_min: float | None
    agent_talk_s: float
    customer_talk_s: float
    hold_count: int
    banned_count: int
    overtalk_count: int
    greeting_ok: bool
    closing_ok: bool
    score: float
    grade: str
    flagged: bool
    #: Why the call is flagged (empty when it is not): score, item grades, severities.
    flag_reasons: tuple[str, ...]
    #: The graded items as (item id, findings, grade, points); see `items`.
    dimensions: tuple[DimensionScore, ...]
    #: Per utterance, aligned with transcript.utterances; None for very short ones.
    utterance_chars_per_min: tuple[float | None, ...]
    lexicon_version: str
    #: The standard's scorecard (003 §四): every item, graded or manual, in pack order.
    items: tuple[ItemScore, ...] = ()
    #: Share (0-1) of the scorecard's weight graded automatically; the rest is manual.
    automatic_share: float = 0.0

    @property
    def dimension_grades(self) -> dict[str, str]:
        return {d.name: d.grade for d in self.dimensions}

    @property
    def item_grades(self) -> dict[str, str]:
        """Item id -> grade, "" for manual items."""
        return {i.item_id: i.grade for i in self.items}


#: The flag reason of a call whose speakers are uncertain (Transcript.speakers_uncertain).
SPEAKERS_UNCERTAIN_REASON = "speakers_uncertain: who said what is not certain in this mono recording"


def _clamp(finding: Finding, duration_s: float) -> Finding:
    # ASR timestamps can run past the decoded audio's end; findings stay inside the call.
    end = max(0.0, duration_s)
    start_s = min(max(0.0, finding.start_s), end)
    end_s = min(max(start_s, finding.end_s), end)
    if (start_s, end_s) == (finding.start_s, finding.end_s):
        return finding
    return replace(finding, start_s=start_s, end_s=end_s)


def prepare(pack: RulePack) -> None:
    """Build what analysing with `pack` builds once per process (the banned-phrase
    matchers, jieba's dictionary and tagger), so that a caller can have it done ahead of
    the first call, e.g. while a recording is transcribed. Analyses are the same with or
    without it; call it before, not while, another thread analyses with the same pack."""
    prepare_matchers(pack.banned)
    prepare_rules(pack)  # the rules' conditions compiled, their by-sound regexes built


def analyze(transcript: Transcript, pack: RulePack, direction: str = INBOUND,
            intents: tuple[str | None, ...] | None = None,
            meaning: CallIntents | None = None) -> Analysis:
    """All findings of a call, its scorecard and figures.

    `direction`: "inbound" (the customer called) or "outbound" (the agent called: the
    opening is the outbound script's, and a refusal must be answered as 003 says).
    `intents`: the meaning classifier's intent per utterance (transcript order), for the
    pack's rules with an intent test; None: none computed (such a rule is a RuleError).
    `meaning`: the call's intent decisions (flows/meaning), read by the rules whose pack
    entry names an intent; None = literal phrases only.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    if intents is None and meaning is not None:  # the rule language's `intent:` reads the same decisions
        intents = tuple(meaning.intents_of(u) for u in transcript.utterances)
    # the pack's rules: the greeting, closing, holds, handling and the outbound refusal (whose
    # call the closing rules and repeat_back leave alone: custom_rules.yaml `unless`)
    custom = custom_findings(transcript, pack, direction, intents, meaning)
    findings = [
        *banned_findings(transcript, pack.banned, meaning, pack.overtalk.backchannel_phrases),
        *rate_findings(transcript, pack.rate),
        *overtalk_findings(transcript, pack.overtalk),
        *raised_voice_findings(transcript, pack.voice),
        *custom,
    ]
    findings = sorted(
        (_clamp(f, transcript.duration_s) for f in findings),
        key=lambda f: (f.start_s, f.end_s, f.category, f.rule_id),
    )
    findings = with_confidence(findings, transcript.utterances, pack.scorecard.flag.low_confidence_below)
    if transcript.speakers_uncertain:
        # Kept, not dropped: the words are there, only whose they are is in doubt. QA
        # staff see the mark and the reason instead of an agent charged with the
        # customer's words.
        findings = [replace(f, speaker_uncertain=True) if f.speaker in (AGENT, CUSTOMER) else f for f in findings]
    card = score_call(findings, pack.scorecard)
    flag_reasons = card.flag_reasons
    if transcript.speakers_uncertain:
        flag_reasons = (SPEAKERS_UNCERTAIN_REASON, *flag_reasons)
    count = lambda category: sum(1 for f in findings if f.category == category)  # noqa: E731
    return Analysis(
        findings=tuple(findings),
        agent_chars_per_min=speaker_rate(transcript, AGENT, pack.rate).chars_per_min,
        customer_chars_per_min=speaker_rate(transcript, CUSTOMER, pack.rate).chars_per_min,
        agent_talk_s=round(talk_s(transcript, AGENT), 3),
        customer_talk_s=round(talk_s(transcript, CUSTOMER), 3),
        hold_count=count("hold"),
        banned_count=count("banned_phrase"),
        overtalk_count=count("overtalk"),
        # the greeting's rules (custom_rules.yaml hello, service_offer …) found nothing missing
        greeting_ok=not count("greeting_missing"),
        closing_ok=not count("closing_missing"),
        score=card.score,
        grade=card.grade,
        flagged=bool(flag_reasons),
        flag_reasons=flag_reasons,
        dimensions=card.dimensions,
        utterance_chars_per_min=utterance_rates(transcript, pack.rate),
        lexicon_version=pack.lexicon_version,
        items=card.items,
        automatic_share=card.automatic_share,
    )
