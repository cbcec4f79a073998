"""Transcript cache: ASR runs once per (audio content, model, options).

The key hashes the recording's bytes, not its name or time stamp, so a renamed or
copied file is not transcribed again, and a changed model or ASR/VAD option is.
Analysis (lexicons, thresholds) is not in the key: `reprocess` re-runs it from here.

Entries are written to a dot-temp file, fsynced and renamed into place, so a killed
run leaves at worst a temp file, never a partial entry; a damaged entry (disk trouble,
a hand edit) reads as a miss and is made again. The cache may be shared by several
output folders, so temp files are only swept once they are an hour old.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import numpy as np

from analyzers.model import Transcript, from_dict, to_dict
from flows.storage.fsio import TEMP_PREFIX, atomic_write

_CHUNK_BYTES = 1 << 20
#: A temp file this old (s) belongs to no live writer (one entry takes milliseconds).
_STALE_TEMP_S = 3600


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK_BYTES):
            h.update(chunk)
    return h.hexdigest()


def transcript_key(audio_sha256: str, settings: dict) -> str:
    """Cache key from the audio's content hash and every setting that changes the transcript."""
    blob = json.dumps({"audio": audio_sha256, **settings}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


class TranscriptCache:
    def __init__(self, cache_dir: str | os.PathLike[str]) -> None:
        self.root = Path(cache_dir)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._root = str(self.root)

    def sweep(self, older_than_s: float = _STALE_TEMP_S) -> int:
        """Delete temp files left by killed writers; returns how many."""
        removed, now = 0, time.time()
        for path in self.root.glob(TEMP_PREFIX + "*"):
            try:
                if now - path.stat().st_mtime > older_than_s:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
        return removed

    def _path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def get(self, key: str) -> Transcript | None:
        path = self._path(key)
        try:
            with open(path, encoding="utf-8") as f:
                return from_dict(Transcript, json.load(f))
        except FileNotFoundError:
            return None
        except (ValueError, OSError):
            # A damaged entry is a cache miss: the transcript is made again and replaces it.
            return None

    def _emb_path(self, key: str, encoder: str, suffix: str = ".emb") -> Path:
        return self.root / f"{key}.{encoder}{suffix}"

    def get_embeddings(self, key: str, encoder: str, texts_hash: str,
                       parts_hash: str | None = None) -> tuple[tuple[int, ...], np.ndarray] | None:
        """The sentence embeddings kept with transcript `key` by `encoder` (sentences per
        utterance, one row per sentence), or None when absent, damaged or of other texts;
        with `parts_hash`, None also when the sentences' parts kept were other texts (a
        changed splitter). Caches written before the .emb format keep their .npz, read as it is."""
        try:
            with open(f"{self._root}/{key}.{encoder}.emb", "rb") as f:  # _emb_path without a Path: 10 us a call
                data = f.read()
        except FileNotFoundError:
            return None if parts_hash is not None else self._get_npz(key, encoder, texts_hash)
        except OSError:
            return None  # unreadable: the call is embedded again
        return _read_embeddings(data, texts_hash, parts_hash)

    def _get_npz(self, key: str, encoder: str, texts_hash: str) -> tuple[tuple[int, ...], np.ndarray] | None:
        try:
            with np.load(self._emb_path(key, encoder, ".npz"), allow_pickle=False) as z:
                if str(z["texts_hash"]) != texts_hash:
                    return None
                return tuple(int(n) for n in z["counts"]), z["vectors"].astype(np.float32)
        except (FileNotFoundError, KeyError, ValueError, OSError):
            return None  # a damaged entry is a miss: the call is embedded again

    def put_embeddings(self, key: str, encoder: str, texts_hash: str, counts: tuple[int, ...],
                       vectors: np.ndarray, parts_hash: str | None = None) -> None:
        """Keep a call's sentence embeddings beside its transcript (float16: 1 KB a sentence);
        `parts_hash`: the texts of the sentences' parts among the rows (get_embeddings)."""
        rows = np.ascontiguousarray(vectors, dtype="<f2")
        head = json.dumps({"texts_hash": texts_hash, "counts": [int(n) for n in counts], "shape": rows.shape,
                           **({"parts_hash": parts_hash} if parts_hash is not None else {})})
        with atomic_write(self._emb_path(key, encoder), 0o600) as f:
            f.write(_EMB_MAGIC + head.encode() + b"\n" + rows.tobytes())
        self._emb_path(key, encoder, ".npz").unlink(missing_ok=True)  # an older format's, now stale


    def put(self, key: str, transcript: Transcript) -> None:
        # The folder sync inside atomic_write matters: a calls row names this key, so the
        # entry must outlive a power loss too.
        with atomic_write(self._path(key), 0o600, text=True) as f:
            json.dump(to_dict(transcript), f, ensure_ascii=False)


#: The first line of an embeddings file (`.emb`); then one JSON line (the texts' sha256, the
#: sentences per utterance, the array's shape) and the float16 rows, little-endian. Read in
#: 0.1 ms where the .npz it replaces (a zip of three .npy) took 0.5.
_EMB_MAGIC = b"callqa-embeddings 1\n"


def _read_embeddings(data: bytes, texts_hash: str,
                     parts_hash: str | None = None) -> tuple[tuple[int, ...], np.ndarray] | None:
    """An `.emb` file's (counts, float32 rows); None when damaged, of other texts or (with
    `parts_hash`) of other parts."""
    end = data.find(b"\n", len(_EMB_MAGIC))
    if not data.startswith(_EMB_MAGIC) or end < 0:
        return None
    try:
        head = json.loads(data[len(_EMB_MAGIC):end])
        if head["texts_hash"] != texts_hash or (parts_hash is not None and head.get("parts_hash") != parts_hash):
            return None
        counts = tuple(map(int, head["counts"]))
        vectors = np.frombuffer(data, dtype="<f2", offset=end + 1).reshape(head["shape"])
    except (ValueError, KeyError, TypeError):
        return None
    return (counts, vectors.astype(np.float32)) if sum(counts) == len(vectors) else None
