"""Speech: audio in, speech spans, speakers and words out (decode, VAD, diarization, ASR engines).

Imports nothing from batch or review (.importlinter)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def package_file(package: str, relative: str, needed_by: str, install: str,
                 error: type[Exception] = RuntimeError) -> Path:
    """A data file shipped inside an installed package (model weights), found without
    importing the package, whose `__init__` may import far more than the file needs
    (silero_vad imports torch, resemblyzer webrtcvad). Raises `error` naming what needs
    it and how to install it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise error(f"{needed_by} needs the '{package}' package (pip install {install})")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.is_file():
        raise error(f"{package} is installed but {relative} is missing from it: {path}")
    return path
