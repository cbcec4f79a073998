"""A call's analysis and transcript against its ground truth (the sample calls' `<stem>.json`,
tools/make_sample_calls.py): findings matched one to one, word timings against true utterances.

Used by the sample tests (tests/analyzers/test_analyzers_samples.py, tests/e2e/test_e2e_samples.py)
and tools/eval_samples.py, so that a test and the evaluation count the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from analyzers.model import CallTruth

#: A word belongs to a true utterance when its middle lies this close to it (s).
EDGE_WINDOW_S = 0.5
#: Issue 3: word timings within this of the true utterance starts and ends (s).
EDGE_TOLERANCE_S = 0.3
#: How far (s) one span may reach past the other at each end (covers) where whisper
#: heard the call (test_e2e_samples, tools/eval_samples).
FINDING_TOLERANCE_S = 1.0


def _key(f) -> tuple:
    return (f.category, f.rule_id, f.severity, f.speaker)


def covers(actual, expected, tol_s: float) -> bool:
    """Same category, rule, severity and speaker, and one span holds the other within `tol_s`
    at each end: a finding about something said spans the phrase (or, without word times,
    its utterance), which lies inside the utterance the truth names; a finding about
    something missing spans where it was looked for (the greeting window, the hold and the
    reply after it), which may be wider than that utterance."""
    def holds(outer, inner) -> bool:
        return outer.start_s - tol_s <= inner.start_s and inner.end_s <= outer.end_s + tol_s

    return _key(actual) == _key(expected) and (holds(actual, expected) or holds(expected, actual))


def match_findings(actual: Sequence, expected: Sequence, tol_s: float) -> tuple[list, list, list]:
    """One to one: (pairs (expected, actual), missing expected, unexpected actual), the pairs
    as many as `covers` allows (a maximum bipartite matching), so that two expected findings
    are never met by one actual finding, nor one expected by two."""
    fits = [[j for j, a in enumerate(actual) if covers(a, e, tol_s)] for e in expected]
    owner: dict[int, int] = {}  # actual index -> expected index

    def place(i: int, seen: set) -> bool:
        for j in fits[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or place(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    for i in range(len(expected)):
        place(i, set())
    paired = {i: j for j, i in owner.items()}
    pairs = [(expected[i], actual[paired[i]]) for i in sorted(paired)]
    missing = [e for i, e in enumerate(expected) if i not in paired]
    unexpected = [a for j, a in enumerate(actual) if j not in owner]
    return pairs, missing, unexpected


def describe(f) -> str:
    """A finding in one line, for a failing test's message."""
    return f"{f.category}:{f.rule_id} {f.severity} {f.speaker} {f.start_s:.2f}-{f.end_s:.2f} {f.text!r}"


def words_near(transcript, true_utterance, slack_s: float) -> list:
    """The words of the true utterance's speaker whose middle lies inside it, widened by
    `slack_s` on both sides, in transcript order."""
    u = true_utterance
    return [w for x in transcript.utterances if x.speaker == u.speaker for w in x.words
            if u.start_s - slack_s <= (w.start_s + w.end_s) / 2 <= u.end_s + slack_s]


@dataclass(frozen=True)
class EdgeError:
    """How far the words heard in one true utterance start and end from its true times."""

    call_id: str
    speaker: str
    true_start_s: float
    true_end_s: float
    start_error_s: float | None  # first word's start minus the true start; None: no words
    end_error_s: float | None

    @property
    def worst_s(self) -> float:
        return max(abs(self.start_error_s), abs(self.end_error_s)) if self.start_error_s is not None else float("inf")

    def __str__(self) -> str:
        where = f"{self.call_id} {self.speaker} {self.true_start_s:.2f}-{self.true_end_s:.2f}"
        if self.start_error_s is None:
            return f"{where}: no words"
        return f"{where}: start {self.start_error_s:+.2f} s, end {self.end_error_s:+.2f} s"


def edge_errors(transcript, truth: CallTruth) -> list[EdgeError]:
    """One EdgeError per true utterance: the words of its speaker whose middle lies within
    EDGE_WINDOW_S of it, their first start and last end against the true start and end."""
    out = []
    for u in truth.utterances:
        words = words_near(transcript, u, EDGE_WINDOW_S)
        start = round(words[0].start_s - u.start_s, 3) if words else None
        end = round(max(w.end_s for w in words) - u.end_s, 3) if words else None
        out.append(EdgeError(truth.call_id, u.speaker, u.start_s, u.end_s, start, end))
    return out
