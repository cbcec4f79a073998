"""Whole calls in natural wording, end to end (issue 31): what analyze raises on held-out calls
written from the standard, against what the standard says each call must raise.

    python bench/bench_natural_calls.py [--set dev|holdout|blind3|blind4|blind5|blind6|blind7|blind8|blind9|blind10|blind11|blind12|blind13|blind14|all] [--meaning off on all] [--cache /tmp/x] [--calls nc01 nc09]

The calls: bench/natural_calls/<set>/*.yaml, one file per call, written blind (committed before their
first run; never tuned on). Sets: dev (nc*, the rule pack may be fixed on them) and holdout (ho*,
only judges those fixes; never tune on it) and blind3 (b3*, a third blind set that judges the fixes made
on dev and holdout; never tune on it) and blind4 (b4*, a fourth blind set that judges the fixes made on
dev, holdout and blind3; never tune on it) and blind5 (b5*, a fifth blind set that judges the fixes made
on dev, holdout, blind3 and blind4; never tune on it) and blind6 (b6*, a sixth blind set that judges the
fixes made on the five before it; never tune on it) and blind7 (b7*, a seventh blind set that judges the
fixes made on the six before it; never tune on it) and blind8 (b8*, an eighth blind set that judges the
fixes made on the seven before it; never tune on it) and blind9 (b9*, a ninth blind set that judges the
fixes made on the eight before it; never tune on it) and blind10 (b10*, a tenth blind set that judges the
fixes made on the nine before it; never tune on it) and blind11 (b11*, an eleventh blind set that judges the
fixes made on the ten before it; never tune on it) and blind12 (b12*, a twelfth blind set that judges the
fixes made on the eleven before it; never tune on it) and blind13 (b13*, a thirteenth blind set that judges the
fixes made on the twelve before it; never tune on it) and blind14 (b14*, a fourteenth blind set that judges the
fixes made on the thirteen before it; never tune on it); --set all (default) reads all fourteen. Schema of a file:

    id: nc01_telecom_data_overage      # the call id (= the file's stem)
    direction: inbound                 # inbound | outbound
    industry: telecom                  # free text, for the reader
    compliant: true                    # written to raise nothing but what `expected` lists
    note: "..."                        # what the call is about
    utterances:                        # [speaker agent|customer, start_s, end_s, text], any order
      - [agent, 1.41, 9.36, "您好，电信客服八六二七号为您服务，请问您要咨询什么业务？"]
    expected:                          # the rule ids (Finding.rule_id) the standard says it must raise
      - {rule: hold, why: "003 §四.2(1)3 ..."}   # one line citing the standard's section

A call is a stereo supplied transcript (no ASR, no word timings): speech spans are its
utterances, so a gap of 6 s is a hold and an utterance starting inside the other party's is
overtalk. Each call is analysed in its own direction with meaning off / on / all exactly as
bench/compare_findings.py does (its `dump`: the pack's intents fitted on the examples, USE
embeddings cached under --cache). Compared as sets of rule ids per call (a rule raised twice
counts once; an expected rule found more than once is shown, not counted). Prints, per
meaning mode, per rule: expected, found, false flags, misses; per call the differences with
the finding's text; then the totals. Exits 0: a bench, not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parents[1]
CALLS_DIR = HERE / "bench" / "natural_calls"
SETS = ("dev", "holdout", "blind3", "blind4", "blind5", "blind6", "blind7", "blind8", "blind9", "blind10", "blind11", "blind12", "blind13", "blind14")
MEANINGS = ("off", "on", "all")
# rule ids the Python analyzers give their findings (analyzers/rate.py, voice.py, overtalk.py)
PYTHON_RULE_IDS = frozenset({"agent_rate_max", "agent_rate_min", "pace_ratio", "louder_than_usual", "agent_interrupts"})


def load_calls(folder: Path = CALLS_DIR, only: list[str] | None = None, which: str = "all") -> list[dict]:
    """The call files as dicts, sorted by id; `which`: dev, holdout, blind3, blind4, blind5, blind6, blind7, blind8, blind9, blind10, blind11, blind12, blind13, blind14 or all; `only`: ids or id prefixes to keep."""
    calls = []
    sets = SETS if which == "all" else (which,)
    for path in sorted((p for s in sets for p in (folder / s).glob("*.yaml")), key=lambda p: p.stem):
        call = yaml.safe_load(path.read_text(encoding="utf-8"))
        if call["id"] != path.stem:
            raise ValueError(f"{path.name}: id {call['id']!r} is not the file's stem")
        if only and not any(call["id"].startswith(o) for o in only):
            continue
        calls.append(call)
    return calls


def known_rule_ids(pack) -> set[str]:
    """Every rule id a finding of `pack` can carry: banned entries, custom rules, the Python checks."""
    return {e.id for e in pack.banned} | {r.finding_id for r in pack.custom_rules} | PYTHON_RULE_IDS


def transcript(call: dict):
    """The call as a stereo Transcript whose speech spans are its utterances."""
    from analyzers.model import SpeechSpan, Transcript, Utterance

    utts = tuple(sorted((Utterance(who, float(s), float(e), text) for who, s, e, text in call["utterances"]),
                        key=lambda u: (u.start_s, u.end_s)))
    return Transcript(call["id"], max(u.end_s for u in utts) + 1.0, "stereo", utts,
                      tuple(SpeechSpan(u.speaker, u.start_s, u.end_s) for u in utts))


def found_rules(calls: list[dict], meanings: list[str], cache: Path) -> dict:
    """{(call id, meaning): {rule id: [said, ...]}} in each call's own direction, via compare_findings.dump."""
    from bench.compare_findings import dump

    direction = {c["id"]: c["direction"] for c in calls}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calls.json"
        path.write_text(json.dumps([asdict(transcript(c)) for c in calls], ensure_ascii=False), encoding="utf-8")
        rows = dump(path, meanings, cache, digits=2)
    found = {(c["id"], m): defaultdict(list) for c in calls for m in meanings}
    for call_id, d, m, kind, f in rows:
        if kind == "finding" and d == direction[call_id]:
            found[(call_id, m)][f["rule_id"]].append(f["text"] or f["detail"])
    return found


def report(calls: list[dict], meanings: list[str], found: dict) -> dict:
    """Prints the tables; returns {meaning: (expected, found, false flags, misses)} totals."""
    totals = {}
    for m in meanings:
        per_rule = defaultdict(lambda: [0, 0, 0, 0])  # expected, found, false flag, miss
        lines = []
        for c in calls:
            want = {e["rule"] for e in c["expected"]}
            got = found[(c["id"], m)]
            for r in want:
                per_rule[r][0] += 1
            for r in got:
                per_rule[r][1] += 1
            extra, missed = sorted(set(got) - want), sorted(want - set(got))
            for r in extra:
                per_rule[r][2] += 1
            for r in missed:
                per_rule[r][3] += 1
            # sets hide a second finding of an expected rule (a hold noticed by words the lists lack): shown, not counted
            again = [f"{r} x{len(got[r])}" for r in sorted(want & set(got)) if len(got[r]) > 1]
            if extra or missed or again:
                lines.append(f"  {c['id']} ({c['direction']}):")
                lines += [f"    FALSE FLAG {r}: {' | '.join(s[:70] for s in got[r])}" for r in extra]
                lines += [f"    MISS       {r}" for r in missed]
                lines += [f"    (expected, found more than once: {', '.join(again)})"] if again else []
        t = [sum(v[i] for v in per_rule.values()) for i in range(4)]
        totals[m] = tuple(t)
        print(f"\n=== meaning {m}: {len(calls)} calls ===")
        print(f"  {'rule':24} {'expected':>8} {'found':>6} {'false':>6} {'misses':>6}")
        for r, v in sorted(per_rule.items()):
            print(f"  {r:24} {v[0]:>8} {v[1]:>6} {v[2]:>6} {v[3]:>6}")
        print(f"  {'TOTAL':24} {t[0]:>8} {t[1]:>6} {t[2]:>6} {t[3]:>6}")
        print("  per call (differences only):")
        print("\n".join(lines) if lines else "    none")
    print("\ntotals (call x rule pairs): " + "; ".join(
        f"{m}: expected {e} / found {f} / false flags {x} / misses {s}" for m, (e, f, x, s) in totals.items()))
    return totals


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--meaning", nargs="+", choices=MEANINGS, default=list(MEANINGS))
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "natural_calls_cache",
                   help="where the calls' USE embeddings are kept")
    p.add_argument("--set", dest="which", choices=SETS + ("all",), default="all",
                   help="which folder of bench/natural_calls/ to run; default all")
    p.add_argument("--calls", nargs="*", help="call ids (or prefixes) to run; default all")
    a = p.parse_args(argv)
    sys.path.insert(0, str(HERE))
    calls = load_calls(only=a.calls, which=a.which)
    report(calls, a.meaning, found_rules(calls, a.meaning, a.cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
