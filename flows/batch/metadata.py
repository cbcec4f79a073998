"""Call metadata supplied beside a recording (`<stem>.meta.json`) or for a whole run in a
CSV manifest (`callqa run --metadata calls.csv`).

    {"direction": "outbound", "agent_id": "A017", "team": "north"}

    call_id,agent_id,agent_name,team,started_at,queue,direction
    call01,A017,王芳,north,2026-11-30T09:12:00+08:00,billing,inbound

`direction` ("inbound": the customer called; "outbound": the agent called) switches the
opening check to the outbound script. `agent_id`, `agent_name`, `team`, `started_at`
(ISO-8601) and `queue` go to the `calls` table for the review workspace (who sees which
call, filters, trends). A recording without either takes the run's default direction and
null metadata. Where both name a call, the sidecar's keys win over the manifest's: the
sidecar sits with the one recording, the manifest is the run's bulk export.

Any other key or column, a file that is not a JSON object or a CSV with a `call_id`
column, a duplicate call_id or a bad value is an error, so a typo never changes a result
silently: a bad sidecar is an error row for its call, a bad manifest stops the run before
any audio is touched (it concerns every call).
"""

from __future__ import annotations

import csv
import functools
import json
import os
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path

from analyzers.model import DIRECTIONS, INBOUND
from flows.batch.settings import METADATA_SIDECAR

KNOWN_KEYS = ("direction", "agent_id", "agent_name", "team", "started_at", "queue")
#: The keys that become `calls` columns (nullable strings).
CALL_COLUMNS = ("agent_id", "agent_name", "team", "started_at", "queue")


class MetadataError(ValueError):
    """Metadata that cannot be used; `reason` is one line for the error column."""

    def __init__(self, path: Path, reason: str) -> None:
        self.reason = f"{path.name}: {reason}"
        super().__init__(self.reason)


@dataclass(frozen=True)
class CallMeta:
    direction: str = INBOUND
    agent_id: str | None = None
    agent_name: str | None = None
    team: str | None = None
    started_at: str | None = None
    queue: str | None = None

    def columns(self) -> dict[str, str | None]:
        """The `calls` columns this metadata fills."""
        return {k: getattr(self, k) for k in CALL_COLUMNS}


def sidecar_path(recording: str | os.PathLike[str]) -> Path:
    path = Path(recording)
    return path.with_name(path.stem + METADATA_SIDECAR)


def _checked(path: Path, data: dict, where: str = "") -> dict[str, str]:
    """`data` with known keys only, string values, a valid direction and start time."""
    unknown = sorted(set(data) - set(KNOWN_KEYS))
    if unknown:
        raise MetadataError(path, f"{where}unknown key(s) {', '.join(unknown)} (known: {', '.join(KNOWN_KEYS)})")
    out = {}
    for key, value in data.items():
        if value is None or value == "":
            continue  # an empty CSV cell: not supplied
        if not isinstance(value, str):
            raise MetadataError(path, f"{where}{key} must be a string, not {value!r}")
        out[key] = value.strip()
    if "direction" in out and out["direction"] not in DIRECTIONS:
        raise MetadataError(path, f"{where}direction must be one of {', '.join(DIRECTIONS)}, not {out['direction']!r}")
    if "started_at" in out:
        try:
            datetime.fromisoformat(out["started_at"])
        except ValueError:
            raise MetadataError(path, f"{where}started_at must be ISO-8601 (2026-11-30T09:12:00+08:00), "
                                      f"not {out['started_at']!r}") from None
    return out


def read_manifest(path: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """call_id -> metadata of a CSV manifest; MetadataError names the line of a bad row."""
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise MetadataError(path, f"cannot read: {exc.strerror or exc}") from None
    return dict(_read_manifest(str(path.resolve()), st.st_mtime_ns, st.st_size))


@functools.lru_cache(maxsize=4)
def _read_manifest(path_s: str, _mtime_ns: int, _size: int) -> dict[str, dict[str, str]]:
    # Cached per file version: every call of a run asks for its row.
    path = Path(path_s)
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise MetadataError(path, f"cannot read: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    if "call_id" not in header:
        raise MetadataError(path, f"no call_id column (columns: {', '.join(header) or 'none'})")
    rows: dict[str, dict[str, str]] = {}
    for line_no, row in enumerate(reader, start=2):
        if None in row:
            raise MetadataError(path, f"line {line_no}: more cells than columns")
        call_id = (row.pop("call_id") or "").strip()
        if not call_id:
            raise MetadataError(path, f"line {line_no}: empty call_id")
        if call_id in rows:
            raise MetadataError(path, f"line {line_no}: call_id {call_id!r} listed twice")
        rows[call_id] = _checked(path, row, f"line {line_no}: ")
    return rows


def manifest_row(manifest: str | os.PathLike[str] | None, call_id: str) -> dict[str, str]:
    """The manifest's row for `call_id` ({} without a manifest or a row)."""
    return read_manifest(manifest).get(call_id, {}) if manifest else {}


def read_call_meta(recording: str | os.PathLike[str], default_direction: str = INBOUND,
                   manifest: dict[str, str] | None = None) -> CallMeta:
    """The call's metadata: its sidecar over its manifest row over the run's defaults."""
    path = sidecar_path(recording)
    data: dict[str, str] = dict(manifest or {})
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    except (OSError, UnicodeDecodeError) as exc:
        raise MetadataError(path, f"cannot read: {exc}") from None
    if text is not None:
        try:
            side = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MetadataError(path, f"not JSON (line {exc.lineno}: {exc.msg})") from None
        if not isinstance(side, dict):
            raise MetadataError(path, f"expected a JSON object, got {type(side).__name__}")
        data.update(_checked(path, side))
    data.setdefault("direction", default_direction)
    if data["direction"] not in DIRECTIONS:
        raise MetadataError(path, f"direction must be one of {', '.join(DIRECTIONS)}, not {data['direction']!r}")
    return CallMeta(**{f.name: data.get(f.name) for f in fields(CallMeta) if f.name in data})
