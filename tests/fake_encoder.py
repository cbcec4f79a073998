"""Shared by the meaning tests that fit real models without the sentence encoder."""

from __future__ import annotations

import numpy as np

from flows.meaning.encoder import Encoder


def char_bag_encoder() -> Encoder:
    """Deterministic rows from the characters (a bag of hashed chars): no model needed."""
    def embed(texts):
        out = np.zeros((len(texts), 32), np.float32)
        for i, t in enumerate(texts):
            for ch in t:
                out[i, ord(ch) % 32] += 1.0
        return out + 0.01
    return Encoder("fake", 32, embed)
