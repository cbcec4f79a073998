"""sentence_parts with no clause mark: a split after a leading reply to thanks or an apology
(rt18; docs/decisions.md): whisper often drops the comma after the reply."""

import pytest

from analyzers.intents import REPLY_LEADS, meaning_sentences, sentence_parts


@pytest.mark.parametrize("sentence, parts", [
    ("不客气您还有别的问题吗", ("不客气", "您还有别的问题吗")),
    ("应该的那我先帮您登记", ("应该的", "那我先帮您登记")),  # 那 before a subject: a new clause
    ("没事儿您慢慢说", ("没事儿", "您慢慢说")),  # the longest reply, not 没事 + 儿
    ("没事的您慢慢说。", ("没事的", "您慢慢说。")),  # its particle stays with the reply
    ("嗯不客气不客气祝您生活愉快", ("嗯不客气不客气", "祝您生活愉快")),  # said twice, after an interjection
    ("您别客气有需要再打过来", ("您别客气", "有需要再打过来")),
    ("不用谢您还有别的问题吗？", ("不用谢", "您还有别的问题吗？")),
    ("这是我应该做的您放心", ("这是我应该做的", "您放心")),
    ("小意思啦有问题随时打过来", ("小意思啦", "有问题随时打过来")),
])
def test_a_reply_then_business_with_no_comma_splits_after_the_reply(sentence, parts):
    assert sentence_parts(sentence) == parts


@pytest.mark.parametrize("sentence", [
    "不客气的话我就挂了",  # a condition, no reply: the reply words are no clause of their own
    "没事吧",  # a question
    "没事吧？您声音听着不太对。",
    "没事儿吧您",
    "不要紧张慢慢说",  # a longer word: 不要紧张, not 不要紧 + 张
    "应该的手续都给您办齐了",  # 的 before a noun attributes it
    "没关系的人不能代办。",
    "应该的那款没货了",  # 那款: a noun, not the connective
    "不用谢我下次别再打来了",  # 谢 with its object
    "不麻烦您了我们自己来",
    "不客气什么呀本来就是你们该做的",
    "不客气？我已经对你很客气了。",  # the reply is a question the sentence ends on
    "举手之劳而已。",  # a final particle, no clause
    "没事就好",  # a consequence of the reply words
    "客气了您呐。",  # an address and its particle: less than two word chars of a clause
    "不客气。",
    "不客气哈",
    "谢谢您的配合我帮您查一下",  # no reply lead
])
def test_no_split_where_the_reply_words_are_no_clause_of_their_own(sentence):
    assert sentence_parts(sentence) == (sentence, None)


def test_a_clause_mark_still_wins():
    """A sentence with a clause mark splits there, as before: the reply rule only reads sentences
    with none (so a kept transcript cache's parts index tells an older split from a newer)."""
    assert sentence_parts("没事儿您慢慢说，我等着") == ("没事儿您慢慢说", "我等着")
    assert sentence_parts("不客气，您的发票我已经发到邮箱了。") == ("不客气", "您的发票我已经发到邮箱了。")


def test_a_meaning_sentence_after_normalise_splits_alike():
    """The pipeline splits meaning_sentences' units (NFKC, simplified, no spaces)."""
    (unit,) = meaning_sentences("不客氣 您還有別的問題嗎？")
    assert sentence_parts(unit) == ("不客气", "您还有别的问题吗?")


def test_the_reply_leads_are_longest_first():
    """re's alternation takes the first that matches: a longer reply must come before its prefix."""
    assert list(REPLY_LEADS) == sorted(REPLY_LEADS, key=len, reverse=True)
    assert REPLY_LEADS.index("没事儿") < REPLY_LEADS.index("没事")
