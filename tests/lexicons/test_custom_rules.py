"""custom_rules.yaml: rules in the rule language, loaded with the pack and checked with
file, line and field; `callqa rules check` runs their examples, `rules try` tries them."""

import shutil
from pathlib import Path

import pytest

from flows.cli.main import main
from lexicons import PACKS_DIR, PackError, load_pack

DEFAULT = PACKS_DIR / "zh-CN"
RULE = """rules:
  - id: parcel
    find: {role: agent, phrases: [包裹]}
    severity: minor
    message: mentions a parcel
    examples:
      hit: ["您的包裹明天到。"]
      miss: ["您的订单明天到。"]
"""


def pack_with(tmp_path: Path, text: str | None) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(DEFAULT, folder)
    if text is None:
        (folder / "custom_rules.yaml").unlink()
    else:
        (folder / "custom_rules.yaml").write_text(text, encoding="utf-8")
    return folder


def error_of(folder: Path) -> PackError:
    with pytest.raises(PackError) as info:
        load_pack(folder)
    return info.value


def test_the_file_is_optional_and_part_of_the_packs_hash(tmp_path):
    without = load_pack(pack_with(tmp_path / "a", None))
    assert without.custom_rules == ()
    with_rule = load_pack(pack_with(tmp_path / "b", RULE))
    assert [r.id for r in with_rule.custom_rules] == ["parcel"]
    assert with_rule.content_hash != without.content_hash


@pytest.mark.parametrize("old, new, line, field, says", [
    ("role: agent", "role: boss", 3, "rules[0].find.role", "'boss' is not one of agent, customer"),
    ("role: agent, ", "colour: red, ", 3, "rules[0].find.colour", "unknown field"),
    ("    severity: minor\n", "    severity: minor\n    item: nowhere\n", 5, "rules[0].item",
     "'nowhere' is not a graded scorecard item"),
    ("    severity: minor\n", "    severity: minor\n    item: mandarin\n", 5, "rules[0].item",
     "'mandarin' is not a graded scorecard item"),
    ('      miss: ["您的订单明天到。"]\n', "", 6, "rules[0].examples", "missing field 'miss'"),
    ("find: {role: agent, phrases: [包裹]}", "find: {role: agent}", 3, "rules[0].find",
     "needs exactly one test"),
    ("  - id: parcel\n", "  - id: Parcel Rule\n", 2, "rules[0].id", "should match pattern"),
])
def test_a_mistake_is_named_with_file_line_and_field(tmp_path, old, new, line, field, says):
    err = error_of(pack_with(tmp_path, RULE.replace(old, new)))
    assert (Path(err.file).name, err.line, err.field) == ("custom_rules.yaml", line, field)
    assert says in str(err)


def test_an_intent_test_names_an_intent_of_the_packs_examples(tmp_path):
    assert (DEFAULT / "examples" / "confirmation.yaml").is_file()
    ok = RULE.replace("find: {role: agent, phrases: [包裹]}", "find: {role: agent, intent: confirmation}")
    assert load_pack(pack_with(tmp_path / "a", ok)).custom_rules[0].find.intent == "confirmation"
    err = error_of(pack_with(tmp_path / "b", ok.replace("intent: confirmation", "intent: confirmashun")))
    assert (err.line, err.field) == (3, "rules[0].find") and "intent 'confirmashun' has no examples in examples/" in str(err)


def test_duplicate_rule_ids_are_refused(tmp_path):
    twice = RULE + RULE.removeprefix("rules:\n")
    err = error_of(pack_with(tmp_path, twice))
    assert (err.line, err.field) == (9, "rules[1].id") and "duplicate id 'parcel'" in str(err)


def test_a_rules_item_counts_its_findings(tmp_path):
    pack = load_pack(pack_with(tmp_path, RULE.replace("    severity: minor\n", "    severity: minor\n    item: knowledge\n")))
    knowledge = next(i for i in pack.scorecard.items if i.id == "knowledge")
    assert "pack_rule:parcel" in knowledge.findings
    pack = load_pack(pack_with(tmp_path / "b", RULE.replace("    severity: minor\n",
                                                            "    severity: minor\n    item: polite_wording\n")))
    polite = next(i for i in pack.scorecard.items if i.id == "polite_wording")
    assert polite.points[-1] == ("pack_rule:parcel",)  # a point of its own: one grade down when missed


def test_rules_check_runs_every_example_of_the_default_pack(capsys):
    pack = load_pack()
    count = sum(len(r.examples.hit) + len(r.examples.miss) for r in pack.custom_rules)
    assert main(["rules", "check", "zh-CN"]) == 0
    out = capsys.readouterr().out
    assert f"{len(pack.custom_rules)} rules" in out and f"{count} rule examples passed" in out
    assert count >= 2 * len(pack.custom_rules) > 0  # every rule has a hit and a miss


def test_rules_check_fails_on_an_example_that_misses(tmp_path, capsys):
    folder = pack_with(tmp_path, RULE.replace('miss: ["您的订单明天到。"]', 'miss: ["您的包裹在路上。"]'))
    assert main(["lexicon", "check", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "parcel: examples.miss[0] should not hit but did: A: 您的包裹在路上。" in err
    assert "1 of 2 rule examples failed" in err


@pytest.mark.parametrize("find, says", [
    ("{role: agent, phrases: {list: courtesy.polite_phrasez}}", "'courtesy.polite_phrasez' names no phrases field"),
    ("{role: agent, phrases: {list: courtesy.request_meaning}}", "'courtesy.request_meaning' names no phrases field"),
    ("{role: agent, intent: {setting: courtesy.polite_phrases}}", "'courtesy.polite_phrases' names no meaning field"),
    ("{role: agent, sentence: {role: agent, phrases: [包裹]}}", "a sentence holds text tests only"),
    ("{role: agent, sentence: {duration: {at_least_s: 3}}}", "a sentence holds text tests only"),
])
def test_a_bad_reference_or_sentence_test_is_refused(tmp_path, find, says):
    err = error_of(pack_with(tmp_path, RULE.replace("{role: agent, phrases: [包裹]}", find)))
    assert Path(err.file).name == "custom_rules.yaml" and says in str(err)



def test_a_named_list_and_setting_read_the_pack_at_run_time(tmp_path):
    from analyzers.rulelang.evaluate import pack_rule_findings
    from transcripts import at, call

    rule = RULE.replace("{role: agent, phrases: [包裹]}", "{role: agent, all: [{phrases: {list: courtesy.thanks_phrases}}, "
                        "{not: {intent: {setting: courtesy.thanks_meaning}}}]}")
    rule = rule.replace('hit: ["您的包裹明天到。"]', 'hit: ["谢谢您。"]').replace('miss: ["您的订单明天到。"]', 'miss: ["好的。"]')
    pack = load_pack(pack_with(tmp_path, rule))
    t = call(at("agent", 0.0, 2.0, "多谢您的配合。"))
    assert len(pack_rule_findings(t, pack, "parcel")) == 1
    edited = pack.model_copy(update={"courtesy": pack.courtesy.model_copy(update={"thanks_phrases": ("感谢",)})})
    assert pack_rule_findings(t, edited, "parcel") == []      # the list is read where the pack has it
    meant = (frozenset({"thanks_for_help"}),)
    assert pack_rule_findings(t, pack, "parcel", intents=meant) == []   # the setting names thanks_for_help
    off = pack.model_copy(update={"courtesy": pack.courtesy.model_copy(update={"thanks_meaning": None})})
    assert len(pack_rule_findings(t, off, "parcel", intents=meant)) == 1  # switched off: literal only


def test_only_if_is_checked_on_load_with_its_line(tmp_path):
    bad = RULE.replace("    severity: minor\n", "    only_if: [{role: customer, phrases: {list: complaint.nothing}}]\n"
                       "    severity: minor\n")
    err = error_of(pack_with(tmp_path, bad))
    assert (Path(err.file).name, err.line, err.field) == ("custom_rules.yaml", 4, "rules[0].only_if")
    assert "'complaint.nothing' names no phrases field" in str(err)


def test_rules_try_by_a_rule_id_several_rules_report_as_tries_them_all():
    from types import SimpleNamespace

    from flows.cli.rules import _chosen

    _, rules = _chosen(SimpleNamespace(lexicon="zh-CN", rule="outbound_refusal"))
    assert len(rules) > 1 and {r.finding_id for r in rules} == {"outbound_refusal"}
    _, one = _chosen(SimpleNamespace(lexicon="zh-CN", rule="slow_for_details"))
    assert [r.id for r in one] == ["slow_for_details"]
