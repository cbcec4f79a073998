"""Banned entries read by meaning (issue 31, phrases.yaml banned `meaning:`): a rude wording,
a blame or a jargon term in other words than the pack's lists is flagged, once; its polite
near miss is not; the 12 sample calls' findings are unchanged with every intent the pack reads.
The real encoder and the pack's examples (train split) decide."""

import json
from pathlib import Path

import pytest

from analyzers.analyze import analyze
from analyzers.model import CallTruth, Transcript, from_dict
from analyzers.truth import describe, match_findings
from conftest import or_missing, truth_files
from flows.batch.metadata import read_call_meta
from flows.meaning.bank_cache import build_models
from flows.meaning.call import decide, embed_call, pack_intents, part_speakers
from flows.meaning.encoder import load_encoder
from lexicons import load_pack
from tests.transcripts import A, C, GREETING, conversation

EXAMPLES = Path(__file__).resolve().parents[2] / "lexicons" / "zh-CN" / "examples"


@pytest.fixture(scope="module")
def encoder():
    return load_encoder()


@pytest.fixture(scope="module")
def pack():
    return load_pack()


@pytest.fixture(scope="module")
def models(encoder, pack):
    # every intent the pack reads, as a run fits them (the sample calls need them all)
    return build_models(EXAMPLES, encoder, only=pack_intents(pack))


@pytest.fixture(scope="module")
def banned(encoder, models, pack):
    def run(line: str, with_meaning: bool = True):
        """(rule_id, detail) of the banned findings of an agent's `line` answering a customer."""
        t = conversation([(A, GREETING), (C, "我的快递三天了还没到，怎么回事？"), (A, line)])
        meaning = decide(t, embed_call(t, encoder, part_speakers(models)), models) if with_meaning else None
        return [(f.rule_id, f.detail) for f in analyze(t, pack, meaning=meaning).findings
                if f.category == "banned_phrase"]
    return run


def test_the_pack_reads_the_banned_intents(pack):
    named = {b.id: b.meaning for b in pack.banned}
    assert named["rude"] == named["dont_know"] == named["not_clear"] == named["cannot_help"] == "rude_banned"
    assert named["blame_shifting"] == "blame_customer" and named["jargon"] == "jargon"


def test_a_rude_wording_not_in_the_list_is_flagged_once(banned, pack):
    line = "这事儿我可管不了，你自己想办法吧。"  # none of the pack's words: 没办法 is not 想办法
    assert banned(line, with_meaning=False) == []
    [(rule, detail)] = banned(line)
    assert rule == "rude" and detail.startswith("meaning: nearest example '")
    # its polite near misses are not rude
    assert banned("这事儿我这边处理不了，我帮您转给负责的同事。") == []
    # (不太清楚 is the banned 不清楚 softened, 003 §三.5(4)4 D, since ho17fix: this near miss says no banned word)
    assert banned("不好意思，这个我帮您确认一下，请您稍等。") == []
    # the words said: the word's finding, not a second one by meaning (the line also
    # means blame_customer, another rule: that one may raise)
    rude = {b.id for b in pack.banned if b.meaning == "rude_banned"}
    assert [r for r, _ in banned("不知道，你自己想办法吧。") if r in rude] == ["dont_know"]


def test_blame_and_jargon_in_other_words(banned):
    blame = "您自己没按说明书装，坏了能怪谁。"
    assert banned(blame, with_meaning=False) == []
    assert [r for r, _ in banned(blame)] == ["blame_shifting"]
    assert banned("这个可能是安装的时候没装好，我们派师傅上门看看。") == []
    jargon = "您这个单子卡在风控环节了，要等人工复核。"
    assert banned(jargon, with_meaning=False) == []
    assert [r for r, _ in banned(jargon)] == ["jargon"]
    assert banned("您这个订单被系统暂时拦下来了，需要人工再确认一下，我帮您催。") == []


@pytest.mark.parametrize("path", or_missing(truth_files(), "no sample_audio/*.json"), ids=lambda p: p.stem)
def test_sample_calls_unchanged_with_meaning(path, encoder, models, pack):
    """The expected findings from the exact transcripts, with the pack's every intent read."""
    truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
    t = Transcript(truth.call_id, truth.duration_s, truth.layout, truth.utterances)
    direction = read_call_meta(path.with_name(json.loads(path.read_text(encoding="utf-8"))["audio"])).direction
    a = analyze(t, pack, direction, meaning=decide(t, embed_call(t, encoder, part_speakers(models)), models))
    _, missing, unexpected = match_findings(a.findings, truth.expected_findings, 0.05)
    assert not missing and not unexpected, (
        f"missing {[describe(f) for f in missing]}; unexpected {[describe(f) for f in unexpected]}")
