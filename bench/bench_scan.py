"""Folder-scan time: `find_recordings` over a dump of 5,001 files (was a `< 5 s` assertion
in tests/batch/test_bad_input.py; wall-clock figures belong here, not in the test suite).

    python bench/bench_scan.py [--repeat 5] [--bar-s 5.0]

The tree is the one test_bad_input.py runs a batch over (tests/runs.make_dump): 4800 files
the scan must pass over (other extensions, hidden and temp files) in ten nested folders,
200 tiny junk files with audio extensions, one sample call, a symlink loop and a dangling
symlink. Prints each scan's time, the best and the median, and whether the best is under the
issue's bar (5 s). Exits 1 only if the scan finds the wrong number of recordings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from flows.batch.pipeline import find_recordings  # noqa: E402
from runs import SAMPLES, make_dump  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--bar-s", type=float, default=5.0)
    args = ap.parse_args()
    print("command: python bench/bench_scan.py", " ".join(sys.argv[1:]))
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="callqa-bench-scan-") as tmp:
        folder = Path(tmp) / "dump"
        expected = make_dump(folder, SAMPLES / "call01_compliant.wav")
        files = sum(not os.path.islink(os.path.join(d, n)) for d, _, names in os.walk(folder) for n in names)
        times = []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            found = find_recordings([folder])
            times.append(time.perf_counter() - t0)
            if len(found) != expected:
                print(f"scan {i + 1}: found {len(found)} recordings, expected {expected}")
                return 1
            print(f"scan {i + 1}: {times[-1]:.3f} s, {len(found)} recordings")
    best, median = min(times), statistics.median(times)
    verdict = "under" if best < args.bar_s else "OVER"
    print(f"{files} files: best {best:.3f} s, median {median:.3f} s ({verdict} the {args.bar_s:g} s bar)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
