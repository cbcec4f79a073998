"""Transcript.speakers_uncertain (issue 18 item 2): findings kept but marked, call flagged."""

from __future__ import annotations

from dataclasses import replace

from analyzers.analyze import SPEAKERS_UNCERTAIN_REASON, analyze
from lexicons import load_pack
from tests.transcripts import A, C, conversation, good_call, good_lines

PACK = load_pack()


def test_a_good_call_is_not_flagged_when_speakers_are_certain():
    result = analyze(replace(good_call(layout="mono"), speakers_uncertain=False), PACK)
    assert not result.flagged
    assert not any(f.speaker_uncertain for f in result.findings)


def test_uncertain_speakers_flag_a_good_call_for_that_reason_alone():
    result = analyze(replace(good_call(layout="mono"), speakers_uncertain=True), PACK)
    assert result.flagged
    assert result.flag_reasons == (SPEAKERS_UNCERTAIN_REASON,)
    assert result.grade == analyze(good_call(layout="mono"), PACK).grade  # the score is not touched


def test_the_customers_words_charged_to_the_agent_are_kept_but_marked():
    # A one-voice result gives every word to the agent: the customer's 不知道 reads as
    # the agent's banned phrase. The finding stays (the words were said) but is marked.
    lines = good_lines([(A, "您好，请问有什么可以帮您？"), (A, "我也不知道这个订单在哪里。")])
    transcript = replace(conversation(lines, layout="mono"), speakers_uncertain=True)
    result = analyze(transcript, PACK)
    banned = [f for f in result.findings if f.category == "banned_phrase"]
    assert banned, [f.rule_id for f in result.findings]
    assert all(f.speaker_uncertain for f in banned)
    assert result.flag_reasons[0] == SPEAKERS_UNCERTAIN_REASON


def test_stereo_findings_are_never_marked():
    lines = good_lines([(C, "我想问一下订单。"), (A, "我也不知道这个订单在哪里。")])
    result = analyze(conversation(lines), PACK)
    assert any(f.category == "banned_phrase" for f in result.findings)
    assert not any(f.speaker_uncertain for f in result.findings)
    assert SPEAKERS_UNCERTAIN_REASON not in result.flag_reasons
