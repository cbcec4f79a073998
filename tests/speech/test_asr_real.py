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


def test_long_recordings_are_decoded_in_chunks_with_the_same_words(model_path, monkeypatch):
    """Chunking (for memory on long calls) must not lose, move or garble speech.

    A 20 s chunk limit splits call04's agent channel (two holds) into several whisper
    calls; the words must still come out where the speech is and read like the unchunked run.
    """
    import flows.speech.transcribe as tr
    from conftest import SAMPLES
    from flows.speech.audio import load_call
    from flows.speech.transcribe import GatingOptions, join_words, load_model, transcribe_speech
    from flows.speech.vad import call_speech_spans

    audio = load_call(SAMPLES / "call04_holds.wav")
    samples = audio.channels["agent"]
    spans = [(s.start_s, s.end_s) for s in call_speech_spans(audio) if s.speaker == "agent"]
    model = load_model(model_path)
    whole = transcribe_speech(model, samples, spans)
    monkeypatch.setattr(tr, "MAX_CHUNK_S", 20.0)
    merged = tr._merge_spans(spans, len(samples) / tr.SAMPLE_RATE_HZ, GatingOptions())
    assert len(tr._chunks(merged, GatingOptions(), 20.0)) >= 3
    chunked = transcribe_speech(model, samples, spans)
    e, n = char_errors(join_words(chunked), join_words(whole))
    assert e / n <= 0.15, (join_words(whole), join_words(chunked))
    pad = GatingOptions().span_pad_s + 0.01
    for w in chunked:
        assert any(s - pad <= w.start_s and w.end_s <= e + pad for s, e in merged), w
    assert [w.start_s for w in chunked] == sorted(w.start_s for w in chunked)
