"""An output folder for the review workspace's tests, made the way `callqa run` makes
one, minus whisper: hand-written transcripts go through the real analyzers
(flows.batch.pipeline.call_result) into the project's own store, and into a transcript cache
so that `callqa reprocess` works on them. Each call gets a real WAV (a tone, as long as
the call) so that the player can seek. Seconds, not minutes.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import soundfile as sf

from analyzers.analyze import analyze
from flows.storage.cache import TranscriptCache
from flows.batch.metadata import CallMeta
from flows.batch.pipeline import call_result
from flows.storage.store import ResultStore
from lexicons import load_pack
from transcripts import A, C, conversation, good_lines

#: call_id -> (agent id, agent name, team, started_at, lines)
CALLS = {
    "c_worst": ("A1", "王芳", "north", "2026-11-23T09:10:00+08:00", [
        (A, "喂，说吧。"),
        (C, "我的订单<script>alert('x')</script>没到，怎么回事？"),
        (A, "不知道，是您使用不当。"),
        (C, "什么意思？"),
        (A, "没办法，就这样吧。"),
    ]),
    "c_mid": ("A1", "王芳", "north", "2026-11-24T14:00:00+08:00", good_lines([
        (C, "你好，我想查一下我的订单。"),
        (A, "不知道，你等着吧。"),
        (C, "好的。"),
    ])),
    "c_other": ("A2", "李雷", "south", "2026-11-30T10:00:00+08:00", [
        (A, "喂。"),
        (C, "我要投诉，你们的服务太差了。"),
        (A, "不知道，没办法。"),
    ]),
    "c_good": ("A2", "李雷", "south", "2026-12-01T08:30:00+08:00", good_lines()),
}


def write_wav(path: Path, duration_s: float, rate: int = 8000) -> None:
    t = np.arange(int(duration_s * rate)) / rate
    sf.write(path, (0.1 * np.sin(2 * np.pi * 440 * t)).astype("float32"), rate)


def build_output(base: Path, calls: dict = CALLS, lexicon: str | os.PathLike[str] = "zh-CN") -> Path:
    """Write OUT (Parquet), OUT/cache/transcripts and base/audio/*.wav; return OUT."""
    out, audio = base / "out", base / "audio"
    audio.mkdir(parents=True, exist_ok=True)
    pack = load_pack(lexicon)
    store = ResultStore(out)
    cache = TranscriptCache(out / "cache" / "transcripts")
    for call_id, (agent_id, agent_name, team, started_at, lines) in calls.items():
        t = replace(conversation(lines), call_id=call_id)
        wav = audio / f"{call_id}.wav"
        write_wav(wav, t.duration_s)
        key = f"test-{call_id}"
        cache.put(key, t)
        meta = CallMeta(agent_id=agent_id, agent_name=agent_name, team=team, started_at=started_at, queue="billing")
        store.write(call_result(t, analyze(t, pack), source=str(wav), audio_sha256="0" * 64, key=key, meta=meta))
    return out
