"""Utterance loudness (dBFS) from the audio: what the raised-voice check reads."""

from __future__ import annotations

import numpy as np
import pytest

from analyzers.model import Utterance
from flows.speech.audio import CallAudio
from flows.batch.pipeline import with_levels
from flows.speech.vad import span_levels_db

RATE = 16000


def _tone(seconds: float, amplitude: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_a_span_twice_as_loud_is_6_db_louder():
    samples = np.concatenate([_tone(1.0, 0.1), np.zeros(RATE // 2, np.float32), _tone(1.0, 0.2)])
    quiet, loud, outside = span_levels_db(samples, RATE, [(0.0, 1.0), (1.5, 2.5), (9.0, 10.0)])
    assert quiet == pytest.approx(20 * np.log10(0.1 / np.sqrt(2)), abs=0.3)
    assert loud - quiet == pytest.approx(6.0, abs=0.3)
    assert outside is None


def test_pauses_inside_an_utterance_do_not_lower_its_level():
    speech = _tone(1.0, 0.1)
    with_pause = np.concatenate([speech, np.zeros(RATE, np.float32), speech])
    (solid,), (gapped,) = span_levels_db(speech, RATE, [(0, 1)]), span_levels_db(with_pause, RATE, [(0, 3)])
    assert gapped == pytest.approx(solid, abs=0.3)


def test_each_speaker_is_measured_on_its_own_channel():
    agent = np.concatenate([_tone(1.0, 0.3), np.zeros(RATE, np.float32)])
    customer = np.concatenate([np.zeros(RATE, np.float32), _tone(1.0, 0.05)])
    audio = CallAudio("x.wav", "pcm_s16le", RATE, 2, RATE, 2.0, "stereo", {"agent": agent, "customer": customer})
    utts = [Utterance("agent", 0.0, 1.0, "您好"), Utterance("customer", 1.0, 2.0, "你好")]
    a, c = with_levels(utts, audio)
    assert a.level_db > c.level_db + 10 and (a.text, c.text) == ("您好", "你好")


def test_levels_survive_refine():
    """refine (applied to every transcript, fresh or cached) snaps edges to speech; the
    level measured on the audio must stay, or the raised-voice check sees nothing."""
    from analyzers.model import SpeechSpan, Transcript, Word
    from flows.batch.pipeline import refine

    u = Utterance("agent", 0.2, 1.1, "您好", (Word("您", 0.2, 0.6), Word("好", 0.6, 1.1)), level_db=-18.5)
    t = Transcript("x", 2.0, "stereo", (u,), speech_spans=(SpeechSpan("agent", 0.3, 1.0),))
    (refined,) = refine(t).utterances
    assert refined.level_db == -18.5 and (refined.start_s, refined.end_s) == (0.3, 1.0)
