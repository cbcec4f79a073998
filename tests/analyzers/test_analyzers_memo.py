"""The per-call memo (`analyzers.memo.latest_by_identity`) hands out a result only for the
very same arguments: a second call, or a copy of the first call with one word changed, is
worked out afresh, and threads do not see each other's entry."""

import threading
from dataclasses import replace

from analyzers.memo import latest_by_identity
from analyzers.model import AGENT, CUSTOMER, Transcript, Utterance
from analyzers.rate import speaker_rate, utterance_rates
from analyzers.turns import turns
from lexicons import load_pack

PACK = load_pack("zh-CN")


def _call(agent_text: str) -> Transcript:
    utts = (Utterance(AGENT, 0.0, 3.0, agent_text), Utterance(CUSTOMER, 3.5, 6.0, "我想查一下我的订单"),
            Utterance(AGENT, 6.5, 9.0, "好的，请您稍等"))
    return Transcript("memo", 10.0, "stereo", utts)


def test_the_same_arguments_get_the_same_object_and_new_ones_a_new_result():
    seen = []

    @latest_by_identity
    def work(a, b):
        seen.append((a, b))
        return (a, b)

    x, y = object(), object()
    assert work(x, y) is work(x, y)
    assert len(seen) == 1
    assert work(y, x) == (y, x) and len(seen) == 2
    assert work(x, y) == (x, y) and len(seen) == 3  # only the latest is kept


def test_an_equal_but_changed_call_is_not_answered_from_the_memo():
    one = _call("您好，很高兴为您服务")
    other = replace(one, utterances=(replace(one.utterances[0], text="您好", end_s=1.0), *one.utterances[1:]))
    assert [t.speaker for t in turns(one, PACK.overtalk)] == [AGENT, CUSTOMER, AGENT]
    assert turns(other, PACK.overtalk)[0].text == "您好"
    assert speaker_rate(one, AGENT, PACK.rate).chars != speaker_rate(other, AGENT, PACK.rate).chars
    assert utterance_rates(one, PACK.rate)[0] != utterance_rates(other, PACK.rate)[0]


def test_threads_analysing_different_calls_get_their_own_calls_result():
    calls = [_call("您好" + "很高兴为您服务" * (i + 1)) for i in range(4)]
    want = [speaker_rate(c, AGENT, PACK.rate) for c in calls]
    got: dict[int, list] = {}

    def work(i):
        got[i] = [speaker_rate(calls[i], AGENT, PACK.rate) for _ in range(200)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(all(r == want[i] for r in got[i]) for i in range(4))
