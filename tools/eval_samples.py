"""Transcript and findings quality on the sample calls, from a finished run.

Usage: python tools/eval_samples.py OUT_DIR [--cache-dir DIR]
Prints per call: agent/customer character error rate (words inside each true utterance),
agent chars/min measured vs true, grade, and expected findings found / unexpected; then
per finding category precision and recall (findings matched one to one, same category, rule,
severity and speaker, spanning the expected one within 1 s: analyzers.truth, as
tests/e2e/test_e2e_samples.py counts); then
how far the words of each true utterance start and end from its true times.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace

import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the repo's tools/
from tools.sample_set import truth_paths  # noqa: E402

from analyzers.cer import char_errors
from analyzers.truth import EDGE_TOLERANCE_S, FINDING_TOLERANCE_S, EdgeError, edge_errors, match_findings, words_near  # noqa: F401
from analyzers.model import CallTruth, from_dict
from flows.storage.cache import TranscriptCache
from flows.batch.pipeline import refine
from flows.storage.store import ResultStore

SAMPLES = Path(__file__).resolve().parents[1] / "sample_audio"


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
        pairs, missed, extra = match_findings(mine, truth.expected_findings, FINDING_TOLERANCE_S)
        found = len(pairs)
        for counted, slot in ((pairs, 0), (extra, 1), (missed, 2)):
            for f in counted:
                per_category.setdefault((f[0] if slot == 0 else f).category, [0, 0, 0])[slot] += 1
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
