"""A night of real size (a benchmark, not a test; issue 35 item 7): N synthetic calls with
supplied transcripts (tools/make_night.py: decoded and speech-detected, no whisper) through
`callqa run --workers K` and through the Prefect flow `qa_batch` on a local dask cluster,
then the review workspace's ingest (`callqa db ingest`) and a reviewer's queue pages.

    python bench/bench_night.py --calls 2000 --route cli:1 --route cli:2 --route dask:2 [--json F]
    python bench/bench_night.py --calls 20 --route cli:1          # per-call cost first

Every route runs in a fresh process on a fresh output folder (cold transcript cache) over
the same inputs (--inputs DIR reuses a generated night; default: generated into a temp
folder). While it runs, the process tree is sampled every second: each process's RSS and
PSS with the number of calls written so far, so the memory of each worker is shown at the
first --early calls against the end of the run (flat or growing with N). ffmpeg/ffprobe
children (one decode each, a second at most) are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import psutil  # noqa: E402

PY = sys.executable
SKIP = ("ffmpeg", "ffprobe")
FLOW_SCRIPT = """
import inspect, json, sys
from flows.flow import qa_batch
inputs, out, workers, manifest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
kw = {"runner": "dask", "max_workers": workers}
if "metadata" in inspect.signature(qa_batch.fn).parameters:
    kw["metadata"] = manifest
else:
    print("qa_batch has no metadata parameter: rows without agent ids", file=sys.stderr)
print("RESULT " + json.dumps(qa_batch([inputs], out, **kw), default=str))
"""


class TreeSampler(threading.Thread):
    """Every `every` s: RSS and PSS (MiB) of each process under `pid`, with calls written."""

    def __init__(self, pid: int, calls_dir: Path, every: float = 1.0, stream=None) -> None:
        super().__init__(daemon=True)
        self.root, self.calls_dir, self.every, self.stream = psutil.Process(pid), calls_dir, every, stream
        self.samples: list[dict] = []  # {"t", "done", "procs": {pid: (role, rss, pss)}}
        self.stop = threading.Event()

    def _done(self) -> int:
        try:
            return sum(1 for e in os.scandir(self.calls_dir) if not e.name.startswith("."))
        except FileNotFoundError:
            return 0

    def run(self) -> None:
        t0 = time.perf_counter()
        while not self.stop.is_set():
            procs = {}
            try:
                tree = [self.root] + self.root.children(recursive=True)
            except psutil.Error:
                break
            for p in tree:
                try:
                    if p.name() in SKIP:
                        continue
                    m = p.memory_full_info()
                    procs[p.pid] = (_role(p, self.root), m.rss / 2**20, m.pss / 2**20, p.ppid())
                except psutil.Error:
                    continue
            self.samples.append({"t": time.perf_counter() - t0, "done": self._done(), "procs": procs})
            if self.stream:  # a line per sample: what a benchmark cut short has measured
                print(json.dumps(self.samples[-1]), file=self.stream, flush=True)
            self.stop.wait(self.every)


def _role(p: psutil.Process, root: psutil.Process) -> str:
    if p.pid == root.pid:
        return "main"
    cmd = " ".join(p.cmdline())
    if "prefect" in cmd and ("server" in cmd or "uvicorn" in cmd):
        return "prefect-server"
    if "resource_tracker" in cmd:
        return "resource-tracker"
    if "multiprocessing" in cmd or "spawn_main" in cmd or "forkserver" in cmd:
        return "worker"
    return cmd[:60]


def memory(samples: list[dict], early: int) -> dict[str, dict]:
    """Per process: its role, peak RSS/PSS over the run, and peak PSS up to `early` calls written."""
    out: dict[int, dict] = {}
    for s in samples:
        for pid, (role, rss, pss, ppid) in s["procs"].items():
            m = out.setdefault(pid, {"role": role, "ppid": ppid, "rss": 0.0, "pss": 0.0, "pss_early": 0.0,
                                     "seen_s": [s["t"], s["t"]]})
            m["rss"], m["pss"] = max(m["rss"], rss), max(m["pss"], pss)
            if s["done"] <= early:
                m["pss_early"] = max(m["pss_early"], pss)
            m["seen_s"][1] = s["t"]
    # long-lived processes only (a worker lives the whole run; helpers come and go)
    return {str(pid): m for pid, m in out.items() if m["seen_s"][1] - m["seen_s"][0] >= 5 or m["role"] == "main"}


def run_route(route: str, inputs: Path, out: Path, log: Path, early: int) -> dict:
    """One route over `inputs` into the fresh `out`: wall, the summary, memory per process."""
    kind, workers = route.split(":")
    manifest = str(inputs / "calls.csv")
    if kind == "cli":
        cmd = [PY, "-m", "flows.cli", "run", str(inputs), "--metadata", manifest, "--out", str(out),
               "--quiet", "--no-report", "--workers", workers]
    elif kind == "dask":
        cmd = [PY, "-c", FLOW_SCRIPT, str(inputs), str(out), workers, manifest]
    else:
        raise SystemExit(f"route must be cli:K or dask:K, not {route!r}")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, env=env)
        sampler = TreeSampler(proc.pid, out / "calls")
        sampler.start()
        rc = proc.wait()
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler.stop.set()
    sampler.join()
    if rc != 0:
        raise SystemExit(f"{route} exited {rc}; see {log}:\n{log.read_text()[-3000:]}")
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    return {"route": route, "wall_s": wall, "cpu_s": cpu, "memory": memory(sampler.samples, early), **tables(out)}


def tables(out: Path) -> dict:
    """Calls ok and failed, audio seconds, and the stage seconds summed (from `calls`)."""
    import pyarrow.compute as pc

    from flows.storage.store import ResultStore

    calls = ResultStore(out).read("calls")
    ok = calls.filter(pc.equal(calls["status"], "ok"))
    stages = {c: pc.sum(ok[c]).as_py() or 0.0 for c in ok.column_names if c.endswith("_s")
              and c.split("_")[0] in ("decode", "vad", "diarize", "asr", "analysis", "write")}
    agents = ok["agent_id"].drop_null() if "agent_id" in ok.column_names else []
    return {"calls": calls.num_rows, "ok": ok.num_rows, "audio_s": pc.sum(ok["duration_s"]).as_py(),
            "stages_s": stages, "with_agent_id": len(agents)}


def workspace(out: Path, repeat: int, db_url: str | None = None) -> dict:
    """`callqa db ingest` into a fresh database (SQLite in OUT, or the empty `db_url`), again
    with nothing new, then queue page times."""
    from fastapi.testclient import TestClient

    from flows.review.webapp import accounts
    from flows.review.webapp.main import create_app
    from webapp_support import PASSWORD, sign_in

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    timing = {}
    for name in ("ingest_s", "reingest_s"):
        t0, cpu0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([PY, "-m", "flows.cli", "db", "ingest", "--out", str(out),
                               *(["--db", db_url] if db_url else [])], cwd=ROOT, env=env, capture_output=True, text=True)
        timing[name] = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the command's own CPU (not the database server's)
        timing[name.replace("_s", "_cpu_s")] = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
        assert done.returncode == 0, done.stderr
        timing[name.replace("_s", "_line")] = done.stdout.strip()
    app = create_app(out, db_url=db_url, ingest_on_start=False)
    accounts.add_user(app.state.engine, "rita", "reviewer", PASSWORD)
    client = TestClient(app)
    assert sign_in(client, "rita").status_code == 200
    pages = {"queue": "/queue", "queue, page 20": "/queue?page=20", "queue, agent A007": "/queue?agent=A007",
             "queue, team east": "/queue?team=east", "trends": "/trends"}
    for name, path in pages.items():
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            r = client.get(path)
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
        timing[name] = statistics.median(times) * 1000
    app.state.engine.dispose()
    return timing


def stage_cpu(lengths: list[float], base: Path, repeat: int = 3) -> dict[float, dict]:
    """CPU seconds (this process and its ffmpeg children) of decoding and of speech detection
    for one generated call of each length, in this process: the load-independent per-call cost."""
    from flows.speech.audio import load_call
    from flows.speech.vad import call_speech_spans
    from tools.make_night import make_night

    def cpu() -> float:
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime

    out = {}
    for seconds in lengths:
        row = make_night(base / f"len{seconds:g}", 1, seed=7, min_s=seconds, max_s=seconds)[0]
        path = base / f"len{seconds:g}" / row["path"]
        call_speech_spans(load_call(path))  # warm: the detector's model loaded once per process
        dec, vad = [], []
        for _ in range(repeat):
            t = cpu()
            audio = load_call(path)
            dec.append(cpu() - t)
            t = cpu()
            call_speech_spans(audio)
            vad.append(cpu() - t)
        out[seconds] = {"audio_s": row["duration_s"], "decode_cpu_s": min(dec), "vad_cpu_s": min(vad)}
        print(f"  a {row['duration_s']:.0f} s call: decode {min(dec):.3f} CPU s, speech detection {min(vad):.3f} CPU s")
    return out


def report(r: dict, early: int) -> None:
    n = r["ok"]
    print(f"\n{r['route']}: {r['calls']} calls ({n} ok, {r['with_agent_id']} with agent ids), "
          f"{r['audio_s'] / 3600:.2f} h of audio; wall {r['wall_s']:.1f} s, {n / r['wall_s']:.2f} calls/s, "
          f"{r['wall_s'] / max(n, 1):.3f} s/call; CPU {r['cpu_s']:.0f} s ({r['cpu_s'] / max(n, 1):.3f} s/call, "
          f"waited-for processes), load {r['load_before']:.1f} before, {r['load_after']:.1f} after")
    print("  stages per call (s): " + ", ".join(f"{k[:-2]} {v / max(n, 1):.3f}" for k, v in r["stages_s"].items()))
    for pid, m in sorted(r["memory"].items(), key=lambda x: x[1]["role"]):
        print(f"  {m['role'][:15]:15s} pid {pid:>7s} (parent {m['ppid']:>7d}): peak RSS {m['rss']:6.0f} MiB, peak PSS {m['pss']:6.0f} MiB "
              f"(PSS up to {early} calls {m['pss_early']:6.0f} MiB), lived {m['seen_s'][1] - m['seen_s'][0]:.0f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--inputs", type=Path, help="a folder tools/make_night.py made (default: generate one)")
    p.add_argument("--min-s", type=float, default=8.0)
    p.add_argument("--max-s", type=float, default=25.0)
    p.add_argument("--route", action="append", help="cli:K (callqa run --workers K) or dask:K (qa_batch, "
                   "a local dask cluster of K workers); repeatable (default: cli:1 cli:2 dask:2)")
    p.add_argument("--early", type=int, default=500, help="memory up to this many calls written, against the end")
    p.add_argument("--workspace", default="last", help="ingest and queue times on this route's output ('none': skip)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--db", metavar="URL", help="the workspace's database, empty (default: SQLite in the output "
                   "folder); 'pg': a throw-away PostgreSQL cluster, as the tests start one")
    p.add_argument("--workspace-of", type=Path, metavar="OUT", help="only: the workspace step on this output folder")
    p.add_argument("--keep", type=Path, help="keep the outputs in this folder (default: a temp folder, removed)")
    p.add_argument("--json", type=Path, help="write every figure here")
    p.add_argument("--watch", type=int, metavar="PID", help="only: sample the process tree of PID (a run writing into "
                   "--keep's calls/ folder) every 5 s as JSON lines on stdout until it ends")
    p.add_argument("--stage-cpu", type=float, nargs="*", metavar="S",
                   help="only: CPU seconds of decoding and speech detection for one call of each length S")
    args = p.parse_args()
    if args.watch:
        sampler = TreeSampler(args.watch, args.keep / "calls", every=5.0, stream=sys.stdout)
        sampler.run()
        return
    if args.stage_cpu:
        with tempfile.TemporaryDirectory(prefix="callqa-night-") as tmp:
            costs = stage_cpu(args.stage_cpu, Path(tmp))
        if args.json:
            args.json.write_text(json.dumps(costs, indent=1))
        return
    if args.workspace_of:
        with database(args.db) as url:
            timing = workspace(args.workspace_of, args.repeat, url)
        print(json.dumps(timing, indent=1, ensure_ascii=False))
        if args.json:
            args.json.write_text(json.dumps(timing, indent=1, ensure_ascii=False))
        return
    routes = args.route or ["cli:1", "cli:2", "dask:2"]
    with tempfile.TemporaryDirectory(prefix="callqa-night-") as tmp:
        base = args.keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        inputs = args.inputs or _generate(base / "in", args)
        results = []
        print(f"start: {os.getloadavg()[0]:.1f} load, {len(list(inputs.rglob('*.wav')))} recordings in {inputs}")
        for route in routes:
            out = base / f"out-{route.replace(':', '-')}"
            load_before = os.getloadavg()[0]
            r = run_route(route, inputs, out, base / f"{route.replace(':', '-')}.log", args.early)
            r["load_before"], r["load_after"] = load_before, os.getloadavg()[0]
            report(r, args.early)
            results.append(r)
            if args.workspace in (route, "last" if route == routes[-1] else None):
                with database(args.db) as url:
                    r["workspace"] = workspace(out, args.repeat, url)
                print("  workspace: " + ", ".join(f"{k} {v:.1f} {'s' if k.endswith('_s') else 'ms'}"
                                                  for k, v in r["workspace"].items() if not k.endswith("_line")))
            if args.json:  # after each route: a cut-short benchmark keeps what it measured
                args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))


@contextmanager
def database(db: str | None):
    """The workspace's database URL: None (SQLite in the output folder), `db` as given, or
    for 'pg' a fresh database in a throw-away PostgreSQL cluster (tests/webapp_support.py)."""
    if db != "pg":
        yield db
        return
    from webapp_support import PgCluster, pg_bin

    if pg_bin() is None:
        raise SystemExit("--db pg: PostgreSQL binaries not found (/usr/lib/postgresql/*/bin, $CALLQA_PG_BIN)")
    cluster = PgCluster(pg_bin()).start()
    try:
        yield cluster.new_database()
    finally:
        cluster.stop()


def _generate(folder: Path, args) -> Path:
    from tools.make_night import make_night

    t0 = time.perf_counter()
    rows = make_night(folder, args.calls, min_s=args.min_s, max_s=args.max_s)
    print(f"generated {len(rows)} calls in {time.perf_counter() - t0:.1f} s")
    return folder


if __name__ == "__main__":
    main()
