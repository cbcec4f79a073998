"""The output folder: three Parquet datasets, one file per call in each.

    OUT/calls/<call>.parquet, OUT/utterances/<call>.parquet, OUT/findings/<call>.parquet

One file per call makes "re-running replaces the call's rows" a file replacement:
each file is written under a dot-name (which pyarrow's dataset discovery ignores) and
renamed into place, so a reader or a crash never sees a partial file, and a call is
never in a table twice. The `calls` file is written last: it is the commit mark.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from analyzers.model import CallResult
from flows.schema import SCHEMAS, TABLES, tables

#: Output files hold transcripts of personal conversations: owner-only by default.
FILE_MODE = 0o600
DIR_MODE = 0o700


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

    def write(self, result: CallResult) -> None:
        """Replace every row of `result.call_id` in the three tables."""
        per_table = tables(result)
        for name in ("utterances", "findings", "calls"):
            self._write_atomic(self.root / name / call_file_name(result.call_id), per_table[name])

    @staticmethod
    def _write_atomic(path: Path, table: pa.Table) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                pq.write_table(table, f)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, name: str) -> pa.Table:
        """The whole table, read the way the README tells users to read it."""
        path = self.root / name
        if not any(path.glob("*.parquet")):
            return SCHEMAS[name].empty_table()
        return ds.dataset(path, format="parquet", partitioning="hive", schema=SCHEMAS[name]).to_table()

    def calls_by_id(self) -> dict[str, dict]:
        return {row["call_id"]: row for row in self.read("calls").to_pylist()}
