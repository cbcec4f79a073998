"""faster-whisper batched (BatchedInferencePipeline) vs sequential, on this machine.

Usage: python bench/bench_batched.py [--batch-sizes 4,8,16] [--beam 5]

For issue #7's batching (whose target is a GPU): the pipeline's faster engine with
`DecoderOptions.batch_size` None (`WhisperModel.transcribe`, one 30-s window after another,
temperature fallback) and with batch sizes N (`--batch-size N`:
`BatchedInferencePipeline.transcribe` cuts the gated audio at its silences into clips of
at most 30 s and decodes N at once, first temperature only).
Files are interleaved: each is transcribed by every variant in turn. Prints ASR time
(whisper only), RTF, pooled CER on the real clips and per speaker on the sample calls
(whole text, timing ignored, and words inside each true utterance's time).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flows.batch.pipeline as pipeline  # noqa: E402
from analyzers.cer import char_errors  # noqa: E402
from analyzers.model import CallTruth, from_dict  # noqa: E402
from flows.speech.transcribe import DecoderOptions, join_words, transcribe_speech  # noqa: E402
from tools.eval_asr import references  # noqa: E402
from tools.eval_samples import SAMPLES, speaker_errors, speaker_text_errors  # noqa: E402

from flows.batch.plan import RunPlan  # noqa: E402
from bench_engines import AsrClock, uptime  # noqa: E402  (this script's folder is on sys.path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch-sizes", default="4,8,16")
    ap.add_argument("--beam", type=int, default=5, help="0 = greedy")
    args = ap.parse_args()
    print("command: python bench/bench_batched.py", " ".join(sys.argv[1:]))
    print("uptime at start:", uptime())
    cfg = pipeline.PipelineConfig(out_dir="/tmp/unused", engine="faster", decoder=DecoderOptions(beam_size=args.beam or None))
    variants = {"sequential": cfg, **{f"batched {b}": replace(cfg, decoder=replace(cfg.decoder, batch_size=int(b)))
                                      for b in args.batch_sizes.split(",")}}
    plan = RunPlan.build(cfg, None)
    model = plan.load_model()
    asr_s, audio_s = Counter(), Counter()
    errs, chars = Counter(), Counter()

    from flows.speech.audio import load_call
    from flows.speech.vad import detect_speech

    for path, text in references():
        call = load_call(path)
        x = call.channels["mixed"]
        spans = detect_speech(x, call.sample_rate_hz)
        for name, variant in variants.items():
            t0 = time.perf_counter()
            words = transcribe_speech(model, x, spans, variant.decoder, variant.gating)
            dt = time.perf_counter() - t0
            e, n = char_errors(join_words(words), text)
            asr_s[name] += dt
            audio_s[name] += call.duration_s
            errs[name, "real"] += e
            chars[name, "real"] += n
            print(f"real {path.name}\t{name}\t{dt:.1f} s\tCER {e}/{n}\t{join_words(words)}", flush=True)

    for path in sorted(f for f in SAMPLES.iterdir() if f.suffix in (".wav", ".mp3")):
        truth = from_dict(CallTruth, json.loads(path.with_suffix(".json").read_text(encoding="utf-8")))
        for name, variant in variants.items():
            clock = AsrClock(model, variant)
            transcript = pipeline.refine(pipeline.transcribe_call(str(path), truth.call_id, variant.speech,
                                                                  plan.model_name, clock))
            asr_s[name] += clock.seconds
            audio_s[name] += transcript.duration_s
            line = []
            for kind, measure in (("text", speaker_text_errors), ("time", speaker_errors)):
                for speaker, (e, n) in measure(transcript, truth).items():
                    errs[name, kind, speaker] += e
                    chars[name, kind, speaker] += n
                    line.append(f"{kind} {speaker} {e}/{n}")
            print(f"call {path.name}\t{name}\t{clock.seconds:.1f} s\t" + "\t".join(line), flush=True)

    print("uptime at end:", uptime())
    pct = lambda k: f"{100 * errs[k] / chars[k]:.1f} %" if chars[k] else "-"  # noqa: E731
    print(f"\nbeam {args.beam or 'greedy'}\nvariant\tASR s\tRTF\tspeed vs sequential\treal CER\t"
          "agent CER text / time\tcustomer CER text / time")
    for name in variants:
        print(f"{name}\t{asr_s[name]:.1f}\t{asr_s[name] / audio_s[name]:.3f}\t{asr_s['sequential'] / asr_s[name]:.2f}x\t"
              f"{pct((name, 'real'))}\t{pct((name, 'text', 'agent'))} / {pct((name, 'time', 'agent'))}\t"
              f"{pct((name, 'text', 'customer'))} / {pct((name, 'time', 'customer'))}")


if __name__ == "__main__":
    main()
