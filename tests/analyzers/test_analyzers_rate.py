import pytest

from analyzers.analyze import analyze
from analyzers.rate import rate_findings, utterance_rates
from lexicons import load_pack
from transcripts import A, C, conversation, good_lines, say, with_words, call

RULES = load_pack().rate


def categories(t):
    return [f.category for f in rate_findings(t, RULES)]


def test_normal_rate_no_finding():
    assert categories(conversation(good_lines())) == []


def test_fast_agent():
    t = conversation(good_lines(), cpm={A: 240, C: 200})
    found = rate_findings(t, RULES)
    assert [f.category for f in found] == ["speech_rate_fast"]
    agent = [u for u in t.utterances if u.speaker == A]
    assert (found[0].start_s, found[0].end_s) == (agent[0].start_s, agent[-1].end_s)


def test_slow_agent():
    t = conversation(good_lines(), cpm={A: 100, C: 140})
    assert categories(t) == ["speech_rate_slow"]


def test_slow_agent_led_by_a_slow_customer_is_fine():
    # 003 §三.5(1)3 A: the customer's pace leads; an agent matching a slow customer is right
    # (the old rule flagged 100 chars/min whatever the customer did).
    assert categories(conversation(good_lines(), cpm={A: 100, C: 100})) == []
    assert categories(conversation(good_lines(), cpm={A: 240, C: 250})) == []
    assert categories(conversation(good_lines(), cpm={A: 100, C: 120})) == ["speech_rate_slow"]   # 17 % off


def test_rate_finding_gives_both_figures():
    (f,) = rate_findings(conversation(good_lines(), cpm={A: 100, C: 140}), RULES)
    assert "agent 100 chars/min" in f.detail and "customer 140 chars/min" in f.detail


def test_band_edges_inside():
    assert categories(conversation(good_lines(), cpm={A: 205, C: 205})) == []
    assert categories(conversation(good_lines(), cpm={A: 125, C: 125})) == []


def test_pace_mismatch_when_customer_much_slower():
    t = conversation(good_lines(), cpm={A: 200, C: 110})   # ratio 1.82
    assert categories(t) == ["pace_mismatch"]


def test_no_pace_mismatch_when_customer_says_too_little():
    t = conversation([(A, "您好，很高兴为您服务，我是工号1234的客服小王，请问有什么可以帮您？"), (C, "嗯。")],
                     cpm={A: 180, C: 60})
    assert categories(t) == []


def test_analysis_rates_and_none_for_silent_customer():
    a = analyze(conversation(good_lines(), cpm={A: 150, C: 200}), __import__("lexicons").load_pack())
    assert a.agent_chars_per_min == pytest.approx(150, abs=0.5)
    assert a.customer_chars_per_min == pytest.approx(200, abs=0.5)
    solo = analyze(conversation([(A, "您好，很高兴为您服务")]), __import__("lexicons").load_pack())
    assert solo.customer_chars_per_min is None
    assert solo.customer_talk_s == 0


def test_short_utterances_get_no_rate_and_inner_pause_excluded():
    long = with_words(say(A, 0.0, "好的我帮您查一下订单", cpm=120), ["好的", "我帮您", "查一下", "订单"], {2: 3.0})
    t = call(say(A, 0, "好的"), long)
    rates = utterance_rates(t, RULES)
    assert rates[0] is None
    # 10 chars over 5 s of utterance, 3 s of it a pause inside: 10 / 2 s = 300 chars/min.
    assert t.utterances[1].end_s - t.utterances[1].start_s == pytest.approx(5.0)
    assert rates[1] == pytest.approx(300, rel=0.01)
