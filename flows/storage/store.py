"""The output folder: four Parquet datasets, one file per call in each.

    OUT/calls/<call>.parquet, OUT/utterances/<call>.parquet, OUT/findings/<call>.parquet,
    OUT/scores/<call>.parquet

One file per call makes "re-running replaces the call's rows" a file replacement:
each file is written under a dot-name (which pyarrow's dataset discovery ignores) and
renamed into place, so a reader or a crash never sees a partial file, and a call is
never in a table twice. Each rename or deletion is synced (file and folder) before the
next one, so the order below also holds after a power loss.

The `calls` file is the commit mark of a call: writing a call first removes its old
`calls` file, then replaces (or, when the call has none, removes) its `utterances`,
`findings` and `scores` files, and writes the `calls` file last. A call's utterance and finding rows
count only while its `calls` file exists; `read` returns only those, so a process
killed half-way leaves at worst rows nobody reads and a call the next run does again
(it has no `calls` row). The next run also deletes those orphans and the dot-temp files
of the killed writer (`sweep`, under the lock).

One run at a time per output folder: `output_lock` holds an flock on OUT/.callqa.lock
for the whole run; a second run gets `OutputBusy` at once instead of waiting.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import socket
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from analyzers.model import CallResult
from flows.storage.cache import TranscriptCache
from flows.storage.fsio import TEMP_PREFIX, atomic_write, fsync_dir
from flows.storage.schema import SCHEMAS, TABLES, tables

#: Output files hold transcripts of personal conversations: owner-only by default.
FILE_MODE = 0o600
DIR_MODE = 0o700

LOCK_NAME = ".callqa.lock"

#: What the last run or reprocess did, rewritten when one ends (flows.batch.runner.record_run),
#: whichever route started it: the review workspace takes in new output when it changes.
LAST_RUN_FILE = "last-run.json"


def write_last_run(out_dir: str | os.PathLike[str], record: dict) -> Path:
    """OUT/last-run.json replaced all at once by `record` (JSON), owner-only like the output."""
    import json

    path = Path(out_dir) / LAST_RUN_FILE
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    with atomic_write(path, FILE_MODE, text=True) as f:
        json.dump(record, f, ensure_ascii=False, indent=1)
    return path


class OutputError(RuntimeError):
    """The output folder cannot be used (not creatable, not writable)."""


class OutputBusy(OutputError):
    """Another run holds the output folder's lock."""


def call_file_name(call_id: str) -> str:
    """A file name that is safe on any filesystem and unique per call_id."""
    slug = re.sub(r"[^\w.-]+", "_", call_id)[:60]
    digest = hashlib.sha1(call_id.encode("utf-8")).hexdigest()[:10]
    return f"{slug}-{digest}.parquet"


class ResultStore:
    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.root = Path(out_dir)
        for name in TABLES:
            (self.root / name).mkdir(parents=True, exist_ok=True, mode=DIR_MODE)

    def write(self, result: CallResult) -> CallResult:
        """Replace every row of `result.call_id` in the four tables (see the module doc);
        `result` with the `write_s` its row records."""
        started = time.perf_counter()
        per_table = tables(result)
        file_name = call_file_name(result.call_id)
        (self.root / "calls" / file_name).unlink(missing_ok=True)  # uncommit the old rows first
        fsync_dir(self.root / "calls")
        for name in TABLES[1:]:  # the child tables; `calls` last, as the commit mark
            path = self.root / name / file_name
            if per_table[name].num_rows:
                self._write_atomic(path, per_table[name])
            else:  # no rows: no file, rather than an empty one per error row
                path.unlink(missing_ok=True)
                fsync_dir(path.parent)
        # write_s: converting and writing the call's rows up to here (the small calls file,
        # which must carry the figure, is the only write it leaves out).
        timed = replace(result, write_s=round(time.perf_counter() - started, 4))
        self._write_atomic(self.root / "calls" / file_name,
                           tables(replace(timed, utterances=(), findings=(), scores=()))["calls"])
        return timed

    @staticmethod
    def _write_atomic(path: Path, table: pa.Table) -> None:
        with atomic_write(path, FILE_MODE) as f:
            pq.write_table(table, f)

    def _files(self, name: str) -> list[Path]:
        return sorted(p for p in (self.root / name).glob("*.parquet") if not p.name.startswith("."))

    def read(self, name: str) -> pa.Table:
        """The whole table: every committed call's rows (utterances and findings of a
        call without a `calls` file, left by a killed run, are not returned)."""
        files = self._files(name)
        if name != "calls":
            committed = {p.name for p in self._files("calls")}
            files = [p for p in files if p.name in committed]
        if not files:
            return SCHEMAS[name].empty_table()
        return ds.dataset([str(p) for p in files], format="parquet", schema=SCHEMAS[name]).to_table()

    def calls_by_id(self) -> dict[str, dict]:
        return {row["call_id"]: row for row in self.read("calls").to_pylist()}

    def sweep(self) -> dict[str, int]:
        """Delete what a killed run left: dot-temp files and uncommitted utterance/finding
        files. Only safe while holding `output_lock` (another run's temp files are live)."""
        committed = {p.name for p in self._files("calls")}
        removed = {"temp": 0, "orphan": 0}
        for name in TABLES:
            for path in (self.root / name).glob(TEMP_PREFIX + "*"):
                path.unlink(missing_ok=True)
                removed["temp"] += 1
            if name != "calls":
                for path in self._files(name):
                    if path.name not in committed:
                        path.unlink(missing_ok=True)
                        removed["orphan"] += 1
        return removed


@contextmanager
def output_lock(out_dir: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None) -> Iterator[ResultStore]:
    """Hold OUT/.callqa.lock (flock) for a run; raise `OutputBusy` if another run holds it.

    The lock goes with the process: a killed run's lock is free again at once, so a
    stale lock file never needs deleting (and is never deleted: that would let two runs
    lock two different files). Once held, the leftovers of killed runs are swept.
    """
    try:
        store = ResultStore(out_dir)
        fd = os.open(store.root / LOCK_NAME, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        raise OutputError(f"cannot use output folder {out_dir}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            raise OutputBusy(
                f"output folder {store.root} is in use by another callqa run ({holder}); "
                "wait for it to finish or use another output folder"
            ) from None
        os.ftruncate(fd, 0)
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}, started {started}\n".encode(), 0)
        store.sweep()
        if cache_dir is not None:
            TranscriptCache(cache_dir).sweep()
        yield store
    finally:
        os.close(fd)  # closing the descriptor releases the flock
