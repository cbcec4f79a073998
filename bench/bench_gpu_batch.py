"""Several calls in one batched decode on a GPU, against sequential openai-whisper (issue 21 item 6).

One command, unattended, on a machine with a GPU (falls back to the CPU, smaller, without one):

    python bench/bench_gpu_batch.py [--parts DIR | --model CT2_DIR] [--checkpoint whisper-base.pt]
                                    [--calls N] [--batch-size 16] [--json OUT]

What it does:
1. The faster engine's model: `--model CT2_DIR`, else joined from `--parts DIR` (the converted
   model copied in parts under 64 MiB, made here with `--split CT2_DIR DIR`; each part's and the
   whole's SHA-256 are checked), else the faster engine's default (`callqa model convert`).
2. The workload: N calls (default: every sample call, repeated to N) decoded, gated and
   speech-detected once, before any clock starts. Each call's channels are jobs.
3. Timed, in the same process, one after the other:
   - openai-whisper (the reference engine), channel after channel (`transcribe_speech`);
   - the faster engine, channel after channel (`transcribe_speech`);
   - the faster engine with every clip of every call in one queue, `--batch-size` clips per
     decode (`transcribe_many`): the segments of several calls batched together.
   and prints each one's audio seconds per wall second, the speed-up over openai-whisper, and
   the pooled character agreement of each with openai-whisper's text.
Not run on a GPU in the session that wrote it (no GPU was lent): the CPU path is tested
(tests/speech/test_gpu_bench.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flows.storage.cache import file_sha256  # noqa: E402

#: Each part of the copied model stays under this (the device machine's transfer limit).
PART_BYTES = 60 * 1024 * 1024
MANIFEST = "parts.json"


def split_model(model_dir: Path, parts_dir: Path, part_bytes: int = PART_BYTES) -> dict:
    """Copy the CTranslate2 folder `model_dir` into `parts_dir` with every file cut into
    parts of at most `part_bytes`; a manifest names them with their SHA-256."""
    parts_dir.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"files": {}}
    for f in sorted(p for p in model_dir.iterdir() if p.is_file()):
        names = []
        with open(f, "rb") as src:
            i = 0
            while chunk := src.read(part_bytes):
                name = f"{f.name}.part{i:03d}"
                (parts_dir / name).write_bytes(chunk)
                names.append([name, hashlib.sha256(chunk).hexdigest()])
                i += 1
        manifest["files"][f.name] = {"parts": names, "sha256": file_sha256(f), "bytes": f.stat().st_size}
    (parts_dir / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def join_model(parts_dir: Path, dest: Path) -> Path:
    """The model folder back from `split_model`'s parts, every checksum checked."""
    manifest = json.loads((parts_dir / MANIFEST).read_text())
    dest.mkdir(parents=True, exist_ok=True)
    for fname, entry in manifest["files"].items():
        with open(dest / fname, "wb") as out:
            for name, digest in entry["parts"]:
                data = (parts_dir / name).read_bytes()
                if len(data) > PART_BYTES or hashlib.sha256(data).hexdigest() != digest:
                    raise SystemExit(f"part {name} is damaged")
                out.write(data)
        if file_sha256(dest / fname) != entry["sha256"]:
            raise SystemExit(f"{fname}: joined file does not match its checksum")
    return dest


def workload(n_calls: int):
    """[(call, [(samples, spans), ...])] for n calls: every sample call, repeated."""
    from flows.speech.audio import load_call
    from flows.speech.vad import call_speech_spans

    paths = sorted(p for p in (ROOT / "sample_audio").iterdir() if p.suffix in (".wav", ".mp3"))
    calls = []
    for i in range(n_calls):
        path = paths[i % len(paths)]
        audio = load_call(str(path))
        spans = call_speech_spans(audio)
        jobs = []
        for channel, samples in audio.channels.items():
            if audio.layout == "stereo" and channel == "mixed":
                continue
            own = [(s.start_s, s.end_s) for s in spans if audio.layout == "mono" or s.speaker == channel]
            jobs.append((samples, own))
        calls.append((path.stem, audio.duration_s, jobs))
    return calls


def run(args) -> dict:
    from analyzers.cer import char_errors
    from flows.speech.engines import faster
    from flows.speech.transcribe import DecoderOptions, join_words, load_model, transcribe_many, transcribe_speech

    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            model_dir = Path(args.model)
        elif args.parts:
            model_dir = join_model(Path(args.parts), Path(tmp) / "model")
        else:
            model_dir = Path(faster.resolve_model_ref(None))
        cuda = faster.cuda_device_count()
        n_calls = args.calls or (64 if cuda else 4)
        calls = workload(n_calls)
        audio_s = sum(d for _, d, _ in calls)
        jobs = [job for _, _, js in calls for job in js]
        decoder = DecoderOptions(beam_size=args.beam or None)
        fw = load_model(str(model_dir), "faster")
        openai = load_model(args.checkpoint, "openai")
        results, texts = {}, {}

        def timed(name, fn):
            t0 = time.perf_counter()
            words = fn()
            wall = time.perf_counter() - t0
            texts[name] = [join_words(w) for w in words]
            results[name] = {"wall_s": round(wall, 2), "audio_s_per_s": round(audio_s / wall, 2)}
            print(f"{name:28s} wall {wall:8.1f} s  {audio_s / wall:8.1f} audio s per s", flush=True)

        timed("openai sequential", lambda: [transcribe_speech(openai, s, sp, decoder) for s, sp in jobs])
        timed("faster sequential", lambda: [transcribe_speech(fw, s, sp, decoder) for s, sp in jobs])
        timed(f"faster, calls batched x{args.batch_size}",
              lambda: transcribe_many(fw, jobs, decoder, batch_size=args.batch_size))
        ref = texts["openai sequential"]
        for name in results:
            errors = total = 0
            for hyp, r in zip(texts[name], ref):
                e, n = char_errors(hyp, r)
                errors, total = errors + e, total + n
            results[name]["speedup_vs_openai"] = round(results["openai sequential"]["wall_s"] / results[name]["wall_s"], 2)
            results[name]["char_disagreement_vs_openai"] = round(errors / max(total, 1), 4)
        summary = {"device": fw.device, "compute_type": fw.compute_type, "openai_fp16": openai.fp16,
                   "calls": n_calls, "channels": len(jobs), "audio_s": round(audio_s, 1),
                   "batch_size": args.batch_size, "beam": args.beam, "results": results}
        print(json.dumps(summary, indent=1))
        return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", nargs=2, metavar=("CT2_DIR", "PARTS_DIR"), help="only cut a model into parts, then exit")
    ap.add_argument("--parts", help="the model as parts (from --split)")
    ap.add_argument("--model", help="a CTranslate2 model folder")
    ap.add_argument("--checkpoint", default=str(ROOT.parent / "shared" / "models" / "whisper-base.pt"),
                    help="openai-whisper checkpoint for the reference (default: ../shared/models/whisper-base.pt)")
    ap.add_argument("--calls", type=int, help="calls in the workload (default: 64 on a GPU, 4 on the CPU)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--beam", type=int, default=5, help="beam size, 0 for greedy (default: 5)")
    ap.add_argument("--json", type=Path, help="write the summary here too")
    args = ap.parse_args()
    if args.split:
        m = split_model(Path(args.split[0]), Path(args.split[1]))
        print(f"{sum(len(e['parts']) for e in m['files'].values())} parts in {args.split[1]}")
        return
    summary = run(args)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
