"""Benchmarks that need no whisper: analysis throughput and the no-op re-run.

    python bench/bench_analysis.py [--calls 10000] [--noop-calls 2000]

1. Analysis throughput: `analyze` over a synthetic batch of five-minute transcripts
   (agent and customer turns built from the sample calls' true utterances, with word
   timings, holds and overtalk sprinkled in), in this one process = one core.
2. No-op re-run: an output folder where every recording is already processed; time
   per recording for deciding that nothing is new (`flows.batch.runner.pending`: a stat of the
   file and its sidecars, the settings compared).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import sys  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the repo's tools/
from tools.sample_set import truth_paths  # noqa: E402

from analyzers.analyze import analyze, prepare
from analyzers.model import CallResult, CallTruth, SpeechSpan, Transcript, Utterance, Word, from_dict
from flows.batch.runner import pending
from flows.batch.pipeline import PipelineConfig, RunPlan, find_recordings
from flows.storage.cache import TranscriptCache
from flows.storage.store import ResultStore
from lexicons import load_pack

SAMPLES = Path(__file__).resolve().parents[1] / "sample_audio"


def _lines() -> list[tuple[str, str]]:
    out = []
    for path in truth_paths(SAMPLES):
        truth = from_dict(CallTruth, json.loads(path.read_text(encoding="utf-8")))
        out += [(u.speaker, u.text) for u in truth.utterances]
    return out


def synthetic_call(i: int, lines: list[tuple[str, str]], duration_s: float = 300.0) -> Transcript:
    rng = random.Random(i)
    t, utterances, spans = 0.5, [], []
    while t < duration_s - 10:
        speaker, text = rng.choice(lines)
        chars = [c for c in text if c.strip()]
        per_char_s = 60.0 / rng.uniform(120, 220)
        words = tuple(Word(c, round(t + k * per_char_s, 3), round(t + (k + 1) * per_char_s, 3)) for k, c in enumerate(chars))
        end_s = words[-1].end_s
        utterances.append(Utterance(speaker, round(t, 3), end_s, text, words))
        spans.append(SpeechSpan(speaker, round(t, 3), end_s))
        gap = rng.choice([0.4, 0.7, 1.0, 1.5, 4.0, 7.5]) if rng.random() < 0.9 else -0.8
        t = end_s + gap
    return Transcript(f"synthetic-{i}", duration_s, "stereo", tuple(utterances), tuple(spans))


def _clear_text_caches() -> None:
    from analyzers import text

    text.clear_caches()


def _prepare(pack) -> None:
    """What a worker builds once per process (analyze.prepare), outside the timed loops."""
    t0 = time.process_time()
    prepare(pack)
    print(f"prepared once per process (banned matchers, jieba, the rules compiled, their by-sound "
          f"regexes): {time.process_time() - t0:.2f} s CPU")


def bench_analysis(n: int) -> None:
    """Calls/s on one core. The synthetic calls reuse the sample calls' sentences, which
    real calls do not: the per-text caches are cleared before every call ("cold") so
    that a sentence seen in an earlier call costs what a new one would. "warm" keeps
    them (an upper bound)."""
    pack = load_pack("zh-CN")
    lines = _lines()
    calls = [synthetic_call(i, lines) for i in range(n)]
    _prepare(pack)
    analyze(calls[0], pack)
    utts = sum(len(c.utterances) for c in calls)
    for label, clear in (("cold", True), ("warm", False)):
        findings = 0
        t0, c0 = time.perf_counter(), time.process_time()
        for c in calls:
            if clear:
                _clear_text_caches()
            findings += len(analyze(c, pack).findings)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"analysis ({label} text caches): {n} five-minute calls ({utts} utterances, {findings} findings) "
              f"in {cpu:.1f} s CPU ({dt:.1f} s wall) on 1 core = {n / cpu:.0f} calls/s/core")


def bench_meaning(n: int) -> None:
    """Analysis with the rules that read by meaning, from cached embeddings (as `reprocess`
    runs): CPU time (time.process_time, this process only: the machine is shared) of
    reading the embeddings kept beside the transcript, the intent decisions and analyze,
    against analyze alone; and the embedding time per
    utterance that `run` spends once."""
    from flows.meaning.call import cached_embeddings, decide, embed_call, plan_intents
    from flows.meaning.encoder import load_encoder

    pack = load_pack("zh-CN")
    bank = plan_intents(pack, Path(__file__).resolve().parents[1] / "lexicons" / "zh-CN" / "examples")
    print(f"intent bank: {len(bank.models)} intents ({', '.join(sorted(bank.models))}) {bank.cost()}")
    enc, lines = load_encoder(bank.encoder_name), _lines()
    calls = [synthetic_call(i, lines) for i in range(n)]
    _prepare(pack)
    analyze(calls[0], pack)
    _clear_text_caches()
    t0 = time.process_time()
    embedded = [embed_call(c, enc) for c in calls]
    dt = time.process_time() - t0
    utts, sents = sum(len(c.utterances) for c in calls), sum(sum(e.sentence_counts) for e in embedded)
    print(f"embedding at run time: {utts} utterances ({sents} sentences) in {dt:.1f} s CPU = "
          f"{1000 * dt / utts:.2f} ms per utterance (one batch per call)")
    t0 = time.process_time()
    decide(calls[0], embedded[0], bank.models)  # the intents' stack, built once per process as a run's worker does
    print(f"decisions' first call (the intents' stack built, once per process): {time.process_time() - t0:.2f} s CPU")
    with tempfile.TemporaryDirectory() as tmp:
        cache = TranscriptCache(tmp)
        for i, e in enumerate(embedded):  # kept beside the transcript as `run` keeps them
            cache.put_embeddings(f"k{i}", e.encoder, e.texts_hash, e.sentence_counts, e.vectors)
        for label, with_meaning in (("literal only", False), ("with meaning", True)):
            t0, read = time.process_time(), 0.0
            for i, c in enumerate(calls):
                _clear_text_caches()
                meaning = None
                if with_meaning:
                    r0 = time.process_time()
                    e, fresh = cached_embeddings(cache, f"k{i}", c, enc)
                    read += time.process_time() - r0
                    assert not fresh
                    meaning = decide(c, e, bank.models)
                analyze(c, pack, meaning=meaning)
            dt = time.process_time() - t0
            print(f"analysis from cache ({label}, cold text caches): {n} calls in {dt:.2f} s CPU = {n / dt:.0f} "
                  f"calls/s/core" + (f" ({1000 * read / n:.2f} ms CPU per call reading the embeddings)" if with_meaning else ""))


def bench_noop(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rec_dir, out = Path(tmp) / "rec", Path(tmp) / "out"
        rec_dir.mkdir()
        store = ResultStore(out)
        pack = load_pack("zh-CN")
        for i in range(n):
            (rec_dir / f"c{i:05d}.wav").write_bytes(b"x")
        time.sleep(0.01)  # processed_at must not be older than the files
        plan = RunPlan.build(PipelineConfig(out_dir=str(out), model="base"), pack)  # a model name: never loaded here
        for rec in find_recordings([rec_dir]):
            settings = plan.call_settings(rec.path)
            store.write(CallResult(call_id=rec.call_id, source=rec.path, status="ok", model_version="whisper-base",
                                   lexicon_version=pack.lexicon_version, settings=settings.as_json(),
                                   settings_key=settings.key, processed_at="2999-01-01T00:00:00+00:00"))
        t0 = time.perf_counter()
        todo = pending(plan.with_settings(find_recordings([rec_dir])), plan)
        dt = time.perf_counter() - t0
        assert not todo
        print(f"no-op re-run: {n} recordings already current, decided in {dt:.2f} s = "
              f"{dt / n * 1000:.2f} ms per call")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=10000)
    ap.add_argument("--noop-calls", type=int, default=2000)
    ap.add_argument("--meaning-calls", type=int, default=500, help="calls for the by-meaning figures (0: none)")
    args = ap.parse_args()
    import os
    import sys

    print("command: python bench/bench_analysis.py", " ".join(sys.argv[1:]))
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (1 core used here)")
    bench_analysis(args.calls)
    bench_noop(args.noop_calls)
    if args.meaning_calls:
        bench_meaning(args.meaning_calls)


if __name__ == "__main__":
    main()
