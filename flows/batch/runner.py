"""The run loop: the CLI and the Prefect flows both call `run_batch` / `reprocess_batch`.

A recording is skipped when its row is current: processed OK from the same path after
the file's last change, with the same settings (flows.batch.settings: model, engine, decoder,
VAD, agent channel, masking, rule pack, supplied transcripts and metadata). That test
costs a stat() per file and sidecar, so a nightly run over an unchanged folder is
nearly free; a call whose settings changed is redone (from its cached transcript when
only the analysis changed) and counted as such.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator, Sequence

from analyzers.model import STAGE_COLUMNS, CallResult
from analyzers.pii import mask_numbers
from flows.batch.pipeline import NotReprocessable, RunPlan
from flows.batch.recordings import Recording, find_recordings
from flows.batch.results import error_result
from flows.batch.settings import CallSettings, changed
from flows.speech.engines import ModelLoadError
from flows.storage.store import ResultStore, write_last_run

Progress = Callable[[Sequence], Iterable]
log = logging.getLogger("callqa.batch")


@dataclass
class Summary:
    ok: int = 0
    errors: int = 0
    skipped: int = 0
    seconds: float = 0.0
    #: Calls redone because a setting changed, by setting name.
    redone: int = 0
    redone_settings: Counter = field(default_factory=Counter)
    #: (call_id, reason) of calls `reprocess` could not redo (their rows were kept).
    not_reprocessed: list = field(default_factory=list)
    #: Recordings found under the inputs (`run`) or calls to re-analyse (`reprocess`).
    found: int = 0
    #: (call_id, error) of the recordings that became error rows, in the order they failed.
    failed: list = field(default_factory=list)
    #: Seconds per stage over the calls processed (STAGE_COLUMNS), for `stages_line`.
    stage_s: Counter = field(default_factory=Counter)

    def add(self, result: CallResult) -> None:
        for column in STAGE_COLUMNS:
            self.stage_s[column] += getattr(result, column, None) or 0.0
        if result.status == "ok":
            self.ok += 1
        else:
            self.errors += 1
            self.failed.append((result.call_id, result.error or "unknown error"))

    def line(self) -> str:
        text = f"{self.ok} ok, {self.errors} errors, {self.skipped} already current"
        if self.redone:
            names = ", ".join(f"{k} {v}" if v != self.redone else k for k, v in sorted(self.redone_settings.items()))
            text += f", {self.redone} redone because a setting changed ({names})"
        if self.not_reprocessed:
            text += f", {len(self.not_reprocessed)} not reprocessed (rows kept)"
        return text + f", in {self.seconds:.1f} s"

    def stages_line(self) -> str:
        """Where the processed calls' time went, e.g. "time by stage: decode 1.2 s, ...";
        "" when nothing was processed."""
        if not any(self.stage_s.values()):
            return ""
        parts = [f"{c[:-2]} {self.stage_s[c]:.1f} s" for c in STAGE_COLUMNS if self.stage_s[c]]
        return f"time by stage: {', '.join(parts)} (total {sum(self.stage_s.values()):.1f} s)"


def batch_failed(summary: Summary, max_error_share: float | None = None) -> str:
    """Why the batch counts as failed for a scheduler ("" when it does not): every
    recording failed (none ok, none already current), or more than `max_error_share` of
    those processed did. A broken file retried beside current calls fails no night alone."""
    processed = summary.ok + summary.errors
    if not summary.errors:
        return ""
    if not summary.ok and not summary.skipped:
        return f"all {summary.errors} recording(s) failed"
    if max_error_share is not None and summary.errors / processed > max_error_share:
        return (f"{summary.errors} of {processed} recordings processed failed "
                f"({summary.errors / processed:.0%}, more than the {max_error_share:.0%} allowed)")
    return ""


def staleness(row: dict | None, rec: Recording, settings: CallSettings) -> tuple[str, list[str]] | None:
    """None when `row` is current for `rec` under `settings`; else (why, changed settings):
    why is "new", "failed before", "moved", "changed" (file modified) or "settings"."""
    if not row:
        return "new", []
    if row["status"] != "ok":
        return "failed before", []
    if row["source"] not in (rec.path, mask_numbers(rec.path)):  # masked unless --no-mask
        return "moved", []
    try:
        modified = os.stat(rec.path).st_mtime
        if datetime.fromisoformat(row["processed_at"]).timestamp() < modified:
            return "changed", []
    except (OSError, ValueError):
        return "changed", []
    if row.get("settings_key") != settings.key:
        return "settings", changed(CallSettings.from_json(row.get("settings")), settings)
    return None


#: Runs one stage over items: yields (item, its result or the exception in its place),
#: one per item in any order (flows.batch.parallel.process_all, the Prefect task runner).
Executor = Callable[[Sequence], Iterator[tuple[object, "CallResult | BaseException"]]]


def pending(recordings: Sequence[Recording], plan: RunPlan, *, force: bool = False,
            summary: Summary | None = None) -> list[Recording]:
    """The recordings a run must process: all with `force`, else those not current under
    their planned settings (RunPlan.with_settings). Counts into `summary` the calls redone
    because a setting changed."""
    if force:
        return list(recordings)
    rows = ResultStore(plan.out_dir).calls_by_id()
    todo = []
    for rec in recordings:
        try:
            settings = plan.settings_of(rec)
        except Exception:  # noqa: BLE001 - unreadable settings: processed, to get its error row
            todo.append(rec)
            continue
        stale = staleness(rows.get(rec.call_id), rec, settings)
        if stale is None:
            continue
        todo.append(rec)
        why, names = stale
        if why == "settings" and summary is not None:
            summary.redone += 1
            summary.redone_settings.update(names)
            log.info("%s: redone, settings changed: %s", rec.call_id, ", ".join(names))
    return todo


def reprocessable(store: ResultStore, call_ids: Sequence[str] | None = None) -> list[dict]:
    """`calls` rows with a cached transcript (status ok), optionally only `call_ids`."""
    return [
        row for row in store.calls_by_id().values()
        if row["status"] == "ok" and (not call_ids or row["call_id"] in call_ids)
    ]


def log_outcome(result: CallResult, done: int = 0, total: int = 0, logger=log) -> None:
    """One log line per call: what the nightly log is read for; `[done/total]` in front
    when given, so that a log without a progress bar (not a terminal) shows how far it is."""
    where = f"[{done}/{total}] " if total else ""
    if result.status == "ok":
        logger.info("%s%s: ok, grade %s, score %s%s", where, result.call_id, result.grade, result.score,
                    ", flagged" if result.flagged else "")
    else:
        logger.warning("%s%s: error: %s", where, result.call_id, result.error)


def _tally(outcomes: Iterator, items: Sequence, summary: Summary, store: ResultStore, *, progress: Progress,
           logger, reprocess: bool = False, mask: bool = True) -> None:
    """Count each item's outcome into `summary` and log it. A ModelLoadError stops the run
    (every call would fail alike; the rest stay pending). Another exception becomes the
    call's error row (`run`) or leaves its rows as they are (`reprocess`, listed in
    `summary.not_reprocessed`)."""
    for n, _ in enumerate(progress(items), 1):  # one tick per finished item, whichever it was
        item, result = next(outcomes)
        if isinstance(result, ModelLoadError):
            raise result
        if reprocess and isinstance(result, BaseException):
            why = str(result) if isinstance(result, NotReprocessable) else f"{type(result).__name__}: {result}"
            summary.not_reprocessed.append((item["call_id"], why))
            logger.warning("[%d/%d] %s: not reprocessed, rows kept: %s", n, len(items), item["call_id"], why)
            continue
        if isinstance(result, BaseException):
            result = error_result(item, result, mask=mask)
            store.write(result)
        log_outcome(result, n, len(items), logger)
        summary.add(result)


def log_intents(plan: RunPlan, logger=log) -> None:
    """What the run plan's intent bank cost (fitted once per run, or loaded from the cache)."""
    if plan.intents is not None:
        logger.info("intent bank: %d intent(s) read by meaning (%s), %s",
                    len(plan.intents.models), ", ".join(sorted(plan.intents.models)), plan.intents.cost())


def record_run(out_dir, summary: Summary, kind: str, started_at: datetime) -> dict:
    """OUT/last-run.json: a new run id, when the run started and ended, and its counts. The
    run loop writes it when a `run` or `reprocess` ends, whichever route started it, so the
    review workspace notices every run (flows.review.webapp.ingest.OutputWatch)."""
    record = {"run_id": uuid.uuid4().hex, "kind": kind, "started_at": started_at.isoformat(timespec="seconds"),
              "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "found": summary.found, "ok": summary.ok, "errors": summary.errors, "skipped": summary.skipped,
              "redone": summary.redone, "not_reprocessed": len(summary.not_reprocessed)}
    write_last_run(out_dir, record)
    return record


def run_batch(inputs: Iterable[str], plan: RunPlan, *, force: bool = False, progress: Progress = iter,
              workers: int = 1, execute: Executor | None = None, logger=log) -> Summary:
    """Process every new recording under `inputs`: the one run loop of the CLI and the
    Prefect flow. `execute`: where the recordings are processed (default: in this process,
    or `workers` worker processes; see flows.batch.parallel)."""
    from flows.batch.parallel import process_all

    t0, started_at = time.perf_counter(), datetime.now(timezone.utc)
    recordings = plan.with_settings(find_recordings(list(inputs)))
    summary = Summary(found=len(recordings))
    todo = pending(recordings, plan, force=force, summary=summary)
    summary.skipped = len(recordings) - len(todo)
    if recordings:  # none: the caller warns (the CLI after its summary line)
        logger.info("%d recording(s) found: %d to process, %d already current",
                    len(recordings), len(todo), summary.skipped)
    log_intents(plan, logger)
    execute = execute or (lambda items: process_all(items, plan, workers=workers))
    _tally(execute(todo), todo, summary, ResultStore(plan.out_dir), progress=progress, logger=logger,
           mask=plan.config.mask_pii)
    summary.seconds = time.perf_counter() - t0
    record_run(plan.out_dir, summary, "run", started_at)
    return summary


def reprocess_batch(plan: RunPlan, *, call_ids: Sequence[str] | None = None, progress: Progress = iter,
                    workers: int = 1, execute: Executor | None = None, logger=log) -> Summary:
    """Re-analyse calls from their cached transcripts. Error rows (never transcribed)
    stay; a call that cannot be re-analysed keeps its rows and is listed in
    `Summary.not_reprocessed` with the reason."""
    from flows.batch.parallel import reprocess_all

    t0, started_at = time.perf_counter(), datetime.now(timezone.utc)
    store = ResultStore(plan.out_dir)
    rows = reprocessable(store, call_ids)
    summary = Summary(found=len(rows))
    log_intents(plan, logger)
    execute = execute or (lambda items: reprocess_all(items, plan, workers=workers))
    _tally(execute(rows), rows, summary, store, progress=progress, logger=logger, reprocess=True)
    summary.seconds = time.perf_counter() - t0
    record_run(plan.out_dir, summary, "reprocess", started_at)
    return summary
