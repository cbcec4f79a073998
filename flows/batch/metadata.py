"""Call metadata supplied beside a recording: `<stem>.meta.json`.

    {"direction": "outbound"}

`direction` ("inbound": the customer called; "outbound": the agent called) switches the
opening check to the outbound script. A recording without a sidecar takes the run's
default (`callqa run --direction`, inbound unless told). The keys a review workspace
will need (agent_id, agent_name, team, started_at, queue) are accepted and kept for it;
any other key, a file that is not a JSON object or a bad value is an error for that call,
so a typo never changes a result silently.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from analyzers.model import DIRECTIONS, INBOUND
from flows.batch.settings import METADATA_SIDECAR

KNOWN_KEYS = ("direction", "agent_id", "agent_name", "team", "started_at", "queue")


class MetadataError(ValueError):
    """A metadata sidecar that cannot be used; `reason` is one line for the error column."""

    def __init__(self, path: Path, reason: str) -> None:
        self.reason = f"{path.name}: {reason}"
        super().__init__(self.reason)


@dataclass(frozen=True)
class CallMeta:
    direction: str = INBOUND


def sidecar_path(recording: str | os.PathLike[str]) -> Path:
    path = Path(recording)
    return path.with_name(path.stem + METADATA_SIDECAR)


def read_call_meta(recording: str | os.PathLike[str], default_direction: str = INBOUND) -> CallMeta:
    """The call's metadata from its sidecar, else the run's defaults."""
    path = sidecar_path(recording)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return CallMeta(default_direction)
    except (OSError, UnicodeDecodeError) as exc:
        raise MetadataError(path, f"cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MetadataError(path, f"not JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise MetadataError(path, f"expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(KNOWN_KEYS))
    if unknown:
        raise MetadataError(path, f"unknown key(s) {', '.join(unknown)} (known: {', '.join(KNOWN_KEYS)})")
    direction = data.get("direction", default_direction)
    if direction not in DIRECTIONS:
        raise MetadataError(path, f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}")
    return CallMeta(direction)
