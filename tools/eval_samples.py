"""Transcript and findings quality on the sample calls, from a finished run.

Usage: python tools/eval_samples.py OUT_DIR [--cache-dir DIR]
Prints per call: agent/customer character error rate (words inside each true utterance),
agent chars/min measured vs true, grade, and expected findings found / unexpected; then
per finding category precision and recall (a finding matches an expected one of the same
category and rule overlapping it within 1 s, as tests/e2e/test_e2e_samples.py counts); then
how far the words of each true utterance start and end from its true times.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the repo's tools/
from tools.sample_set import truth_paths  # noqa: E402

from analyzers.cer import char_errors
from analyzers.model import CallTruth, from_dict
from flows.storage.cache import TranscriptCache
from flows.batch.pipeline import refine
from flows.storage.store import ResultStore

SAMPLES = Path(__file__).resolve().parents[1] / "sample_audio"


def words_near(transcript, true_utterance, slack_s: float) -> list:
    """The words of the true utterance's speaker whose middle lies inside it, widened by
    `slack_s` on both sides, in transcript order."""
    u = true_utterance
    return [w for x in transcript.utterances if x.speaker == u.speaker for w in x.words
            if u.start_s - slack_s <= (w.start_s + w.end_s) / 2 <= u.end_s + slack_s]


def speaker_errors(transcript, truth: CallTruth) -> dict[str, tuple[int, int]]:
    """speaker -> (character errors, reference characters) over the true utterances,
    counting the words whose middle falls inside each (0.3 s slack)."""
    out = {}
    for speaker in ("agent", "customer"):
        e = n = 0
        for u in truth.utterances:
            if u.speaker == speaker:
                said = "".join(w.text for w in words_near(transcript, u, 0.3))
                de, dn = char_errors(said, u.text)
                e, n = e + de, n + dn
        out[speaker] = (e, n)
    return out


#: A word belongs to a true utterance when its middle lies this close to it (s).
EDGE_WINDOW_S = 0.5
#: Issue 3: word timings within this of the true utterance starts and ends (s).
EDGE_TOLERANCE_S = 0.3
#: How far (s) a finding may lie from the expected one it matches.
FINDING_TOLERANCE_S = 1.0


def finding_matches(actual, expected, tol_s: float = FINDING_TOLERANCE_S) -> bool:
    """`actual` is `expected`: same category and rule, overlapping within `tol_s`. Both need
    category, rule_id, start_s and end_s attributes. tests/e2e/test_e2e_samples.py counts the
    same way."""
    return (actual.category == expected.category and actual.rule_id == expected.rule_id
            and actual.start_s - tol_s < expected.end_s and expected.start_s - tol_s < actual.end_s)


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


def speaker_text_errors(transcript, truth: CallTruth) -> dict[str, tuple[int, int]]:
    """speaker -> (character errors, reference characters) of all the speaker's text against
    all of the truth's, ignoring time: what was heard, not when it was placed."""
    out = {}
    for speaker in ("agent", "customer"):
        said = "".join(u.text for u in transcript.utterances if u.speaker == speaker)
        out[speaker] = char_errors(said, "".join(u.text for u in truth.utterances if u.speaker == speaker))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--cache-dir")
    args = ap.parse_args()
    store = ResultStore(args.out)
    cache = TranscriptCache(args.cache_dir or Path(args.out) / "cache" / "transcripts")
    calls = store.calls_by_id()
    findings = store.read("findings").to_pylist()
    pooled = {"agent": [0, 0], "customer": [0, 0]}
    edges: list[EdgeError] = []
    per_category: dict[str, list[int]] = {}  # category -> [true positives, false positives, false negatives]
    print("call\tagent CER\tcustomer CER\tagent cpm (true)\tgrade (score)\texpected found\tunexpected")
    for path in truth_paths(SAMPLES):
        truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
        if truth.call_id not in calls:  # a run over some of the sample calls
            continue
        row = calls[truth.call_id]
        transcript = refine(cache.get(row["transcript_key"]))
        edges += edge_errors(transcript, truth)
        cer = {}
        for speaker, (e, n) in speaker_errors(transcript, truth).items():
            pooled[speaker][0] += e
            pooled[speaker][1] += n
            cer[speaker] = e / n if n else 0.0
        mine = [SimpleNamespace(**f) for f in findings if f["call_id"] == truth.call_id]
        found = sum(any(finding_matches(a, e) for a in mine) for e in truth.expected_findings)
        extra = [a for a in mine if not any(finding_matches(a, e) for e in truth.expected_findings)]
        for e in truth.expected_findings:
            per_category.setdefault(e.category, [0, 0, 0])[0 if any(finding_matches(a, e) for a in mine) else 2] += 1
        for a in extra:
            per_category.setdefault(a.category, [0, 0, 0])[1] += 1
        print(f"{truth.call_id}\t{cer['agent']:.3f}\t{cer['customer']:.3f}\t"
              f"{row['agent_chars_per_min']:.0f} ({truth.agent_chars_per_min:.0f})\t"
              f"{row['grade']} ({row['score']:g})\t{found}/{len(truth.expected_findings)}\t{len(extra)}"
              + "".join(f"\n    unexpected {a.category}:{a.rule_id} {a.start_s:.1f} s {a.text!r}"
                        for a in extra))
    print("category\tprecision\trecall\t(tp fp fn)")
    for category, (tp, fp, fn) in sorted(per_category.items()):
        precision = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
        recall = f"{tp / (tp + fn):.2f}" if tp + fn else "-"
        print(f"{category}\t{precision}\t{recall}\t({tp} {fp} {fn})")
    for speaker, (e, n) in pooled.items():
        print(f"pooled {speaker} CER {e / n:.3f} ({e}/{n})")
    timed = [e for e in edges if e.start_error_s is not None]
    misses = [e for e in edges if e.worst_s > EDGE_TOLERANCE_S]
    print(f"word timings: {len(edges) - len(misses)} of {len(edges)} true utterances "
          f"with both edges within {EDGE_TOLERANCE_S} s; mean worst edge "
          f"{sum(e.worst_s for e in timed) / max(1, len(timed)):.3f} s")
    for e in misses:
        print(f"  {e}")


if __name__ == "__main__":
    main()
