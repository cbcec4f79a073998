"""b7fix (issue 31, round 8 from blind7): hand-written transcripts, hits and near misses, none a blind7 line."""

import pytest

from analyzers.banned import find_banned
from analyzers.overtalk import overtalk_findings
from lexicons import load_pack
from transcripts import A, C, at, call

PACK = load_pack()
TALK = "我上个月交的那笔费用到现在也没到账，我打了好几次电话了，每次都说让我等，我也不晓得还要等多久。"


# --- agent_interrupts: handing the floor back is listening (001 §2.1 第一步 不随意打断; 适时回应) ----------

@pytest.mark.parametrize("said", ["您说", "嗯，您请讲。", "嗯嗯，您接着说", "好的，大姐您继续", "嗯，先生您慢慢说。",
                                  "对，您说吧", "我在听，您说", "没事您先说", "嗯，师傅你讲"])
def test_an_utterance_that_hands_the_floor_back_is_no_interruption(said):
    t = call(at(C, 0.0, 9.0, TALK), at(A, 4.0, 4.9, said), at(A, 9.6, 13.0, "我帮您查一下这笔费用。"))
    assert overtalk_findings(t, PACK.overtalk) == []


@pytest.mark.parametrize("said, start, end", [
    ("您说的是哪一笔？", 4.0, 5.0),          # a question of its own: the agent takes the floor
    ("阿姨，阿姨", 4.0, 4.8),                # an address alone tries to cut in
    ("您说，不过我先跟您讲一下", 4.0, 5.4),  # the yield with more after it
    ("嗯，阿姨您接着说，我听着呢", 4.0, 6.5),  # longer than a backchannel may be
    ("您等一下", 4.0, 4.8),                  # stops the customer instead
])
def test_more_than_handing_the_floor_back_is_still_an_interruption(said, start, end):
    t = call(at(C, 0.0, 9.0, TALK), at(A, start, end, said))
    assert [f.rule_id for f in overtalk_findings(t, PACK.overtalk)] == ["agent_interrupts"]


# --- dont_know: 不知道 opening a polite question of the customer is no 不知道 (003 §三.5(4)4 D) ----------------

@pytest.mark.parametrize("text", ["想跟您核对一下装机地址，不知道您现在说话方便吗？", "那不知道师傅昨天有没有联系过您？",
                                  "不知道明天下午两点您有空吗", "就是不知道您这边收到验证码没有？"])
def test_not_knowing_as_a_polite_opener_is_allowed(text):
    assert "dont_know" not in [h.entry.id for h in find_banned(text, PACK.banned)]


@pytest.mark.parametrize("text", ["这个我也不知道能不能退？", "不知道这个活动还有没有？", "不知道啊？", "不知道，您问问银行吧？",
                                  "不知道我要怎么跟您解释？", "这个不知道。"])
def test_the_agents_own_not_knowing_is_still_banned(text):
    assert "dont_know" in [h.entry.id for h in find_banned(text, PACK.banned)]


# --- third_party_blame: the other parties of each trade, the agent's side named as the platform (001 §3.2 场景二) ----

@pytest.mark.parametrize("text", ["送晚了是骑手的问题。", "这是司机那边的责任。", "是外卖员的错，您给他差评吧。", "这是餐厅的问题，不是我们。",
                                  "菜品质量跟平台没关系。", "这个和公司没有关系。", "门店的原因，我们也没办法。"])
def test_blaming_another_party_is_third_party_blame(text):
    assert "third_party_blame" in [h.entry.id for h in find_banned(text, PACK.banned)]


@pytest.mark.parametrize("text", ["骑手已经在路上了。", "我帮您联系一下骑手。", "跟您没关系，您不用担心。", "平台会承担这笔费用。",
                                  "我跟平台核实一下。", "司机的电话我发到您手机上。", "我和门店确认好了，明天可以取。"])
def test_naming_another_party_without_blame_is_no_third_party_blame(text):
    assert "third_party_blame" not in [h.entry.id for h in find_banned(text, PACK.banned)]
