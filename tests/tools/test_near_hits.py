"""tools/near_hits.py: what near-homophone matching (analyzers/nearsound.py) adds on text that
must not hit: nothing, over the pack's phrase lists."""

from __future__ import annotations

import os


def test_near_matching_adds_no_hit_on_the_corpus_negatives_and_the_sample_truth():
    """tools/near_hits.py over every phrase list the checks read: the negative examples of
    lexicons/zh-CN/examples and the 12 sample calls' true utterances get no new hit."""
    from tools.near_hits import negatives, new_hits, pack_lists

    texts = negatives()
    if os.environ.get("CI") == "true":
        assert len(texts) > 1000
    assert new_hits(pack_lists(), texts) == []
