"""openai-whisper vs faster-whisper side by side: speed and character error rate in one run.

Usage: python bench/bench_engines.py [--engines openai,faster:int8,faster:float32]
           [--beams 5,0] [--no-real] [--no-samples] [--files FILE...]

Files are taken one at a time and every engine transcribes each in turn (interleaved),
so that load from other processes on a shared CPU falls on all engines alike. Measured:
  * the real clips with references (../shared/audio/real): pooled CER, ASR time;
  * the sample calls (sample_audio/, ground truth in <call>.json): agent / customer CER
    (tools/eval_samples.py's measure: words inside each true utterance's time; and of the
    speaker's whole text, timing ignored), ASR time, and whether `analyze` yields the same
    finding rule_ids as the first engine.
RTF = ASR seconds (whisper only, both channels) / audio seconds; "stage RTF" adds audio
decoding, speech detection and diarization, which do not depend on the engine.
Models are loaded before the clock starts. Prints the command line and `uptime` first.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flows.batch.pipeline as pipeline  # noqa: E402
from flows.batch.plan import RunPlan  # noqa: E402
from analyzers.analyze import analyze  # noqa: E402
from analyzers.cer import char_errors  # noqa: E402
from analyzers.model import CallTruth, from_dict, to_dict  # noqa: E402
from flows.speech.transcribe import (  # noqa: E402
    DecoderOptions,
    join_words,
    load_model,
    transcribe_jobs,
    transcribe_speech,
)
from tools.eval_asr import references  # noqa: E402
from tools.eval_samples import SAMPLES, speaker_errors, speaker_text_errors  # noqa: E402

OPENAI_MODEL = os.environ.get("CALLQA_WHISPER_MODEL") or str(ROOT.parent / "shared" / "models" / "whisper-base.pt")


@dataclass
class Tally:
    real_errors: int = 0
    real_chars: int = 0
    real_audio_s: float = 0.0
    real_asr_s: float = 0.0
    errors: Counter = field(default_factory=Counter)  # speaker -> character errors
    chars: Counter = field(default_factory=Counter)
    text_errors: Counter = field(default_factory=Counter)  # the same, timing ignored
    text_chars: Counter = field(default_factory=Counter)
    audio_s: float = 0.0
    asr_s: float = 0.0
    stage_s: float = 0.0
    same_findings: int = 0
    calls: int = 0
    per_file_s: list = field(default_factory=list)  # ASR seconds per file, in file order


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


class AsrClock:
    """transcribe_call's JobDecoder on a loaded model that adds up the time spent in
    transcribe_jobs (whisper)."""

    def __init__(self, model, cfg) -> None:
        self.model, self.cfg, self.seconds = model, cfg, 0.0

    def __call__(self, jobs):
        t0 = time.perf_counter()
        try:
            return transcribe_jobs(self.model, jobs, self.cfg.decoder, self.cfg.gating), 0.0
        finally:
            self.seconds += time.perf_counter() - t0


def _config(engine: str, beam: int) -> pipeline.PipelineConfig:
    name, _, compute_type = engine.partition(":")
    cfg = pipeline.PipelineConfig(out_dir="/tmp/unused", engine=name, decoder=DecoderOptions(beam_size=beam or None),
                                  model=OPENAI_MODEL if name == "openai" else None)
    return replace(cfg, compute_type=compute_type) if compute_type else cfg


def _bench_real(cfgs: dict, models: dict, tally: dict) -> None:
    """Each engine on the referenced real clips: CER and speed."""
    from flows.speech.audio import load_call
    from flows.speech.vad import detect_speech

    for path, ref in references():
        call = load_call(path)
        samples = call.channels["mixed"]
        spans = detect_speech(samples, call.sample_rate_hz)
        for k, cfg in cfgs.items():
            model = models[k]
            t0 = time.perf_counter()
            words = transcribe_speech(model, samples, spans, cfg.decoder, cfg.gating)
            dt = time.perf_counter() - t0
            e, n = char_errors(join_words(words), ref)
            t = tally[k]
            t.real_errors, t.real_chars = t.real_errors + e, t.real_chars + n
            t.real_audio_s, t.real_asr_s = t.real_audio_s + call.duration_s, t.real_asr_s + dt
            t.per_file_s.append(dt)
            print(f"real {path.name}\t{k[0]} beam {k[1]}\t{dt:.1f} s\tCER {e}/{n}\t{join_words(words)}", flush=True)


def _bench_samples(args, cfgs: dict, plans: dict, models: dict, pack, tally: dict) -> None:
    """Each engine on the sample calls: CER per speaker, speed, and whether the findings match."""
    files = [Path(f) for f in args.files] if args.files else sorted(
        f for f in SAMPLES.iterdir() if f.suffix in (".wav", ".mp3"))
    for path in files:
        truth = from_dict(CallTruth, json.loads(path.with_suffix(".json").read_text(encoding="utf-8")))
        first: dict[int, list[str]] = {}  # beam -> the first engine's finding rule_ids
        for k, cfg in cfgs.items():
            clock = AsrClock(models[k], cfg)  # time whisper alone inside transcribe_call
            t0 = time.perf_counter()
            transcript = pipeline.refine(pipeline.transcribe_call(str(path), truth.call_id, cfg.speech,
                                                                  plans[k].model_name, clock))
            stage_s = time.perf_counter() - t0
            rules = sorted(f.rule_id for f in analyze(transcript, pack).findings)
            same = first.setdefault(k[1], rules) == rules  # vs the first engine at this beam
            if args.save:
                name = f"{truth.call_id}.{k[0].replace(':', '-')}.beam{k[1]}.json"
                (args.save / name).write_text(json.dumps(to_dict(transcript), ensure_ascii=False), encoding="utf-8")
            t = tally[k]
            errs = speaker_errors(transcript, truth)
            for speaker, (e, n) in errs.items():
                t.errors[speaker] += e
                t.chars[speaker] += n
            for speaker, (e, n) in speaker_text_errors(transcript, truth).items():
                t.text_errors[speaker] += e
                t.text_chars[speaker] += n
            t.audio_s += transcript.duration_s
            t.asr_s += clock.seconds
            t.per_file_s.append(clock.seconds)
            t.stage_s += stage_s
            t.calls += 1
            t.same_findings += same
            print(f"call {path.name}\t{k[0]} beam {k[1]}\tasr {clock.seconds:.1f} s\tstage {stage_s:.1f} s\t"
                  f"agent {errs['agent'][0]}/{errs['agent'][1]}\tcustomer {errs['customer'][0]}/{errs['customer'][1]}\t"
                  f"findings {'same' if same else rules}", flush=True)


def _print_table(tally: dict) -> None:
    print("\nengine\tbeam\treal CER\treal RTF\tcalls agent CER\tcustomer CER\t(text only: agent\tcustomer)\tcalls RTF (asr)\tstage RTF\t"
          "speed vs first engine (asr, total)\t(median of per-file ratios)\tsame findings")
    base, base_files = {}, {}
    for (engine, beam), t in tally.items():
        asr_rtf = t.asr_s / t.audio_s if t.audio_s else 0.0
        real_rtf = t.real_asr_s / t.real_audio_s if t.real_audio_s else 0.0
        asr_total = t.asr_s + t.real_asr_s
        base.setdefault(beam, asr_total)
        # A burst of load during one engine's turn skews the totals; the median of the
        # per-file ratios is what that does not move much.
        ratios = [a / b for a, b in zip(base_files.setdefault(beam, t.per_file_s), t.per_file_s) if b]
        median = statistics.median(ratios) if ratios else 0.0
        pct = lambda e, n: f"{100 * e / n:.1f} % ({e}/{n})" if n else "-"  # noqa: E731
        print(f"{engine}\t{beam or 'greedy'}\t{pct(t.real_errors, t.real_chars)}\t{real_rtf:.3f}\t"
              f"{pct(t.errors['agent'], t.chars['agent'])}\t{pct(t.errors['customer'], t.chars['customer'])}\t"
              f"{pct(t.text_errors['agent'], t.text_chars['agent'])}\t"
              f"{pct(t.text_errors['customer'], t.text_chars['customer'])}\t"
              f"{asr_rtf:.3f}\t{t.stage_s / t.audio_s if t.audio_s else 0:.3f}\t"
              f"{base[beam] / asr_total if asr_total else 0:.2f}x\t{median:.2f}x\t{t.same_findings}/{t.calls}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engines", default="openai,faster:int8,faster:float32")
    ap.add_argument("--beams", default="5,0", help="beam sizes, 0 = greedy")
    ap.add_argument("--no-real", action="store_true")
    ap.add_argument("--no-samples", action="store_true")
    ap.add_argument("--files", nargs="*", help="sample calls to use (default: all in sample_audio/)")
    ap.add_argument("--save", type=Path, metavar="DIR", help="write each sample-call transcript here as JSON")
    args = ap.parse_args()
    engines = args.engines.split(",")
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    beams = [int(b) for b in args.beams.split(",")]
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    print("uptime at start:", uptime())
    from lexicons import load_pack

    pack = load_pack("zh-CN")
    cfgs = {(e, b): _config(e, b) for e in engines for b in beams}
    plans = {k: RunPlan.build(cfg, pack) for k, cfg in cfgs.items()}
    refs = {k: plan.model_ref for k, plan in plans.items()}
    models = {k: load_model(refs[k], cfg.engine, compute_type=cfg.compute_type) for k, cfg in cfgs.items()}
    tally = {k: Tally() for k in cfgs}
    import torch

    print(f"cpu cores {os.cpu_count()}, torch threads {torch.get_num_threads()}, "
          f"ctranslate2 threads {os.cpu_count()}; engines {engines}; beams {beams}")

    if not args.no_real:
        _bench_real(cfgs, models, tally)
    if not args.no_samples:
        _bench_samples(args, cfgs, plans, models, pack, tally)
    print("uptime at end:", uptime())
    _print_table(tally)


if __name__ == "__main__":
    main()
