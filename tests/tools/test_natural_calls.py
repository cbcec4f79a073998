"""bench/natural_calls/{dev,holdout,blind3,blind4,blind5,blind6,blind7,blind8,blind9,blind10,blind11,blind12,blind13,blind14}: every call file loads as the bench reads it
and names only rule ids the pack has, so a renamed rule fails here loudly. No results asserted: the sets are held out."""

from __future__ import annotations

import pytest

from bench.bench_natural_calls import load_calls, known_rule_ids, transcript
from lexicons import load_pack

# per set: the id prefix and the fewest calls it holds (a lost folder fails here)
SETS = {"dev": ("nc", 16), "holdout": ("ho", 20), "blind3": ("b3", 20), "blind4": ("b4", 20), "blind5": ("b5", 20),
        "blind6": ("b6", 20), "blind7": ("b7", 20), "blind8": ("b8", 20),
        "blind9": ("b9", 20), "blind10": ("b10", 20),
        "blind11": ("b11", 20), "blind12": ("b12", 20),
        "blind13": ("b13", 20), "blind14": ("b14", 20)}


def test_all_is_every_set_with_unique_ids():
    ids = [c["id"] for c in load_calls()]
    assert len(ids) == len(set(ids)) == sum(len(load_calls(which=s)) for s in SETS)


@pytest.mark.parametrize("which", sorted(SETS))
def test_the_calls_load_and_name_existing_rules(which):
    prefix, fewest = SETS[which]
    calls = load_calls(which=which)
    assert len(calls) >= fewest
    assert all(c["id"].startswith(prefix) for c in calls), which
    known = known_rule_ids(load_pack("zh-CN"))
    for call in calls:
        assert call["direction"] in ("inbound", "outbound"), call["id"]
        assert all(who in ("agent", "customer") and 0 <= s < e for who, s, e, _ in call["utterances"]), call["id"]
        assert transcript(call).utterances, call["id"]
        for e in call["expected"]:
            assert e["rule"] in known, f"{call['id']}: expected rule {e['rule']!r} is not in the zh-CN pack"
            assert e["why"].strip(), f"{call['id']}: {e['rule']} has no reason"
