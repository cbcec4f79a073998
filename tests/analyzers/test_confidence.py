"""A finding records the ASR confidence of the words it rests on; one heard with low
confidence is marked, and alone does not flag the call (issue 33 item 4)."""

from dataclasses import replace

from analyzers.analyze import analyze
from analyzers.model import Word
from analyzers.scorecard import with_confidence
from flows.review.report import heard_note
from flows.storage.schema import FINDINGS
from lexicons import load_pack
from transcripts import A, conversation, good_lines

PACK = load_pack()
LOW = PACK.scorecard.flag.low_confidence_below


def _worded(t, index: int, words: list[tuple[str, float]]):
    """Transcript `t` with utterance `index` given `words` (text, probability), time shared evenly."""
    u = t.utterances[index]
    each = (u.end_s - u.start_s) / len(words)
    ws = tuple(Word(w, round(u.start_s + i * each, 3), round(u.start_s + (i + 1) * each, 3), p)
               for i, (w, p) in enumerate(words))
    us = list(t.utterances)
    us[index] = replace(u, words=ws)
    return replace(t, utterances=tuple(us))


def _call_with(agent_line: str, words: list[tuple[str, float]]):
    lines = good_lines()
    lines.insert(3, (A, agent_line))
    t = conversation(lines)
    return _worded(t, 3, words)


def test_the_pack_sets_a_threshold():
    assert LOW is not None and 0 < LOW < 1


def test_a_finding_gets_the_confidence_of_the_words_it_rests_on():
    t = _call_with("真烦人，您等一下。", [("真", 0.3), ("烦人，", 0.2), ("您", 0.99), ("等一下。", 0.95)])
    a = analyze(t, PACK)
    (f,) = [f for f in a.findings if f.rule_id == "annoying"]
    # the hit's words only: 真 and 烦人, not the rest of the utterance
    assert (f.confidence_mean, f.confidence_min) == (0.25, 0.2)
    assert f.low_confidence
    # the same words heard clearly
    t = _call_with("真烦人，您等一下。", [("真", 0.9), ("烦人，", 0.8), ("您", 0.99), ("等一下。", 0.95)])
    (f,) = [f for f in analyze(t, PACK).findings if f.rule_id == "annoying"]
    assert (f.confidence_mean, f.confidence_min, f.low_confidence) == (0.85, 0.8, False)


def test_without_words_there_is_no_confidence():
    t = conversation([*good_lines()[:3], (A, "真烦人，您等一下。"), *good_lines()[3:]])
    (f,) = [f for f in analyze(t, PACK).findings if f.rule_id == "annoying"]
    assert (f.confidence_mean, f.confidence_min, f.low_confidence) == (None, None, False)


def test_a_finding_without_text_rests_on_no_words():
    t = _call_with("真烦人", [("真", 0.1), ("烦人", 0.1)])
    f = replace(analyze(t, PACK).findings[0], text="", confidence_mean=None, confidence_min=None, low_confidence=False)
    (out,) = with_confidence([f], t.utterances, 0.5)
    assert out.confidence_mean is None and not out.low_confidence


def test_a_lone_low_confidence_finding_does_not_flag_the_call():
    low = analyze(_call_with("真烦人，您等一下。", [("真", 0.3), ("烦人，", 0.2), ("您", 0.9), ("等一下。", 0.9)]), PACK)
    sure = analyze(_call_with("真烦人，您等一下。", [("真", 0.9), ("烦人，", 0.9), ("您", 0.9), ("等一下。", 0.9)]), PACK)
    # the critical finding is there in both, marked in the first
    assert [f.low_confidence for f in low.findings if f.rule_id == "annoying"] == [True]
    assert sure.flagged and any("critical banned_phrase:annoying" in r for r in sure.flag_reasons)
    assert not low.flagged and low.flag_reasons == ()
    # the score still counts it: only the flag needs another reason
    assert low.score == sure.score


def test_another_reason_flags_the_call_and_the_low_finding_is_marked_in_it():
    lines = good_lines()
    lines.insert(3, (A, "真烦人，您等一下。"))
    lines.insert(5, (A, "烦死了，快点说。"))
    t = conversation(lines)
    t = _worded(t, 3, [("真", 0.3), ("烦人，", 0.2), ("您", 0.9), ("等一下。", 0.9)])
    t = _worded(t, 5, [("烦死了，", 0.95), ("快点说。", 0.9)])
    a = analyze(t, PACK)
    assert a.flagged
    assert any(r.startswith("critical banned_phrase:annoying") and r.endswith("(heard with low confidence)")
               for r in a.flag_reasons)
    assert sum(1 for r in a.flag_reasons if "annoying" in r and "low confidence" not in r) == 1


def test_the_marker_in_the_report_and_terminal_words():
    assert heard_note({"low_confidence": True, "confidence_mean": 0.314}) == "heard with low confidence (0.31)"
    assert heard_note({"low_confidence": False, "confidence_mean": 0.9}) == ""
    assert heard_note({}) == ""  # output written before the columns existed


def test_the_findings_table_carries_the_confidence():
    for name in ("confidence_mean", "confidence_min"):
        assert FINDINGS.field(name).nullable
    assert not FINDINGS.field("low_confidence").nullable


def test_findings_written_before_the_columns_still_load(tmp_path):
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    new = ("confidence_mean", "confidence_min", "low_confidence")
    old = pa.schema([f for f in FINDINGS if f.name not in new])
    pq.write_table(old.empty_table(), tmp_path / "old.parquet")
    row = {f.name: None if f.nullable else {pa.int64(): 0, pa.float64(): 0.0, pa.bool_(): False}.get(f.type, "x")
           for f in old}
    pq.write_table(pa.Table.from_pylist([row], schema=old), tmp_path / "old.parquet")
    (read,) = ds.dataset([str(tmp_path / "old.parquet")], format="parquet", schema=FINDINGS).to_table().to_pylist()
    assert [read[n] for n in new] == [None, None, None]
    assert heard_note(read) == ""
