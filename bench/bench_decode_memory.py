"""Memory and time of decoding + speech detection on a long call.

    python bench/bench_decode_memory.py [--hours 2] [--vad energy|silero] [--keep PATH]

Loops sample_audio/call01_compliant.wav (8 kHz stereo) with ffmpeg to the given length
in a temporary folder, then runs flows.speech.audio.load_call and flows.speech.vad.call_speech_spans
and prints the peak resident memory (VmHWM) above the baseline after the imports, next
to the size of the decoded arrays. Run it from the repository root.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def kib(key: str) -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=2.0)
    p.add_argument("--vad", choices=["energy", "silero"], default="energy")
    p.add_argument("--keep", metavar="PATH", help="write the long call here (reused if it exists)")
    args = p.parse_args()

    import librosa
    import numpy as np

    from flows.speech.audio import load_call
    from flows.speech.vad import call_speech_spans

    librosa.feature.rms(y=np.zeros(4000, dtype=np.float32))  # librosa's lazy imports into the baseline
    if args.vad == "silero":
        from flows.speech.vad import _load_silero

        _load_silero()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep or Path(tmp) / "long.wav")
        if not path.exists():
            subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-stream_loop", "-1",
                            "-i", str(ROOT / "sample_audio" / "call01_compliant.wav"),
                            "-t", str(args.hours * 3600), "-c:a", "pcm_s16le", str(path)], check=True)
        base = kib("VmRSS")
        t0 = time.perf_counter()
        audio = load_call(path)
        load_s, load_peak = time.perf_counter() - t0, kib("VmHWM")
        decoded = sum(c.nbytes for c in audio.channels.values()) // 1024
        t0 = time.perf_counter()
        spans = call_speech_spans(audio, method=args.vad)
        vad_s, vad_peak = time.perf_counter() - t0, kib("VmHWM")
    mib = 1024
    print(f"{audio.duration_s:.0f} s {audio.layout} call, decoded arrays {decoded / mib:.0f} MiB, baseline {base / mib:.0f} MiB")
    print(f"load_call: {load_s:.1f} s, peak +{(load_peak - base) / mib:.0f} MiB ({(load_peak - base) / decoded:.2f}x decoded)")
    print(f"{args.vad} VAD: {vad_s:.1f} s, {len(spans)} spans, peak +{(vad_peak - base) / mib:.0f} MiB "
          f"({(vad_peak - base) / decoded:.2f}x decoded)")


if __name__ == "__main__":
    main()
