"""Findings of two checkouts compared row for row (issue 32 item 2: a check moved into the
rule language must find what the Python check found).

    python bench/compare_findings.py --before main [--calls 60] [--meaning off on all]
    python bench/compare_findings.py --before /work/main --ignore-detail complaint_apology_missing

The calls are made once, by this tree: the 12 sample calls' true transcripts and `--calls`
calls of tools/make_night.py (seed 1, 30-90 s; each speaker's segments as the transcript).
Each checkout (`--before`: a folder, or a commit of this repository exported to a temporary
folder; and this tree) analyses them in its own process (PYTHONPATH = that checkout), inbound
and outbound, with meaning off (literal phrases), on (the pack's intents fitted on its
examples, USE embeddings kept in one cache so that both read the same vectors) and "all"
(the complaint's two hooks the pack ships off switched on too). A row is every field of a
finding, or the analysis's score, grade, flag reasons, greeting_ok, closing_ok and counts.
Prints the rows compared and each difference; exits 1 on any.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
MEANINGS = ("off", "on", "all")


def make_calls(night: Path, calls: int) -> list:
    """The sample truths and make_night's calls as transcripts (made once, by this tree)."""
    sys.path.insert(0, str(HERE))
    from analyzers.model import CallTruth, SpeechSpan, Transcript, Utterance, from_dict
    from tools.sample_set import truth_paths

    def transcript(call_id, duration_s, layout, utts):
        utts = sorted(utts, key=lambda u: (u.start_s, u.end_s))
        return Transcript(call_id, duration_s, layout, tuple(utts),
                          tuple(SpeechSpan(u.speaker, u.start_s, u.end_s) for u in utts))

    out = []
    for path in truth_paths(HERE / "sample_audio"):
        t = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
        out.append(transcript(t.call_id, t.duration_s, t.layout, t.utterances))
    if calls:
        subprocess.run([sys.executable, str(HERE / "tools" / "make_night.py"), str(night), "--calls", str(calls),
                        "--seed", "1", "--min-s", "30", "--max-s", "90"], check=True, stdout=subprocess.DEVNULL)
        for line in (night / "night.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            wav = night / row["path"]
            utts = [Utterance(who, s["start"], s["end"], s["text"]) for who in ("agent", "customer")
                    for s in json.loads(wav.with_name(f"{wav.stem}.{who}.json").read_text(encoding="utf-8"))["segments"]]
            out.append(transcript(row["call_id"], row["duration_s"], "stereo", utts))
    return out


def dump(calls_json: Path, meanings: list[str], cache_dir: Path) -> list[list]:
    """The rows of this process's checkout (PYTHONPATH) on the calls in `calls_json`."""
    import analyzers
    from analyzers.analyze import analyze
    from analyzers.model import Transcript, from_dict
    from flows.meaning.call import cached_embeddings, decide, plan_intents
    from flows.storage.cache import TranscriptCache
    from lexicons import load_pack

    print("analyzers from", Path(analyzers.__file__).parents[1], file=sys.stderr)
    pack = load_pack("zh-CN")
    # "all": the complaint's hooks the pack ships off (test P < 0.95) switched on as well
    switched = pack.model_copy(update={"complaint": pack.complaint.model_copy(update={
        "customer_meaning": "customer_complaint", "acknowledge_meaning": "empathy_apology"})})
    packs = {"off": pack, "on": pack, "all": switched}
    examples = Path(analyzers.__file__).parents[1] / "lexicons" / "zh-CN" / "examples"
    plans = {m: plan_intents(packs[m], examples) for m in meanings if m != "off"}
    cache = TranscriptCache(cache_dir)
    rows = []
    for c in (from_dict(Transcript, d) for d in json.loads(calls_json.read_text(encoding="utf-8"))):
        decided = {"off": None}
        for m, plan in plans.items():
            emb, _ = cached_embeddings(cache, f"cmp-{c.call_id}", c, plan.encoder())
            decided[m] = decide(c, emb, plan.models)
        for direction in ("inbound", "outbound"):
            for m in meanings:
                a = analyze(c, packs[m], direction=direction, meaning=decided[m])
                head = [c.call_id, direction, m]
                rows.append([*head, "analysis", a.score, a.grade, list(a.flag_reasons), a.greeting_ok, a.closing_ok,
                             a.hold_count, a.banned_count, a.overtalk_count])
                rows += [[*head, "finding", *[round(v, 3) if isinstance(v, float) else v for v in asdict(f).values()]]
                         for f in a.findings]
    return rows


def _run(root: Path, calls_json: Path, meanings: list[str], cache_dir: Path) -> list[list]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--dump", str(calls_json), "--cache",
                          str(cache_dir), "--meaning", *meanings], cwd=root, env=env, check=True,
                         stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout.splitlines()[-1])


def _checkout(before: str, tmp: Path) -> Path:
    """`before` as a folder: itself, or the commit exported (git archive) under `tmp`."""
    if Path(before).is_dir():
        return Path(before).resolve()
    folder = tmp / "before"
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(HERE), "archive", before], check=True, stdout=subprocess.PIPE).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def compare(before: list[list], after: list[list], ignore_detail: list[str]) -> int:
    """Rows equal both ways (as multisets); `ignore_detail`: categories whose detail is not compared."""
    def key(row):
        if row[3] == "finding" and row[4] in ignore_detail:
            row = [*row[:11], "", *row[12:]]  # detail: the Finding's 8th field
        return json.dumps(row, ensure_ascii=False)

    a, b = Counter(map(key, before)), Counter(map(key, after))
    gone, new = a - b, b - a
    for m in sorted({r[2] for r in before + after}):
        mine = [r for r in before if r[2] == m]
        found = Counter(r[4] for r in mine if r[3] == "finding")
        print(f"meaning {m}: {len(mine)} rows before ({sum(found.values())} findings: "
              f"{', '.join(f'{k} {v}' for k, v in sorted(found.items()))}), {sum(1 for r in after if r[2] == m)} after")
    for label, rows in (("only before", gone), ("only after", new)):
        for row in sorted(rows.elements()):
            print(f"  {label}: {row}")
    print(f"{len(before)} rows before, {len(after)} after: "
          + ("identical" if not gone and not new else f"DIFFERENT ({sum(gone.values())} only before, "
                                                       f"{sum(new.values())} only after)"))
    return 1 if gone or new else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", help="the checkout to compare with: a folder or a commit (e.g. main)")
    p.add_argument("--calls", type=int, default=60, help="make_night calls besides the 12 sample truths")
    p.add_argument("--meaning", nargs="+", choices=MEANINGS, default=list(MEANINGS))
    p.add_argument("--ignore-detail", nargs="*", default=[], metavar="CATEGORY",
                   help="categories whose finding detail is not compared")
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "compare_findings_cache",
                   help="the embeddings both checkouts read")
    p.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.dump:
        print(json.dumps(dump(a.dump, a.meaning, a.cache), ensure_ascii=False))
        return 0
    if not a.before:
        p.error("--before is needed")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        calls_json = tmp / "calls.json"
        calls = make_calls(tmp / "night", a.calls)
        calls_json.write_text(json.dumps([asdict(t) for t in calls], ensure_ascii=False), encoding="utf-8")
        print(f"{len(calls)} calls x inbound/outbound x meaning {'/'.join(a.meaning)}")
        before = _run(_checkout(a.before, tmp), calls_json, a.meaning, a.cache)
        after = _run(HERE, calls_json, a.meaning, a.cache)
    return compare(before, after, a.ignore_detail)


if __name__ == "__main__":
    sys.exit(main())
