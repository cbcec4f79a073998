"""The openai-whisper engine (torch): the reference implementation.

Finds a checkpoint (--model, $CALLQA_WHISPER_MODEL, the model folder), names it, loads it
on the GPU in fp16 when torch sees one (else the CPU in fp32) and decodes with
`whisper.transcribe`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from flows.speech.engines.base import DecoderOptions, ModelNotConfigured

NAME = "openai"
MODEL_ENV = "CALLQA_WHISPER_MODEL"
#: The folder callqa looks in when neither --model nor $CALLQA_WHISPER_MODEL names a
#: model (`make run` links ../shared/models/whisper-base.pt there with `callqa model add`).
MODEL_DIR_ENV = "CALLQA_MODEL_DIR"
#: Picked first when the model folder holds several checkpoints (the one the project measures).
PREFERRED_CHECKPOINT = "whisper-base.pt"


def model_dir() -> Path:
    """$CALLQA_MODEL_DIR, else ${XDG_CACHE_HOME:-~/.cache}/callqa/models (read at each call)."""
    env = os.environ.get(MODEL_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "callqa" / "models"


def folder_checkpoints(folder: Path | None = None) -> list[Path]:
    """The whisper checkpoints (*.pt files; broken links left out) in the model folder,
    whisper-base.pt first, then by name."""
    folder = model_dir() if folder is None else folder
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("*.pt") if p.is_file()]
    return sorted(found, key=lambda p: (p.name != PREFERRED_CHECKPOINT, p.name))


def find_model(model: str | None) -> tuple[str, str]:
    """(the openai-whisper model to use, where it came from): --model, else
    $CALLQA_WHISPER_MODEL, else the first checkpoint of the model folder."""
    if model:
        return model, "--model"
    env = os.environ.get(MODEL_ENV)
    if env:
        return env, f"${MODEL_ENV}"
    found = folder_checkpoints()
    if found:
        return str(found[0]), f"the model folder {model_dir()}"
    raise ModelNotConfigured(
        f"no whisper model given: pass --model NAME_OR_PATH, set {MODEL_ENV}, or put a checkpoint "
        f"into {model_dir()} (`callqa model add ../shared/models/whisper-base.pt`; folder: ${MODEL_DIR_ENV})"
    )


def openai_device(cuda_devices: int) -> tuple[str, bool]:
    """(device, fp16) for openai-whisper when torch sees `cuda_devices` GPUs: the GPU in
    fp16 (its native precision, openai-whisper's own default there), else the CPU in fp32
    (fp16 is not supported on the CPU)."""
    return ("cuda", True) if cuda_devices > 0 else ("cpu", False)


def _torch_cuda_devices() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@dataclass(frozen=True)
class OpenaiModel:
    """A loaded openai-whisper model and the precision it runs in."""

    model: object  # whisper.Whisper
    fp16: bool
    engine: str = NAME


_lock = threading.Lock()


@lru_cache(maxsize=2)
def _load(ref: str, device: str):
    import whisper

    return whisper.load_model(ref, device=device)


class OpenaiEngine:
    name = NAME
    batches = False
    decodes_on_torch = True

    def resolve_model_ref(self, model: str | None) -> str:
        """The argument, else $CALLQA_WHISPER_MODEL, else a checkpoint in the model folder
        (`model_dir`); a name or a .pt path."""
        ref, _ = find_model(model)
        if ref.endswith(".pt") and not os.path.isfile(ref):
            raise ModelNotConfigured(f"whisper checkpoint not found: {ref}")
        return ref

    def model_version(self, ref: str, compute_type: str | None = None, cuda_devices: int | None = None) -> str:
        """The checkpoint's file name or `whisper-NAME`; the CPU is not named (as before
        GPUs were supported: existing caches stay valid), a GPU is: whisper-base.pt+cuda-fp16.
        `compute_type` is the faster engine's and ignored."""
        name = os.path.basename(ref) if ref.endswith(".pt") else f"whisper-{ref}"
        device, fp16 = openai_device(_torch_cuda_devices() if cuda_devices is None else cuda_devices)
        return name if device == "cpu" else f"{name}+{device}-{'fp16' if fp16 else 'fp32'}"

    def load(self, ref: str, compute_type: str | None = None) -> OpenaiModel:
        """On CUDA in fp16 when torch sees a GPU, else on the CPU in fp32 (openai_device)."""
        device, fp16 = openai_device(_torch_cuda_devices())
        with _lock:  # concurrent tasks must not load the weights twice
            return OpenaiModel(_load(ref, device), fp16)

    def decode_segments(self, model: OpenaiModel, audio: np.ndarray, opts: DecoderOptions, lane: int = 0) -> list[dict]:
        """One lane only (no `lanes` on OpenaiModel): whisper keeps its key/value cache in
        hooks on the shared model, so decodes run one at a time (flows.speech.transcribe)."""
        import torch
        import whisper

        torch.manual_seed(0)  # temperature fallback samples: same audio, same words
        result = whisper.transcribe(
            model.model,
            audio,
            language=opts.language,
            task="transcribe",
            beam_size=opts.beam_size,
            best_of=opts.beam_size,
            initial_prompt=opts.initial_prompt,
            temperature=opts.temperature,
            compression_ratio_threshold=opts.compression_ratio_threshold,
            logprob_threshold=opts.logprob_threshold,
            no_speech_threshold=opts.no_speech_threshold,
            condition_on_previous_text=False,
            word_timestamps=True,
            fp16=model.fp16,
            verbose=None,
        )
        return result["segments"]


ENGINE = OpenaiEngine()
