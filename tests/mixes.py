"""The sample calls as mono mixes, and their agreement with a diarization (test_diarize).

The tests' own reading of what tools/measure_diarize.py reads: tests do not import tools/,
and tools do not import tests, so the few lines of loading live in both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analyzers import diarization_metrics
from analyzers.model import CallTruth
from conftest import SAMPLES, load_truth, truth_files

RATE_HZ = 16000


def sample_truths() -> list[CallTruth]:
    """The sample calls' ground truths whose audio is there."""
    return [t for t in map(load_truth, truth_files()) if (SAMPLES / t.audio).exists()]


def mono_mix(truth: CallTruth, calls_dir: Path) -> tuple[np.ndarray, float]:
    """The call as one channel at RATE_HZ (a stereo call mixed down), and its duration (s)."""
    from flows.speech.audio import load_call

    audio = load_call(calls_dir / truth.audio, sample_rate_hz=RATE_HZ, agent_channel=truth.agent_channel or "left")
    if audio.layout == "mono":
        return audio.channels["mixed"], audio.duration_s
    return audio.channels["agent"] + audio.channels["customer"], audio.duration_s


def agreement(truth: CallTruth, result, duration_s: float) -> float:
    """Share of one-speaker truth speech time that the diarization `result` gives to that speaker."""
    return diarization_metrics.agreement([(u.speaker, u.start_s, u.end_s) for u in truth.utterances],
                                         [(s.speaker, s.start_s, s.end_s) for s in result.spans], duration_s)
