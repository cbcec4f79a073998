#!/usr/bin/env bash
# Wall time and peak memory of `callqa run --workers N` over sample_audio/ with a cold
# transcript cache (a fresh temp folder), greedy decoding to keep it short.
#   bench/bench_workers.sh N        (from the repo root; PY=path/to/python to override)
# Prints uptime before and after (the load of a shared machine changes the wall time).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export CALLQA_WHISPER_MODEL=${CALLQA_WHISPER_MODEL:-$PWD/../shared/models/whisper-base.pt}
tmp=$(mktemp -d)
echo "start $(uptime)"
/usr/bin/time -v "$PY" -m flows.cli run sample_audio/ --out "$tmp/out" --cache-dir "$tmp/cache" \
  --beam-size 0 --quiet --workers "$1" 2> "$tmp/time.txt" &
pid=$!
sleep 0.2
"$PY" bench/tree_memory.py "$pid" &
wait "$pid"
wait
echo "end $(uptime)"
grep -E "Elapsed|Maximum resident|User time|System time|Percent of CPU" "$tmp/time.txt"
rm -rf "$tmp"
