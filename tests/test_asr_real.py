"""Transcription accuracy on real Mandarin speech (../shared/audio/real), issue 3."""

from __future__ import annotations

import pytest

from analyzers.cer import char_errors, to_simplified
from flows.audio import load_call
from flows.transcribe import AsrOptions, join_words, load_model, transcribe_speech
from flows.vad import detect_speech
from tools.eval_asr import references

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hypotheses(model_path):
    refs = references()
    if not refs:
        pytest.fail("no reference transcripts found in ../shared/audio/real/REFERENCES.tsv")
    model, fp16 = load_model(model_path)
    out = []
    for path, ref in refs:
        audio = load_call(path)
        samples = audio.channels["mixed"]
        words = transcribe_speech(model, samples, detect_speech(samples, audio.sample_rate_hz), AsrOptions(), fp16=fp16)
        out.append((path, ref, join_words(words)))
    return out


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
