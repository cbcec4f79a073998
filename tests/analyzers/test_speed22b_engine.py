"""speed22b: what the rule engine keeps per call or per condition gives the answers it gave
when worked out at every look-up (analyzers.rulelang: evaluate, signals, each)."""

from analyzers.rulelang import each, signals
from analyzers.rulelang.evaluate import Call, hits
from analyzers.rulelang.examples import example_call
from analyzers.rulelang.schema import Condition, ExampleLine, Gap
from lexicons import load_pack

PACK = load_pack()
LINES = ("A: 您好，请问有什么可以帮您？", "C: 我的订单号是12345678。", "A: 好的，请稍等。", "C: 嗯。",
         "A: 感谢您的来电，再见。")


def call(*lines):
    transcript, given = example_call(tuple(ExampleLine.model_validate(x) for x in lines))
    return Call(transcript, PACK, "inbound", given)


def cond(**fields):
    return Condition.model_validate(fields)


def test_everyone_is_every_index_once_per_call():
    c = call(*LINES)
    assert c.everyone == frozenset(range(len(c.utts)))
    assert c.everyone is c.everyone
    # a pool that nothing narrows is the frozenset: tests that narrow it leave it whole
    assert list(hits(c, cond(regex="."))) == list(range(len(c.utts)))
    assert list(hits(c, cond(not_={"regex": "稍等"}))) == [0, 1, 3, 4]
    assert c.everyone == frozenset(range(len(c.utts)))


def test_duration_kept_per_call_by_its_bounds():
    c = call(*LINES)
    for low, high in ((0, None), (None, 1.0), (2.0, 4.0), (0, None)):
        bounds = {k: v for k, v in (("at_least_s", low), ("at_most_s", high)) if v is not None}
        expect = {i for i, u in enumerate(c.utts) if signals._inside(u.duration_s, low, high)}
        assert set(signals._duration(c, cond(duration=bounds))) == expect  # each bound its own entry
        assert set(hits(c, cond(duration=bounds, role="agent"))) == {i for i in expect if c.utts[i].speaker == "agent"}


def test_silences_keyed_once_equal_gaps_share():
    c = call(*LINES)
    a, b = Gap(at_least_s=0.1), Gap(at_least_s=0.1)
    assert signals.silences(c, a) is signals.silences(c, b)  # equal bounds: one entry (as the Gap key gave)
    assert signals.silences(c, Gap(at_least_s=50)) == []


def test_unplaced_one_copy_per_condition():
    c = cond(regex="稍等", role="agent", last=2)
    first = each._unplaced(c)
    assert first is each._unplaced(c)
    assert first.role is None and first.last is None and first.regex == "稍等"
    counted = cond(regex="稍等", role="agent", nth=1, first=3)
    assert each._unplaced(counted).role == "agent" and each._unplaced(counted).first is None
    assert each._bare_silence(cond(silence={"at_least_s": 6}))
    assert not each._bare_silence(cond(silence={"at_least_s": 6}, role="agent"))
