"""The rules under ASR (issue 33): the sample calls analysed from whisper's words against
their exact words, findings that differ per rule; and whether domain biasing helps there.

Usage: python bench/bench_rules_under_asr.py [--bias none,prompt,hotwords] [--engine faster]
           [--compute-type auto] [--beam 5] [--files CALL.wav ...] [--save DIR | --load DIR]

Per call: the truth transcript (sample_audio/<call>.json, its exact utterances) and
whisper's transcript through flows.batch.pipeline (as `callqa run` makes it: decode, speech
detection, diarization of a mono call, whisper, refine) are analysed with the same rule pack
and direction. A finding of one matches a finding of the other of the same category and
rule, severity and speaker within 1 s (analyzers.truth.match_findings), one to one. Printed per
bias setting: a table per rule (truth findings, ASR findings, missed under ASR, extra under
ASR), the expected findings found from whisper's words and the unexpected ones, agent and
customer CER (tools/eval_samples.speaker_errors) and the recall of the standard's key
phrases in the agent's text (bench_asr_eval.KEY_PHRASES: min(heard, said) over said).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import flows.batch.pipeline as pipeline  # noqa: E402
from analyzers.analyze import analyze  # noqa: E402
from analyzers.model import CallTruth, Transcript, from_dict, to_dict  # noqa: E402
from bench.bench_asr_eval import KEY_PHRASES, Cell, load_cell_model, model_ref  # noqa: E402
from flows.batch.metadata import read_call_meta  # noqa: E402
from flows.speech.engines import default_engine  # noqa: E402
from flows.speech.transcribe import transcribe_jobs  # noqa: E402
from analyzers.truth import FINDING_TOLERANCE_S, match_findings  # noqa: E402
from tools.eval_samples import SAMPLES, speaker_errors  # noqa: E402
from tools.sample_set import truth_paths  # noqa: E402


@dataclass
class RuleTally:
    """Per (category, rule_id): findings from the exact words, from whisper's, and how they pair."""

    truth: Counter = field(default_factory=Counter)
    asr: Counter = field(default_factory=Counter)
    missed: Counter = field(default_factory=Counter)  # in truth's findings, not in whisper's
    extra: Counter = field(default_factory=Counter)  # in whisper's findings, not in truth's
    expected: int = 0
    expected_found: int = 0
    unexpected: list = field(default_factory=list)
    cer: Counter = field(default_factory=Counter)  # "agent_e", "agent_n", "customer_e", ...
    said: int = 0
    heard: int = 0
    asr_s: float = 0.0
    audio_s: float = 0.0


def phrase_counts(text: str) -> Counter:
    return Counter({p: text.count(p) for p in KEY_PHRASES})


def score_call(tally: RuleTally, truth: CallTruth, heard: Transcript, pack, direction: str) -> list[str]:
    """Adds one call to `tally`; returns the lines that say how its findings differ."""
    exact = analyze(Transcript(truth.call_id, truth.duration_s, truth.layout, truth.utterances), pack, direction)
    got = analyze(heard, pack, direction)
    key = lambda f: f"{f.category}:{f.rule_id}"  # noqa: E731
    tally.truth.update(key(f) for f in exact.findings)
    tally.asr.update(key(f) for f in got.findings)
    _, missed, extra = match_findings(list(got.findings), list(exact.findings), FINDING_TOLERANCE_S)
    tally.missed.update(key(f) for f in missed)
    tally.extra.update(key(f) for f in extra)
    tally.expected += len(truth.expected_findings)
    pairs, _, unexpected = match_findings(list(got.findings), list(truth.expected_findings), FINDING_TOLERANCE_S)
    tally.expected_found += len(pairs)
    tally.unexpected += [f"{truth.call_id} {key(a)} {a.start_s:.1f} s {a.text!r}" for a in unexpected]
    for speaker, (e, n) in speaker_errors(heard, truth).items():
        tally.cer[f"{speaker}_e"] += e
        tally.cer[f"{speaker}_n"] += n
    said = phrase_counts("".join(u.text for u in truth.utterances if u.speaker == "agent"))
    got_p = phrase_counts("".join(u.text for u in heard.utterances if u.speaker == "agent"))
    tally.said += sum(said.values())
    tally.heard += sum(min(got_p[p], n) for p, n in said.items())
    return ([f"    missed under ASR {key(f)} {f.start_s:.1f}-{f.end_s:.1f} s {f.text!r}" for f in missed]
            + [f"    extra under ASR  {key(f)} {f.start_s:.1f}-{f.end_s:.1f} s {f.text!r}" for f in extra])


def hear(path: Path, call_id: str, cfg, model, heard) -> tuple[Transcript, float]:
    spent = [0.0]

    def decode(jobs):
        t0 = time.perf_counter()
        words = transcribe_jobs(model, jobs, cfg.speech.decoder, cfg.speech.gating)
        spent[0] += time.perf_counter() - t0
        return words, time.perf_counter() - t0

    t = pipeline.transcribe_call(str(path), call_id, cfg.speech, model_ref(cfg), heard=heard, decode=decode)
    return pipeline.refine(t), spent[0]


def print_tally(name: str, t: RuleTally) -> None:
    print(f"\n### {name}\n\n| rule | from exact words | from whisper's words | missed under ASR | extra under ASR |")
    print("|---|---|---|---|---|")
    for rule in sorted(set(t.truth) | set(t.asr)):
        print(f"| {rule} | {t.truth[rule]} | {t.asr[rule]} | {t.missed[rule]} | {t.extra[rule]} |")
    differ = sum(t.missed.values()) + sum(t.extra.values())
    pct = lambda s: f"{100 * t.cer[s + '_e'] / max(1, t.cer[s + '_n']):.1f} % ({t.cer[s + '_e']}/{t.cer[s + '_n']})"  # noqa: E731
    print(f"\nfindings that differ: {differ} ({sum(t.missed.values())} missed, {sum(t.extra.values())} extra) "
          f"of {sum(t.truth.values())} from the exact words")
    print(f"expected findings found from whisper's words: {t.expected_found}/{t.expected}; unexpected {len(t.unexpected)}")
    for line in t.unexpected:
        print(f"    unexpected {line}")
    print(f"agent CER {pct('agent')}, customer CER {pct('customer')}; key phrases heard "
          f"{t.heard}/{t.said}; whisper {t.asr_s:.0f} s for {t.audio_s:.0f} s of audio")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bias", default="none", help="comma-separated: none, prompt, hotwords")
    ap.add_argument("--engine", default=None, help="default: callqa's (flows.speech.engines.default_engine)")
    ap.add_argument("--compute-type", default="auto")
    ap.add_argument("--beam", type=int, default=5, help="0 = greedy")
    ap.add_argument("--files", nargs="*", type=Path)
    ap.add_argument("--save", type=Path, help="write whisper's transcripts here as JSON")
    ap.add_argument("--load", type=Path, help="score the transcripts an earlier --save wrote (no whisper)")
    args = ap.parse_args(argv)
    from lexicons import load_pack

    engine = args.engine or default_engine()[0]
    cells = [Cell(engine, args.compute_type if engine == "faster" else None, args.beam, b) for b in args.bias.split(",")]
    paths = [p.with_suffix(".json") for p in args.files] if args.files else truth_paths(SAMPLES)
    pack = load_pack("zh-CN")
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    calls = []
    for p in paths:
        truth = from_dict(CallTruth, json.loads(p.read_text(encoding="utf-8")))
        audio = SAMPLES / truth.audio
        calls.append((truth, audio, read_call_meta(audio).direction))
    heard = {} if args.load else {t.call_id: pipeline.hear_call(str(a), pipeline.PipelineConfig(out_dir="/tmp/unused").speech)
                                  for t, a, _ in calls}
    for cell in cells:
        cfg = cell.config()
        model, cfg = (None, cfg) if args.load else load_cell_model(cell, cfg)
        tally = RuleTally()
        for truth, audio, direction in calls:
            name = f"{truth.call_id}.{cell.name.replace(' ', '_').replace(':', '-')}.json"
            if args.load:  # whisper's words as an earlier run saved them: the rules alone
                transcript, spent = from_dict(Transcript, json.loads((args.load / name).read_text(encoding="utf-8"))), 0.0
            else:
                transcript, spent = hear(audio, truth.call_id, cfg, model, heard[truth.call_id])
            tally.asr_s += spent
            tally.audio_s += transcript.duration_s
            lines = score_call(tally, truth, transcript, pack, direction)
            print(f"{cell.name}\t{truth.call_id}\t{spent:.0f} s\t{len(lines)} differ", flush=True)
            print("\n".join(lines)) if lines else None
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / name).write_text(json.dumps(to_dict(transcript), ensure_ascii=False), encoding="utf-8")
        print_tally(cell.name, tally)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
