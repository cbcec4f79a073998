"""End-to-end wall time and peak memory of one recording, as a function of its length.

    python bench/bench_long_call.py --minutes 10 30 120 [--layout stereo|mono] [--beam 0] [--engine openai|faster]

Each length is a recording made by looping a sample call with ffmpeg (call04: holds, stereo;
call02: mono mu-law), processed by `flows.batch.pipeline.process_recording` (decode, speech
detection, diarization for mono, whisper, analysis, Parquet) in a fresh child process with a
cold transcript cache. Peak memory is the child's maximum resident set size; the baseline is
the same child after importing everything and loading whisper, before touching the audio.
The issue's bar: memory must not grow with the length beyond the decoded audio, i.e.
`peak - baseline` stays near `decoded audio` (float32, 16 kHz, all channels).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"stereo": ROOT / "sample_audio" / "call04_holds.wav", "mono": ROOT / "sample_audio" / "call02_no_greeting_closing.wav"}

_CHILD = r"""
import json, resource, sys, time
from flows.batch.pipeline import PipelineConfig, Recording, RunPlan, process_recording
from flows.speech.transcribe import DecoderOptions
from lexicons import load_pack
path, out, beam, engine = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
cfg = PipelineConfig(out_dir=out, decoder=DecoderOptions(beam_size=beam or None), engine=engine)
plan = RunPlan.build(cfg, load_pack("zh-CN"))
plan.load_model()
base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
res = process_recording(Recording(path, "long"), plan)
print(json.dumps({"status": res.status, "error": res.error, "wall_s": time.perf_counter() - t0,
                  "base_mib": base_kib / 1024,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "utterances": len(res.utterances), "findings": len(res.findings)}))
"""


def make_recording(layout: str, minutes: float, folder: Path) -> Path:
    src = SOURCES[layout]
    out = folder / f"long_{layout}_{minutes:g}min.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(src), "-t", str(minutes * 60), "-c", "copy", str(out)],
        check=True,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, nargs="+", default=[10.0])
    ap.add_argument("--layout", choices=sorted(SOURCES), default="stereo")
    ap.add_argument("--beam", type=int, default=0, help="whisper beam size, 0 = greedy (default 0: this measures memory)")
    ap.add_argument("--engine", choices=["openai", "faster"], default="openai")
    args = ap.parse_args(argv)
    print("command:", "python bench/bench_long_call.py", " ".join(sys.argv[1:] if argv is None else argv))
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'minutes':>8} {'decoded MiB':>12} {'baseline MiB':>13} {'peak MiB':>9} {'peak-base':>10} {'wall s':>8} {'RTF':>6}  result")
    for minutes in args.minutes:
        with tempfile.TemporaryDirectory(prefix="callqa-long-") as tmp:
            path = make_recording(args.layout, minutes, Path(tmp))
            proc = subprocess.run(
                [sys.executable, "-c", _CHILD, str(path), str(Path(tmp) / "out"), str(args.beam), args.engine],
                capture_output=True, text=True, cwd=ROOT,
            )
            if proc.returncode:
                print(proc.stderr[-2000:], file=sys.stderr)
                return 1
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            channels = 2 if args.layout == "stereo" else 1
            decoded_mib = minutes * 60 * 16000 * 4 * channels / 2**20
            print(
                f"{minutes:8g} {decoded_mib:12.0f} {r['base_mib']:13.0f} {r['peak_mib']:9.0f} "
                f"{r['peak_mib'] - r['base_mib']:10.0f} {r['wall_s']:8.1f} {r['wall_s'] / (minutes * 60):6.3f}  "
                f"{r['status']} {r['utterances']} utterances, {r['findings']} findings {r['error'] or ''}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
