"""Banned-phrase false positives and misses on the sample calls' true transcripts.

Usage: python tools/measure_banned.py [--pack zh-CN] [--all-speakers] [--cache-dir DIR] [--meaning]

Runs the banned-phrase matcher over every agent utterance of sample_audio/*.json (the
exact scripted text, so no ASR error is involved) and compares with the truth's
expected banned_phrase findings by utterance and rule_id. A false positive is a hit
the truth does not expect; the rate is per agent utterance. With --all-speakers the
customers' lines are matched too, as if an agent had said them (the customers say
什么？, 不知道, 真烦人 on purpose, which an agent must not): those hits are listed, not
counted as false positives. With --cache-dir, also lists the hits in cached whisper
transcripts (flows' transcript cache) of the same calls, for a look at ASR text. With
--meaning, the agent's hits are the banned findings as a run raises them, the entries'
`meaning:` read too (the pack's banned intents fitted on examples/, the real encoder).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the repo's tools/
from tools.sample_set import truth_paths  # noqa: E402

from analyzers.banned import banned_findings, find_banned
from analyzers.model import AGENT, CallTruth, Transcript, from_dict
from lexicons import load_pack, resolve

SAMPLES = Path(__file__).resolve().parents[1] / "sample_audio"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pack", default="zh-CN")
    ap.add_argument("--all-speakers", action="store_true")
    ap.add_argument("--cache-dir", type=Path)
    ap.add_argument("--meaning", action="store_true", help="also read the entries' meaning: (fits their intents)")
    args = ap.parse_args(argv)
    pack = load_pack(args.pack)
    judge = _meaning_judge(pack) if args.meaning else None
    utterances = fp = fn = tp = 0
    for path in truth_paths(SAMPLES):
        truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
        expected = [f for f in truth.expected_findings if f.category == "banned_phrase"]
        found = judge(truth) if judge else None
        for u in truth.utterances:
            if u.speaker != AGENT and not args.all_speakers:
                continue
            if found is not None and u.speaker == AGENT:
                hits = {(f.rule_id, u.text) for f in found if f.start_s < u.end_s and u.start_s < f.end_s}
            else:
                hits = {(h.entry.id, u.text) for h in find_banned(u.text, pack.banned)}
            if u.speaker != AGENT:
                for rule_id, _ in sorted(hits):
                    print(f"  (customer line) {truth.call_id} {rule_id}: {u.text}")
                continue
            utterances += 1
            want = {(f.rule_id, u.text) for f in expected if f.start_s < u.end_s and u.start_s < f.end_s}
            for rule_id, _ in sorted(hits - want):
                print(f"  FP {truth.call_id} {rule_id}: {u.text}")
            for rule_id, _ in sorted(want - hits):
                print(f"  FN {truth.call_id} {rule_id}: {u.text}")
            fp += len(hits - want)
            fn += len(want - hits)
            tp += len(hits & want)
    print(f"agent utterances {utterances}; banned hits expected {tp + fn}, found {tp}, "
          f"false positives {fp} ({fp / max(1, utterances):.1%} of agent utterances), misses {fn}")
    if args.cache_dir:
        for path in sorted(args.cache_dir.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            known = {f.name for f in dataclasses.fields(Transcript)}
            t = from_dict(Transcript, {k: v for k, v in data.items() if k in known})
            for u in t.utterances:
                if u.speaker == AGENT:
                    for h in find_banned(u.text, pack.banned):
                        print(f"  (whisper) {t.call_id} {h.entry.id} {h.phrase!r}: {u.text}")
    return 0


def _meaning_judge(pack):
    """truth -> its banned findings with the pack's banned intents read by meaning."""
    from flows.meaning.bank_cache import build_models
    from flows.meaning.call import decide, embed_call, part_speakers
    from flows.meaning.encoder import load_encoder
    encoder = load_encoder()
    intents = frozenset(b.meaning for b in pack.banned if b.meaning)
    models = build_models(resolve(pack.name) / "examples", encoder, only=intents)
    print(f"reading by meaning: {', '.join(sorted(intents))}")

    def judge(truth):
        t = Transcript(truth.call_id, truth.duration_s, truth.layout, truth.utterances)
        return banned_findings(t, pack.banned, decide(t, embed_call(t, encoder, part_speakers(models)), models))
    return judge


if __name__ == "__main__":
    raise SystemExit(main())
