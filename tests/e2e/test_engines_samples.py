"""The two whisper engines give the same findings on all 12 sample calls (issue 37 item 3).

The session's sample run (conftest.sample_run) used the default engine (faster wherever its
model is present, as under `make test`); here the other engine redoes the 12 calls, and the
findings are matched one to one per call: same category, rule, severity and speaker, one
span holding the other within FINDING_TOLERANCE_S (analyzers.truth.match_findings, as the
truth comparison does). A finding one engine has and the other lacks must be named below
for its call, with the reason. Slow: one more whisper pass over the 12 calls, by openai-whisper
where the default is faster (6-7 times faster's time; on the shared 2-core machine at load 17,
2026-12-06, call01 alone took ~15 min wall).
"""

from __future__ import annotations

import pyarrow.dataset as ds
import pytest

from analyzers.truth import FINDING_TOLERANCE_S, describe, match_findings
from conftest import SAMPLES, truth_files

pytestmark = pytest.mark.e2e

#: (call, engine that has the finding, "category:rule_id") -> why the other engine lacks it.
#: A difference not named here fails the test; a named one may or may not appear (it
#: depends on the CPU's int8 kernels), and never more than once per entry.
MAY_DIFFER: dict[tuple[str, str, str], str] = {
    ("call03_banned_phrases", "openai", "banned_phrase:dont_know"):
        "faster-whisper's AVX-512 int8 kernels hear 不知道 as 不知等 (tests/speech/test_engines.py)",
    ("call03_banned_phrases", "openai", "reply_missing:reply_to_thanks"):
        "faster-whisper's AVX-512 int8 kernels hear the agent's reply to thanks differently "
        "(tests/speech/test_engines.py)",
    # The sample lines as agents say them (not reworded for whisper, issue 37): slips one engine
    # makes and the other does not (2026-12-06, this AMD AVX-512 machine; named in
    # tests/e2e/test_e2e_samples.py ASR_SLIP_FINDINGS too).
    ("call09_standard_violations", "faster", "closing_missing:satisfaction_check"):
        "faster-whisper hears 是否满意 as 是否买议",
    ("call08_standard_script", "openai", "closing_missing:thanks_goodbye"):
        "openai-whisper hears 致电 as 聚电 (faster hears it right)",
}


class _F:
    def __init__(self, row: dict) -> None:
        self.__dict__.update(row)


def _engine(model_version: str) -> str:
    return "faster" if model_version.startswith("faster-") else "openai"


def _findings(out) -> dict[str, list[_F]]:
    rows = ds.dataset(out / "findings", format="parquet", partitioning="hive").to_table().to_pylist()
    by_call: dict[str, list[_F]] = {}
    for r in rows:
        by_call.setdefault(r["call_id"], []).append(_F(r))
    return by_call


def differences(default: dict, other: dict, engines: tuple[str, str]) -> dict[str, list[tuple[str, _F]]]:
    """Per call, the findings one engine has with no partner in the other's: (engine, finding)."""
    found = {}
    for call in sorted(set(default) | set(other)):
        # match_findings(actual, expected) returns the expected side's leftovers first
        _, only_other, only_default = match_findings(default.get(call, []), other.get(call, []), FINDING_TOLERANCE_S)
        diff = [(engines[0], f) for f in only_default] + [(engines[1], f) for f in only_other]
        if diff:
            found[call] = diff
    return found


def unexplained(found: dict[str, list[tuple[str, _F]]]) -> list[str]:
    """The differences MAY_DIFFER does not name (each entry covers one finding)."""
    left = dict.fromkeys(MAY_DIFFER, 1)
    bad = []
    for call, diff in found.items():
        for engine, f in diff:
            key = (call, engine, f"{f.category}:{f.rule_id}")
            if left.get(key):
                left[key] -= 1
            else:
                bad.append(f"{call}: only {engine}: {describe(f)} {f.detail}")
    return bad


def test_differences_are_matched_one_to_one():
    """A duplicate on one side is a difference, and a named difference covers one finding."""
    def f(rule, start=1.0, end=2.0):
        return _F({"category": "banned_phrase", "rule_id": rule, "severity": "major", "speaker": "agent",
                   "start_s": start, "end_s": end, "text": "x", "detail": ""})

    call = "call03_banned_phrases"
    same = {call: [f("later"), f("later", 1.5, 2.5)]}
    assert differences(same, {call: [f("later", 1.2, 2.2)]}, ("faster", "openai"))[call][0][0] == "faster"
    assert differences(same, same, ("faster", "openai")) == {}
    found = differences({call: [f("dont_know"), f("dont_know", 5, 6)]}, {call: []}, ("openai", "faster"))
    assert len(unexplained(found)) == 1  # the entry names one finding, not two
    assert unexplained(differences({call: []}, {call: [f("dont_know")]}, ("openai", "faster"))) != []  # wrong side
    assert len(unexplained(differences({call: []}, {call: [f("wei", 50, 51)]}, ("openai", "faster")))) == 1


def test_the_other_engine_gives_the_same_findings_on_all_sample_calls(sample_run, model_path, fw_model_path, tmp_path):
    from flows.cli import main

    calls = ds.dataset(sample_run["out"] / "calls", format="parquet", partitioning="hive").to_table().to_pylist()
    stems = {p.stem for p in truth_files()}
    ran = {r["call_id"]: r for r in calls if r["call_id"] in stems}
    assert len(ran) == 12 and all(r["status"] == "ok" for r in ran.values())
    default = _engine(next(iter(ran.values()))["model_version"])
    other = "openai" if default == "faster" else "faster"
    args = ["--engine", other, "--model", model_path if other == "openai" else fw_model_path]
    out, cache = tmp_path / "out", tmp_path / "cache"  # never the shared test cache: the other engine runs here
    assert main(["run", str(SAMPLES), "--out", str(out), "--cache-dir", str(cache), "--quiet", *args]) == 0
    rows = ds.dataset(out / "calls", format="parquet", partitioning="hive").to_table().to_pylist()
    assert {r["call_id"] for r in rows} == stems and all(r["status"] == "ok" for r in rows)
    assert {_engine(r["model_version"]) for r in rows} == {other}

    theirs, ours = _findings(sample_run["out"]), _findings(out)
    theirs = {c: fs for c, fs in theirs.items() if c in stems}
    assert sum(map(len, theirs.values())) >= 50  # the calls have findings, or the comparison says nothing
    found = differences(theirs, ours, (default, other))
    bad = unexplained(found)
    assert not bad, "\n".join(bad)
