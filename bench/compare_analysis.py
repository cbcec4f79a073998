"""Every output of analysis compared between two checkouts (issue 31's speed work must change
no decision): each Analysis field (findings with all their fields, scores, grades, items,
greeting_ok / closing_ok, rates) and each intent hit with its evidence, row for row.

    python bench/compare_analysis.py --before /work/main [--synthetic 40] [--long 20]

The calls are made once by this checkout: the 12 sample calls' true transcripts,
`--synthetic` calls scripted as tools/make_night.py scripts them and `--long` five-minute
calls as bench/bench_analysis.py builds them (word timings, holds, overtalk). Each checkout
analyses them in its own process (PYTHONPATH = that checkout), inbound and outbound,
literal only and with meaning (the real encoder and the pack's examples). Exit 1 on any
difference, printing the first few.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, fields
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _calls(synthetic: int, long: int) -> list:
    sys.path.insert(0, str(HERE))
    from bench.bench_analysis import _lines, synthetic_call

    lines = _lines()
    return _transcripts(synthetic) + [synthetic_call(10_000 + i, lines) for i in range(long)]


def _transcripts(synthetic: int) -> list:
    """The 12 sample calls' true transcripts and `synthetic` make_night-scripted calls (as the
    removed bench/compare_findings_rlgreet.py made them)."""
    import random

    from analyzers.model import CallTruth, SpeechSpan, Transcript, Utterance, from_dict
    from tools.make_night import load_sources, render, script
    from tools.sample_set import truth_paths

    calls = []
    for path in truth_paths(HERE / "sample_audio"):
        truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
        spans = tuple(SpeechSpan(u.speaker, u.start_s, u.end_s) for u in truth.utterances)
        calls.append(Transcript(truth.call_id, truth.duration_s, truth.layout, truth.utterances, spans))
    src = load_sources()
    for i in range(synthetic):
        rng = random.Random(i)
        audio, segments, _ = render(rng, script(src, rng, outbound=i % 3 == 0, target_s=rng.uniform(8, 60)))
        utts = sorted((Utterance(who, s["start"], s["end"], s["text"]) for who, segs in segments.items() for s in segs),
                      key=lambda u: u.start_s)
        spans = tuple(SpeechSpan(u.speaker, u.start_s, u.end_s) for u in utts)
        calls.append(Transcript(f"synthetic-{i}", round(len(audio) / 8000, 3), "stereo", tuple(utts), spans))
    return calls


def _plain(value):
    """JSON-able, floats as repr (every bit compared)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def dump(calls_json: str, meaning: bool) -> list[str]:
    """This checkout's rows for the calls in `calls_json` (run with PYTHONPATH = the checkout)."""
    import analyzers
    from analyzers.analyze import analyze
    from analyzers.model import Transcript, from_dict
    from flows.meaning.bank import build_models
    from flows.meaning.call import decide, embed_call, pack_intents
    from flows.meaning.encoder import load_encoder
    from lexicons import load_pack

    print("analyzers from", analyzers.__file__, file=sys.stderr)
    pack = load_pack()
    calls = [from_dict(Transcript, c) for c in json.loads(Path(calls_json).read_text(encoding="utf-8"))]
    decided = [None] * len(calls)
    if meaning:
        encoder = load_encoder()
        models = build_models(HERE / "lexicons" / "zh-CN" / "examples", encoder, only=pack_intents(pack))
        decided = [decide(t, embed_call(t, encoder), models) for t in calls]
    rows = []
    for t, m in zip(calls, decided):
        for key, per in sorted((m.hits if m is not None else {}).items()):
            for intent, match in sorted(per.items()):
                got = {f.name: getattr(match, f.name) for f in fields(match)}
                rows.append(json.dumps(["intent", t.call_id, _plain(key), intent, _plain(got)], ensure_ascii=False))
        for direction in ("inbound", "outbound"):
            a = asdict(analyze(t, pack, direction, meaning=m))
            for f in a.pop("findings"):
                rows.append(json.dumps(["finding", t.call_id, direction, _plain(f)], ensure_ascii=False))
            rows.append(json.dumps(["analysis", t.call_id, direction, _plain(a)], ensure_ascii=False))
    return rows


def _run(root: str, calls_json: str, meaning: bool) -> list[str]:
    env = {**os.environ, "PYTHONPATH": root}
    args = [sys.executable, str(Path(__file__).resolve()), "--dump", calls_json] + ([] if meaning else ["--no-meaning"])
    out = subprocess.run(args, cwd=root, env=env, check=True, capture_output=True, text=True)
    print(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "", file=sys.stderr)
    return json.loads(out.stdout.splitlines()[-1])


def _differing(row: str, others: list[str]) -> str:
    """`row`, or where it differs from the other side's row of the same call and direction."""
    kind, call, where, value = json.loads(row)[:4]
    for other in others:
        o = json.loads(other)
        if o[:3] == [kind, call, where] and isinstance(value, dict) and isinstance(o[3], dict):
            diff = {k: v for k, v in value.items() if o[3].get(k) != v}
            return json.dumps([kind, call, where, diff], ensure_ascii=False)[:600]
    return row[:600]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", help="the checkout to compare with (e.g. /work/main)")
    p.add_argument("--synthetic", type=int, default=40)
    p.add_argument("--long", type=int, default=20, help="five-minute calls as bench_analysis builds them")
    p.add_argument("--no-meaning", action="store_true", help="literal only (default: both)")
    p.add_argument("--dump", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.dump:
        print(json.dumps(dump(a.dump, not a.no_meaning), ensure_ascii=False))
        return 0
    bad, tmp = 0, tempfile.mkdtemp()
    calls_json = str(Path(tmp) / "calls.json")
    calls = _calls(a.synthetic, a.long)
    Path(calls_json).write_text(json.dumps([asdict(t) for t in calls], ensure_ascii=False), encoding="utf-8")
    for meaning in ((False,) if a.no_meaning else (False, True)):
        before, after = _run(a.before, calls_json, meaning), _run(str(HERE), calls_json, meaning)
        gone, new = sorted(set(before) - set(after)), sorted(set(after) - set(before))
        kinds = {k: sum(1 for r in before if r.startswith(f'["{k}"')) for k in ("finding", "analysis", "intent")}
        print(f"meaning {'on' if meaning else 'off'}: {len(calls)} calls, {len(before)} rows before {kinds}, "
              f"{len(after)} after; only before {len(gone)}, only after {len(new)}; "
              f"in order: {'same' if before == after else 'DIFFERENT'}")
        for r in gone[:5]:
            print("  - " + _differing(r, new))
        for r in new[:5]:
            print("  + " + _differing(r, gone))
        bad += len(gone) + len(new) + (before != after)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
