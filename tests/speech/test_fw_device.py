"""Where the models run (issue #16 item 4): the GPU in float16 when one is seen, else the
CPU (int8 for the faster engine); the device in the model's name, hence in the cache key
and the calls row; each worker process's share of the cores for both engines.

The choice is tested here without a GPU (the count of GPUs is an argument, or
monkeypatched); the GPU itself only where one is lent (`needs_gpu`: CI never has one).
"""

from __future__ import annotations

import os
import sys
import types

import pytest

from flows.batch import parallel
from flows.speech.engines import faster as fw_engine
from flows.speech.engines import openai as openai_engine
from flows.speech.engines.faster import FwModelError, choose_device
from flows.batch.pipeline import PipelineConfig
from flows.speech.transcribe import ModelLoadError, load_model, model_version

FW_REF = "/models/faster-whisper-base"


# -- the choice ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "compute_type, cuda_devices, expected",
    [
        ("auto", 0, ("cpu", "int8")),
        ("auto", 1, ("cuda", "float16")),
        ("auto", 4, ("cuda", "float16")),
        ("int8", 0, ("cpu", "int8")),
        ("int8", 1, ("cpu", "int8")),  # explicit CPU types stay on the CPU, as before
        ("float32", 0, ("cpu", "float32")),
        ("float32", 1, ("cpu", "float32")),
        ("float16", 1, ("cuda", "float16")),
        ("int8_float16", 1, ("cuda", "int8_float16")),
    ],
)
def test_choose_device(compute_type, cuda_devices, expected):
    assert choose_device(compute_type, cuda_devices) == expected


@pytest.mark.parametrize("compute_type", ["float16", "int8_float16"])
def test_gpu_compute_types_without_a_gpu_are_a_clear_error(compute_type):
    with pytest.raises(FwModelError, match=f"compute type {compute_type} needs a CUDA GPU") as err:
        choose_device(compute_type, 0)
    assert "\n" not in str(err.value)
    # A ModelLoadError: the CLI reports it in one line and a batch stops at once.
    assert isinstance(err.value, ModelLoadError)


def test_unknown_compute_type_is_an_error():
    with pytest.raises(FwModelError, match="compute type must be one of auto, int8, float32"):
        choose_device("int4", 1)


def test_auto_is_the_default_everywhere():
    from flows.cli import _parser

    assert fw_engine.DEFAULT_COMPUTE_TYPE == "auto"
    assert PipelineConfig(out_dir="unused").compute_type == "auto"
    for compute_type in ("auto", "int8", "float32", "float16", "int8_float16"):
        assert compute_type in fw_engine.COMPUTE_TYPES
        args = _parser().parse_args(["run", "x.wav", "--out", "o", "--compute-type", compute_type])
        assert args.compute_type == compute_type
    # not named: the output folder's own (flows.batch.run_settings), auto for a new folder
    assert _parser().parse_args(["run", "x.wav", "--out", "o"]).compute_type is None
    from flows.batch.run_settings import RunSettings

    assert RunSettings().compute_type == "auto"


# -- the device in the model's name (cache key, calls row) ---------------------------

@pytest.mark.parametrize(
    "compute_type, cuda_devices, name",
    [
        # The CPU's names are those from before GPUs: existing caches stay valid.
        ("auto", 0, "faster-whisper-base+ct2-int8"),
        ("int8", 0, "faster-whisper-base+ct2-int8"),
        ("float32", 0, "faster-whisper-base+ct2-float32"),
        ("int8", 1, "faster-whisper-base+ct2-int8"),
        ("auto", 1, "faster-whisper-base+ct2-cuda-float16"),
        ("float16", 1, "faster-whisper-base+ct2-cuda-float16"),
        ("int8_float16", 1, "faster-whisper-base+ct2-cuda-int8_float16"),
    ],
)
def test_faster_model_version_names_the_device(compute_type, cuda_devices, name):
    assert model_version(FW_REF, "faster", compute_type, cuda_devices) == name
    assert fw_engine.model_version(FW_REF, compute_type, cuda_devices) == name


@pytest.mark.parametrize(
    "ref, cuda_devices, name",
    [
        ("../shared/models/whisper-base.pt", 0, "whisper-base.pt"),
        ("base", 0, "whisper-base"),
        ("../shared/models/whisper-base.pt", 1, "whisper-base.pt+cuda-fp16"),
        ("base", 1, "whisper-base+cuda-fp16"),
    ],
)
def test_openai_model_version_names_the_device(ref, cuda_devices, name):
    assert model_version(ref, "openai", None, cuda_devices) == name
    assert model_version(ref, "openai", "int8", cuda_devices) == name  # compute type: faster only


def _machine(monkeypatch, cuda_devices: int) -> None:
    """This process as a machine where both runtimes see `cuda_devices` GPUs."""
    monkeypatch.setattr(fw_engine, "cuda_device_count", lambda: cuda_devices)
    monkeypatch.setattr(openai_engine, "_torch_cuda_devices", lambda: cuda_devices)


@pytest.mark.parametrize("engine, ref", [("openai", "whisper-base.pt"), ("faster", FW_REF)])
def test_the_cache_key_and_row_differ_by_device(monkeypatch, engine, ref):
    cfg = PipelineConfig(out_dir="unused", engine=engine)
    _machine(monkeypatch, 0)
    cpu_name, cpu_key = cfg.model_name(ref), cfg.transcript_settings(ref)
    _machine(monkeypatch, 1)
    gpu_name, gpu_key = cfg.model_name(ref), cfg.transcript_settings(ref)
    assert cpu_name in ("whisper-base.pt", "faster-whisper-base+ct2-int8")
    assert "cuda" in gpu_name and "cuda" not in cpu_name
    assert cpu_key["model"] == cpu_name and gpu_key["model"] == gpu_name


def test_a_gpu_compute_type_without_a_gpu_stops_before_any_audio(monkeypatch):
    """model_name runs before anything is loaded (cache key, is-current check): it raises
    the ModelLoadError that stops a batch, not an error row per call."""
    _machine(monkeypatch, 0)
    cfg = PipelineConfig(out_dir="unused", engine="faster", compute_type="float16")
    with pytest.raises(FwModelError, match="needs a CUDA GPU"):
        cfg.model_name(FW_REF)


# -- loading on the chosen device, with the process's threads ------------------------

@pytest.fixture
def fake_whisper_model(monkeypatch):
    """faster_whisper.WhisperModel replaced by a recorder of its arguments; returns them."""
    calls: list[dict] = []

    class WhisperModel:
        def __init__(self, ref, **kwargs):
            calls.append({"ref": ref, **kwargs})

    module = types.ModuleType("faster_whisper")
    module.WhisperModel = WhisperModel
    monkeypatch.setitem(sys.modules, "faster_whisper", module)
    monkeypatch.setattr(fw_engine, "_cpu_threads", None)  # restored afterwards
    fw_engine._load.cache_clear()
    yield calls
    fw_engine._load.cache_clear()


@pytest.mark.parametrize(
    "cuda_devices, compute_type, device, loaded_as",
    [(0, "auto", "cpu", "int8"), (1, "auto", "cuda", "float16"), (0, "float32", "cpu", "float32"),
     (1, "int8", "cpu", "int8"), (1, "int8_float16", "cuda", "int8_float16")],
)
def test_load_uses_the_chosen_device(fake_whisper_model, monkeypatch, cuda_devices, compute_type, device, loaded_as):
    _machine(monkeypatch, cuda_devices)
    model = load_model(FW_REF, "faster", compute_type=compute_type)
    assert model.engine == "faster"
    assert (model.device, model.compute_type) == (device, loaded_as)
    assert len(fake_whisper_model) == model.lanes == fw_engine.lane_plan(fw_engine.cpu_threads(), device)[0]
    for kwargs in fake_whisper_model:  # one model per lane, all alike
        assert kwargs["device"] == device and kwargs["compute_type"] == loaded_as
        assert kwargs["local_files_only"] is True and kwargs["num_workers"] == 1


def test_load_without_a_gpu_raises_the_one_line_error(fake_whisper_model, monkeypatch):
    _machine(monkeypatch, 0)
    with pytest.raises(FwModelError, match=r"^compute type float16 needs a CUDA GPU"):
        load_model(FW_REF, "faster", compute_type="float16")  # not re-wrapped by load_model
    assert fake_whisper_model == []


def test_openai_loads_on_the_gpu_in_fp16(monkeypatch):
    loaded = []
    monkeypatch.setattr(openai_engine, "_load", lambda ref, device: loaded.append(device) or "model")
    for cuda_devices, device, fp16 in [(0, "cpu", False), (1, "cuda", True)]:
        _machine(monkeypatch, cuda_devices)
        assert load_model("whisper-base.pt") == openai_engine.OpenaiModel("model", fp16)
        assert loaded[-1] == device


def test_one_process_gives_ctranslate2_all_its_cores_as_lanes(fake_whisper_model, monkeypatch):
    _machine(monkeypatch, 0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert fw_engine.cpu_threads() == 2
    model = load_model(FW_REF, "faster")
    # Two lanes of one thread: two decodes side by side beat one on two threads.
    assert model.lanes == 2 and [c["cpu_threads"] for c in fake_whisper_model] == [1, 1]


@pytest.mark.parametrize(
    "threads, device, plan",
    [(1, "cpu", (1, 1)), (2, "cpu", (2, 1)), (3, "cpu", (2, 1)), (16, "cpu", (2, 8)), (0, "cpu", (1, 1)),
     (16, "cuda", (1, 16))],
)
def test_lane_plan(threads, device, plan):
    assert fw_engine.lane_plan(threads, device) == plan


def test_two_workers_on_two_cores_get_one_thread_each_for_both_engines(fake_whisper_model, monkeypatch):
    import torch

    _machine(monkeypatch, 0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    torch_threads = []
    monkeypatch.setattr(torch, "set_num_threads", torch_threads.append)  # not this process's
    threads = parallel.torch_threads_per_worker(2)
    assert threads == 1 and parallel.torch_threads_per_worker(1) == 2
    parallel._init_worker(threads)  # what each worker process runs first
    assert torch_threads == [1] and fw_engine.cpu_threads() == 1
    load_model(FW_REF, "faster")
    assert fake_whisper_model[-1]["cpu_threads"] == 1
    assert len(fake_whisper_model) == 1  # a one-core worker has one lane
    # A share given after a load is not lost to the lru_cache: the threads are in its key.
    fw_engine.set_cpu_threads(None)
    assert load_model(FW_REF, "faster").lanes == 2
    assert [c["cpu_threads"] for c in fake_whisper_model] == [1, 1, 1]


def _worker_threads(_item) -> tuple[int, int]:
    import torch

    return fw_engine.cpu_threads(), torch.get_num_threads()


def test_worker_processes_start_with_their_share():
    """The real pool: every worker's initializer gave both engines the same share."""
    share = parallel.torch_threads_per_worker(2)
    results = dict(parallel.imap_unordered(_worker_threads, [0, 1], workers=2))
    assert results == {0: (share, share), 1: (share, share)}


def test_the_real_model_loads_where_chosen(fw_model_path, monkeypatch):
    """CTranslate2 itself: the model is on the device and in the compute type chosen, and
    takes the worker's share of the threads (which it does not report: recorded here)."""
    import faster_whisper

    threads = []

    class Recording(faster_whisper.WhisperModel):
        def __init__(self, *args, cpu_threads, **kwargs):
            threads.append(cpu_threads)
            super().__init__(*args, cpu_threads=cpu_threads, **kwargs)

    monkeypatch.setattr(faster_whisper, "WhisperModel", Recording)
    monkeypatch.setattr(fw_engine, "_cpu_threads", None)
    fw_engine.set_cpu_threads(1)
    fw = fw_engine.load(fw_model_path)
    expected = choose_device("auto", fw_engine.cuda_device_count())
    assert (fw.device, fw.compute_type) == expected
    assert fw.model.model.device == expected[0]
    assert fw.model.model.compute_type.startswith(expected[1])  # int8 on the CPU: int8_float32
    assert threads == [1]
    fw_engine._load.cache_clear()  # no 1-thread model left for later tests


# -- on a GPU ------------------------------------------------------------------------

def _cuda_devices() -> int:
    try:
        return fw_engine.cuda_device_count()
    except Exception:  # noqa: BLE001 - a broken driver is no GPU here
        return 0


#: Only where a GPU is lent: CI machines never have one, so this is the one legitimate skip.
needs_gpu = pytest.mark.skipif(_cuda_devices() == 0, reason="no CUDA GPU visible to CTranslate2 (CI has none)")


@needs_gpu
def test_both_engines_transcribe_on_the_gpu(fw_model_path, model_path):
    import torch

    from conftest import SAMPLES
    from flows.speech.audio import load_call
    from flows.speech.transcribe import join_words, transcribe_speech
    from flows.speech.vad import detect_speech

    assert torch.cuda.is_available(), "CTranslate2 sees a GPU but torch does not"
    audio = load_call(str(SAMPLES / "call03_banned_phrases.mp3"))
    samples = audio.channels["agent"]
    spans = detect_speech(samples, audio.sample_rate_hz)

    fw = load_model(fw_model_path, "faster")
    assert (fw.device, fw.compute_type) == ("cuda", "float16")
    assert fw.model.model.device == "cuda" and fw.model.model.compute_type.startswith("float16")
    assert model_version(fw_model_path, "faster").endswith("+ct2-cuda-float16")
    fw_text = join_words(transcribe_speech(fw, samples, spans))

    openai = load_model(model_path)
    assert openai.fp16 is True and next(openai.model.parameters()).device.type == "cuda"
    assert model_version(model_path).endswith("+cuda-fp16")
    openai_text = join_words(transcribe_speech(openai, samples, spans))

    for text in (fw_text, openai_text):
        assert len(text) > 20, text  # the agent speaks throughout call03
