"""`callqa model convert` (issue 21 item 1): an openai-whisper checkpoint to CTranslate2,
offline, its tensors compared with the source; and which engine runs when none is named."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from conftest import _DEFAULT_MODEL, missing
from flows.speech.engines import default_engine
from flows.speech.engines import faster
from flows.speech.engines.convert import (
    DONE,
    ConvertError,
    build_tokenizer,
    compare_with_checkpoint,
    convert,
    expected_variables,
    load_checkpoint,
    read_ct2_variables,
)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    """A real openai-whisper model, small and randomly initialised, saved as openai saves
    one: what a user's own (fine-tuned) checkpoint looks like, without its size."""
    import whisper.model as wm

    dims = wm.ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2, n_audio_layer=2,
                              n_vocab=51865, n_text_ctx=448, n_text_state=64, n_text_head=2, n_text_layer=2)
    torch.manual_seed(0)
    model = wm.Whisper(dims)
    with torch.no_grad():  # whisper leaves the decoder's positions as torch.empty: garbage, NaN at times
        model.decoder.positional_embedding.normal_(0.0, 0.02)
    path = tmp_path_factory.mktemp("ckpt") / "whisper-tiny-custom.pt"
    torch.save({"dims": dims.__dict__, "model_state_dict": model.state_dict()}, path)
    return path


def test_any_checkpoint_converts_with_every_tensor_checked_and_runs(tiny_checkpoint, tmp_path):
    dest = tmp_path / "ct2"
    done = convert(tiny_checkpoint, dest, quantization="float32")
    assert faster.is_model_dir(dest) and not done.reused
    dims, state = load_checkpoint(tiny_checkpoint)
    # every weight of the checkpoint has its CTranslate2 counterpart, equal (float32 kept)
    assert done.tensors_compared == len(expected_variables(state)) > 40
    assert done.max_abs_diff == 0.0
    assert done.alignment_heads.startswith("default")  # unknown to openai-whisper: its default
    # A changed source tensor is seen: the comparison is not vacuous.
    tampered = dict(state)
    tampered["decoder.blocks.1.mlp.2.weight"] = state["decoder.blocks.1.mlp.2.weight"] + 0.5
    worst = dict(compare_with_checkpoint(dest, tampered))
    assert worst["decoder/layer_1/ffn/linear_1/weight"] == pytest.approx(0.5, abs=1e-6)
    # a NaN can never pass as a small difference
    tampered["decoder.blocks.1.mlp.2.weight"] = state["decoder.blocks.1.mlp.2.weight"] * float("nan")
    assert dict(compare_with_checkpoint(dest, tampered))["decoder/layer_1/ffn/linear_1/weight"] == float("inf")
    # faster-whisper loads and runs it (random weights: any text, but the whole path works)
    from faster_whisper import WhisperModel

    model = WhisperModel(str(dest), device="cpu", compute_type="int8", local_files_only=True)
    segments, _ = model.transcribe(np.zeros(16000, np.float32), language="zh", beam_size=1,
                                   temperature=0.0, without_timestamps=True)
    list(segments)
    # A second conversion of the same checkpoint into the same folder is a no-op; another
    # checkpoint (or settings) into it needs --force.
    assert convert(tiny_checkpoint, dest, quantization="float32").reused
    with pytest.raises(ConvertError, match="--force"):
        convert(tiny_checkpoint, dest, quantization="float16")


def test_a_conversion_is_known_by_the_checkpoints_bytes_not_its_path(tiny_checkpoint, tmp_path):
    dest = tmp_path / "ct2"
    convert(tiny_checkpoint, dest, quantization="float32")
    # The same file seen from elsewhere (another checkout, a CI machine's ../shared) is reused.
    elsewhere = tmp_path / "other" / tiny_checkpoint.name
    elsewhere.parent.mkdir()
    shutil.copy(tiny_checkpoint, elsewhere)
    assert convert(elsewhere, dest, quantization="float32").reused
    # A folder stamped by an older callqa (its path, no hash) is checked tensor by tensor once,
    # then stamped with the hash.
    done = json.loads((dest / DONE).read_text())
    old = {k: v for k, v in done.items() if k != "sha256"} | {"checkpoint": "/gone/x.pt"}
    (dest / DONE).write_text(json.dumps(old))
    assert convert(elsewhere, dest, quantization="float32").reused
    assert json.loads((dest / DONE).read_text())["sha256"] == done["sha256"]
    # ... and an old-stamped folder whose weights are another checkpoint's is refused.
    (dest / DONE).write_text(json.dumps(old))
    other = torch.load(tiny_checkpoint, weights_only=False)
    other["model_state_dict"]["decoder.ln.weight"] += 1.0
    torch.save(other, elsewhere)
    with pytest.raises(ConvertError, match="--force"):
        convert(elsewhere, dest, quantization="float32")


def test_what_is_not_a_checkpoint_is_refused(tmp_path, capsys):
    from flows.cli import main

    bad = tmp_path / "x.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ConvertError, match="not an openai-whisper checkpoint"):
        convert(bad, tmp_path / "out")
    assert main(["model", "convert", str(tmp_path / "none.pt"), str(tmp_path / "out")]) == 2
    assert "no such checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_tokenizer_is_whispers_own():
    from whisper.tokenizer import get_tokenizer

    tok, _ = build_tokenizer(51865)
    wt = get_tokenizer(True, num_languages=99, language="zh", task="transcribe")
    for text in ("您好，很高兴为您服务", "请问有什么可以帮到您？订单号 12345678", " Hello world"):
        assert tok.encode(text, add_special_tokens=False).ids == wt.encode(text)
        assert tok.decode(wt.encode(text)) == text
    for token in ("<|endoftext|>", "<|startoftranscript|>", "<|zh|>", "<|transcribe|>", "<|notimestamps|>", "<|0.00|>"):
        assert tok.token_to_id(token) == wt.encoding.encode_single_token(token)


@pytest.mark.e2e
def test_the_shared_checkpoint_converts_to_the_same_model_as_published(fw_model_path):
    """The conversion `make test` uses holds base's weights exactly (a float16 checkpoint
    stored as float16), with openai-whisper's alignment heads for base."""
    import json

    if not _DEFAULT_MODEL.exists():
        missing(f"no {_DEFAULT_MODEL}")
    _, state = load_checkpoint(_DEFAULT_MODEL)
    rows = compare_with_checkpoint(fw_model_path, state)
    assert len(rows) == len(expected_variables(state)) and max(d for _, d in rows) == 0.0
    config = json.loads((faster.Path(fw_model_path) / "config.json").read_text())
    assert config["alignment_heads"] == [[3, 1], [4, 2], [4, 3], [4, 7], [5, 1], [5, 2], [5, 4], [5, 6]]
    assert len(config["lang_ids"]) == 99 and config["suppress_ids_begin"] == [220, 50257]
    assert read_ct2_variables(faster.Path(fw_model_path) / "model.bin")["decoder/embeddings/weight"].shape == (51865, 512)


def test_the_faster_engine_is_the_default_wherever_its_model_is_present(tmp_path, monkeypatch):
    monkeypatch.setenv("CALLQA_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.delenv(faster.MODEL_ENV, raising=False)
    monkeypatch.delenv("CALLQA_WHISPER_MODEL", raising=False)
    monkeypatch.setattr(faster, "DEFAULT_MODEL_DIR", tmp_path / "fetched")
    engine, why = default_engine()
    assert engine == "openai" and "callqa model convert" in why
    # a fetched base model does not stand in for the configured checkpoint
    _fake_model_dir(faster.DEFAULT_MODEL_DIR)
    assert default_engine()[0] == "openai"
    # the conversion of the openai engine's checkpoint makes the faster engine the default
    converted = faster.default_model_dir()
    _fake_model_dir(converted)
    engine, why = default_engine()
    assert engine == "faster" and str(converted) in why
    # ... of that checkpoint only: another configured checkpoint without a conversion is openai's
    other = tmp_path / "whisper-small.pt"
    other.write_bytes(b"x")
    monkeypatch.setenv("CALLQA_WHISPER_MODEL", str(other))
    assert default_engine()[0] == "openai"
    _fake_model_dir(faster.default_model_dir())
    assert default_engine()[0] == "faster"
    # a named model decides by what it is; $CALLQA_FW_MODEL names the faster engine's model
    assert default_engine(str(converted)) == ("faster", f"--model {converted} is a CTranslate2 folder")
    assert default_engine(str(other))[0] == "openai"
    monkeypatch.delenv("CALLQA_WHISPER_MODEL")
    shutil.rmtree(tmp_path / "models")
    monkeypatch.setenv(faster.MODEL_ENV, str(faster.DEFAULT_MODEL_DIR))
    assert default_engine()[0] == "faster"


def _fake_model_dir(path):
    path.mkdir(parents=True)
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.json"):
        (path / name).write_text("{}")


def test_run_names_the_engine_in_the_log(tmp_path, monkeypatch, capsys):
    from conftest import SAMPLES
    from flows.cli import main

    monkeypatch.setenv("CALLQA_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.delenv(faster.MODEL_ENV, raising=False)
    monkeypatch.setattr(faster, "DEFAULT_MODEL_DIR", tmp_path / "not-fetched")
    corrupt = tmp_path / "whisper-base.pt"
    corrupt.write_bytes(b"PK\x03\x04 not a whisper checkpoint " * 64)
    monkeypatch.setenv("CALLQA_WHISPER_MODEL", str(corrupt))
    code = main(["run", str(SAMPLES / "call03_banned_phrases.mp3"), "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2  # the openai checkpoint cannot load: the batch stops
    assert "ASR engine: openai (no faster-whisper model at " in capsys.readouterr().err


def test_convert_prints_no_leak_report_or_traceback(tiny_checkpoint, tmp_path):
    """Issue 35 item 5: `make run`'s model step printed ~30 lines of `nanobind: leaked ...`
    from triton (imported through torch) at the interpreter's exit, the last without a newline."""
    import subprocess
    import sys

    from runs import ROOT

    proc = subprocess.run([sys.executable, "-m", "flows.cli", "model", "convert", str(tiny_checkpoint),
                           str(tmp_path / "model")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("converted ") and proc.stdout.endswith("\n"), proc.stdout
    for noise in ("nanobind", "leaked", "Traceback"):
        assert noise not in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-2000:]
