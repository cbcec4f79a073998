"""b7fix (issue 31, round 8 from blind7): hand-written transcripts, hits and near misses, none a blind7 line."""

import pytest

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
