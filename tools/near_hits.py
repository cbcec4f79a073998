"""What near-homophone matching (analyzers/nearsound.py) adds, on text that must not hit.

    python tools/near_hits.py [--night DIR]      # DIR: a tools/make_night.py folder

Every phrase list of the zh-CN pack (each list of strings in phrases.yaml, rules.yaml and
custom_rules.yaml) is run over: the negative examples of lexicons/zh-CN/examples/*.yaml,
the sample calls' true utterances (sample_audio/*.json) and, with --night, the lines of a
make_night folder's transcripts. A "new hit" is a text where a literal phrase of the list
matches only by a near syllable (`nearsound.near_starts`) while no phrase of the list
matches exactly or by sound: what nearsound adds there. Prints each and the counts.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzers.nearsound import near_starts  # noqa: E402
from analyzers.text import contains_any, normalise, strip_punct  # noqa: E402

PACK = ROOT / "lexicons" / "zh-CN"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def phrase_lists(node, where: str = "") -> list[tuple[str, tuple[str, ...]]]:
    """(where, phrases) of every list of strings holding Chinese text in a parsed YAML tree."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out += phrase_lists(v, f"{where}.{k}" if where else str(k))
    elif isinstance(node, list):
        if node and all(isinstance(x, str) for x in node) and any(_CJK.search(x) for x in node):
            out.append((where, tuple(node)))
        else:
            for i, v in enumerate(node):
                out += phrase_lists(v, f"{where}[{i}]")
    return out


def pack_lists() -> list[tuple[str, tuple[str, ...]]]:
    out = []
    for name in ("phrases.yaml", "rules.yaml", "custom_rules.yaml"):
        tree = yaml.safe_load((PACK / name).read_text(encoding="utf-8"))
        # the lists the phrase checks read: not rule examples, not banned (matched by banned.py
        # with homophones only) and not token patterns
        out += [(f"{name}:{w}", p) for w, p in phrase_lists(tree)
                if ".examples" not in w and not w.startswith("banned")]
    return out


def negatives() -> list[tuple[str, str]]:
    """(source, text) of the must-not-hit texts that are always there."""
    out = []
    for path in sorted((PACK / "examples").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for split, lines in (data.get("negative") or {}).items():
            out += [(f"examples/{path.stem} negative.{split}", s) for s in lines]
    for path in sorted((ROOT / "sample_audio").glob("call*_*.json")):
        if path.name.endswith(".meta.json"):
            continue
        truth = json.loads(path.read_text(encoding="utf-8"))
        out += [(f"{truth['call_id']} {u['speaker']} {u['start_s']}", u["text"]) for u in truth["utterances"]]
    return out


def night_lines(folder: Path) -> list[tuple[str, str]]:
    out = []
    for path in sorted(folder.rglob("*.agent.json")) + sorted(folder.rglob("*.customer.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out += [(f"night {path.name}", seg["text"]) for seg in data.get("segments", [])]
    return out


def new_hits(lists, texts) -> list[tuple[str, str, str, str]]:
    """(list, phrase, source, text) where a phrase matches only by a near syllable."""
    found = []
    for where, phrases in lists:
        literals = [strip_punct(normalise(p)) for p in phrases if not p.startswith("re:")]
        long = [p for p in literals if len(p) >= 3]
        if not long:
            continue
        for source, text in texts:
            bare = strip_punct(normalise(text))
            near = [p for p in long if near_starts(bare, p)]
            if near and not _holds_without_near(normalise(text), phrases):
                found.append((where, near[0], source, text))
    return found


def _holds_without_near(text: str, phrases: tuple[str, ...]) -> bool:
    """contains_any's answer with the near search left out (the exact and by-sound hits)."""
    from analyzers import nearsound

    saved = nearsound.group_holds
    nearsound.group_holds = lambda group, bare: False
    try:
        return contains_any(text, list(phrases))
    finally:
        nearsound.group_holds = saved


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--night", type=Path, help="a tools/make_night.py folder")
    args = ap.parse_args()
    lists = pack_lists()
    texts = negatives() + (night_lines(args.night) if args.night else [])
    hits = new_hits(lists, texts)
    for where, phrase, source, text in hits:
        print(f"{where}\t{phrase}\t{source}\t{text}")
    n_long = sum(1 for _, p in lists if any(len(x) >= 3 and not x.startswith("re:") for x in p))
    print(f"{len(hits)} new hits: {len(lists)} phrase lists ({n_long} with a phrase of 3+ chars) "
          f"over {len(texts)} texts")


if __name__ == "__main__":
    main()
