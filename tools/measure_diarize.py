"""Speaker separation of the sample calls played as mono mixes; prints one line per call.

    .venv/bin/python tools/measure_diarize.py [--calls sample_audio] [--method mfcc|embed]

Stereo calls are mixed down (agent + customer), so every sample call counts. For each:
the share of one-speaker truth speech time that `flows.speech.diarize` gives to that speaker,
and the diarization's own confidence. tests/speech/test_diarize.py asserts on the same measure.
`--method embed` runs the resemblyzer variant (flows/speech/diarize_embed.py, needs
resemblyzer) instead of flows.speech.diarize, to compare them (docs/diarization.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzers.model import CallTruth  # noqa: E402
from flows.speech.audio import load_call  # noqa: E402
from flows.speech.diarize import Diarization  # noqa: E402
from flows.speech.diarize_embed import DIARIZERS, diarize_call  # noqa: E402
from flows.speech.vad import detect_speech  # noqa: E402
from analyzers.diarization_metrics import agreement as spans_agreement  # noqa: E402
from tools.measure_vad import sample_truths  # noqa: E402

RATE_HZ = 16000


def mono_mix(truth: CallTruth, calls_dir: Path) -> tuple[np.ndarray, float]:
    """The call as one channel at RATE_HZ (a stereo call mixed down), and its duration (s)."""
    audio = load_call(calls_dir / truth.audio, sample_rate_hz=RATE_HZ, agent_channel=truth.agent_channel or "left")
    if audio.layout == "mono":
        return audio.channels["mixed"], audio.duration_s
    return audio.channels["agent"] + audio.channels["customer"], audio.duration_s


def agreement(truth: CallTruth, result: Diarization, duration_s: float) -> float:
    """Share of one-speaker truth speech time that the diarization gives to that speaker."""
    return spans_agreement([(u.speaker, u.start_s, u.end_s) for u in truth.utterances],
                           [(x.speaker, x.start_s, x.end_s) for x in result.spans], duration_s)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=Path, default=ROOT / "sample_audio")
    ap.add_argument("--method", choices=DIARIZERS, default="auto")
    args = ap.parse_args(argv)
    scores = []
    for truth in sample_truths(args.calls):
        mix, duration_s = mono_mix(truth, args.calls)
        result = diarize_call(mix, RATE_HZ, detect_speech(mix, RATE_HZ), method=args.method)
        scores.append(agreement(truth, result, duration_s))
        print(f"{truth.call_id:30s} agreement {scores[-1]:.3f}  confidence {result.confidence:.3f}  speakers {result.speakers}  {result.method}{'  uncertain' if result.uncertain else ''}")
    if scores:
        print(f"mean agreement {np.mean(scores):.3f}, lowest {min(scores):.3f} ({len(scores)} calls)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
