"""The recordings a run is given: audio files found under files and folders, with call ids."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from analyzers.pii import masked_ids

if TYPE_CHECKING:
    from flows.batch.settings import CallSettings

#: What a folder scan picks up; a file named explicitly is always tried.
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".opus", ".wma", ".amr", ".webm", ".au"}
)


@dataclass(frozen=True)
class Recording:
    path: str
    #: Its id in the results: `name` with personal numbers masked (analyzers.pii.masked_ids).
    call_id: str
    #: The id before masking (file stem, or path below its folder): how a metadata manifest names it.
    name: str = ""
    #: Every setting that changes its rows, as the run planned them (RunPlan.with_settings).
    settings: "CallSettings | None" = field(default=None, compare=False, repr=False)

    @property
    def manifest_id(self) -> str:
        return self.name or self.call_id


def find_recordings(inputs: Iterable[str | os.PathLike[str]]) -> list[Recording]:
    """Recordings under the given files and folders, with unique call ids.

    call_id is the file's stem; where two files share a stem, their path relative to
    the folder they were found in (without extension) tells them apart. Personal numbers
    in it are masked (analyzers.pii.masked_ids), whatever --no-mask says: an id must not
    change with a setting (`source` and `error` are masked unless --no-mask).
    """
    found: list[tuple[Path, Path]] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found += [
                (f, p)
                for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS and not f.name.startswith(".")
            ]
        else:
            found.append((p, p.parent))  # a missing file still gets an error row
    stems: dict[str, int] = {}
    for f, _ in found:
        stems[f.stem] = stems.get(f.stem, 0) + 1
    recordings, seen = [], set()
    for f, base in found:
        call_id = f.stem if stems[f.stem] == 1 else f.relative_to(base).with_suffix("").as_posix()
        if str(f) in seen:
            continue
        seen.add(str(f))
        recordings.append(Recording(str(f), call_id, call_id))
    return [replace(r, call_id=masked) for r, masked in zip(recordings, masked_ids([r.name for r in recordings]))]
