import re
import shutil
from pathlib import Path

import pytest
import yaml

from analyzers.analyze import analyze
from lexicons import PACKS_DIR, PackError, load_pack
from transcripts import A, conversation, good_lines

DEFAULT = PACKS_DIR / "zh-CN"


def copy_pack(tmp_path: Path, file: str = "rules.yaml", old: str = "", new: str = "") -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(DEFAULT, folder)
    if old:
        path = folder / file
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} must occur once in {file}"
        path.write_text(text.replace(old, new), encoding="utf-8")
    return folder


def line_of(folder: Path, file: str, needle: str) -> int:
    lines = (folder / file).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def load_error(folder: Path) -> PackError:
    with pytest.raises(PackError) as info:
        load_pack(folder)
    return info.value


def test_default_pack_loads_with_documented_defaults():
    pack = load_pack()
    assert pack == load_pack("zh-CN") == load_pack(DEFAULT)
    assert pack.name == "zh-CN"
    assert re.fullmatch(r"[0-9a-f]{64}", pack.content_hash)
    assert pack.lexicon_version == f"zh-CN@{pack.version}+{pack.content_hash[:12]}"
    assert (pack.rate.agent_min_chars_per_min, pack.rate.agent_max_chars_per_min) == (120, 210)
    assert (pack.rate.pace_ratio_min, pack.rate.pace_ratio_max, pack.rate.pause_s) == (0.67, 1.5, 0.7)
    hold = next(r for r in pack.custom_rules if r.id == "hold")
    assert hold.each.silence.at_least_s == 6.0 and pack.overtalk.min_overlap_s == 0.5
    assert "再见" in pack.closing.goodbye_phrases and pack.closing.farewell_meaning == "farewell"
    assert "您好" in pack.greeting.hello_phrases and pack.greeting.service_offer_meaning == "service_offer"
    assert {e.id for e in pack.banned} >= {"wei", "shenme", "mafan", "dont_know", "blame_shifting"}
    assert "请您稍等" in pack.holds.notice_phrases and "让您久等了" in pack.holds.apology_phrases


def test_content_hash_follows_the_files(tmp_path):
    folder = copy_pack(tmp_path, "phrases.yaml", "[喂, 喂喂, 喂喂喂]", "[喂, 喂喂, 哎]")
    changed = load_pack(folder)
    assert changed.version == load_pack().version
    assert changed.content_hash != load_pack().content_hash


def test_bad_yaml_names_file_and_line(tmp_path):
    folder = copy_pack(tmp_path, "rules.yaml", "  pause_s: 0.7", "  pause_s: [0.7")
    err = load_error(folder)
    assert err.file.endswith("rules.yaml")
    assert err.line is not None and err.line >= line_of(folder, "rules.yaml", "pause_s: [0.7")
    assert "YAML" in str(err) and "rules.yaml:" in str(err)


def test_missing_field(tmp_path):
    folder = copy_pack(tmp_path, "rules.yaml", "  backchannel_max_s: 1.5 ", "  ")
    err = load_error(folder)
    assert err.file.endswith("rules.yaml")
    assert err.line == line_of(folder, "rules.yaml", "overtalk:")
    assert err.field == "overtalk" and "backchannel_max_s" in str(err)


def test_wrong_type(tmp_path):
    folder = copy_pack(tmp_path, "rules.yaml", "  pause_s: 0.7", "  pause_s: fast")
    err = load_error(folder)
    assert (Path(err.file).name, err.line, err.field) == (
        "rules.yaml", line_of(folder, "rules.yaml", "pause_s: fast"), "rate.pause_s")
    assert f"rules.yaml:{err.line}: rate.pause_s" in str(err)


def test_unknown_key(tmp_path):
    folder = copy_pack(tmp_path, "rules.yaml", "  min_overlap_s: 0.5", "  min_overlap_s: 0.5\n  min_overlap: 1")
    err = load_error(folder)
    assert (Path(err.file).name, err.line, err.field) == (
        "rules.yaml", line_of(folder, "rules.yaml", "min_overlap: 1"), "overtalk.min_overlap")
    assert "unknown field" in str(err)


def test_bad_regex(tmp_path):
    folder = copy_pack(tmp_path, "phrases.yaml", '"re:[0-9零〇一二三四五六七八九幺]{3,}号"', '"re:[0-9"')
    err = load_error(folder)
    assert (Path(err.file).name, err.line) == ("phrases.yaml", line_of(folder, "phrases.yaml", "re:[0-9"))
    index = yaml.safe_load((folder / "phrases.yaml").read_text(encoding="utf-8"))["greeting"]["self_identification"].index("re:[0-9")
    assert err.field == f"greeting.self_identification[{index}]" and "regular expression" in str(err)


def test_bad_severity_in_banned_entry(tmp_path):
    folder = copy_pack(tmp_path, "phrases.yaml", "phrases: [没办法]\n    severity: major",
                       "phrases: [没办法]\n    severity: awful")
    err = load_error(folder)
    assert Path(err.file).name == "phrases.yaml"
    assert err.field.endswith(".severity") and err.field.startswith("banned[")
    assert err.line == line_of(folder, "phrases.yaml", "severity: awful")


def test_allow_that_cannot_excuse_anything(tmp_path):
    folder = copy_pack(tmp_path, "phrases.yaml", "allow: [不知道您]", "allow: [不晓得您]")
    err = load_error(folder)
    assert err.field.endswith(".allow[0]") and err.line == line_of(folder, "phrases.yaml", "不晓得您")


def test_duplicate_id_and_bad_grade_table(tmp_path):
    err = load_error(copy_pack(tmp_path / "a", "phrases.yaml", "- id: later", "- id: no_way"))
    assert "duplicate id" in str(err) and err.field.endswith(".id")
    err = load_error(copy_pack(tmp_path / "b", "rules.yaml", "{A: 90, B: 70,", "{A: 90, B: 95,"))
    assert err.field == "scorecard.grade_min_score.B"


def test_unknown_pack_name():
    with pytest.raises(PackError, match="no such pack"):
        load_pack("xx-NOPE")


def test_second_pack_by_path_changes_findings(tmp_path):
    folder = copy_pack(tmp_path, "phrases.yaml", "phrases: [自己看]", "phrases: [自己看, 稍后]")
    text = (folder / "rules.yaml").read_text(encoding="utf-8")
    (folder / "rules.yaml").write_text(
        text.replace("name: zh-CN", "name: strict").replace("agent_max_chars_per_min: 210", "agent_max_chars_per_min: 170")
        .replace("match_tolerance: 0.10", "match_tolerance: 0.0"),
        encoding="utf-8")
    strict = load_pack(str(folder))
    lines = good_lines()
    lines[4] = (A, lines[4][1] + "好的，稍后给您回电。")
    t = conversation(lines)
    default = analyze(t, load_pack())
    other = analyze(t, strict)
    assert [f.category for f in default.findings] == []
    assert sorted(f.category for f in other.findings) == ["banned_phrase", "speech_rate_fast"]
    assert other.lexicon_version.startswith("strict@")


def test_missing_file_and_non_mapping_document(tmp_path):
    folder = copy_pack(tmp_path / "a")
    (folder / "phrases.yaml").unlink()
    err = load_error(folder)
    assert err.file.endswith("phrases.yaml") and "missing pack file" in str(err)
    folder = copy_pack(tmp_path / "b")
    (folder / "rules.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    err = load_error(folder)
    assert err.file.endswith("rules.yaml") and err.line == 1


def test_a_phrase_list_must_be_a_list(tmp_path):
    folder = copy_pack(tmp_path, "phrases.yaml", "  thanks: [感谢, 谢谢, 多谢,", "  thanks: 感谢\n  thanks_lines: [")
    err = load_error(folder)
    assert (err.field, err.line) == ("closing.thanks", line_of(folder, "phrases.yaml", "  thanks: 感谢"))
    assert "expected a list" in str(err)


def test_python_tags_are_refused(tmp_path):
    folder = copy_pack(tmp_path, "rules.yaml", 'version: "2024.11-1"', 'version: !!python/object/apply:os.getcwd []')
    err = load_error(folder)
    assert err.line == line_of(folder, "rules.yaml", "!!python") and "YAML" in str(err)


def test_bad_token_pattern_names_file_line_field(tmp_path):
    folder = copy_pack(tmp_path, "phrases.yaml", "      - [{ORTH: {IN: [什么, 甚么, 神马]}}, {ORTH: 意思}]",
                       "      - [{ORTH: {IN: [什么, 甚么, 神马]}}, {ORHT: 意思}]")
    err = load_error(folder)
    assert (Path(err.file).name, err.line) == ("phrases.yaml", line_of(folder, "phrases.yaml", "ORHT"))
    assert err.field.startswith("banned[") and err.field.endswith("].patterns[1]")
    assert "token pattern" in str(err)


def test_token_pattern_must_be_a_list_of_tokens(tmp_path):
    folder = copy_pack(tmp_path, "phrases.yaml", "      - [{IS_SENT_START: true, ORTH: {IN: [喂, 喂喂, 喂喂喂]}}]",
                       "      - 喂")
    err = load_error(folder)
    assert "token pattern" in str(err) and err.field.endswith("patterns[0]")


def test_new_sections_are_checked(tmp_path):
    # (complaint.within_chars is the rule apology_first's `starts_within` since issue 32 item 2)
    folder = copy_pack(tmp_path, "rules.yaml", "  raised_db: 10", "  raised_db: soon")
    err = load_error(folder)
    assert (err.field, err.line) == ("voice.raised_db", line_of(folder, "rules.yaml", "raised_db: soon"))


def test_scorecard_items_are_checked(tmp_path):
    err = load_error(copy_pack(tmp_path / "a", "rules.yaml", "findings: [confirmation_missing]",
                               "findings: [confirmation_mising]"))
    assert err.field == "scorecard.items[1].findings[0]" and "confirmation_mising" in str(err)
    err = load_error(copy_pack(tmp_path / "b", "rules.yaml", "findings: [confirmation_missing]",
                               "findings: [overtalk]"))
    assert "already counted by item 'customer_info'" in str(err) and err.field == "scorecard.items[3].findings"
    err = load_error(copy_pack(tmp_path / "c", "rules.yaml", "name: 普通话标准程度, weight: 1, manual: true}",
                               "name: 普通话标准程度, weight: 1, manual: true, findings: [overtalk]}"))
    assert "manual item" in str(err)


def test_scorecard_weights_say_they_are_project_defaults():
    text = (DEFAULT / "rules.yaml").read_text(encoding="utf-8")
    assert "THE PROJECT'S DEFAULTS" in text and "003" in text


def test_every_field_of_the_pack_is_written_in_exactly_one_place():
    from analyzers.rules import RulePack
    from lexicons.layout import COMPUTED, IN_PHRASES, OWN_FILE, SPLIT, RulesFile

    def fields(model, name):
        """(name,) for a section one file holds, (name, field) for each field of a split one."""
        return {(name, f) for f in model.model_fields} if name in SPLIT else {(name,)}

    written = [(c,) for c in (*COMPUTED, *OWN_FILE)]
    written += [(section,) if field is None else (section, field) for section, field in IN_PHRASES.values()]
    for name, info in RulesFile.model_fields.items():
        written += fields(info.annotation, name)
    assert len(written) == len(set(written))  # none twice
    wanted = set()
    for name, info in RulePack.model_fields.items():
        wanted |= fields(info.annotation, name)
    assert set(written) == wanted


def test_pack_holds_the_values_written_in_the_files():
    """Each phrases.yaml list and rules.yaml value, read with plain YAML, is in the pack where
    the layout puts it, unchanged (what each field means: the analyzer tests)."""
    import yaml

    from lexicons.layout import IN_PHRASES

    pack = load_pack()
    phrases = yaml.safe_load((DEFAULT / "phrases.yaml").read_text(encoding="utf-8"))
    rules = yaml.safe_load((DEFAULT / "rules.yaml").read_text(encoding="utf-8"))
    for path, (section, field) in IN_PHRASES.items():
        value = getattr(pack, section) if field is None else getattr(getattr(pack, section), field)
        if path[0] == "meaning" or path[-1].endswith("_meaning"):  # one intent, or left out (commented): None
            assert value == phrases[path[0]].get(path[-1]), path
            continue
        written = phrases[path[0]] if len(path) == 1 else phrases[path[0]][path[1]]
        assert len(value) == len(written), path
        if isinstance(written[0], str):
            assert value == tuple(p.strip() for p in written), path
        else:
            assert [entry.id for entry in value] == [entry["id"] for entry in written], path
    # (courtesy, holds, greeting, closing, confirmation, followup, complaint, outbound_refusal: all of it in
    # phrases.yaml since their checks are rules of custom_rules.yaml)
    for section in ("rate", "overtalk", "voice"):
        for key, written in rules[section].items():
            assert getattr(getattr(pack, section), key) == written, (section, key)
    card = rules["scorecard"]
    assert dict(pack.scorecard.deduction) == card["deduction"]
    assert dict(pack.scorecard.grade_min_score) == card["grade_min_score"]
    # ... and the rules of custom_rules.yaml counted by the item each names
    by_rule = {i["id"]: [f"{r.category}:{r.id}" for r in pack.custom_rules if r.item == i["id"]] for i in card["items"]}
    assert [(i.id, i.weight, i.manual, list(i.findings)) for i in pack.scorecard.items] == [
        (i["id"], i["weight"], i.get("manual", False), i.get("findings", []) + ([] if "points" in i else by_rule[i["id"]]))
        for i in card["items"]]
    assert [list(map(list, i.points)) for i in pack.scorecard.items] == [
        i.get("points", []) + ([[s] for s in by_rule[i["id"]]] if "points" in i else []) for i in card["items"]]
    assert (pack.name, pack.version) == (rules["name"], rules["version"])


def test_unknown_field_names_line_and_the_expected_fields(tmp_path):
    folder = copy_pack(tmp_path, "rules.yaml", "name: 普通话标准程度, weight: 1, manual: true}",
                       "name: 普通话标准程度, weight: 1, manual: true, colour: red}")
    err = load_error(folder)
    assert (Path(err.file).name, err.line, err.field) == (
        "rules.yaml", line_of(folder, "rules.yaml", "colour: red"), "scorecard.items[7].colour")
    assert str(err).endswith(
        "unknown field (expected one of: findings, id, manual, manual_points, name, points, weight)")
    folder = copy_pack(tmp_path / "b", "phrases.yaml", "phrases: [没办法]", "phrases: [没办法]\n    flavour: x")
    err = load_error(folder)
    assert (err.line, err.field) == (line_of(folder, "phrases.yaml", "flavour: x"), "banned[9].flavour")
    assert "expected one of: allow, allow_patterns, homophones, id, meaning, meaning_min_probability, note, patterns, phrases, severity" in str(err)


def test_wrong_type_deep_in_a_list(tmp_path):
    folder = copy_pack(tmp_path, "rules.yaml", "      manual_points: 1 ", "      manual_points: 1.5 ")
    err = load_error(folder)
    assert (err.line, err.field) == (line_of(folder, "rules.yaml", "manual_points: 1.5"),
                                     "scorecard.items[2].manual_points")
    assert str(err).endswith("expected an integer, got float 1.5")
    folder = copy_pack(tmp_path / "b", "phrases.yaml", "  thanks: [感谢, 谢谢, 多谢,", "  thanks: [感谢, 4, 多谢,")
    err = load_error(folder)
    assert (err.line, err.field) == (line_of(folder, "phrases.yaml", "[感谢, 4, 多谢,"), "closing.thanks[1]")
    assert str(err).endswith("expected a non-empty phrase, got int 4")
    folder = copy_pack(tmp_path / "c", "rules.yaml", "  min_chars: 20", "  min_chars: '20'")
    err = load_error(folder)  # quoted in YAML: text, not a number
    assert (err.line, err.field) == (line_of(folder, "rules.yaml", "min_chars: '20'"), "rate.min_chars")
    assert str(err).endswith("expected an integer, got str '20'")


def test_out_of_range_numbers(tmp_path):
    folder = copy_pack(tmp_path, "rules.yaml", "{info: 0, minor: 1, major: 2, critical: 5}",
                       "{info: 0, minor: 1, major: 2, critical: 6}")
    err = load_error(folder)
    assert (err.line, err.field) == (line_of(folder, "rules.yaml", "critical: 6"), "scorecard.deduction.critical")
    assert str(err).endswith("must be at most 5, got 6")
    folder = copy_pack(tmp_path / "b", "rules.yaml", "  min_overlap_s: 0.5", "  min_overlap_s: -0.5")
    err = load_error(folder)
    assert (err.line, err.field) == (line_of(folder, "rules.yaml", "min_overlap_s: -0.5"), "overtalk.min_overlap_s")
    assert str(err).endswith("must be at least 0, got -0.5")
    folder = copy_pack(tmp_path / "c", "rules.yaml", "  pause_s: 0.7", "  pause_s: .nan")
    assert str(load_error(folder)).endswith("rate.pause_s: expected a number, got float nan")


def test_bad_regex_in_a_plain_phrase_list(tmp_path):
    folder = copy_pack(tmp_path, "phrases.yaml", "hold_notice: [请稍等,", 'hold_notice: [请稍等, "re:(",')
    err = load_error(folder)
    assert (Path(err.file).name, err.line, err.field) == (
        "phrases.yaml", line_of(folder, "phrases.yaml", 'hold_notice: [请稍等, "re:("'), "hold_notice[1]")
    assert "bad regular expression 're:('" in str(err)


def test_cross_field_checks_name_the_field(tmp_path):
    folder = copy_pack(tmp_path, "rules.yaml", "pace_ratio_max: 1.5", "pace_ratio_max: 0.5")
    err = load_error(folder)
    assert (err.line, err.field) == (line_of(folder, "rules.yaml", "pace_ratio_max: 0.5"), "rate.pace_ratio_max")
    assert str(err).endswith("must be above pace_ratio_min")
    folder = copy_pack(tmp_path / "b", "rules.yaml", "- {id: clarity,", "- {id: mandarin,")
    err = load_error(folder)
    assert (err.line, err.field) == (line_of(folder, "rules.yaml", "{id: mandarin, name: 表达清晰度"),
                                     "scorecard.items[8].id")
    assert str(err).endswith("duplicate id 'mandarin'")
    folder = copy_pack(tmp_path / "c", "rules.yaml", "    grades: [D, E, F]", "    grades: [D, E, F]\n    grades: [F]")
    err = load_error(folder)  # the YAML loader's own check
    assert (err.line, err.field) == (line_of(folder, "rules.yaml", "grades: [F]"), "grades")
    assert str(err).endswith("duplicate key")


def test_analyzers_import_no_lexicons_and_pydantic_only_for_the_pack_schema():
    """The analyzers read the pack's models (analyzers.rules, with its field types in
    analyzers.rule_types); only those two declare them with pydantic, and no analyzer
    imports the loader."""
    root = Path(__file__).resolve().parents[2] / "analyzers"
    for path in root.glob("*.py"):
        imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", path.read_text(encoding="utf-8"), re.M)
        assert not [m for m in imports if m.split(".")[0] == "lexicons"], path
        if path.name not in ("rules.py", "rule_types.py"):
            assert not [m for m in imports if m.split(".")[0] in ("pydantic", "pydantic_core")], path
