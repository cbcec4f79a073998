"""Speaker separation of the sample calls played as mono mixes; prints one line per call.

    .venv/bin/python tools/measure_diarize.py [--calls sample_audio]

Stereo calls are mixed down (agent + customer), so every sample call counts. For each:
the share of one-speaker truth speech time that `flows.diarize` gives to that speaker,
and the diarization's own confidence. tests/test_diarize.py asserts on the same measure.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzers.model import CallTruth, from_dict  # noqa: E402
from flows.audio import load_call  # noqa: E402
from flows.diarize import Diarization, diarize  # noqa: E402
from flows.vad import detect_speech  # noqa: E402

RATE_HZ = 16000
FRAME_S = 0.01


def truths(calls_dir: Path) -> list[CallTruth]:
    """The ground truths in `calls_dir` whose audio is there."""
    out = []
    for path in sorted(calls_dir.glob("*.json")):
        truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
        if (calls_dir / truth.audio).exists():
            out.append(truth)
    return out


def mono_mix(truth: CallTruth, calls_dir: Path) -> tuple[np.ndarray, float]:
    """The call as one channel at RATE_HZ (a stereo call mixed down), and its duration (s)."""
    audio = load_call(calls_dir / truth.audio, sample_rate_hz=RATE_HZ, agent_channel=truth.agent_channel or "left")
    if audio.layout == "mono":
        return audio.channels["mixed"], audio.duration_s
    return audio.channels["agent"] + audio.channels["customer"], audio.duration_s


def _mask(spans, n: int) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    for a, b in spans:
        m[int(round(a / FRAME_S)) : int(round(b / FRAME_S))] = True
    return m


def agreement(truth: CallTruth, result: Diarization, duration_s: float) -> float:
    """Share of one-speaker truth speech time that the diarization gives to that speaker."""
    n = int(np.ceil(duration_s / FRAME_S)) + 1
    t = {s: _mask([(u.start_s, u.end_s) for u in truth.utterances if u.speaker == s], n) for s in ("agent", "customer")}
    d = {s: _mask([(x.start_s, x.end_s) for x in result.spans if x.speaker == s], n) for s in ("agent", "customer")}
    only_agent, only_customer = t["agent"] & ~t["customer"], t["customer"] & ~t["agent"]
    right = (only_agent & d["agent"]) | (only_customer & d["customer"])
    return right.sum() / max(1, (only_agent | only_customer).sum())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=Path, default=ROOT / "sample_audio")
    args = ap.parse_args(argv)
    scores = []
    for truth in truths(args.calls):
        mix, duration_s = mono_mix(truth, args.calls)
        result = diarize(mix, RATE_HZ, detect_speech(mix, RATE_HZ))
        scores.append(agreement(truth, result, duration_s))
        print(f"{truth.call_id:30s} agreement {scores[-1]:.3f}  confidence {result.confidence:.3f}  speakers {result.speakers}")
    if scores:
        print(f"mean agreement {np.mean(scores):.3f}, lowest {min(scores):.3f} ({len(scores)} calls)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
