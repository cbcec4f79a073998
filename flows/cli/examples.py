"""`callqa examples add --from-reviews OUT`: the findings reviewers rejected, as near-miss
examples of the intents their rules read (flows.meaning.add_examples)."""

from __future__ import annotations

import argparse
from pathlib import Path

from flows.cli.common import Misuse, load_rule_pack


def rejected_near_misses(out_dir: Path, near_misses) -> tuple[list, list[tuple[str, str]]]:
    """(near misses, [(finding, why skipped)]) of every rejected finding of OUT's exported reviews."""
    import pyarrow.parquet as pq

    from flows.meaning.add_examples import from_finding
    from flows.storage.store import call_file_name

    verdicts_path = out_dir / "reviews" / "verdicts.parquet"
    if not verdicts_path.is_file():
        raise Misuse(f"no {verdicts_path}: run `callqa export reviews --out {out_dir}` first")
    rejected = [v for v in pq.read_table(verdicts_path).to_pylist() if v["verdict"] == "rejected"]
    items, skipped = [], []

    def rows(table: str, call_id: str) -> list[dict]:
        path = out_dir / table / call_file_name(call_id)
        return pq.read_table(path).to_pylist() if path.is_file() else []

    for v in rejected:
        what = f"{v['call_id']} {v['category']}:{v['rule_id']} at {v['start_s']:.1f} s"
        finding = next((f for f in rows("findings", v["call_id"]) if f["finding_id"] == v["finding_id"]), None)
        if finding is None:
            skipped.append((what, "the output no longer has this finding (reprocessed since?)"))
            continue
        got = from_finding({**finding, "origin": v["origin"]}, rows("utterances", v["call_id"]), near_misses,
                           v["reviewer"], v["at"] or "")
        if isinstance(got, str):
            skipped.append((what, got))
        else:
            items.append(got)
    return items, skipped


def cmd_examples(args: argparse.Namespace) -> int:
    from flows.meaning.add_examples import add_near_misses
    from flows.meaning.examples import ExamplesError
    from lexicons.loader import resolve

    pack = load_rule_pack(args.lexicon)
    folder = resolve(args.lexicon) / "examples"
    if not folder.is_dir():
        raise Misuse(f"the rule pack {args.lexicon} has no examples/ folder ({folder})")
    items, skipped = rejected_near_misses(Path(args.from_reviews), pack.near_misses)
    try:
        result = add_near_misses(folder, items, dry_run=args.dry_run)
    except ExamplesError as exc:
        raise Misuse(f"examples error: {exc}") from exc
    verb = "would add" if args.dry_run else "added"
    for m in result.added:
        print(f"{verb} to {m.intent} negative.train: {m.sentence}  # {m.provenance()}")
    for m in result.duplicates:
        print(f"already in {m.intent}: {m.sentence}  ({m.call_id})")
    for m in result.positive:
        print(f"REFUSED, a positive example of {m.intent}: {m.sentence}  # {m.provenance()}\n"
              f"  a reviewer rejected it, the corpus says it is {m.intent}: a person must decide which is right")
    for what, why in skipped:
        print(f"skipped {what}: {why}")
    print(f"{len(result.added)} {verb}, {len(result.duplicates)} already there, {len(result.positive)} refused, "
          f"{len(skipped)} skipped" + (" (dry run: nothing written)" if args.dry_run else f" ({folder})"))
    return 0
