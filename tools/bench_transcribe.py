"""Real-time factor of the transcription stage (decode + speech detection + whisper).

Usage: python tools/bench_transcribe.py [--model PATH] [--beam N] FILE...
Prints per file: audio seconds, wall seconds, RTF (wall / audio), then the total.
Runs no cache: every file is transcribed.
"""

from __future__ import annotations

import argparse
import time

import torch

from flows.batch.pipeline import PipelineConfig, RunPlan
from flows.speech.transcribe import DecoderOptions
from flows.speech.transcript import local_decoder, transcribe_call


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+")
    ap.add_argument("--model")
    ap.add_argument("--beam", type=int, default=DecoderOptions.beam_size)
    args = ap.parse_args()
    cfg = PipelineConfig(out_dir="/tmp/unused", model=args.model, decoder=DecoderOptions(beam_size=args.beam or None))
    plan = RunPlan.build(cfg, None)
    plan.load_model()  # load time is not transcription time
    total_audio = total_wall = 0.0
    print(f"torch threads {torch.get_num_threads()}, beam {args.beam}")
    for path in args.files:
        t0 = time.perf_counter()
        transcript = transcribe_call(path, "bench", cfg.speech, plan.model_name, local_decoder(plan.load_model, cfg.speech))
        wall = time.perf_counter() - t0
        total_audio += transcript.duration_s
        total_wall += wall
        print(f"{path}\t{transcript.duration_s:.1f} s audio\t{wall:.1f} s\tRTF {wall / transcript.duration_s:.3f}")
    print(f"total\t{total_audio:.1f} s audio\t{total_wall:.1f} s\tRTF {total_wall / total_audio:.3f}")


if __name__ == "__main__":
    main()
