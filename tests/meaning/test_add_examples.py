"""flows.meaning.add_examples: a rejected finding's sentence lands in its intent's
negative.train with its provenance, the file's comments and layout kept; duplicates are
not added, a positive is refused, nothing is written on a dry run or a broken file."""

import shutil
import textwrap

import pytest

from flows.meaning.add_examples import (NearMiss, add_near_misses, from_finding, intent_of,
                                        near_miss_sentence)
from flows.meaning.examples import ExamplesError, load_examples, parse_examples
from lexicons import load_pack
from lexicons.loader import resolve

FILE = textwrap.dedent("""\
    # a comment QA staff wrote at the top
    intent: rude_banned
    speaker: agent
    description: 生硬的禁用语
    positive:
      train:
        - 不知道。
        - 没办法，就这样。
        - 你自己看吧。
        - 不清楚，别问我。   # 生硬
      test:
        - 这不归我管。
    negative:
      train:
        - 您哪里不清楚我再讲一遍。
        - 不知道您方便吗？
        - 请您稍等。
        - '#号键是返回'
      test:
        - 没关系的。
    """)


def nm(sentence, intent="rude_banned", call="c1", reviewer="rita"):
    return NearMiss(intent, sentence, call, "banned_phrase:cannot_help", reviewer, "2026-12-06")


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "rude_banned.yaml").write_text(FILE, encoding="utf-8")
    return tmp_path


def test_a_near_miss_is_appended_to_negative_train_with_its_provenance(folder):
    result = add_near_misses(folder, [nm("这个问题我也没办法马上答复您，我帮您问一下")])
    assert [m.sentence for m in result.added] == ["这个问题我也没办法马上答复您，我帮您问一下"]
    text = (folder / "rude_banned.yaml").read_text(encoding="utf-8")
    # everything before is byte for byte the same; the new line follows the last train negative
    head, new, tail = text.partition("    - 这个问题我也没办法马上答复您，我帮您问一下")
    assert head == FILE.split("  test:\n    - 没关系的。")[0]
    assert new and tail.startswith("  # review: call c1, banned_phrase:cannot_help rejected by rita 2026-12-06\n")
    ex = parse_examples(folder / "rude_banned.yaml", text)
    assert ex.texts("negative", "train")[-1] == "这个问题我也没办法马上答复您，我帮您问一下"
    assert ex.texts("negative", "test") == ("没关系的。",)  # never to the test split
    assert ex.texts("positive", "train")[3] == "不清楚，别问我。" and "# 生硬" in text


def test_duplicates_are_not_added_and_a_positive_is_refused(folder):
    before = (folder / "rude_banned.yaml").read_text(encoding="utf-8")
    result = add_near_misses(folder, [nm("请您稍等"),           # a negative already (end mark aside)
                                      nm("没关系的。"),          # in negative.test
                                      nm("没办法,就这样"),       # a positive: refused
                                      ])
    assert result.added == [] and len(result.duplicates) == 2
    assert [m.sentence for m in result.positive] == ["没办法,就这样"]
    assert (folder / "rude_banned.yaml").read_text(encoding="utf-8") == before  # nothing to write


def test_the_same_sentence_twice_in_one_batch_is_added_once(folder):
    result = add_near_misses(folder, [nm("我这边没办法查到，您稍等", call="c1"), nm("我这边没办法查到，您稍等", call="c2")])
    assert len(result.added) == 1 and len(result.duplicates) == 1
    assert load_examples(folder)["rude_banned"].texts("negative", "train").count("我这边没办法查到，您稍等") == 1


def test_a_sentence_yaml_would_misread_is_quoted(folder):
    tricky = ["#3 号窗口没办法办", "- 不知道也没关系", "yes: 没办法", "'不清楚' 的地方我再说"]
    add_near_misses(folder, [nm(s) for s in tricky])
    assert load_examples(folder)["rude_banned"].texts("negative", "train")[-4:] == tuple(tricky)


def test_a_dry_run_writes_nothing(folder):
    before = (folder / "rude_banned.yaml").read_text(encoding="utf-8")
    result = add_near_misses(folder, [nm("我没办法替您决定，您看哪个合适")], dry_run=True)
    assert len(result.added) == 1
    assert (folder / "rude_banned.yaml").read_text(encoding="utf-8") == before


def test_a_broken_file_or_an_unknown_intent_is_an_error_and_nothing_changes(folder):
    (folder / "rude_banned.yaml").write_text(FILE.replace("speaker: agent", "speaker: robot"), encoding="utf-8")
    with pytest.raises(ExamplesError, match="speaker"):
        add_near_misses(folder, [nm("我没办法替您决定")])
    assert "我没办法替您决定" not in (folder / "rude_banned.yaml").read_text(encoding="utf-8")
    with pytest.raises(ExamplesError, match="no example file for intent 'arguing'"):
        add_near_misses(folder, [nm("您听我说完", intent="arguing")])
    with pytest.raises(ExamplesError, match="is not an examples folder"):
        add_near_misses(folder / "nope", [nm("您听我说完")])


def test_every_file_of_the_pack_keeps_its_bytes_when_a_sentence_is_added(tmp_path):
    # the real corpus: the only change is the new line (ruamel keeps quoting, long lines, order)
    src = resolve("zh-CN") / "examples"
    shutil.copytree(src, tmp_path / "ex")
    intents = sorted(p.stem for p in src.glob("*.yaml"))
    add_near_misses(tmp_path / "ex", [nm("我们这边新近加的一句近似说法", intent=i) for i in intents])
    for i in intents:
        old = (src / f"{i}.yaml").read_text(encoding="utf-8").splitlines()
        new = (tmp_path / "ex" / f"{i}.yaml").read_text(encoding="utf-8").splitlines()
        added = [line for line in new if line not in old]
        assert len(new) == len(old) + 1 and len(added) == 1, i
        assert added[0].startswith("    - 我们这边新近加的一句近似说法  # review: call c1"), i
        assert [line for line in new if line != added[0]] == old, i


def test_the_sentence_is_the_one_that_holds_the_hit_masked():
    utts = [{"speaker": "agent", "start_s": 0.0, "end_s": 2.0, "text": "您好。"},
            {"speaker": "customer", "start_s": 2.0, "end_s": 4.0, "text": "没办法吗？"},
            {"speaker": "agent", "start_s": 4.0, "end_s": 9.0,
             "text": "您的号码13912345678我查过了。这个没办法，只能等。好吗？"}]
    hit = {"speaker": "agent", "start_s": 6.0, "end_s": 6.5, "text": "没办法"}
    assert near_miss_sentence(hit, utts) == "这个没办法，只能等。"
    whole = {"speaker": "agent", "start_s": 4.0, "end_s": 9.0, "text": utts[2]["text"]}
    assert near_miss_sentence(whole, utts) == "您的号码*******5678我查过了。这个没办法，只能等。好吗？"
    # the customer's 没办法 is not the agent's finding; a hit no utterance holds gives none
    assert near_miss_sentence({**hit, "start_s": 2.5, "end_s": 3.0}, utts) is None
    assert near_miss_sentence({**hit, "text": "不知道"}, utts) is None


def test_the_zh_cn_pack_names_intents_that_have_examples():
    pack = load_pack("zh-CN")
    known = {p.stem for p in (resolve("zh-CN") / "examples").glob("*.yaml")}
    assert pack.near_misses and {e.intent for e in pack.near_misses} <= known
    assert intent_of(pack.near_misses, "banned_phrase", "cannot_help") == "rude_banned"
    assert intent_of(pack.near_misses, "banned_phrase", "third_party_blame") == "blame_third_party"
    assert intent_of(pack.near_misses, "followup_time_missing", "followup_time") == "followup_without_time"
    assert intent_of(pack.near_misses, "thanks_missing", "thanks_for_help") is None  # a miss gives positives


def test_from_finding_says_why_a_rejected_finding_gives_no_near_miss():
    pack = load_pack("zh-CN")
    utts = [{"speaker": "agent", "start_s": 0.0, "end_s": 3.0, "text": "没办法，这是规定。"}]
    f = {"call_id": "c9", "category": "banned_phrase", "rule_id": "cannot_help", "speaker": "agent",
         "start_s": 0.2, "end_s": 0.8, "text": "没办法", "origin": "rule"}
    got = from_finding(f, utts, pack.near_misses, "rita", "2026-12-06T08:00:00+00:00", added_by="sue")
    assert got == NearMiss("rude_banned", "没办法，这是规定。", "c9", "banned_phrase:cannot_help", "rita",
                           "2026-12-06", "sue")
    assert got.provenance().endswith("rejected by rita 2026-12-06, added by sue")
    assert "reads no intent" in from_finding({**f, "category": "thanks_missing"}, utts, pack.near_misses, "r", "")
    assert "added by a reviewer" in from_finding({**f, "origin": "manual"}, utts, pack.near_misses, "r", "")
    assert "no utterance" in from_finding({**f, "start_s": 5.0, "end_s": 6.0}, utts, pack.near_misses, "r", "")


def test_the_pack_near_misses_are_checked_on_load(tmp_path):
    from lexicons import PackError

    shutil.copytree(resolve("zh-CN"), tmp_path / "p", ignore=shutil.ignore_patterns("examples"))
    rules = tmp_path / "p" / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("{rule: banned_phrase, intent", "{rule: banned_frase, intent"), encoding="utf-8")
    with pytest.raises(PackError, match="banned_frase"):
        load_pack(tmp_path / "p")
    rules.write_text(text + '  - {rule: "banned_phrase:jargon", intent: arguing}\n', encoding="utf-8")
    with pytest.raises(PackError, match="listed twice"):
        load_pack(tmp_path / "p")


def test_the_pack_content_hash_covers_its_examples(tmp_path):
    """What makes the next `reprocess` re-analyse with the new examples: the pack's version
    (content_hash, in every call's lexicon_version) must change when an example is added."""
    shutil.copytree(resolve("zh-CN"), tmp_path / "p")
    before = load_pack(tmp_path / "p").content_hash
    add_near_misses(tmp_path / "p" / "examples", [nm("这个问题我也没办法马上答复您")])
    assert load_pack(tmp_path / "p").content_hash != before

