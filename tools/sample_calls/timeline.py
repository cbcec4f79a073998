"""A call's timeline: each speaker's speed calibrated to a target rate, the script laid out
sample-exact at 8 kHz, and the silence rules every sample call keeps."""

from __future__ import annotations

import numpy as np

from analyzers.model import AGENT, CUSTOMER, Span, Utterance

from .script import Call, Hold, Pause, U, count_chars
from .synth import RATE, utterance_audio

LEAD_S = 0.6  # silence before the first utterance
TAIL_S = 0.8  # silence after the last utterance


def speaker_rate(utts, speaker):
    us = [u for u in utts if u.speaker == speaker]
    chars = sum(count_chars(u.text) for u in us)
    secs = sum(u.end_s - u.start_s for u in us)
    return chars / secs * 60.0 if secs else None


def render_speaker(call: Call, speaker: str, speed: float) -> list[np.ndarray]:
    scale = call.agent_pause_scale if speaker == AGENT else call.customer_pause_scale
    return [
        utterance_audio(item.text, speaker, speed, scale)
        for item in call.script
        if isinstance(item, U) and item.speaker == speaker
    ]


def calibrate(call: Call, speaker: str, target: float) -> tuple[float, list[np.ndarray]]:
    """Find the FastSpeech2 speed ratio giving `target` chars/min for the speaker
    (rate = chars / summed utterance durations). Speed ratios are rounded to
    0.01 so the result is reproducible."""
    texts = [it.text for it in call.script if isinstance(it, U) and it.speaker == speaker]
    chars = sum(count_chars(t) for t in texts)
    speed = round(2.0 * 170.0 / target, 2)
    for _ in range(3):
        audios = render_speaker(call, speaker, speed)
        rate = chars / (sum(len(a) for a in audios) / RATE) * 60.0
        if abs(rate - target) / target < 0.02:
            break
        speed = round(speed * rate / target, 2)
    else:
        audios = render_speaker(call, speaker, speed)
    return speed, audios


def place(call: Call, audios: dict[str, list[np.ndarray]]):
    """Lay the script out on a timeline (sample-exact, 8 kHz)."""
    idx = {AGENT: 0, CUSTOMER: 0}
    utts, holds, pauses = [], [], []
    placed = []  # (speaker, start_sample, audio)
    latest_end = int(LEAD_S * RATE)
    prev_end = latest_end
    pending_gap = None  # ("hold"/"pause", samples)
    for item in call.script:
        if isinstance(item, (Hold, Pause)):
            pending_gap = (type(item).__name__, int(round(item.seconds * RATE)))
            continue
        audio = audios[item.speaker][idx[item.speaker]] * 10 ** (item.gain_db / 20)
        idx[item.speaker] += 1
        if pending_gap is not None:
            kind, n = pending_gap
            start = latest_end + n
            span = Span(round(latest_end / RATE, 4), round(start / RATE, 4))
            (holds if kind == "Hold" else pauses).append(span)
            pending_gap = None
        elif item.overlap is not None:
            start = prev_end - int(round(item.overlap * RATE))
        else:
            start = latest_end + int(round(item.gap * RATE))
        end = start + len(audio)
        placed.append((item.speaker, start, audio))
        utts.append(Utterance(item.speaker, round(start / RATE, 4), round(end / RATE, 4), item.text))
        prev_end = end
        latest_end = max(latest_end, end)
    total = latest_end + int(TAIL_S * RATE)
    return utts, holds, pauses, placed, total


def check_timeline(call: Call, utts, holds, pauses):
    """The silence rules: normal gaps 0.4-1.5 s, nothing 1.6-6 s except the
    deliberate pause, nothing >= 6 s except holds."""
    deliberate = {(s.start_s, s.end_s) for s in (*holds, *pauses)}
    iv = sorted((u.start_s, u.end_s) for u in utts)
    end = iv[0][1]
    for s, e in iv[1:]:
        if s > end:
            gap = s - end
            span = (round(end, 4), round(s, 4))
            if span not in deliberate:
                assert 0.4 - 1e-6 <= gap <= 1.5 + 1e-6, (call.call_id, span, gap)
        end = max(end, e)
    for p in pauses:
        assert 1.6 <= p.duration_s < 6, p
    for h in holds:
        assert h.duration_s >= 6, h
