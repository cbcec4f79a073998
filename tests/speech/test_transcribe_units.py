"""Transcription helpers without a model: gating, time mapping, guards, BYO transcripts."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from analyzers.model import Utterance, Word
from flows.speech.transcript import SpeechOptions, snap_to_speech, transcribe_call, words_to_utterances
from flows.speech.transcribe import (
    SAMPLE_RATE_HZ,
    DecoderOptions,
    GatingOptions,
    ModelNotConfigured,
    _drop_loops,
    _chunks,
    _concat,
    _gate,
    _merge_spans,
    _segment_ok,
    _Piece,
    _segment_words,
    _to_orig_span,
    join_words,
    resolve_model_ref,
)
from conftest import SAMPLES


def test_gate_cuts_long_silences_and_maps_times_back():
    samples = np.zeros(SAMPLE_RATE_HZ * 30, dtype=np.float32)
    opts = GatingOptions(span_pad_s=0.0, max_gap_s=1.0, gap_fill_s=0.5)
    audio, pieces = _gate(samples, [(1.0, 3.0), (3.5, 4.0), (20.0, 22.0)], opts)
    # the 0.5 s gap stays, the 16 s hold becomes 0.5 s
    assert len(pieces) == 2
    assert len(audio) / SAMPLE_RATE_HZ == pytest.approx(3.0 + 0.5 + 2.0)
    assert _to_orig_span(0.5, 1.0, pieces) == pytest.approx((1.5, 2.0))
    assert _to_orig_span(3.6, 4.0, pieces) == pytest.approx((20.1, 20.5))
    # a word straddling the cut belongs to the piece holding most of it, clamped into it
    start_s, end_s = _to_orig_span(2.9, 3.7, pieces)
    assert (start_s, end_s) == pytest.approx((20.0, 20.2))


def test_a_segments_first_and_last_word_go_with_their_neighbour_across_a_cut():
    # two pieces: concatenated 0-3 s (recording 1-4 s) and 3.5-5.5 s (recording 20-22 s)
    pieces = [_Piece(0.0, 1.0, 3.0), _Piece(3.5, 20.0, 2.0)]
    seg = {"text": "x", "words": [
        {"word": "感", "start": 2.6, "end": 3.7},   # mostly before the cut, but reaches the next piece
        {"word": "谢", "start": 3.7, "end": 4.0},
        {"word": "您", "start": 4.0, "end": 4.3},
    ]}
    words = _segment_words([seg], pieces, DecoderOptions())
    assert [w.text for w in words] == ["感", "谢", "您"]
    assert words[0].start_s == pytest.approx(20.0) and words[0].end_s == pytest.approx(20.2)
    # a first word that stops short of the next piece stays where it is
    seg["words"][0] = {"word": "感", "start": 2.6, "end": 3.4}
    assert _segment_words([seg], pieces, DecoderOptions())[0].end_s == pytest.approx(3.0 + 1.0)  # clamped
    # the last word symmetrically: its neighbour is before the cut, most of it after
    tail = {"text": "y", "words": [
        {"word": "好", "start": 2.0, "end": 2.5},
        {"word": "的", "start": 2.9, "end": 4.0},
    ]}
    words = _segment_words([tail], pieces, DecoderOptions())
    assert words[1].start_s == pytest.approx(2.9 + 1.0) and words[1].end_s == pytest.approx(4.0)
    # a word in the middle of a segment keeps the most-of-it rule
    mid = {"text": "z", "words": [
        {"word": "一", "start": 1.0, "end": 1.5},
        {"word": "二", "start": 2.6, "end": 3.7},
        {"word": "三", "start": 4.0, "end": 4.3},
    ]}
    assert _segment_words([mid], pieces, DecoderOptions())[1].start_s == pytest.approx(3.6)


def test_chunks_cut_only_between_spans_and_hold_every_span_once():
    opts = GatingOptions(span_pad_s=0.0, gap_fill_s=0.5)
    merged = [(i * 10.0, i * 10.0 + 4.0) for i in range(20)]  # 20 spans of 4 s
    chunks = _chunks(merged, opts, max_chunk_s=20.0)
    assert [s for c in chunks for s in c] == merged  # nothing lost, nothing split, in order
    assert all(len(c) * 4.0 + (len(c) - 1) * 0.5 <= 20.0 for c in chunks)
    assert [len(c) for c in chunks] == [4] * 5
    # a call shorter than one chunk is one chunk: decoded exactly as without chunking
    assert _chunks(merged, opts, max_chunk_s=600.0) == [merged]
    # a single span longer than a chunk still goes through, alone
    assert _chunks([(0.0, 50.0), (60.0, 61.0)], opts, max_chunk_s=20.0) == [[(0.0, 50.0)], [(60.0, 61.0)]]


def test_the_other_speaker_is_muted_inside_a_speakers_gated_audio():
    samples = np.ones(SAMPLE_RATE_HZ * 10, dtype=np.float32)
    opts = GatingOptions(gap_fill_s=0.5)
    audio, pieces = _concat(samples, [(1.0, 4.0), (6.0, 7.0)], opts, mute_s=[(2.0, 2.5), (8.0, 9.0)])
    assert len(audio) == SAMPLE_RATE_HZ * 4.5
    silent_s = np.sum(audio == 0.0) / SAMPLE_RATE_HZ
    assert silent_s == pytest.approx(0.5 + 0.5)  # the muted turn and the gap fill
    assert np.all(audio[int(1.0 * SAMPLE_RATE_HZ) : int(1.5 * SAMPLE_RATE_HZ)] == 0.0)
    assert samples.min() == 1.0  # the recording itself is untouched


def test_merge_spans_pads_and_joins_short_gaps():
    opts = GatingOptions(span_pad_s=0.2, max_gap_s=1.0)
    assert _merge_spans([(5.0, 6.0), (0.1, 1.0), (1.5, 2.0)], 5.5, opts) == [(0.0, 2.2), (4.8, 5.5)]


def test_utterances_never_span_a_hold():
    words = [Word("请", 10.0, 10.3), Word("稍等", 10.3, 10.8), Word("久等", 19.0, 19.4), Word("了", 19.4, 19.6)]
    utts = words_to_utterances(words, "agent", gap_s=0.8)
    assert [(u.start_s, u.end_s, u.text) for u in utts] == [(10.0, 10.8, "请稍等"), (19.0, 19.6, "久等了")]


def _utt(*words):
    ws = tuple(Word(t, s, e) for t, s, e in words)
    return Utterance("agent", ws[0].start_s, ws[-1].end_s, "".join(w.text for w in ws), ws)


def test_utterance_edges_snap_to_detected_speech_within_limits():
    u = _utt(("您好", 1.3, 1.8), ("再见", 1.8, 2.2))
    [near] = snap_to_speech([u], [(1.0, 2.5)])
    assert (near.start_s, near.end_s) == (1.0, 2.5)
    assert (near.words[0].start_s, near.words[-1].end_s) == (1.0, 2.5)
    [far] = snap_to_speech([u], [(1.0, 2.5)], max_shift_s=0.2)  # too far: whisper's times kept
    assert (far.start_s, far.end_s) == (1.3, 2.2)
    # never into the speaker's next utterance
    first, second = snap_to_speech([u, _utt(("好的", 2.6, 3.0))], [(1.0, 3.0)])
    assert first.end_s <= second.start_s


def test_word_edges_in_a_detected_pause_move_to_the_speech_beside_them():
    # Whisper dates 请 from the end of the previous word, across a 0.8 s pause.
    u = _utt(("了", 62.6, 62.94), ("请", 62.94, 64.06), ("问", 64.06, 64.64), ("吗", 64.64, 64.9))
    [out] = snap_to_speech([u], [(60.8, 62.93), (63.73, 64.9)])
    times = {w.text: (w.start_s, w.end_s) for w in out.words}
    assert times["请"] == (63.73, 64.06)
    assert times["了"] == (62.6, 62.93)  # its end was in the pause too
    assert times["问"] == (64.06, 64.64)  # inside speech: untouched
    assert snap_to_speech([out], [(60.8, 62.93), (63.73, 64.9)]) == [out]  # idempotent (refine runs on every read)
    # over speech on both sides of the pause: the side holding most of it (the faster
    # engine's 请 began 0.07 s before the previous sentence ended)
    u = _utt(("了", 62.52, 62.86), ("请", 62.86, 64.04), ("问", 64.04, 64.46))
    [out] = snap_to_speech([u], [(53.15, 62.93), (63.7, 69.49)])
    assert {w.text: (w.start_s, w.end_s) for w in out.words}["请"] == (63.7, 64.04)
    # a word with no speech under it at all keeps whisper's times: nothing to move it to
    u = _utt(("好", 3.0, 3.5), ("嗯", 5.0, 6.0), ("好", 6.2, 6.5), ("的", 6.5, 6.9))
    [out] = snap_to_speech([u], [(3.0, 4.9), (6.3, 7.0)])
    assert (out.words[1].start_s, out.words[1].end_s) == (5.0, 6.0)
    assert out.words[2].start_s == 6.3


def test_hallucinated_and_looping_text_is_dropped():
    opts = DecoderOptions()
    assert not _segment_ok({"text": "字幕由Amara.org社群提供", "compression_ratio": 1.0}, opts)
    assert not _segment_ok({"text": "請不吝點贊訂閱轉發打賞", "compression_ratio": 1.0}, opts)
    assert not _segment_ok({"text": "好的好的好的好的好的", "compression_ratio": 3.1}, opts)
    assert not _segment_ok({"text": "嗯", "no_speech_prob": 0.9, "avg_logprob": -1.5}, opts)
    assert _segment_ok({"text": "您好，很高兴为您服务", "compression_ratio": 1.1, "no_speech_prob": 0.1}, opts)
    looped = [Word(t, i, i + 0.5) for i, t in enumerate("谢谢 您 谢谢 您 谢谢 您 谢谢 您 再见".split())]
    assert join_words(_drop_loops(looped)) == "谢谢您谢谢您再见"


def test_join_words_spaces_only_between_latin_words():
    words = [Word("您好", 0, 1), Word("OK", 1, 2), Word("app", 2, 3), Word("下载", 3, 4)]
    assert join_words(words) == "您好OK app下载"


def test_model_must_be_configured(monkeypatch, tmp_path):
    monkeypatch.delenv("CALLQA_WHISPER_MODEL", raising=False)
    monkeypatch.setenv("CALLQA_MODEL_DIR", str(tmp_path / "no-models"))  # an empty model folder
    with pytest.raises(ModelNotConfigured, match="CALLQA_WHISPER_MODEL"):
        resolve_model_ref(None)
    with pytest.raises(ModelNotConfigured, match="not found"):
        resolve_model_ref(str(tmp_path / "missing.pt"))
    assert resolve_model_ref("base") == "base"


def test_a_supplied_whisper_transcript_is_used_instead_of_asr(tmp_path):
    src = SAMPLES / "call02_no_greeting_closing.wav"
    truth = json.loads((SAMPLES / "call02_no_greeting_closing.json").read_text(encoding="utf-8"))
    audio = tmp_path / "byo.wav"
    shutil.copy(src, audio)
    segments = [{"start": u["start_s"], "end": u["end_s"], "text": u["text"]} for u in truth["utterances"]]
    segments[0]["text"] = "訂單號是多少"  # traditional input comes out simplified
    (tmp_path / "byo.json").write_text(json.dumps({"text": "", "segments": segments}, ensure_ascii=False), encoding="utf-8")
    def no_asr(jobs):
        raise AssertionError(f"whisper asked to decode {len(jobs)} pass(es) of a call whose words were supplied")

    transcript = transcribe_call(str(audio), "byo", SpeechOptions(), "never-loaded.pt", no_asr)
    assert transcript.asr_model == "never-loaded.pt"
    assert transcript.layout == "mono"
    texts = [u.text for u in transcript.utterances]
    assert texts[0].startswith("订单号是多少")
    assert len(transcript.utterances) >= len(truth["utterances"]) - 1
    assert {u.speaker for u in transcript.utterances} == {"agent", "customer"}


def test_one_voice_windows_pad_and_join_short_pauses():
    from analyzers.model import SpeechSpan
    from flows.speech.transcript import one_voice_windows

    spans = [SpeechSpan("agent", 0.4, 5.5), SpeechSpan("agent", 6.2, 9.6), SpeechSpan("agent", 14.0, 15.0)]
    # padded 0.75 s: 0.0-6.25 and 5.45-10.35 join; 13.25 is 2.9 s after 10.35, more than 2 s
    assert one_voice_windows(spans, 15.1) == [pytest.approx((0.0, 10.35)), pytest.approx((13.25, 15.1))]
    assert one_voice_windows([], 3.0) == []


def test_the_model_folder_is_the_last_place_looked_in(monkeypatch, tmp_path):
    from flows.speech.engines.openai import find_model

    folder = tmp_path / "models"
    monkeypatch.delenv("CALLQA_WHISPER_MODEL", raising=False)
    monkeypatch.setenv("CALLQA_MODEL_DIR", str(folder))
    folder.mkdir()
    (folder / "whisper-small.pt").write_bytes(b"x")
    (folder / "broken.pt").symlink_to(tmp_path / "gone.pt")  # a dangling link is not a model
    assert find_model(None) == (str(folder / "whisper-small.pt"), f"the model folder {folder}")
    (folder / "whisper-base.pt").write_bytes(b"x")  # whisper-base.pt wins over the others
    assert resolve_model_ref(None) == str(folder / "whisper-base.pt")
    monkeypatch.setenv("CALLQA_WHISPER_MODEL", "tiny")  # the variable wins over the folder
    assert find_model(None) == ("tiny", "$CALLQA_WHISPER_MODEL")
    assert find_model("base") == ("base", "--model")  # and the flag over both
