"""Transcript and findings quality on the sample calls, from a finished run.

Usage: python tools/eval_samples.py OUT_DIR [--cache-dir DIR]
Prints per call: agent/customer character error rate (words inside each true utterance),
agent chars/min measured vs true, and expected findings found / unexpected.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from analyzers.cer import char_errors
from analyzers.model import CallTruth, from_dict
from flows.cache import TranscriptCache
from flows.pipeline import refine
from flows.store import ResultStore

SAMPLES = Path(__file__).resolve().parents[1] / "sample_audio"


def speaker_errors(transcript, truth: CallTruth) -> dict[str, tuple[int, int]]:
    """speaker -> (character errors, reference characters) over the true utterances,
    counting the words whose middle falls inside each (0.3 s slack)."""
    out = {}
    for speaker in ("agent", "customer"):
        words = [w for u in transcript.utterances if u.speaker == speaker for w in u.words]
        e = n = 0
        for u in truth.utterances:
            if u.speaker == speaker:
                said = "".join(w.text for w in words if u.start_s - 0.3 <= (w.start_s + w.end_s) / 2 <= u.end_s + 0.3)
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
    print("call\tagent CER\tcustomer CER\tagent cpm (true)\texpected found\tunexpected")
    for path in sorted(SAMPLES.glob("*.json")):
        truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
        row = calls[truth.call_id]
        transcript = refine(cache.get(row["transcript_key"]))
        cer = {}
        for speaker, (e, n) in speaker_errors(transcript, truth).items():
            pooled[speaker][0] += e
            pooled[speaker][1] += n
            cer[speaker] = e / n if n else 0.0
        mine = [f for f in findings if f["call_id"] == truth.call_id]
        hit = lambda a, b: a["category"] == b.category and a["start_s"] - 1 < b.end_s and b.start_s - 1 < a["end_s"]
        found = sum(any(hit(a, e) for a in mine) for e in truth.expected_findings)
        extra = sum(not any(hit(a, e) for e in truth.expected_findings) for a in mine)
        print(f"{truth.call_id}\t{cer['agent']:.3f}\t{cer['customer']:.3f}\t"
              f"{row['agent_chars_per_min']:.0f} ({truth.agent_chars_per_min:.0f})\t"
              f"{found}/{len(truth.expected_findings)}\t{extra}")
    for speaker, (e, n) in pooled.items():
        print(f"pooled {speaker} CER {e / n:.3f} ({e}/{n})")


if __name__ == "__main__":
    main()
