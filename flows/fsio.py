"""File-system durability shared by the result store and the transcript cache."""

from __future__ import annotations

import os


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
