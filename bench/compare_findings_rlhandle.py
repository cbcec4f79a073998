"""Findings of a checkout, dumped, and two dumps compared (issue 32 item 2: a check moved to
the rule language must give the same rows).

    PYTHONPATH=BASE python bench/compare_findings_rlhandle.py dump base.json [--night DIR]
    PYTHONPATH=.    python bench/compare_findings_rlhandle.py dump branch.json [--night DIR]
    python bench/compare_findings_rlhandle.py compare base.json branch.json [--ignore-detail CATEGORY ...]

The calls: the 12 sample calls' true transcripts and the synthetic calls of
tools/make_night.py (`--night DIR`: made there with --calls 60 --seed 1 --min-s 30 --max-s 90 unless present),
each analysed as inbound and as outbound, with meaning off (literal phrases), on (the
pack's intents fitted on its examples, decisions from the USE embeddings) and "all" (the
complaint's two hooks the pack ships off switched on too). A row is
(call, direction, meaning, category, rule_id, severity, speaker, start_s, end_s, text, detail);
each analysis's score, grade, flag reasons, greeting_ok and closing_ok are compared too.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def _calls(night: Path):
    from analyzers.model import CallTruth, SpeechSpan, Transcript, Utterance, from_dict

    def transcript(call_id, duration_s, layout, utts):
        spans = tuple(SpeechSpan(u.speaker, u.start_s, u.end_s) for u in utts)
        return Transcript(call_id, duration_s, layout, tuple(utts), spans)

    out = []
    for path in sorted(p for p in (HERE / "sample_audio").glob("*.json") if not Path(p.stem).suffix):
        t = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
        out.append(transcript(t.call_id, t.duration_s, t.layout, t.utterances))
    if not (night / "night.jsonl").exists():
        subprocess.run([sys.executable, str(HERE / "tools" / "make_night.py"), str(night), "--calls", "60",
                        "--seed", "1", "--min-s", "30", "--max-s", "90"], check=True)
    for line in (night / "night.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        wav = night / row["path"]
        utts = []
        for speaker in ("agent", "customer"):
            segs = json.loads(wav.with_name(f"{wav.stem}.{speaker}.json").read_text(encoding="utf-8"))["segments"]
            utts += [Utterance(speaker, s["start"], s["end"], s["text"]) for s in segs]
        utts.sort(key=lambda u: (u.start_s, u.end_s))
        out.append(transcript(row["call_id"], row["duration_s"], "stereo", utts))
    return out


def dump(out: Path, night: Path) -> None:
    from analyzers.analyze import analyze
    from flows.meaning.call import decide, embed_call, plan_intents
    from flows.meaning.encoder import load_encoder
    from lexicons import load_pack

    pack = load_pack("zh-CN")
    # "all": the complaint's hooks the pack ships off (test P < 0.95) switched on as well
    switched = pack.model_copy(update={"complaint": pack.complaint.model_copy(update={
        "customer_meaning": "customer_complaint", "acknowledge_meaning": "empathy_apology"})})
    calls = _calls(night)
    examples = HERE / "lexicons" / "zh-CN" / "examples"
    bank, bank_all = plan_intents(pack, examples), plan_intents(switched, examples)
    enc = load_encoder(bank.encoder_name)
    embedded = [embed_call(c, enc) for c in calls]
    decisions = [(decide(c, e, bank.models), decide(c, e, bank_all.models)) for c, e in zip(calls, embedded)]
    rows, cards = [], []
    for c, (meaning, meaning_all) in zip(calls, decisions):
        for direction in ("inbound", "outbound"):
            for label, p, m in (("off", pack, None), ("on", pack, meaning), ("all", switched, meaning_all)):
                a = analyze(c, p, direction=direction, meaning=m)
                cards.append([c.call_id, direction, label, a.score, a.grade, a.flag_reasons, a.greeting_ok, a.closing_ok])
                for f in a.findings:
                    rows.append([c.call_id, direction, label, f.category, f.rule_id, f.severity, f.speaker,
                                 round(f.start_s, 3), round(f.end_s, 3), f.text, f.detail])
    out.write_text(json.dumps({"calls": len(calls), "intents": sorted(bank.models), "rows": rows, "cards": cards},
                              ensure_ascii=False, indent=0), encoding="utf-8")
    print(f"{len(calls)} calls x 2 directions x meaning off/on/all: {len(rows)} findings -> {out}")


def compare(a: Path, b: Path, ignore_detail: list[str]) -> int:
    da, db = (json.loads(p.read_text(encoding="utf-8")) for p in (a, b))

    def key(row):
        return tuple(row[:10]) + (("" if row[3] in ignore_detail else row[10]),)

    ca, cb = Counter(map(key, da["rows"])), Counter(map(key, db["rows"]))
    only_a, only_b = ca - cb, cb - ca
    print(f"{a.name}: {len(da['rows'])} rows ({da['calls']} calls); {b.name}: {len(db['rows'])} rows ({db['calls']} calls)")
    if da["intents"] != db["intents"]:
        print(f"intents differ: {da['intents']} vs {db['intents']}")
    for label, rows in ((f"only in {a.name}", only_a), (f"only in {b.name}", only_b)):
        for row in sorted(rows.elements()):
            print(f"{label}: {row}")
    # the calls' scores, grades, flag reasons, greeting_ok / closing_ok (reasons name rules
    # by category, so a detail is never in them)
    cards = [(x, y) for x, y in zip(da["cards"], db["cards"]) if x != y]
    for x, y in cards:
        print(f"card differs: {x} vs {y}")
    same = not only_a and not only_b and da["intents"] == db["intents"] and not cards
    print("identical" if same else f"DIFFERENT: {sum(only_a.values())} / {sum(only_b.values())} rows")
    return 0 if same else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--night", type=Path, default=Path("/tmp/compare_findings_night"))
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    c.add_argument("--ignore-detail", nargs="*", default=[],
                   help="categories whose detail is not compared (a rule's message is fixed text)")
    args = ap.parse_args()
    if args.cmd == "dump":
        dump(args.out, args.night)
        return 0
    return compare(args.a, args.b, args.ignore_detail)


if __name__ == "__main__":
    sys.exit(main())
