"""Findings of two checkouts compared row for row (issue 32 item 2: the greeting and closing
moved into the rule language must find what the Python checks found).

    python bench/compare_findings_rlgreet.py --before /work/main [--synthetic 40] [--no-meaning]

The calls are made once (by this checkout) and each checkout analyses them in its own
process (PYTHONPATH = that checkout): the 12 sample calls' true transcripts and `--synthetic`
calls scripted as tools/make_night.py scripts them, each inbound and outbound, literal only and with meaning decisions (the
real encoder and the pack's examples). Every finding (category, rule_id, severity,
speaker, start/end, text, detail) and analyze's greeting_ok / closing_ok is a row; the
rows must be equal both ways. Exit 1 on any difference, printing the first few.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _transcripts(synthetic: int) -> list:
    sys.path.insert(0, str(HERE))
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


def dump(calls_json: str, meaning: bool) -> list[list]:
    """The rows of this checkout's analyses of the calls in `calls_json` (run with PYTHONPATH =
    the checkout; the calls are made once, by this file's checkout, so both see the same)."""
    from dataclasses import asdict

    import analyzers
    from analyzers.analyze import analyze
    from flows.meaning.bank import build_models
    from flows.meaning.call import decide, embed_call, pack_intents
    from flows.meaning.encoder import load_encoder
    from lexicons import load_pack

    print("analyzers from", analyzers.__file__, file=sys.stderr)
    from analyzers.model import Transcript, from_dict
    pack = load_pack()
    calls = [from_dict(Transcript, c) for c in json.loads(Path(calls_json).read_text(encoding="utf-8"))]
    decided = [None] * len(calls)
    if meaning:
        encoder = load_encoder()
        models = build_models(HERE / "lexicons" / "zh-CN" / "examples", encoder, only=pack_intents(pack))
        decided = [decide(t, embed_call(t, encoder), models) for t in calls]
    rows = []
    for t, m in zip(calls, decided):
        for direction in ("inbound", "outbound"):
            a = analyze(t, pack, direction, meaning=m)
            rows.append([t.call_id, direction, "ok", a.greeting_ok, a.closing_ok])
            rows += [[t.call_id, direction, *(str(v) for v in asdict(f).values())] for f in a.findings]
    return rows


def _run(root: str, calls_json: str, meaning: bool) -> list[list]:
    env = {**os.environ, "PYTHONPATH": root}
    args = [sys.executable, str(Path(__file__).resolve()), "--dump", calls_json]
    out = subprocess.run(args + ([] if meaning else ["--no-meaning"]), cwd=root, env=env, check=True,
                         capture_output=True, text=True)
    print(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "", file=sys.stderr)
    out = out.stdout
    return json.loads(out.splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", help="the checkout to compare with (e.g. /work/main)")
    p.add_argument("--synthetic", type=int, default=40)
    p.add_argument("--no-meaning", action="store_true", help="literal only (default: both)")
    p.add_argument("--dump", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.dump:
        print(json.dumps(dump(a.dump, not a.no_meaning), ensure_ascii=False))
        return 0
    from dataclasses import asdict
    bad, tmp = 0, tempfile.mkdtemp()
    calls_json = str(Path(tmp) / "calls.json")
    Path(calls_json).write_text(json.dumps([asdict(t) for t in _transcripts(a.synthetic)], ensure_ascii=False),
                                encoding="utf-8")
    for meaning in ((False,) if a.no_meaning else (False, True)):
        before, after = _run(a.before, calls_json, meaning), _run(str(HERE), calls_json, meaning)
        b, c = {json.dumps(r, ensure_ascii=False) for r in before}, {json.dumps(r, ensure_ascii=False) for r in after}
        gone, new = sorted(b - c), sorted(c - b)
        findings = sum(1 for r in before if r[2] != "ok")
        mine = {c: sum(1 for r in before if r[2] == c) for c in ("greeting_missing", "closing_missing")}
        print(f"meaning {'on' if meaning else 'off'}: {len(before)} rows before ({findings} findings, {mine}), "
              f"{len(after)} after; only before {len(gone)}, only after {len(new)}")
        for r in gone[:5]:
            print("  - " + r)
        for r in new[:5]:
            print("  + " + r)
        bad += len(gone) + len(new) + abs(len(before) - len(after))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
