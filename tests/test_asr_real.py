"""Transcription accuracy on real Mandarin speech (../shared/audio/real), issue 3."""

from __future__ import annotations

import pytest

from analyzers.cer import char_errors, to_simplified

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hypotheses(real_hypotheses):
    return real_hypotheses  # conftest: shared with test_engines


def test_pooled_cer_on_real_clips_is_at_most_18_percent(hypotheses):
    errors = total = 0
    for _, ref, hyp in hypotheses:
        e, n = char_errors(hyp, ref)
        errors, total = errors + e, total + n
    assert errors / total <= 0.18, [(p.name, h) for p, _, h in hypotheses]


def test_output_is_simplified_chinese(hypotheses):
    text = "".join(h for _, _, h in hypotheses)
    assert text and to_simplified(text) == text
    assert "广州" in text  # whisper base prints 廣州 for this clip without conversion
