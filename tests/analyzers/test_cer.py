"""analyzers.cer: character errors after normalisation, and pooled over several texts."""

from analyzers.cer import char_errors, pooled_cer


def test_char_errors_ignore_punctuation_and_traditional_forms():
    assert char_errors("您好，請問！", "您好请问") == (0, 4)
    assert char_errors("您好", "您好请问") == (2, 4)


def test_pooled_cer_is_all_edits_over_all_reference_characters():
    # 1 edit in 4 characters and 2 in 2 (two insertions): 3/6, not the mean of 0.25 and 1.0
    assert pooled_cer([("您好请吗", "您好请问"), ("好的好的", "好的")]) == 3 / 6
