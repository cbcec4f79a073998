"""Check the example corpus (lexicons/zh-CN/examples/*.yaml): shape, counts, duplicates.

    python tools/check_examples.py [FILES...]        # default: every file in the folder
    python tools/check_examples.py --literal [FILES]  # also: how often phrases.yaml's literal lists fire

Exits 1 with one line per problem. Duplicates are compared without punctuation and spaces.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "lexicons" / "zh-CN" / "examples"
MINIMUM = {("positive", "train"): 44, ("positive", "test"): 22,
           ("negative", "train"): 44, ("negative", "test"): 22}
SPEAKERS = {"agent", "customer"}


def _key(sentence: str) -> str:
    from analyzers.text import normalise, strip_punct
    return strip_punct(normalise(sentence))


def check(path: Path) -> list[str]:
    """The problems of one corpus file, as readable lines (empty when it is fine)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        return [f"{path.name}: not valid YAML: {err}"]
    problems = []
    if not isinstance(data, dict):
        return [f"{path.name}: top level is not a mapping"]
    if data.get("intent") != path.stem:
        problems.append(f"{path.name}: intent {data.get('intent')!r} is not the file name")
    if data.get("speaker") not in SPEAKERS:
        problems.append(f"{path.name}: speaker must be one of {sorted(SPEAKERS)}")
    for field in ("description", "standard"):
        if not isinstance(data.get(field), str) or not data[field].strip():
            problems.append(f"{path.name}: {field} missing")
    seen: dict[str, str] = {}
    for (side, split), minimum in MINIMUM.items():
        lines = (data.get(side) or {}).get(split)
        if not isinstance(lines, list) or not all(isinstance(s, str) and s.strip() for s in lines):
            problems.append(f"{path.name}: {side}.{split} must be a list of non-empty strings")
            continue
        if len(lines) < minimum:
            problems.append(f"{path.name}: {side}.{split} has {len(lines)}, needs >= {minimum}")
        for sentence in lines:
            key = _key(sentence)
            where = f"{side}.{split}"
            if key in seen:
                problems.append(f"{path.name}: {sentence!r} in {where} repeats {seen[key]}")
            else:
                seen[key] = f"{where}: {sentence!r}"
    return problems


def _literal_lists(phrases: dict) -> dict:
    """intent -> (phrase list, mode) for the intents phrases.yaml has a literal list for."""
    greeting, closing = phrases["greeting"], phrases["closing"]
    follow = phrases["followup"]
    return {
        "greeting": (greeting["hello"], "any"),
        "service_offer": (greeting["service_offer"], "any"),
        "self_identification": (greeting["self_identification"], "any"),
        "confirmation": (phrases["confirmation"], "sentences"),
        "empathy_apology": (phrases["complaint"]["acknowledge"], "any"),
        # the courtesy check: a request for information AND a polite word in it
        "polite_request": ((phrases["courtesy"]["request"], phrases["courtesy"]["polite"]), "both"),
        "thanks_for_help": (phrases["courtesy"]["thanks"], "any"),
        "reply_to_thanks": (phrases["courtesy"]["reply"], "any"),
        "hold_notice": (phrases["hold_notice"], "any"),
        "hold_reason": (phrases["hold_reason"], "any"),
        "after_hold": (phrases["hold_apology"], "any"),
        "followup_with_time": ((follow["promise"], follow["time_frame"]), "both"),
        "followup_without_time": ((follow["promise"], follow["time_frame"]), "promise_only"),
        "satisfaction_check": (closing["satisfaction_check"], "any"),
        "outbound_purpose": (greeting["outbound_purpose"], "any"),
        "outbound_time_check": (greeting["outbound_time_check"], "any"),
        "refusal": (phrases["outbound_refusal"]["customer"], "any"),
        "customer_complaint": (phrases["complaint"]["customer"], "any"),
    }


def _fires(sentence: str, lists, mode: str) -> bool:
    from analyzers.text import contains_any, normalise, sentences
    text = normalise(sentence)
    if mode == "any":
        return contains_any(text, lists)
    if mode == "sentences":
        return any(contains_any(s, lists) for s in sentences(sentence))
    first, second = lists
    has_first, has_second = contains_any(text, first), contains_any(text, second)
    return has_first and (has_second if mode == "both" else not has_second)


def literal_report(path: Path, phrases: dict) -> str:
    """One line: how many positives and negatives phrases.yaml's literal list fires on."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = _literal_lists(phrases).get(data["intent"])
    if entry is None:
        return f"{path.stem}: no literal list in phrases.yaml"
    lists, mode = entry
    parts = []
    for side in ("positive", "negative"):
        lines = data[side]["train"] + data[side]["test"]
        hits = sum(_fires(s, lists, mode) for s in lines)
        parts.append(f"{side} {hits}/{len(lines)}")
    return f"{path.stem}: literal list fires on " + ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--literal", action="store_true", help="report phrases.yaml's hit rates")
    args = parser.parse_args(argv)
    files = args.files or sorted(EXAMPLES.glob("*.yaml"))
    problems = [p for f in files for p in check(f)]
    for line in problems:
        print(line)
    if args.literal and not problems:
        phrases = yaml.safe_load((ROOT / "lexicons" / "zh-CN" / "phrases.yaml").read_text(encoding="utf-8"))
        for f in files:
            print(literal_report(f, phrases))
    print(f"{len(files)} files, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
