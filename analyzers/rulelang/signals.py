"""The rule language's signal tests: what the analyzers already measure (silences as holds,
response times, speech rate, volume, interruption) read as hits on a call's utterances."""

from __future__ import annotations

import itertools
import statistics
from typing import TYPE_CHECKING

from ..holds import find_holds
from ..model import AGENT, Span, other_party
from ..overtalk import overtalk_findings
from .keys import Same
from .schema import Condition, Gap

if TYPE_CHECKING:  # evaluate imports this module
    from .evaluate import Call


def _inside(value: float | None, low: float | None, high: float | None) -> bool:
    return value is not None and (low is None or value >= low - 1e-6) and (high is None or value <= high + 1e-6)


def _duration(call: Call, c: Condition) -> frozenset[int]:
    # Kept on the call by its bounds: most rules ask the same `at_least_s: 0` (every utterance).
    key = ("duration", c.duration.at_least_s, c.duration.at_most_s)
    if key not in call.gaps:
        call.gaps[key] = frozenset(i for i, u in enumerate(call.utts) if _inside(u.duration_s, key[1], key[2]))
    return call.gaps[key]


def silences(call: Call, g: Gap) -> list[Span]:
    """The silences of both parties `g` bounds (analyzers.holds, on speech detection)."""
    key = Same.of(g)  # the bounds' hash found once, not per look-up
    if key not in call.gaps:
        call.gaps[key] = [h for h in find_holds(call.transcript, max(0.1, g.at_least_s or 0.1))
                          if _inside(h.duration_s, g.at_least_s, g.at_most_s)]
    return call.gaps[key]


def _silence(call: Call, c: Condition) -> set[int]:
    hits = set()
    for hold in silences(call, c.silence):
        after = [i for i, u in enumerate(call.utts) if u.start_s >= hold.start_s]
        if after:
            hits.add(after[0])
    return hits


def _response_time(call: Call, c: Condition) -> set[int]:
    # An utterance right after the other party's: the gap is how long they waited.
    g, u = c.response_time, call.utts
    ended = list(itertools.accumulate((x.end_s for x in u), max))  # the latest end up to each utterance
    return {i for i in range(1, len(u)) if u[i].speaker == other_party(u[i - 1].speaker) != u[i - 1].speaker
            and _inside(u[i].start_s - ended[i - 1], g.at_least_s, g.at_most_s)}


def _rate(call: Call, c: Condition) -> set[int]:
    b = c.rate
    return {i for i, r in enumerate(call.rates) if r is not None
            and (b.above is None or r > b.above) and (b.below is None or r < b.below)}


def _volume(call: Call, c: Condition) -> set[int]:
    v, voice = c.volume, call.pack.voice
    if call.transcript.layout != "stereo":  # one channel mixes both voices: no one's level
        return set()
    measured = [i for i, u in enumerate(call.utts) if u.level_db is not None and u.duration_s >= voice.min_duration_s]
    medians = {}
    for who in {call.utts[i].speaker for i in measured}:
        own = [call.utts[i].level_db for i in measured if call.utts[i].speaker == who]
        if len(own) >= voice.min_utterances:
            medians[who] = statistics.median(own)
    hits = set()
    for i in measured:
        u = call.utts[i]
        if not _inside(u.level_db, v.above_dbfs, v.below_dbfs):
            continue
        if v.above_median_db is not None or v.below_median_db is not None:
            if u.speaker not in medians:
                continue
            delta = u.level_db - medians[u.speaker]
            if v.above_median_db is not None and delta < v.above_median_db - 1e-6:
                continue
            if v.below_median_db is not None and delta > -v.below_median_db + 1e-6:
                continue
        hits.add(i)
    return hits


def _interruption(call: Call, c: Condition) -> set[int]:
    rules = call.pack.overtalk
    if c.interruption.at_least_s is not None:
        rules = rules.model_copy(update={"min_overlap_s": c.interruption.at_least_s})
    hits = set()
    for f in overtalk_findings(call.transcript, rules):
        for i, u in enumerate(call.utts):
            if u.speaker == AGENT and u.start_s <= f.start_s + 0.05 and f.start_s < u.end_s + 0.05:
                hits.add(i)
    return hits
