from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzers.analyze import analyze
from analyzers.model import SpeechSpan, Transcript, Utterance, Word
from analyzers.rules import GRADES
from lexicons import load_pack

PACK = load_pack()
ALPHABET = "喂您好为什么麻烦不知道到清楚行没办法自己看請稍等讓久等了再见感谢我是工号，。？！ aZ09"
SPEAKERS = st.sampled_from(["agent", "customer", "unknown"])


@st.composite
def transcripts(draw):
    duration = draw(st.floats(0.0, 600.0, allow_nan=False))
    time = st.floats(0.0, duration, allow_nan=False)

    def span():
        a, b = draw(time), draw(time)
        return min(a, b), max(a, b)

    utts = []
    for _ in range(draw(st.integers(0, 12))):
        start, end = span()
        text = draw(st.text(ALPHABET, max_size=30))
        words = []
        if text and draw(st.booleans()):
            times = sorted(draw(time) for _ in range(2 * len(text)))
            words = [Word(c, times[2 * i], times[2 * i + 1]) for i, c in enumerate(text)]
        utts.append(Utterance(draw(SPEAKERS), start, end, text, tuple(words)))
    spans = [SpeechSpan(draw(SPEAKERS), *span()) for _ in range(draw(st.integers(0, 8)))]
    return Transcript("p", duration, draw(st.sampled_from(["stereo", "mono"])), tuple(utts), tuple(spans))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(transcripts())
def test_analyze_never_crashes_and_findings_lie_in_the_call(t):
    a = analyze(t, PACK)
    for f in a.findings:
        assert 0.0 <= f.start_s <= f.end_s <= t.duration_s
    assert 0.0 <= a.score <= 100.0
    assert a.grade in GRADES
    assert a.hold_count == sum(f.category == "hold" for f in a.findings)
    assert len(a.utterance_chars_per_min) == len(t.utterances)
