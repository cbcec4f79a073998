from analyzers.analyze import analyze
from analyzers.model import SpeechSpan
from analyzers.overtalk import overtalk_findings
from lexicons import load_pack
from transcripts import A, C, at, call

RULES = load_pack().overtalk


def agent_cuts_in(layout="stereo", overlap_s=1.0):
    return call(at(C, 0.0, 5.0, "我的订单一直没有到，我已经等了很久了"),
                at(A, 5.0 - overlap_s, 8.0, "好的我帮您查一下"), layout=layout)


def test_agent_interrupting_customer_in_stereo():
    found = overtalk_findings(agent_cuts_in(), RULES)
    assert [(f.category, f.speaker, f.start_s, f.end_s) for f in found] == [("overtalk", A, 4.0, 5.0)]
    assert found[0].text == "好的我帮您查一下"


def test_mono_overlap_is_unknowable():
    assert overtalk_findings(agent_cuts_in(layout="mono"), RULES) == []


def test_short_overlap_below_minimum():
    assert overtalk_findings(agent_cuts_in(overlap_s=0.3), RULES) == []
    assert len(overtalk_findings(agent_cuts_in(overlap_s=0.6), RULES)) == 1


def test_customer_interrupting_agent_is_not_overtalk():
    t = call(at(A, 0.0, 5.0, "您好很高兴为您服务我是工号1234"), at(C, 3.0, 7.0, "你好我想问一下"))
    assert overtalk_findings(t, RULES) == []


def test_speech_spans_used_when_labelled_by_party():
    # Utterances overlap (whisper padding) but speech detection says no overlap.
    spans = (SpeechSpan(C, 0.0, 4.6), SpeechSpan(A, 4.7, 8.0))
    t = call(at(C, 0.0, 5.0, "我的订单一直没有到"), at(A, 4.0, 8.0, "好的我帮您查一下"), spans=spans)
    assert overtalk_findings(t, RULES) == []
    spans = (SpeechSpan(C, 0.0, 5.0), SpeechSpan(A, 3.0, 8.0))
    t = call(at(C, 0.0, 5.0, "我的订单一直没有到"), at(A, 5.5, 8.0, "好的我帮您查一下"), spans=spans)
    assert [(f.start_s, f.end_s) for f in overtalk_findings(t, RULES)] == [(3.0, 5.0)]


def test_talk_time_per_party_from_spans_or_utterances():
    pack = load_pack()
    a = analyze(call(at(A, 0.0, 4.0, "您好"), at(A, 3.0, 6.0, "请问"), at(C, 7.0, 9.0, "你好")), pack)
    assert (a.agent_talk_s, a.customer_talk_s) == (6.0, 2.0)   # overlapping agent utterances merge
    spans = (SpeechSpan(A, 0.5, 3.5), SpeechSpan(C, 7.0, 8.0))
    a = analyze(call(at(A, 0.0, 4.0, "您好"), at(C, 7.0, 9.0, "你好"), spans=spans), pack)
    assert (a.agent_talk_s, a.customer_talk_s) == (3.0, 1.0)
