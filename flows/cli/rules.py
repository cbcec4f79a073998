"""`callqa rules check` (also `callqa lexicon check`): validate a rule pack and run every
rule's examples; `callqa rules try`: a rule tried on the cached transcripts of a run."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

from flows.cli.common import Misuse, load_rule_pack, out_of_run

#: Hits shown by `rules try`.
SAMPLE_HITS = 10


def cmd_rules(args) -> int:
    if args.rules_command == "try":
        return cmd_rules_try(args)
    return cmd_lexicon_check(args)


def cmd_lexicon_check(args) -> int:
    from analyzers.rulelang.examples import check_examples

    pack = load_rule_pack(args.path)
    misses = [m for rule in pack.custom_rules for m in check_examples(rule, pack)]
    examples = sum(len(r.examples.hit) + len(r.examples.miss) for r in pack.custom_rules)
    for miss in misses:
        print(f"callqa: example failed: {miss}", file=sys.stderr)
    if misses:
        print(f"callqa: {len(misses)} of {examples} rule examples failed", file=sys.stderr)
        return 1
    inactive = sum(1 for r in pack.custom_rules if not r.active)
    print(f"ok: {pack.name} version {pack.version} ({pack.content_hash[:12]}), "
          f"{len(pack.banned)} banned entries, "
          f"{len(pack.custom_rules)} rules "
          f"({inactive} inactive), {examples} rule examples passed")
    return 0


def _chosen(args):
    """(pack, the rules to try): RULE_OR_PACK is a rule id of --rule-pack, or a pack."""
    pack = load_rule_pack(args.lexicon)
    ids = {r.id: r for r in pack.custom_rules}
    # a rule id, or the rule_id several rules report as (outbound_refusal's four rules): all of them
    named = [r for r in pack.custom_rules if args.rule in (r.id, r.finding_id)]
    if named:
        return pack, named
    if os.sep in args.rule or "/" in args.rule or Path(args.rule).is_dir() or \
            (Path(__file__).resolve().parents[2] / "lexicons" / args.rule).is_dir():
        other = load_rule_pack(args.rule)
        return other, list(other.custom_rules)
    raise Misuse(f"{args.rule!r} is neither a rule of {pack.name} ({', '.join(ids) or 'it has none'}) nor a rule pack")


def cmd_rules_try(args) -> int:
    from analyzers.pii import mask_numbers
    from analyzers.rulelang.evaluate import Call, RuleError, rule_findings
    from analyzers.timeline import clock
    from flows.batch.pipeline import refine
    from flows.storage.cache import TranscriptCache
    from flows.storage.store import ResultStore

    out = out_of_run(args.out)
    pack, rules = _chosen(args)
    cache = TranscriptCache(args.cache_dir or os.path.join(out, "cache", "transcripts"))
    rows = [r for r in ResultStore(out).calls_by_id().values() if r["status"] == "ok"]
    mask = (lambda t: t) if args.no_mask else mask_numbers
    hits, flagged, missing, errors = [], Counter(), 0, Counter()
    for row in sorted(rows, key=lambda r: r["call_id"]):
        transcript = cache.get(row["transcript_key"] or "")
        if transcript is None:
            missing += 1
            continue
        call = Call(refine(transcript), pack, row.get("direction") or "inbound")
        for rule in rules:
            try:
                found = rule_findings(call, rule)
            except RuleError as exc:
                errors[str(exc)] += 1
                continue
            flagged[rule.id] += bool(found)
            hits += [(row["call_id"], rule.id, f) for f in found]
    print(f"{len(rows)} calls in {out}" + (f" ({missing} without a cached transcript, not tried)" if missing else ""))
    for rule in rules:
        print(f"{rule.id}: would flag {flagged[rule.id]} of {len(rows) - missing} calls "
              f"({sum(1 for h in hits if h[1] == rule.id)} hits)" + ("" if rule.active else " [inactive]"))
    for message, n in errors.items():
        print(f"callqa: {message} ({n} calls)", file=sys.stderr)
    for call_id, rule_id, f in hits[:SAMPLE_HITS]:
        print(f"  {call_id} {clock(f.start_s)}-{clock(f.end_s)} {rule_id}: {mask(f.text) or '(' + f.detail + ')'}")
    if len(hits) > SAMPLE_HITS:
        print(f"  … {len(hits) - SAMPLE_HITS} more")
    _verdicts(args.db, out, hits)
    return 1 if errors else 0


def _verdicts(db: str | None, out: str, hits: list) -> None:
    """How reviewers judged the findings at the hits' places (same call, overlapping time)."""
    from flows.review.webapp.db import DB_FILE, default_url, findings, make_engine, verdicts

    if db is None and not (Path(out) / DB_FILE).is_file():
        print("no review database: no verdicts to compare with")
        return
    import sqlalchemy as sa

    engine = make_engine(db or default_url(out))
    query = sa.select(findings.c.call_id, findings.c.start_s, findings.c.end_s, verdicts.c.verdict).join(
        verdicts, sa.and_(verdicts.c.call_id == findings.c.call_id, verdicts.c.finding_id == findings.c.finding_id))
    with engine.connect() as conn:
        judged = conn.execute(query).all()
    engine.dispose()
    near = Counter()
    for call_id, _, f in hits:
        for j in judged:
            if j.call_id == call_id and j.start_s <= f.end_s + 1 and f.start_s <= j.end_s + 1:
                near[j.verdict] += 1
    total = sum(near.values())
    if not total:
        print(f"verdicts: none at these places ({len(judged)} verdicts in the workspace)")
        return
    print(f"verdicts at these places: {total} findings judged, {near['rejected']} rejected "
          f"({near['rejected'] / total:.0%}), {near['confirmed']} confirmed")
