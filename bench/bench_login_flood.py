"""Review workspace benchmark (not a test): a signed-in reviewer's queue time while 4
threads hammer the login form (issue 34 #6; target: within 2x of idle).

    python bench/bench_login_flood.py [--threads 4] [--requests 40] [--db URL]

The workspace runs as `callqa serve` does (uvicorn, main.uvicorn_config) in a process of
its own over a small real output folder. The flood is the worst case for hashing: every
login is a new user name (an unknown name costs the same hash as a wrong password) from a
new address (the server believes
X-Forwarded-For from 127.0.0.1 here, as behind a proxy), so the address throttle never
stops it and every attempt costs an argon2 hash. The reviewer's GET /api/queue is timed
--requests times idle, then again under the flood; median and 95th percentile.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

SERVER = """
import sys, uvicorn
from flows.review.webapp.main import create_app, uvicorn_config
out, url, port = sys.argv[1], sys.argv[2] or None, int(sys.argv[3])
app = create_app(out, url, forwarded_allow_ips="127.0.0.1")
uvicorn.Server(uvicorn_config(app, "127.0.0.1", port)).run()
"""


def start_server(out: Path, url: str | None) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(out), url or "", str(port)], env=env)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.1)


def time_queue(client, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        assert client.get("/api/queue").status_code == 200
        times.append(1000 * (time.perf_counter() - t0))
        time.sleep(0.02)
    return times


def flood(base: str, stop: threading.Event, counts: list[int], k: int) -> None:
    import httpx

    from webapp_support import csrf_of

    with httpx.Client(base_url=base) as c:
        token = csrf_of(c.get("/login").text)
        n = 0
        while not stop.is_set():
            n += 1
            c.post("/login", data={"name": f"user{k}-{n}", "password": f"wrong guess {n}", "csrf": token},
                   headers={"X-Forwarded-For": f"10.{k}.{n // 250 % 250}.{n % 250}"})
            counts[k] += 1


def summary(times: list[float]) -> str:
    q = statistics.quantiles(times, n=20)
    return f"median {statistics.median(times):6.1f} ms, p95 {q[18]:6.1f} ms, max {max(times):6.1f} ms"


def main() -> int:
    import httpx

    from flows.review.webapp import accounts
    from flows.review.webapp.main import create_app
    from webapp_data import build_output
    from webapp_support import PASSWORD, sign_in

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--requests", type=int, default=40)
    p.add_argument("--db", help="database URL (default: SQLite OUT/review.db)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="callqa-flood-") as tmp:
        out = build_output(Path(tmp))
        app = create_app(out, args.db)
        accounts.add_user(app.state.engine, "rita", "reviewer", PASSWORD)
        app.state.engine.dispose()
        proc, base = start_server(out, args.db)
        try:
            rita = httpx.Client(base_url=base, follow_redirects=True)
            assert sign_in(rita, "rita").status_code == 200
            time_queue(rita, 5)  # warm up
            idle = time_queue(rita, args.requests)
            stop, counts = threading.Event(), [0] * args.threads
            threads = [threading.Thread(target=flood, args=(base, stop, counts, k)) for k in range(args.threads)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            time.sleep(1.0)
            busy = time_queue(rita, args.requests)
            stop.set()
            for t in threads:
                t.join(30)
            secs = time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait(10)
    ratio = statistics.median(busy) / statistics.median(idle)
    print(f"queue idle:                    {summary(idle)}")
    print(f"queue under {args.threads} login threads:    {summary(busy)}")
    print(f"median ratio {ratio:.2f} (target <= 2); {sum(counts)} failed logins in {secs:.1f} s "
          f"({sum(counts) / secs:.1f}/s, each an argon2 hash)")
    return 0 if ratio <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
