"""The default path against `--engine openai` on the same calls, back to back (issue 21).

Usage: python bench/bench_default_vs_openai.py [CALL ...] [--order default,openai] [--keep DIR]

Runs `callqa run CALLS --out A` (no --engine: the default, the faster engine wherever its
model is present; the run fails if the default is not the faster engine) and
`callqa run CALLS --out B --engine openai`, each in a fresh process with an empty transcript
cache, one after the other (load from other jobs falls on both), and prints for each: wall
time, end-to-end real-time factor, the stage totals from the `calls` table's stage columns,
end to end over ASR time, and the load average before and after. Then whether the two runs
found the same findings (rule ids per call). Default calls: the stereo call11 and the mono
call05 of sample_audio (133 s).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analyzers.model import STAGE_COLUMNS  # noqa: E402

DEFAULT_CALLS = [ROOT / "sample_audio" / "call11_raised_voice.mp3", ROOT / "sample_audio" / "call05_fast_agent.wav"]
CALLQA = [sys.executable, "-m", "flows.cli"]


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def one_run(name: str, calls: list[str], out: Path, extra: list[str]) -> dict:
    import pyarrow.dataset as ds

    before = load()
    t0 = time.perf_counter()
    proc = subprocess.run([*CALLQA, "run", *calls, "--out", str(out), "--quiet", "--no-report", *extra],
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"{name}: callqa run exited {proc.returncode}: {proc.stderr[-2000:]}")
    calls_t = ds.dataset(out / "calls", format="parquet").to_table().to_pylist()
    findings = ds.dataset(out / "findings", format="parquet").to_table().to_pylist()
    stages = {c: sum(r[c] or 0.0 for r in calls_t) for c in STAGE_COLUMNS}
    audio_s = sum(r["duration_s"] or 0.0 for r in calls_t)
    return {
        "name": name, "wall_s": wall, "audio_s": audio_s, "rtf": wall / audio_s, "stages": stages,
        "stage_total_s": sum(stages.values()), "e2e_over_asr": wall / stages["asr_s"] if stages["asr_s"] else None,
        "stage_columns_filled": all(r[c] is not None for r in calls_t for c in ("decode_s", "vad_s", "asr_s",
                                                                                    "analysis_s", "write_s")),
        "models": sorted({r["model_version"] for r in calls_t}), "load_before": before, "load_after": load(),
        "findings": {r["call_id"]: sorted(Counter(f["rule_id"] for f in findings if f["call_id"] == r["call_id"]).elements())
                     for r in calls_t},
        "grades": {r["call_id"]: r["grade"] for r in calls_t}, "stdout": proc.stdout.strip().splitlines()[-2:],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("calls", nargs="*", default=[str(p) for p in DEFAULT_CALLS])
    ap.add_argument("--order", default="default,openai", help="which run goes first (default: %(default)s)")
    ap.add_argument("--keep", type=Path, help="keep both output folders under this folder")
    ap.add_argument("--json", type=Path, help="write the figures here too")
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench21-"))
    runs = {}
    for name in args.order.split(","):
        extra = ["--engine", "openai"] if name == "openai" else []
        runs[name] = one_run(name, args.calls, base / name, extra)
        if name == "default" and not all(m.startswith("faster-") for m in runs[name]["models"]):
            sys.exit(f"the default path ran {runs[name]['models']}, not the faster engine: "
                     f"`callqa model convert CHECKPOINT` first")
    for r in runs.values():
        st = ", ".join(f"{k[:-2]} {v:.1f}" for k, v in r["stages"].items())
        print(f"{r['name']:8s} {r['models']}: wall {r['wall_s']:.1f} s for {r['audio_s']:.1f} s of audio, "
              f"RTF {r['rtf']:.3f}; stages (s): {st}; end to end / ASR {r['e2e_over_asr'] or 0:.2f}; "
              f"stage columns filled: {r['stage_columns_filled']}; load {r['load_before']} -> {r['load_after']}")
    d, o = runs.get("default"), runs.get("openai")
    if d and o:
        print(f"default / openai wall time: {d['wall_s'] / o['wall_s']:.3f}")
        same = d["findings"] == o["findings"]
        print(f"findings identical: {same}; grades default {d['grades']} openai {o['grades']}")
        if not same:
            for call in sorted(set(d["findings"]) | set(o["findings"])):
                a, b = Counter(d["findings"].get(call, [])), Counter(o["findings"].get(call, []))
                if a != b:
                    print(f"  {call}: only default {sorted((a - b).elements())}, only openai {sorted((b - a).elements())}")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
