"""flows.meaning.examples: the example files are checked, and mistakes name file and field."""

import textwrap
from pathlib import Path

import pytest

from flows.meaning.examples import ExamplesError, load_examples, parse_examples

GOOD = textwrap.dedent("""\
    intent: service_offer
    speaker: agent
    description: 坐席主动询问客户需求
    standard: 001 §3.1
    positive:
      train: [请问有什么可以帮您, 您想办理什么业务, 我能为您做点什么, 有啥需要帮忙的]
      test: [请问您要咨询什么]
    negative:
      train: [我帮您查一下, 您稍等, 还有别的问题吗, 再见]
      test: [好的]
    """)


def parse(text, name="service_offer.yaml"):
    return parse_examples(Path("examples") / name, text)


def test_a_good_file_loads_every_split():
    ex = parse(GOOD)
    assert ex.intent == "service_offer" and ex.speaker == "agent"
    assert ex.texts("positive", "train")[0] == "请问有什么可以帮您"
    assert ex.texts("negative", "test") == ("好的",)
    assert ex.standard == "001 §3.1"
    assert ex.embedding_scale == 1.0
    assert parse(GOOD.replace("positive:", "embedding_scale: 0.5\npositive:")).embedding_scale == 0.5
    assert ex.background_weight is None
    assert parse(GOOD.replace("positive:", "background_weight: 0\npositive:")).background_weight == 0.0


@pytest.mark.parametrize("bad, field", [
    (GOOD.replace("intent: service_offer", "intent: greeting"), "intent"),
    (GOOD.replace("speaker: agent", "speaker: robot"), "speaker"),
    (GOOD.replace("test: [好的]", "test: 好的"), "negative.test"),
    (GOOD.replace("test: [好的]", "test: [好的, '']"), "negative.test[1]"),
    (GOOD.replace("test: [好的]", "test: [好的, 再见]"), "negative.test[1]"),
    (GOOD.replace("test: [请问您要咨询什么]", "test: [再见]"), "negative.train[3]"),
    (GOOD.replace(", 有啥需要帮忙的", ""), "positive.train"),
    (GOOD.replace("negative:", "negativ:"), "negative"),
    ("intent: [", "(yaml)"),
    *((GOOD.replace("positive:", f"embedding_scale: {bad}\npositive:"), "embedding_scale")
      for bad in ("0", "-1", "half", "true", "100")),
    *((GOOD.replace("positive:", f"background_weight: {bad}\npositive:"), "background_weight")
      for bad in ("-0.1", "lots", "false", "9")),
])
def test_mistakes_name_file_and_field(bad, field):
    with pytest.raises(ExamplesError) as e:
        parse(bad)
    assert e.value.field == field
    assert str(e.value).startswith(f"{Path('examples') / 'service_offer.yaml'}: {field}:")


def test_a_folder_loads_by_intent(tmp_path):
    (tmp_path / "service_offer.yaml").write_text(GOOD, encoding="utf-8")
    assert list(load_examples(tmp_path)) == ["service_offer"]


def test_an_empty_folder_is_an_error(tmp_path):
    with pytest.raises(ExamplesError, match="no <intent>.yaml"):
        load_examples(tmp_path)


def test_not_background_names_other_intents():
    ex = parse(GOOD.replace("positive:", "not_background: [farewell, greeting]\npositive:"))
    assert ex.not_background == ("farewell", "greeting")
    assert parse(GOOD).not_background == ()


def test_an_unknown_intent_in_not_background_names_file_and_line(tmp_path):
    text = GOOD.replace("positive:", "not_background:\n  - farewel\npositive:")
    (tmp_path / "service_offer.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ExamplesError) as e:
        load_examples(tmp_path)
    assert str(e.value).startswith(f"{tmp_path / 'service_offer.yaml'}:6: not_background[0]: 'farewel' is no intent")
    (tmp_path / "farewell.yaml").write_text(GOOD.replace("service_offer", "farewell"), encoding="utf-8")
    (tmp_path / "service_offer.yaml").write_text(text.replace("farewel", "farewell"), encoding="utf-8")
    assert load_examples(tmp_path)["service_offer"].not_background == ("farewell",)


def test_clause_features_and_part_scale():
    ex = parse(GOOD.replace("positive:", "clause_features: split\npart_scale: 0.5\npositive:"))
    assert (ex.clause_features, ex.part_scale) == ("split", 0.5)
    assert (parse(GOOD).clause_features, parse(GOOD).part_scale) == (None, 1.0)
    assert parse(GOOD.replace("positive:", "clause_features: split\npositive:")).part_scale == 1.0


@pytest.mark.parametrize("keys, field, line", [
    ("not_background: farewell", "not_background", 5),
    ("not_background: [farewell, '']", "not_background[1]", 5),
    ("not_background: [service_offer]", "not_background[0]", 5),
    ("not_background: \n  - farewell\n  - greeting\n  - farewell", "not_background[2]", 8),
    ("clause_features: splits", "clause_features", 5),
    ("clause_features: [split]", "clause_features", 5),
    ("part_scale: 0.5", "part_scale", 5),  # no parts to scale
    ("clause_features: split\npart_scale: 0", "part_scale", 6),
    ("clause_features: split\npart_scale: half", "part_scale", 6),
    ("clause_features: split\npart_scale: true", "part_scale", 6),
])
def test_a_bad_key_names_file_line_and_field(keys, field, line):
    with pytest.raises(ExamplesError) as e:
        parse(GOOD.replace("positive:", f"{keys}\npositive:"))
    assert (e.value.field, e.value.line) == (field, line)
    assert str(e.value).startswith(f"{Path('examples') / 'service_offer.yaml'}:{line}: {field}:")
