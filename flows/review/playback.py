"""Where a call's recording is, and how a page links or embeds it for its player."""

from __future__ import annotations

import base64
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path


AUDIO_MIME = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
    ".webm": "audio/webm",
}


@dataclass(frozen=True)
class AudioRef:
    src: str | None  # relative URL or data: URI; None when there is nothing to play
    mime: str
    path: str  # the recording on disk as resolved
    exists: bool
    note: str = ""


def resolve_audio_path(source: str, audio_root: str | os.PathLike[str] | None = None,
                       cwd: str | os.PathLike[str] | None = None) -> Path:
    """Where the recording of `source` is on this machine.

    Without `audio_root`: `source` itself, a relative one taken from `cwd` (the folder
    `callqa run` was started in is not recorded, so the current one stands in for it).
    With `audio_root`: the recordings moved there; a relative `source` is looked up below
    it first, then the file name alone.
    """
    src = Path(source)
    base = Path(cwd) if cwd is not None else Path.cwd()
    if audio_root is None:
        return (src if src.is_absolute() else base / src).resolve()
    root = Path(audio_root)
    root = (root if root.is_absolute() else base / root).resolve()
    candidates = [] if src.is_absolute() else [root / src]
    candidates.append(root / src.name)
    for cand in candidates:
        if cand.exists():
            return cand
    return candidates[-1]


def audio_mime(path: str | os.PathLike[str]) -> str:
    ext = Path(path).suffix.lower()
    return AUDIO_MIME.get(ext) or mimetypes.guess_type(str(path))[0] or "application/octet-stream"


def relative_url(target: Path, from_dir: Path) -> str:
    """A relative URL from a page in `from_dir` to `target`, percent-encoded."""
    from urllib.parse import quote

    rel = os.path.relpath(target, from_dir)
    return "/".join(quote(part) for part in Path(rel).parts)


def audio_ref(source: str, page_dir: Path, audio_root: str | os.PathLike[str] | None = None,
              embed: bool = False, cwd: str | os.PathLike[str] | None = None) -> AudioRef:
    path = resolve_audio_path(source, audio_root, cwd)
    mime = audio_mime(path)
    exists = path.is_file()
    if embed:
        if not exists:
            return AudioRef(None, mime, str(path), False, f"recording not found: {path}")
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return AudioRef(f"data:{mime};base64,{data}", mime, str(path), True)
    note = "" if exists else f"recording not found at {path} (use --audio-root)"
    return AudioRef(relative_url(path, page_dir.resolve()), mime, str(path), exists, note)
