from analyzers.analyze import analyze
from lexicons import load_pack
from transcripts import A, C, CLOSING_BYE, CLOSING_CHECK, GREETING, at, conversation, good_lines, say, call

PACK = load_pack()


def greeting(t, direction="inbound"):
    """analyze's greeting_ok and the greeting rules' findings (custom_rules.yaml hello, …)."""
    a = analyze(t, PACK, direction)
    return a.greeting_ok, [f for f in a.findings if f.category == "greeting_missing"]


def closing(t, direction="inbound"):
    """analyze's closing_ok and the closing rules' findings (satisfaction_check, thanks_goodbye)."""
    a = analyze(t, PACK, direction)
    return a.closing_ok, [f for f in a.findings if f.category == "closing_missing"]


def test_full_greeting_and_closing_ok():
    t = conversation(good_lines())
    assert greeting(t) == (True, [])
    assert closing(t) == (True, [])


def test_each_missing_greeting_group_is_one_finding():
    lines = good_lines()
    lines[0] = (A, "您好。")
    ok, found = greeting(conversation(lines))
    assert not ok
    assert sorted(f.rule_id for f in found) == ["self_identification", "service_offer"]
    # Span = the opening: the agent's utterances starting within 15 s of its first one.
    agent = [u for u in conversation(lines).utterances if u.speaker == A]
    opening = [u for u in agent if u.start_s <= agent[0].start_s + 15]
    assert 1 < len(opening) < len(agent)
    assert all((f.start_s, f.end_s) == (agent[0].start_s, opening[-1].end_s) for f in found)
    assert all(f.category == "greeting_missing" and f.speaker == A for f in found)


def test_greeting_spread_over_the_opening_window():
    t = call(say(A, 0.0, "您好。"), say(C, 1.0, "你好。"), say(A, 3.0, "我是客服小王，请问有什么可以帮您？"))
    assert greeting(t) == (True, [])


def test_greeting_after_the_window_does_not_count():
    t = call(at(A, 0.0, 1.0, "您好。"), at(C, 1.5, 20.0, "我的快递一直没有到，我等了很久了。"),
             at(A, 20.0, 23.0, "我是客服小王，很高兴为您服务。"))
    ok, found = greeting(t)
    assert not ok and {f.rule_id for f in found} == {"self_identification", "service_offer"}


def test_greeting_window_starts_at_agent_first_words_not_call_start():
    t = call(at(C, 0.0, 30.0, "喂喂有人吗"), at(A, 31.0, 35.0, GREETING))
    assert greeting(t) == (True, [])


def test_no_agent_speech_misses_every_group():
    ok, found = greeting(call(at(C, 0.0, 3.0, "你好。")))
    assert not ok and {f.rule_id for f in found} == {"hello", "service_offer", "self_identification"}
    assert all((f.start_s, f.end_s) == (0.0, 4.0) for f in found)   # the call is 4 s long


def test_an_outbound_opening_has_purpose_and_time_check_instead_of_the_offer():
    t = call(at(A, 0.0, 6.0, "您好，我是客服小王，这次来电是想跟您做个回访，请问现在方便吗？"), at(C, 6.5, 8.0, "你说。"))
    assert greeting(t, "outbound") == (True, [])
    ok, found = greeting(t)
    assert not ok and [f.rule_id for f in found] == ["service_offer"]
    ok, found = greeting(call(at(A, 0.0, 3.0, "您好，我是客服小王。"), at(C, 3.5, 5.0, "嗯。")), "outbound")
    assert not ok and sorted(f.rule_id for f in found) == ["outbound_purpose", "outbound_time_check"]
    assert all(f.severity == "major" and f.text == "您好，我是客服小王。" for f in found)


def test_traditional_greeting_counts():
    t = call(at(A, 0.0, 4.0, "您好，很高興為您服務，我是工號1234。"))
    assert greeting(t) == (True, [])


def test_closing_missing_goodbye():
    lines = good_lines()
    lines[-1] = (A, "感谢您的来电。")
    ok, found = closing(conversation(lines))
    assert not ok and [f.rule_id for f in found] == ["thanks_goodbye"]
    assert found[0].category == "closing_missing"


def test_closing_missing_satisfaction_check():
    lines = [l for l in good_lines() if l[1] != CLOSING_CHECK]
    ok, found = closing(conversation(lines))
    assert not ok and [f.rule_id for f in found] == ["satisfaction_check"]


def test_closing_said_early_does_not_count():
    lines = good_lines()
    lines = lines[:1] + [(A, CLOSING_CHECK), (A, CLOSING_BYE)] + [
        (C, "我想问一下我的订单为什么一直没有发货，已经等了一个星期了。"),
        (A, "好的我看一下。"), (C, "好。"), (A, "已经帮您催了。"), (C, "好。"), (A, "好的。"),
    ] * 4
    ok, found = closing(conversation(lines))
    assert not ok and {f.rule_id for f in found} == {"satisfaction_check", "thanks_goodbye"}


def test_thanks_and_goodbye_in_separate_utterances():
    lines = good_lines()[:-1] + [(A, "谢谢您。"), (C, "好。"), (A, "再见。")]
    assert closing(conversation(lines)) == (True, [])


# ------------------------------------------------------------------ details in plain words (issue 22)


def test_a_missing_group_is_described_in_plain_words_not_as_patterns():
    ok, found = greeting(conversation([(A, "请提供一下您的订单号码。"), (C, "好的。")]))
    details = {f.rule_id: f.detail for f in found}
    assert details["self_identification"] == "no self-introduction such as 我是… / 我叫… / 工号…"
    assert details["hello"] == "no greeting such as 您好… / 你好… / 早上好…"
    assert details["service_offer"] == "no offer of help such as 为您服务… / 为你服务… / 很高兴…"
    for detail in details.values():
        assert "|" not in detail and "re:" not in detail and "missing:" not in detail


def test_a_two_part_closing_names_both_parts():
    from analyzers.phrases import describe_missing

    (found,) = closing(conversation(good_lines()[:-1] + [(A, "好的。")]))[1]
    assert found.detail == describe_missing("thanks_goodbye", (PACK.closing.thanks_phrases, PACK.closing.goodbye_phrases))
    assert found.detail == (
        "no thanks and goodbye: 感谢… / 谢谢… / 多谢… together with 再见… / 拜拜… / 祝您…")
    # a group of regexes only, with an id no table knows: named by its id, no pattern shown
    assert describe_missing("ask_name", (("re:贵姓", "re:怎么称呼"),)) == "no ask name"


def test_details_written_by_older_runs_read_in_plain_words_too():
    from analyzers.phrases import plain_detail

    old = r"missing: 我是|我叫|工号|re:\d{3,}号"
    assert plain_detail("greeting_missing", "self_identification", old) == \
        "no self-introduction such as 我是… / 我叫… / 工号…"
    # a regex's own alternatives (…|…) are not split into examples
    old = "missing: re:满意(吗|么|嘛|不)|是否满意|满不满意|还满意吗"
    assert plain_detail("closing_missing", "satisfaction_check", old) == \
        "no check that the matter is settled such as 是否满意… / 满不满意… / 还满意吗…"
    assert plain_detail("banned_phrase", "x", "missing: 不知道") == "missing: 不知道"  # other details stay


def test_a_refused_outbound_call_is_closed_by_the_refusal_rule_not_the_closing_rules():
    opening = (A, "您好，我是售后服务中心的客服小王，想对您上周的维修做个回访，请问您现在方便吗？")
    answered = conversation([opening, (C, "不需要，我在忙。"), (A, "对不起，打扰您了，请问您什么时候方便我们再与您联系？")])
    assert closing(answered, "outbound") == (True, [])
    assert not closing(answered)[0]  # inbound: no refusal check, the closing rules judge it
    ok, found = closing(conversation([opening, (C, "不需要，我在忙。"), (A, "好的。")]), "outbound")
    assert not ok and [f.rule_id for f in found] == ["outbound_refusal"]
    # an outbound call without a refusal is closed as any other
    ok, found = closing(conversation([opening, (C, "方便。"), (A, "维修之后还好用吗？"), (C, "挺好的。"), (A, "好的。")]), "outbound")
    assert not ok and {f.rule_id for f in found} == {"satisfaction_check", "thanks_goodbye"}
