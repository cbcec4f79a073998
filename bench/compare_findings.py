"""Every output of analysis compared row for row between two checkouts: a check moved into the
rule language must find what the Python check found (issue 32), a speed change must change no
decision (issue 31).

    python bench/compare_findings.py --before main [--calls 60] [--long 20] [--meaning off on all]
    python bench/compare_findings.py --before /work/main --ignore-detail complaint_apology_missing

The calls are made once, by this tree: the 12 sample calls' true transcripts, `--calls` calls
of tools/make_night.py (seed 1, 30-90 s; each speaker's segments as the transcript) and `--long`
five-minute calls as bench/bench_analysis.py builds them (word timings, holds, overtalk). Each
checkout (`--before`: a folder, or a commit of this repository exported to a temporary folder;
and this tree) analyses them in its own process (PYTHONPATH = that checkout, its own pack and
examples), inbound and outbound, with meaning off (literal phrases), on (the pack's intents
fitted on its examples, USE embeddings kept in one cache so that both read the same vectors)
and "all" (the complaint's two hooks the pack ships off switched on too). A row is a finding
with all its fields, the rest of the Analysis (score, grade, items, flag reasons, greeting_ok,
closing_ok, rates, counts) or an intent hit with its evidence; floats by repr (every bit)
unless `--digits`. Prints the rows compared, whether they came in the same order, and each
difference; exits 1 on any (order included, unless `--any-order`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, fields
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
MEANINGS = ("off", "on", "all")


def make_calls(night: Path, calls: int, long: int = 0) -> list:
    """The sample truths, make_night's calls and bench_analysis's long calls as transcripts."""
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
    if long:
        from bench.bench_analysis import _lines, synthetic_call

        lines = _lines()
        out += [synthetic_call(10_000 + i, lines) for i in range(long)]
    return out


def _plain(value, digits: int | None = None):
    """JSON-able; floats by repr (every bit compared) or rounded to `digits`."""
    if isinstance(value, float):
        return repr(value) if digits is None else round(value, digits)
    if isinstance(value, dict):
        return {str(k): _plain(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, digits) for v in value]
    return value


def _packs(pack) -> dict:
    # "all": the complaint's hooks the pack ships off (test P < 0.95) switched on as well
    switched = pack.model_copy(update={"complaint": pack.complaint.model_copy(update={
        "customer_meaning": "customer_complaint", "acknowledge_meaning": "empathy_apology"})})
    return {"off": pack, "on": pack, "all": switched}


def dump(calls_json: Path, meanings: list[str], cache_dir: Path, digits: int | None = None) -> list[list]:
    """The rows of this process's checkout (PYTHONPATH) on the calls in `calls_json`:
    [call_id, direction, meaning, kind, fields] with kind analysis / finding / intent."""
    import analyzers
    from analyzers.analyze import analyze
    from analyzers.model import Transcript, from_dict
    from flows.meaning import call as meaning_call
    from flows.meaning.call import cached_embeddings, decide, plan_intents
    from flows.storage.cache import TranscriptCache
    from lexicons import load_pack

    print("analyzers from", Path(analyzers.__file__).parents[1], file=sys.stderr)
    packs = _packs(load_pack("zh-CN"))
    examples = Path(analyzers.__file__).parents[1] / "lexicons" / "zh-CN" / "examples"
    plans = {m: plan_intents(packs[m], examples) for m in meanings if m != "off"}
    cache = TranscriptCache(cache_dir)
    rows = []
    for c in (from_dict(Transcript, d) for d in json.loads(calls_json.read_text(encoding="utf-8"))):
        decided = {"off": None}
        for m, plan in plans.items():
            # the sentences' parts too where an intent reads them (a checkout before clause17 has none)
            speakers = getattr(meaning_call, "part_speakers", lambda models: frozenset())(plan.models)
            more = {"speakers": speakers} if speakers else {}
            emb, now = cached_embeddings(cache, f"cmp-{c.call_id}", c, plan.encoder(), **more)
            if now:  # both sides read the kept copy (a checkout may predate embed_call's float16 values)
                emb, _ = cached_embeddings(cache, f"cmp-{c.call_id}", c, plan.encoder(), **more)
            decided[m] = decide(c, emb, plan.models)
            for key, per in sorted(decided[m].hits.items()):
                for intent, match in sorted(per.items()):
                    got = {"key": key, "intent": intent, **{f.name: getattr(match, f.name) for f in fields(match)}}
                    rows.append([c.call_id, "-", m, "intent", _plain(got, digits)])
        for direction in ("inbound", "outbound"):
            for m in meanings:
                a = asdict(analyze(c, packs[m], direction=direction, meaning=decided[m]))
                head = [c.call_id, direction, m]
                rows += [[*head, "finding", _plain(f, digits)] for f in a.pop("findings")]
                rows.append([*head, "analysis", _plain(a, digits)])
    return rows


def _run(root: Path, calls_json: Path, meanings: list[str], cache_dir: Path, digits: int | None) -> list[list]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    args = [sys.executable, str(Path(__file__).resolve()), "--dump", str(calls_json), "--cache", str(cache_dir),
            "--meaning", *meanings] + ([] if digits is None else ["--digits", str(digits)])
    out = subprocess.run(args, cwd=root, env=env, check=True, stdout=subprocess.PIPE, text=True)
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


def _key(row: list, ignore_detail: list[str]) -> str:
    if row[3] == "finding" and row[4].get("category") in ignore_detail:
        row = [*row[:4], {**row[4], "detail": ""}]
    return json.dumps(row, ensure_ascii=False)


def compare(before: list[list], after: list[list], ignore_detail: list[str], any_order: bool = False) -> int:
    """Rows equal both ways (as multisets, and in order unless `any_order`); `ignore_detail`:
    finding categories whose detail is not compared."""
    kb, ka = [_key(r, ignore_detail) for r in before], [_key(r, ignore_detail) for r in after]
    gone, new = Counter(kb) - Counter(ka), Counter(ka) - Counter(kb)
    for m in sorted({r[2] for r in before + after}):
        mine = [r for r in before if r[2] == m]
        found = Counter(r[4]["category"] for r in mine if r[3] == "finding")
        kinds = Counter(r[3] for r in mine)
        print(f"meaning {m}: {len(mine)} rows before ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}; "
              f"findings: {', '.join(f'{k} {v}' for k, v in sorted(found.items()))}), "
              f"{sum(1 for r in after if r[2] == m)} after")
    for label, rows in (("only before", gone), ("only after", new)):
        for row in sorted(rows.elements()):
            print(f"  {label}: {row[:800]}")
    same_order = kb == ka
    print(f"{len(before)} rows before, {len(after)} after: "
          + ("identical" if not gone and not new else f"DIFFERENT ({sum(gone.values())} only before, "
                                                       f"{sum(new.values())} only after)")
          + ("; in the same order" if same_order else "; NOT in the same order"))
    return 1 if gone or new or (not same_order and not any_order) else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", help="the checkout to compare with: a folder or a commit (e.g. main)")
    p.add_argument("--calls", type=int, default=60, help="make_night calls besides the 12 sample truths")
    p.add_argument("--long", type=int, default=20, help="five-minute calls as bench_analysis builds them")
    p.add_argument("--meaning", nargs="+", choices=MEANINGS, default=list(MEANINGS))
    p.add_argument("--ignore-detail", nargs="*", default=[], metavar="CATEGORY",
                   help="categories whose finding detail is not compared")
    p.add_argument("--digits", type=int, help="round floats to this many digits (default: every bit)")
    p.add_argument("--any-order", action="store_true", help="compare rows as multisets only")
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "compare_findings_cache",
                   help="the embeddings both checkouts read")
    p.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.dump:
        print(json.dumps(dump(a.dump, a.meaning, a.cache, a.digits), ensure_ascii=False))
        return 0
    if not a.before:
        p.error("--before is needed")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        calls_json = tmp / "calls.json"
        calls = make_calls(tmp / "night", a.calls, a.long)
        calls_json.write_text(json.dumps([asdict(t) for t in calls], ensure_ascii=False), encoding="utf-8")
        print(f"{len(calls)} calls x inbound/outbound x meaning {'/'.join(a.meaning)}")
        before = _run(_checkout(a.before, tmp), calls_json, a.meaning, a.cache, a.digits)
        after = _run(HERE, calls_json, a.meaning, a.cache, a.digits)
    return compare(before, after, a.ignore_detail, a.any_order)


if __name__ == "__main__":
    sys.exit(main())
