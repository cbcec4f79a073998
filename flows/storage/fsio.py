"""Durable file writes shared by the result store, the transcript cache and the report."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

# Temp files start with this, so a sweep after a crash can find them and readers that list a
# folder's files can skip them.
TEMP_PREFIX = ".tmp-"


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make the renames and deletions in folder `path` durable.

    fsync of a file makes its bytes durable, not its name: after a power loss the folder
    may still show what it held before a rename. The store's commit order (uncommit,
    rows, `calls` last) only holds on disk if each step's folder is synced before the
    next step starts; otherwise a new `calls` file could survive over the old rows.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: Path, mode: int, *, text: bool = False) -> Iterator[IO]:
    """Write `path` all or nothing: yields a file to write; on leaving the block it is synced,
    renamed over `path` and the folder synced.

    The temp file has a unique name in the same folder (a rename across file systems is not
    atomic, and two writers never share a temp name) and gets `mode` before any byte is
    written, so a reader never sees the file with other permissions. On an exception the
    temp file is removed and `path` is untouched.
    """
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=path.suffix, dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w" if text else "wb", encoding="utf-8" if text else None) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
