"""Findings before/after a check moves into the rule language (issue 32 item 2, rlholds).

    python bench/compare_findings_rlholds.py dump OUT.jsonl [--night DIR] [--synthetic 40]
    python bench/compare_findings_rlholds.py compare BEFORE.jsonl AFTER.jsonl

`dump` writes every finding of `analyze` (category, rule_id, severity, speaker, start/end,
text, detail) and the call's greeting_ok / closing_ok on: the 12 sample calls' true
transcripts, the calls of a tools/make_night.py folder (their per-speaker segments as the
transcript) and bench_analysis's synthetic five-minute calls, each inbound and outbound,
with meaning off (literal phrases) and on (the pack's intents, USE embeddings kept in
--cache so that both dumps read the same vectors). `compare` exits 1 on any difference,
naming the first ones in both directions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the repo's bench/, tools/

from analyzers.analyze import analyze  # noqa: E402
from analyzers.model import CallTruth, SpeechSpan, Transcript, Utterance, from_dict  # noqa: E402
from lexicons import load_pack  # noqa: E402
from tools.sample_set import truth_paths  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def sample_calls() -> list[Transcript]:
    calls = []
    for path in truth_paths(ROOT / "sample_audio"):
        truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
        calls.append(Transcript(path.stem, truth.duration_s, "stereo", tuple(truth.utterances), ()))
    return calls


def night_calls(folder: Path) -> list[Transcript]:
    """make_night's calls: each speaker's segments (the words the clip says) as utterances and
    speech spans, as a stereo call's per-channel detection gives them."""
    calls = []
    for agent in sorted(folder.rglob("*.agent.json")):
        stem = agent.name[: -len(".agent.json")]
        utts = []
        for speaker in ("agent", "customer"):
            segs = json.loads((agent.parent / f"{stem}.{speaker}.json").read_text(encoding="utf-8"))["segments"]
            utts += [Utterance(speaker, s["start"], s["end"], s["text"]) for s in segs]
        utts.sort(key=lambda u: (u.start_s, u.end_s))
        spans = tuple(SpeechSpan(u.speaker, u.start_s, u.end_s) for u in utts)
        calls.append(Transcript(stem, max(u.end_s for u in utts) + 1.0, "stereo", tuple(utts), spans))
    return calls


def rows(transcript: Transcript, pack, direction: str, meaning) -> list[dict]:
    a = analyze(transcript, pack, direction=direction, meaning=meaning)
    head = {"call": transcript.call_id, "direction": direction, "meaning": meaning is not None}
    out = [{**head, "greeting_ok": a.greeting_ok, "closing_ok": a.closing_ok, "hold_count": a.hold_count}]
    for f in a.findings:
        out.append({**head, "category": f.category, "rule_id": f.rule_id, "severity": f.severity,
                    "speaker": f.speaker, "start_s": round(f.start_s, 3), "end_s": round(f.end_s, 3),
                    "text": f.text, "detail": f.detail})
    return out


def dump(out: Path, night: Path | None, synthetic: int, cache_dir: Path) -> None:
    from bench.bench_analysis import _lines, synthetic_call
    from flows.meaning.call import cached_embeddings, decide, plan_intents
    from flows.storage.cache import TranscriptCache

    pack = load_pack("zh-CN")
    calls = sample_calls() + (night_calls(night) if night else [])
    lines = _lines()
    calls += [synthetic_call(i, lines) for i in range(synthetic)]
    plan = plan_intents(pack, ROOT / "lexicons" / "zh-CN" / "examples")
    cache, enc = TranscriptCache(cache_dir), plan.encoder()
    n = 0
    with open(out, "w", encoding="utf-8") as f:
        for t in calls:
            emb, _ = cached_embeddings(cache, f"cmp-{t.call_id}", t, enc)
            meaning = decide(t, emb, plan.models)
            for direction in ("inbound", "outbound"):
                for m in (None, meaning):
                    for r in rows(t, pack, direction, m):
                        f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
                        n += 1
    print(f"{len(calls)} calls, {n} rows -> {out}")


def compare(before: Path, after: Path) -> int:
    a = [line for line in before.read_text(encoding="utf-8").splitlines() if line]
    b = [line for line in after.read_text(encoding="utf-8").splitlines() if line]
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    same_multiset = sorted(a) == sorted(b)
    print(f"before {len(a)} rows, after {len(b)} rows; only before {len(only_a)}, only after {len(only_b)}; "
          f"{'identical' if same_multiset else 'DIFFERENT'}")
    for label, items in (("only before", only_a), ("only after", only_b)):
        for row in items[:10]:
            print(f"  {label}: {row}")
    return 0 if same_multiset else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--night", type=Path, help="a tools/make_night.py output folder")
    d.add_argument("--synthetic", type=int, default=40)
    d.add_argument("--cache", type=Path, default=Path("/tmp/compare_rlholds_cache"))
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = p.parse_args(argv)
    if args.cmd == "dump":
        dump(args.out, args.night, args.synthetic, args.cache)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
