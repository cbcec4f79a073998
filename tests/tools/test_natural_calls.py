"""bench/natural_calls: every call file loads as the bench reads it and names only rule ids the
pack has, so a renamed rule fails here loudly. No results asserted: the set is held out."""

from __future__ import annotations

from bench.bench_natural_calls import load_calls, known_rule_ids, transcript
from lexicons import load_pack


def test_the_calls_load_and_name_existing_rules():
    calls = load_calls()
    assert len(calls) >= 16
    known = known_rule_ids(load_pack("zh-CN"))
    for call in calls:
        assert call["direction"] in ("inbound", "outbound"), call["id"]
        assert all(who in ("agent", "customer") and 0 <= s < e for who, s, e, _ in call["utterances"]), call["id"]
        assert transcript(call).utterances, call["id"]
        for e in call["expected"]:
            assert e["rule"] in known, f"{call['id']}: expected rule {e['rule']!r} is not in the zh-CN pack"
            assert e["why"].strip(), f"{call['id']}: {e['rule']} has no reason"
