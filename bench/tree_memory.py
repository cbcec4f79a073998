"""Peak memory of a process and all its descendants (worker processes included).

`/usr/bin/time -v` reports the largest single process's peak RSS; with --workers the run
is several processes, so this samples the sum over the tree every 0.5 s, as RSS (shared
library pages counted in every process) and PSS (shared pages split between them).

    python bench/tree_memory.py PID
"""

import sys
import time

import psutil


def main(pid: int) -> None:
    root = psutil.Process(pid)
    peak_rss = peak_pss = 0
    while root.is_running() and root.status() != psutil.STATUS_ZOMBIE:
        rss = pss = 0
        for p in [root] + root.children(recursive=True):
            try:
                m = p.memory_full_info()
            except psutil.Error:  # exited between listing and reading
                continue
            rss, pss = rss + m.rss, pss + m.pss
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.5)
    print(f"tree peak: sum RSS {peak_rss / 2**20:.0f} MiB, sum PSS {peak_pss / 2**20:.0f} MiB")


if __name__ == "__main__":
    main(int(sys.argv[1]))
