"""Pooled character error rate of the transcription stage on ../shared/audio/real.

Usage: python tools/eval_asr.py [--engine openai|faster] [--compute-type int8|float32] [--model PATH] [--beam N] [--prompt TEXT|--no-prompt] [--whole]
Prints one line per clip with a reference transcript, then the pooled CER and the
real-time factor (transcription seconds / audio seconds).
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from analyzers.cer import char_errors, normalize_for_cer
from flows.speech.engines.faster import COMPUTE_TYPES
from flows.speech.transcribe import DecoderOptions, join_words, load_model, resolve_model_ref, transcribe_speech

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "audio" / "real"


def references(root: Path = REAL) -> list[tuple[Path, str]]:
    with open(root / "REFERENCES.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [(root / r["file"], r["reference_transcript"]) for r in rows if r["reference_transcript"].strip()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--engine", choices=["openai", "faster"], default="openai")
    ap.add_argument("--compute-type", choices=COMPUTE_TYPES, help="--engine faster only")
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--prompt", default=None)
    ap.add_argument("--no-prompt", action="store_true")
    ap.add_argument("--whole", action="store_true", help="skip speech detection: one span per clip")
    args = ap.parse_args()
    opts = DecoderOptions(beam_size=args.beam or None)
    if args.no_prompt:
        opts = DecoderOptions(beam_size=opts.beam_size, initial_prompt=None)
    elif args.prompt:
        opts = DecoderOptions(beam_size=opts.beam_size, initial_prompt=args.prompt)
    model = load_model(resolve_model_ref(args.model, args.engine), args.engine, compute_type=args.compute_type)
    from flows.speech.audio import load_call

    errs = total = 0
    audio_s = asr_s = 0.0
    for path, ref in references():
        call = load_call(path)
        samples = next(iter(call.channels.values()))
        if args.whole:
            spans = [(0.0, call.duration_s)]
        else:
            from flows.speech.vad import detect_speech

            spans = detect_speech(samples, call.sample_rate_hz)
        t0 = time.perf_counter()
        words = transcribe_speech(model, samples, spans, opts)
        asr_s += time.perf_counter() - t0
        audio_s += call.duration_s
        hyp = join_words(words)
        e, n = char_errors(hyp, ref)
        errs, total = errs + e, total + n
        print(f"{path.parent.name}/{path.name}\tCER {e / n:.3f}\t{normalize_for_cer(hyp)}\t| {ref}")
    print(f"pooled CER {errs / total:.4f} ({errs}/{total}); RTF {asr_s / audio_s:.3f} over {audio_s:.1f} s audio")


if __name__ == "__main__":
    main()
