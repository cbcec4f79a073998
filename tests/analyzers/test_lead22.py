"""lead22 (issue 31): repeat_back judges inbound calls only (001 §2.1 复述确认 sums up the caller's problem)."""

from raised import rules_raised
from transcripts import A, C

# the customer tells a matter of their own at length and the agent never sums it up
TOLD = [(A, "您好，这里是城市燃气，我是客服小周。"), (C, "你好，我家燃气表这个月读数不对，比上个月多了快一百个字。"),
        (A, "好的，我这边安排师傅明天上午上门看一下。"), (C, "行，那谢谢啊。"), (A, "不客气，再见。")]


def test_inbound_call_without_a_repeat_back_is_flagged():
    assert "repeat_back" in rules_raised(TOLD)


def test_outbound_call_asks_no_repeat_back():
    survey = [(A, "您好，请问是王先生吗？我是城市燃气的回访专员小周，想耽误您一分钟做个满意度回访，现在方便吗？"),
              (C, "方便，上周师傅来修表修得挺快的，态度也好，我挺满意的。"),
              (A, "好的，感谢您的评价，我们会继续努力。祝您生活愉快，再见。")]
    assert "repeat_back" not in rules_raised(survey, direction="outbound")
    assert "repeat_back" not in rules_raised(TOLD, direction="outbound")
