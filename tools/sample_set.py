"""The sample calls' ground-truth files: `<stem>.json` beside each recording.

Other JSON files beside a recording are its sidecars (`<stem>.meta.json` metadata,
`<stem>.agent.json` supplied words) and never truth.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_audio"


def truth_paths(folder: Path | str = SAMPLES) -> list[Path]:
    """`<stem>.json` files of `folder` (no second suffix), sorted."""
    return sorted(p for p in Path(folder).glob("*.json") if not Path(p.stem).suffix)
