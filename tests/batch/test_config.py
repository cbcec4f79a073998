"""Issue #8.3: bad configuration fails fast, naming file, line and field, before any audio.

"Before any audio" is checked by the output folder: every run creates it (its lock,
its tables) before the first recording, so a run that stopped on its configuration
has left no output folder behind.
"""

from __future__ import annotations

import importlib
import inspect
import shutil
from pathlib import Path

import pytest
import yaml

from flows.cli import main
from flows.batch.pipeline import PipelineConfig
from flows.batch.plan import RunPlan
from flows.speech.vad import VadOptions
from flows.speech.transcribe import ModelLoadError
from lexicons import PACKS_DIR, PackError, load_pack

ROOT = Path(__file__).resolve().parents[2]
CALL = ROOT / "sample_audio" / "call01_compliant.wav"


def pack_with(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(PACKS_DIR / "zh-CN", folder)
    text = (folder / file).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    (folder / file).write_text(text.replace(old, new), encoding="utf-8")
    return folder


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


# (id, how to break it: tmp_path -> extra CLI args, regex the message must match)
def _broken_yaml(tmp_path):
    folder = pack_with(tmp_path, "rules.yaml", "  pause_s: 0.7", "  pause_s: [0.7")
    line = line_of(folder / "rules.yaml", "pause_s: [0.7")  # the parser notices on this line or the next
    return ["--lexicon", str(folder)], rf"rules\.yaml:({line}|{line + 1}): not valid YAML: expected ',' or ']'"


def _wrong_type(tmp_path):
    folder = pack_with(tmp_path, "rules.yaml", "  pause_s: 0.7", "  pause_s: fast")
    return ["--lexicon", str(folder)], rf"rules\.yaml:{line_of(folder / 'rules.yaml', 'pause_s: fast')}: rate\.pause_s: "


def _python_object_tag(tmp_path):
    # yaml.load with the full/unsafe loader would build the object; the pack's SafeLoader refuses the tag.
    folder = pack_with(tmp_path, "phrases.yaml", "self_identification_meaning: self_identification  #",
                       "self_identification_meaning: !!python/object:collections.OrderedDict {}  #")
    return ["--lexicon", str(folder)], (
        rf"phrases\.yaml:{line_of(folder / 'phrases.yaml', '!!python/object')}: .*"
        r"could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:collections.OrderedDict'")


def _unknown_pack(tmp_path):
    return ["--lexicon", "xx-YY"], r"lexicon error: .*xx-YY: no such pack folder \(packs here: zh-CN"


def _bad_beam(tmp_path):
    return ["--beam-size", "-2"], r"beam_size must be 1 or more"


def _batch_without_faster(tmp_path):
    return ["--batch-size", "8", "--engine", "openai"], r"batch_size needs the faster engine, not 'openai'"


def _missing_checkpoint(tmp_path):
    return ["--model", str(tmp_path / "nope.pt")], r"whisper checkpoint not found: .*nope\.pt"


def corrupt_checkpoint(tmp_path: Path) -> Path:
    """A file where the checkpoint should be that is not one (a truncated copy, a wrong file)."""
    path = tmp_path / "corrupt-base.pt"
    path.write_bytes(b"PK\x03\x04 this is not a whisper checkpoint " * 64)
    return path


def _missing_input(tmp_path):
    return [str(tmp_path / "no-such-folder")], r"no such file or folder: .*no-such-folder"


def _out_under_a_file(tmp_path):
    (tmp_path / "a-file").write_text("x")
    return ["--out", str(tmp_path / "a-file" / "out")], r"cannot use output folder .*a-file/out: Not a directory"


BROKEN = [_broken_yaml, _wrong_type, _python_object_tag, _unknown_pack, _bad_beam, _batch_without_faster, _missing_checkpoint, _missing_input,
          _out_under_a_file]


@pytest.mark.parametrize("broken", BROKEN, ids=[b.__name__.strip("_") for b in BROKEN])
def test_run_with_bad_config_exits_2_before_any_audio(tmp_path, capsys, broken, model_path):
    import re

    extra, message = broken(tmp_path)
    out = tmp_path / "out"
    # options after --out (a second --out wins), an extra input path before it
    args = ["--out", str(out), *extra] if extra[0].startswith("--") else [*extra, "--out", str(out)]
    assert main(["run", str(CALL), *args, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert err.count("\n") == 1 and "Traceback" not in err  # one line
    assert not out.exists()


@pytest.mark.parametrize("args", [["--agent-channel", "centre"], ["--vad", "webrtc"], ["--beam-size", "five"]])
def test_bad_option_values_are_refused_by_the_parser(tmp_path, capsys, args):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["run", str(CALL), "--out", str(out), *args])
    assert exc.value.code == 2
    assert "invalid" in capsys.readouterr().err
    assert not out.exists()


def test_reprocess_and_lexicon_check_with_a_broken_pack_exit_2(tmp_path, capsys):
    extra, message = _wrong_type(tmp_path)
    out = tmp_path / "out"
    assert main(["reprocess", "--out", str(out), *extra]) == 2
    assert main(["lexicon", "check", extra[1]]) == 2
    assert not out.exists()
    assert "rate.pause_s" in capsys.readouterr().err


def test_pipeline_config_refuses_bad_settings(tmp_path):
    from flows.speech.engines import DecoderOptions
    from flows.speech.vad import VadOptions

    for bad, message in [({"agent_channel": "centre"}, "agent_channel"), ({"vad": VadOptions("webrtc")}, "vad method"),
                         ({"decoder": DecoderOptions(beam_size=0)}, "beam_size"), ({"engine": "kaldi"}, "engine"), ({"out_dir": " "}, "out_dir"),
                         ({"diarizer": "pyannote"}, "diarizer"), ({"mono_asr": "both"}, "mono_asr")]:
        with pytest.raises(ValueError, match=message):
            PipelineConfig(**{"out_dir": str(tmp_path), **bad})


def test_prefect_flow_parameters_fail_before_any_audio(tmp_path, sample_run):
    """qa_batch with a broken pack or a bad agent_channel fails the flow run before a
    single recording is processed (no calls rows)."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.flow import qa_batch
    from flows.storage.store import ResultStore

    extra, _ = _wrong_type(tmp_path)
    good = str(sample_run["inputs"] / "call01_compliant.wav")
    with prefect_test_harness(server_startup_timeout=180):
        with pytest.raises(PackError) as info:
            qa_batch([good], str(tmp_path / "out1"), lexicon=extra[1])
        assert info.value.file.endswith("rules.yaml") and info.value.field == "rate.pause_s" and info.value.line
        with pytest.raises(ValueError, match="agent_channel"):
            qa_batch([good], str(tmp_path / "out2"), agent_channel="centre")
        with pytest.raises(PackError, match="no such pack folder"):
            qa_batch([good], str(tmp_path / "out3"), lexicon="xx-YY")
        # A model that exists but cannot load fails the run too, instead of one error row per call.
        with pytest.raises(ModelLoadError, match="corrupt-base.pt"):
            qa_batch([good], str(tmp_path / "out4"), model=str(corrupt_checkpoint(tmp_path)),
                     cache_dir=str(tmp_path / "empty-cache"))
    for i in (1, 2, 3, 4):
        assert ResultStore(tmp_path / f"out{i}").calls_by_id() == {}


def test_prefect_yaml_deployments_are_valid():
    """The other configuration file: each deployment's parameters bind to its flow,
    make a valid PipelineConfig and name a loadable rule pack."""
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    assert spec["deployments"]
    for deployment in spec["deployments"]:
        module_path, name = deployment["entrypoint"].split(":")
        module = importlib.import_module(module_path.removesuffix(".py").replace("/", "."))
        fn = getattr(module, name).fn
        params = inspect.signature(fn).bind_partial(**deployment["parameters"]).arguments
        if "agent_channel" in params:
            PipelineConfig(out_dir=params["out_dir"], agent_channel=params["agent_channel"])
        load_pack(params.get("lexicon", "zh-CN"))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_model_that_cannot_load_stops_the_batch_and_loses_nothing(tmp_path, workers):
    """A corrupt checkpoint fails the same way for every call: the run stops with exit 2
    and a message naming the file, writes no error row for the call that needed the
    model, keeps the rows it did write, and the next run picks up what is left."""
    from runs import SAMPLES, byo_inputs, run_cli

    from flows.batch.runner import pending
    from flows.batch.pipeline import find_recordings

    inputs, out = tmp_path / "in", tmp_path / "out"
    byo = byo_inputs(inputs, copies=1)  # carry their transcripts: never need the model
    # Different audio from every byo call, so no cached transcript can stand in for whisper.
    shutil.copyfile(SAMPLES / "call05_fast_agent.wav", inputs / "zz_needs_whisper.wav")
    model = corrupt_checkpoint(tmp_path)
    proc = run_cli("run", str(inputs), "--out", str(out), "--model", str(model), "--vad", "energy",
                   "--workers", str(workers), "--quiet")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "cannot load the openai model" in proc.stderr and str(model) in proc.stderr
    assert "batch stopped" in proc.stderr and "Traceback" not in proc.stderr

    from flows.storage.store import ResultStore

    rows = ResultStore(out).calls_by_id()
    assert "zz_needs_whisper" not in rows
    assert all(row["status"] == "ok" for row in rows.values()), rows
    if workers == 1:  # in name order, so every byo call came first
        assert set(rows) == {p.stem for p in byo}
    # the run's own settings (VAD included): a different one would make every call stale
    cfg = PipelineConfig(out_dir=str(out), model=str(model), vad=VadOptions("energy"))
    plan = RunPlan.build(cfg, load_pack("zh-CN"))
    left = {r.call_id for r in pending(plan.with_settings(find_recordings([str(inputs)])), plan)}
    assert "zz_needs_whisper" in left and not left & set(rows)
