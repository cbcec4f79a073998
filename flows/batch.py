"""Batches without an orchestrator: what the CLI runs and what the Prefect tasks wrap.

A recording is skipped when its row is current: processed OK from the same path after
the file's last change, with the same model and the same rule pack. That test costs a
stat() per file, so a nightly run over an unchanged folder is nearly free.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable, Sequence

from analyzers.model import CallResult
from flows.pipeline import (
    PipelineConfig,
    Recording,
    find_recordings,
)
from flows.store import ResultStore

Progress = Callable[[Sequence], Iterable]


@dataclass
class Summary:
    ok: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0

    def add(self, result: CallResult) -> None:
        if result.status == "ok":
            self.ok += 1
        else:
            self.errors += 1

    def line(self) -> str:
        return (f"{self.ok} ok, {self.errors} errors, {self.skipped} already current, "
                f"in {self.seconds:.1f} s")


def is_current(row: dict | None, rec: Recording, model: str, lexicon_version: str) -> bool:
    if not row or row["status"] != "ok" or row["source"] != rec.path:
        return False
    if row["model_version"] != model or row["lexicon_version"] != lexicon_version:
        return False
    try:
        changed = os.stat(rec.path).st_mtime
        return datetime.fromisoformat(row["processed_at"]).timestamp() >= changed
    except (OSError, ValueError):
        return False


def select_new(recordings: Sequence[Recording], store: ResultStore, model: str, lexicon_version: str) -> list[Recording]:
    rows = store.calls_by_id()
    return [r for r in recordings if not is_current(rows.get(r.call_id), r, model, lexicon_version)]


def pending(recordings: Sequence[Recording], cfg: PipelineConfig, pack, *, force: bool = False) -> list[Recording]:
    """The recordings a run must process: all with `force`, else those not current."""
    if force:
        return list(recordings)
    model = cfg.model_name(cfg.model_ref())
    return select_new(recordings, ResultStore(cfg.out_dir), model, pack.lexicon_version)


def reprocessable(store: ResultStore, call_ids: Sequence[str] | None = None) -> list[dict]:
    """`calls` rows with a cached transcript (status ok), optionally only `call_ids`."""
    return [
        row for row in store.calls_by_id().values()
        if row["status"] == "ok" and (not call_ids or row["call_id"] in call_ids)
    ]


def run_batch(
    inputs: Iterable[str], cfg: PipelineConfig, pack, *, force: bool = False, progress: Progress = iter,
    workers: int = 1,
) -> Summary:
    """Process every new recording under `inputs`: one after another, or `workers` at once
    in worker processes (see flows.parallel)."""
    from flows.parallel import process_all

    t0 = time.perf_counter()
    store = ResultStore(cfg.out_dir)
    recordings = find_recordings(inputs)
    todo = pending(recordings, cfg, pack, force=force)
    summary = Summary(skipped=len(recordings) - len(todo))
    results = process_all(todo, cfg, pack, store=store, workers=workers)
    for _ in progress(todo):  # one tick per finished recording, whichever it was
        summary.add(next(results))
    summary.seconds = time.perf_counter() - t0
    return summary


def reprocess_batch(
    cfg: PipelineConfig, pack, *, call_ids: Sequence[str] | None = None, progress: Progress = iter,
    workers: int = 1,
) -> Summary:
    """Re-analyse calls from their cached transcripts; error rows (never transcribed) stay."""
    from flows.parallel import reprocess_all

    t0 = time.perf_counter()
    store = ResultStore(cfg.out_dir)
    rows = reprocessable(store, call_ids)
    summary = Summary()
    results = reprocess_all(rows, cfg, pack, store=store, workers=workers)
    for _ in progress(rows):
        summary.add(next(results))
    summary.seconds = time.perf_counter() - t0
    return summary
