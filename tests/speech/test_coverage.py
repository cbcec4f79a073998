"""Under-heard speech (issue 33): speech pieces whisper wrote (almost) nothing for are
found by their characters per second and heard again from a window starting at them."""

from __future__ import annotations

import numpy as np
import pytest

from analyzers.model import Word
from flows.speech import coverage
from flows.speech.transcribe import SAMPLE_RATE_HZ, transcribe_speech


def _w(text, start_s, end_s=None):
    return Word(text, start_s, end_s if end_s is not None else start_s + 0.3, 0.9)


def test_pieces_with_under_one_character_a_second_form_runs():
    spans = [(0.0, 4.0), (10.0, 18.0), (20.0, 24.0), (30.0, 30.8), (40.0, 44.0)]
    words = [_w("您好，", 0.1), _w("很高兴", 1.0), _w("请", 10.2),  # 1 char in 8 s
             _w("问您", 20.0), _w("好的", 40.5), _w("谢谢", 41.0)]
    # (10, 18): 1 char / 8 s; (20, 24): 2 / 4 s; (30, 30.8): too short to judge
    assert coverage.underheard_runs(words, spans) == [(1, 2)]
    assert coverage.chars([_w("您好，", 0.0), _w("123!", 1.0)]) == 5  # punctuation does not count
    # a word dated at a span's start, rounded to the millisecond below it, is still inside
    assert coverage.piece_index(_w("问", 56.056), [(56.056000000000004, 60.2)]) == 0
    assert coverage.underheard_runs([], [(0.0, 0.5)]) == []


def test_the_window_starts_at_the_run_and_fills_one_whisper_window():
    spans = [(0.0, 5.0), (10.0, 20.0), (30.0, 45.0), (50.0, 60.0), (70.0, 71.0)]
    # 10 s + 0.5 + 15 s = 25.5 s; the next 10 s would pass 30 s
    assert coverage.window_from(spans, 1, 1, 0.5) == [(10.0, 20.0), (30.0, 45.0)]
    # the run itself always goes in, however long
    assert coverage.window_from(spans, 1, 3, 0.5) == spans[1:4]
    assert coverage.window_from(spans, 4, 4, 0.5) == [(70.0, 71.0)]


class _SkippingEngine:
    """Hears pieces of constant sample value v as a word of v + 1 characters a second; a window that
    starts with the value-1 piece skips the value-2 piece and dates the next piece's first
    word into it, as whisper base did on sample call01 after its hold."""

    name, batches = "skipping", False

    def __init__(self):
        self.windows = []

    def decode_segments(self, model, audio, opts, lane=0):
        values, starts = self._pieces(audio)
        self.windows.append(values)
        words = []
        for i, (v, (s, e)) in enumerate(zip(values, starts)):
            if values[0] == 1 and v == 2:
                continue
            t = s
            while t + 1.0 <= e + 1e-6:
                text = "".join(chr(0x4E00 + len(words) * 8 + k) for k in range(int(v) + 1))  # no loops
                words.append({"word": text, "start": t, "end": t + 1.0, "probability": 0.9})
                t += 1.0
            if values[0] == 1 and i and values[i - 1] == 2:  # the landing piece's first word, misdated
                prev_s, prev_e = starts[i - 1]
                words[-int((e - s) // 1.0)]["start"], words[-int((e - s) // 1.0)]["end"] = prev_s + 0.5, prev_e
        return [{"text": "x", "words": words}] if words else []

    @staticmethod
    def _pieces(audio):
        nonzero = np.concatenate([[False], audio != 0, [False]])
        edges = np.flatnonzero(np.diff(nonzero.astype(np.int8)))
        bounds = list(zip(edges[::2], edges[1::2]))
        return ([float(audio[a]) for a, _ in bounds],
                [(a / SAMPLE_RATE_HZ, b / SAMPLE_RATE_HZ) for a, b in bounds])


def _call(pieces):
    """Samples with each (start_s, end_s, value) filled with the value, silence between."""
    samples = np.zeros(int(max(e for _, e, _ in pieces) + 2) * SAMPLE_RATE_HZ, np.float32)
    for s, e, v in pieces:
        samples[int(s * SAMPLE_RATE_HZ):int(e * SAMPLE_RATE_HZ)] = v
    return samples


@pytest.fixture
def skipping(monkeypatch):
    from flows.speech import engines

    engine = _SkippingEngine()
    monkeypatch.setitem(engines.ENGINES, "skipping", engine)
    return engine, type("M", (), {"engine": "skipping"})()


def test_a_skipped_piece_is_heard_again_from_a_window_starting_at_it(skipping):
    engine, model = skipping
    # value 1 (4 s), an 8-s hold, value 2 (6 s: skipped), value 3 (3 s: the landing piece)
    samples = _call([(1.0, 5.0, 1), (13.0, 19.0, 2), (21.0, 24.0, 3)])
    spans = [(1.0, 5.0), (13.0, 19.0), (21.0, 24.0)]
    words = transcribe_speech(model, samples, spans)
    assert engine.windows == [[1, 2, 3], [2, 3]]  # the whole, then from the skipped piece on
    by_piece = [[len(w.text) for w in coverage.in_spans(words, [(s - 0.2, e + 0.2)])] for s, e in spans]
    assert by_piece[0] == [2] * 4
    assert by_piece[1] == [3] * 6  # what the first window skipped
    assert by_piece[2] == [4] * 3  # the landing piece gets its first word back
    assert [w.start_s for w in words] == sorted(w.start_s for w in words)


def test_speech_heard_fully_is_decoded_once(skipping):
    engine, model = skipping
    samples = _call([(1.0, 5.0, 3), (13.0, 19.0, 2)])
    words = transcribe_speech(model, samples, [(1.0, 5.0), (13.0, 19.0)])
    assert engine.windows == [[3, 2]]
    assert len(words) == 4 + 6
