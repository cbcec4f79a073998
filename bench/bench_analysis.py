"""Benchmarks that need no whisper: analysis throughput and the no-op re-run.

    python bench/bench_analysis.py [--calls 10000] [--noop-calls 2000] [--meaning-calls 500]
                                   [--repeat 5] [--passes 3] [--against main]

1. Analysis throughput: `analyze` over a synthetic batch of five-minute transcripts
   (agent and customer turns built from the sample calls' true utterances, with word
   timings, holds and overtalk sprinkled in), on one core. The timed loops run in `--repeat`
   fresh processes (the machine's speed varies by a third from process to process): each
   run's figures and their median (a run keeps the median of `--passes` interleaved passes of
   the from-cache loops). `--against` another checkout (same API; a folder or a commit, e.g. main): its
   runs alternate with this tree's, in the same minutes, on the same calls and embeddings.
2. No-op re-run: an output folder where every recording is already processed; time
   per recording for deciding that nothing is new (`flows.batch.runner.pending`: a stat of the
   file and its sidecars, the settings compared).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
#: The checkout whose code a run times (set for the runs of `--against`); the calls are built
#: from this tree's samples either way.
TREE = Path(os.environ.get("CALLQA_BENCH_TREE") or HERE)
sys.path.insert(0, str(TREE))  # run as a script: the checkout's own packages and tools/
from tools.sample_set import truth_paths  # noqa: E402

from analyzers.analyze import analyze, prepare
from analyzers.model import CallResult, CallTruth, SpeechSpan, Transcript, Utterance, Word, from_dict
from flows.batch.runner import pending
from flows.batch.pipeline import PipelineConfig, RunPlan, find_recordings
from flows.storage.cache import TranscriptCache
from flows.storage.store import ResultStore
from lexicons import load_pack

SAMPLES = HERE / "sample_audio"
#: A run's figures, one JSON line on its stdout, read by the parent.
FIGURES = "bench figures: "


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


def bench_analysis(n: int, figures: dict) -> None:
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
        figures[label] = n / cpu
        print(f"analysis ({label} text caches): {n} five-minute calls ({utts} utterances, {findings} findings) "
              f"in {cpu:.1f} s CPU ({dt:.1f} s wall) on 1 core = {n / cpu:.0f} calls/s/core")


def _bank(pack):
    from flows.meaning.call import plan_intents

    return plan_intents(pack, TREE / "lexicons" / "zh-CN" / "examples")


def _parts_args(models) -> dict:
    """embed_call's / cached_embeddings' `speakers` where an intent reads the sentences' parts
    (clause17); {} where none does, or the checkout (--against) predates them."""
    from flows.meaning import call

    speakers = getattr(call, "part_speakers", lambda models: frozenset())(models)
    return {"speakers": speakers} if speakers else {}


def embed_calls(n: int, folder: str) -> None:
    """The embedding time per utterance that `run` spends once; the embeddings kept in a
    transcript cache in `folder` (as `run` keeps them) for the runs to read."""
    from flows.meaning.call import embed_call
    from flows.meaning.encoder import load_encoder

    bank = _bank(load_pack("zh-CN"))
    enc, lines = load_encoder(bank.encoder_name), _lines()
    calls = [synthetic_call(i, lines) for i in range(n)]
    parts = _parts_args(bank.models)  # the sentences' parts too, where an intent reads them (as `run`)
    embed_call(calls[0], enc, **parts)  # the encoder's first call, outside the timing
    t0 = time.process_time()
    embedded = [embed_call(c, enc, **parts) for c in calls]
    dt = time.process_time() - t0
    utts, sents = sum(len(c.utterances) for c in calls), sum(sum(e.sentence_counts) for e in embedded)
    print(f"embedding at run time: {utts} utterances ({sents} sentences) in {dt:.1f} s CPU = "
          f"{1000 * dt / utts:.2f} ms per utterance (one batch per call)")
    cache = TranscriptCache(folder)
    for i, e in enumerate(embedded):
        cache.put_embeddings(f"k{i}", e.encoder, e.texts_hash,
                             *(e.stored() if hasattr(e, "stored") else (e.sentence_counts, e.vectors)),
                             **({"parts_hash": e.parts_hash} if getattr(e, "parts_hash", "") else {}))


def bench_meaning(n: int, folder: str, figures: dict, rounds: int = 1) -> None:
    """Analysis with the rules that read by meaning, from cached embeddings (as `reprocess`
    runs): CPU time (time.process_time, this process only: the machine is shared) of
    reading the embeddings kept beside the transcript (`embed_calls` wrote them in
    `folder`), the intent decisions and analyze, against analyze alone; `rounds` passes of
    each, interleaved (the load of other processes comes and goes), their median kept."""
    from flows.meaning.call import cached_embeddings, decide
    from flows.meaning.encoder import load_encoder

    pack = load_pack("zh-CN")
    bank = _bank(pack)
    print(f"intent bank: {len(bank.models)} intents ({', '.join(sorted(bank.models))}) {bank.cost()}")
    enc, lines = load_encoder(bank.encoder_name), _lines()
    calls = [synthetic_call(i, lines) for i in range(n)]
    cache = TranscriptCache(folder)
    _prepare(pack)
    analyze(calls[0], pack)
    _clear_text_caches()
    t0 = time.process_time()
    parts = _parts_args(bank.models)
    decide(calls[0], cached_embeddings(cache, "k0", calls[0], enc, **parts)[0], bank.models)  # the intents' stack, built
    print(f"decisions' first call (the intents' stack built, once per process): {time.process_time() - t0:.2f} s CPU")
    passes: dict = {}
    for label, with_meaning in (("literal only", False), ("with meaning", True)) * rounds:  # interleaved
        t0, read = time.process_time(), 0.0
        for i, c in enumerate(calls):
            _clear_text_caches()
            meaning = None
            if with_meaning:
                r0 = time.process_time()
                e, fresh = cached_embeddings(cache, f"k{i}", c, enc, **parts)
                read += time.process_time() - r0
                if fresh:
                    raise RuntimeError(f"call {i}: no embeddings in the cache ({folder}): run without --run")
                meaning = decide(c, e, bank.models)
            analyze(c, pack, meaning=meaning)
        dt = time.process_time() - t0
        passes.setdefault(label, []).append(n / dt)
        if with_meaning:
            figures["read ms"] = 1000 * read / n
        print(f"analysis from cache ({label}, cold text caches): {n} calls in {dt:.2f} s CPU = {n / dt:.0f} "
              f"calls/s/core" + (f" ({1000 * read / n:.2f} ms CPU per call reading the embeddings)" if with_meaning else ""))
    figures.update({label: statistics.median(got) for label, got in passes.items()})  # the run's median pass


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


#: A run's figures in the order they are printed.
LABELS = ("cold", "warm", "literal only", "with meaning")


def timed_run(args) -> None:
    """One run: the timed loops in this fresh process; its figures as a last JSON line."""
    figures: dict = {"load": os.getloadavg()[0]}
    print(f"code timed: {Path(sys.modules[analyze.__module__].__file__).resolve().parents[1]}")
    if args.calls:
        bench_analysis(args.calls, figures)
    if args.meaning_calls:
        bench_meaning(args.meaning_calls, args.run, figures, args.passes)
    print(FIGURES + json.dumps(figures))


def _spawn(tree: Path, folder: str, args, embed: bool = False) -> tuple[dict, str]:
    """One child run in `tree`'s code; `embed`: it embeds the calls into `folder` instead (a
    tree reads the cache its own code writes: an older layout is a miss there)."""
    env = {**os.environ, "CALLQA_BENCH_TREE": str(tree), "PYTHONPATH": str(tree)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--embed" if embed else "--run", folder,
           "--calls", str(args.calls), "--meaning-calls", str(args.meaning_calls), "--passes", str(args.passes)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the run in {tree} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    last = done.stdout.rstrip().rsplit("\n", 1)[-1]
    if not last.startswith(FIGURES):
        raise SystemExit(f"the run in {tree} printed no figures:\n{done.stdout}{done.stderr}")
    return json.loads(last[len(FIGURES):]), done.stdout.rstrip().rsplit("\n", 1)[0]


def _line(figures: dict) -> str:
    shown = [f"{k} {figures[k]:.0f}" for k in LABELS if k in figures]
    ms = f", {1000 / figures['with meaning']:.2f} ms a call with meaning" if "with meaning" in figures else ""
    return " / ".join(shown) + f" calls/s/core{ms} (load {figures['load']:.2f})"


def repeated(args, folder: str, other: str) -> None:
    """`--repeat` runs in fresh processes, this tree's alternating with `--against`'s (in
    ABBA order, so that a drift of the machine's speed favours neither), then the medians;
    each tree reads embeddings its own code kept (`folder`, `other`)."""
    trees = [("this tree", TREE)] + ([("against", Path(args.against).resolve())] if args.against else [])
    folders = {"this tree": folder, "against": other}
    if args.against and args.meaning_calls:
        print("against: " + _spawn(trees[1][1], other, args, embed=True)[1].replace("\n", "\n  "))
    runs: dict = {name: [] for name, _ in trees}
    for r in range(args.repeat):
        for name, tree in (trees if r % 2 == 0 else trees[::-1]):
            figures, out = _spawn(tree, folders[name], args)
            if not runs[name]:  # the first run's own lines: what it prepared, the intents it read
                print(f"first run, {name} ({tree}):\n  " + out.replace("\n", "\n  "))
            runs[name].append(figures)
            print(f"run {r + 1}, {name}: {_line(figures)}")
    for name, tree in trees:
        got = runs[name]
        median = {k: statistics.median(f[k] for f in got) for k in (*LABELS, "load") if k in got[0]}
        each = {k: ", ".join(f"{f[k]:.0f}" for f in got) for k in LABELS if k in got[0]}
        best = " / ".join(f"{k} {max(f[k] for f in got):.0f}" for k in LABELS if k in got[0])
        print(f"median of {len(got)} runs, {name} ({tree}): {_line(median)}; best: {best}; each run: "
              + "; ".join(f"{k} {v}" for k, v in each.items()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=10000)
    ap.add_argument("--noop-calls", type=int, default=2000)
    ap.add_argument("--meaning-calls", type=int, default=500, help="calls for the by-meaning figures (0: none)")
    ap.add_argument("--repeat", type=int, default=5, help="fresh processes that run the timed loops (median shown)")
    ap.add_argument("--passes", type=int, default=3, help="passes of each from-cache loop in a run, interleaved "
                    "(the run's median pass)")
    ap.add_argument("--against", help="another checkout (a folder, or a commit exported once, e.g. main): "
                    "its runs alternate with this tree's")
    ap.add_argument("--run", help=argparse.SUPPRESS)  # one run (a child): the embeddings' cache folder
    ap.add_argument("--embed", help=argparse.SUPPRESS)  # a child that embeds the calls into this folder
    args = ap.parse_args()
    if args.run:
        return timed_run(args)
    if args.embed:
        embed_calls(args.meaning_calls, args.embed)
        return print(FIGURES + json.dumps({}))
    if args.repeat < 1 or args.passes < 1:
        ap.error("--repeat and --passes must be at least 1")
    print("command: python bench/bench_analysis.py", " ".join(sys.argv[1:]))
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores (1 core used per run)")
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryDirectory() as other, \
            tempfile.TemporaryDirectory() as other_cache:
        if args.against:  # a folder, or a commit exported once (a checkout that moves meanwhile would mix versions)
            from bench.compare_findings import _checkout

            args.against = str(_checkout(args.against, Path(other)))
            if not (Path(args.against) / "analyzers" / "analyze.py").is_file():
                ap.error(f"--against {args.against}: not a callqa checkout")
        if args.meaning_calls:
            embed_calls(args.meaning_calls, folder)
        if args.noop_calls:
            bench_noop(args.noop_calls)
        repeated(args, folder, other_cache)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
