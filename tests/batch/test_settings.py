"""Every setting that changes a call's rows decides whether the call is current (#16).

Unit tests: one per setting, against a `calls` row written with the base settings, the
run must redo the call and name the setting. End to end through the CLI (recordings
that carry their transcripts, so no whisper runs): the privacy case (--no-mask, then
--mask), the agent channel, and the log line per call.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from analyzers.model import CallResult
from flows.batch.runner import Summary, pending
from flows.speech.engines.faster import is_model_dir
from flows.batch.pipeline import PipelineConfig, Recording
from flows.batch.plan import RunPlan
from flows.batch.settings import CallSettings
from flows.storage.store import ResultStore
from flows.speech.engines import DecoderOptions
from flows.speech.vad import VadOptions
from lexicons import load_pack

SAMPLES = Path(__file__).resolve().parents[2] / "sample_audio"


def _fake_ct2_model(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        (folder / name).write_text("{}")
    assert is_model_dir(folder)
    return str(folder)


def _strict_pack(tmp_path: Path):
    """The default pack with one threshold changed: another lexicon_version."""
    src = Path(__file__).resolve().parents[2] / "lexicons" / "zh-CN"
    dst = tmp_path / "strict"
    dst.mkdir()
    for f in src.glob("*.yaml"):
        text = f.read_text(encoding="utf-8")
        if f.name == "rules.yaml":
            text = text.replace("name: zh-CN", "name: strict").replace("pause_s: 0.7", "pause_s: 0.8")
        (dst / f.name).write_text(text, encoding="utf-8")
    return load_pack(str(dst))


@pytest.fixture()
def base(tmp_path):
    """A recording with a current `calls` row written under the base settings."""
    rec_path = tmp_path / "in" / "call.wav"
    rec_path.parent.mkdir()
    rec_path.write_bytes((SAMPLES / "call01_compliant.wav").read_bytes())
    cfg = PipelineConfig(out_dir=str(tmp_path / "out"), model="base")
    pack = load_pack("zh-CN")
    settings = RunPlan.build(cfg, pack).call_settings(str(rec_path))
    later = (datetime.now(timezone.utc) + timedelta(seconds=5)).isoformat(timespec="seconds")
    ResultStore(cfg.out_dir).write(CallResult(
        call_id="call", source=str(rec_path), status="ok", processed_at=later,
        settings=settings.as_json(), settings_key=settings.key))
    return cfg, pack, Recording(str(rec_path), "call")


def _redone(cfg, pack, rec) -> Summary:
    summary = Summary()
    todo = pending([rec], RunPlan.build(cfg, pack), summary=summary)
    assert todo == [rec] or not summary.redone
    return summary


def test_the_base_settings_are_current(base):
    cfg, pack, rec = base
    summary = _redone(cfg, pack, rec)
    assert pending([rec], RunPlan.build(cfg, pack)) == [] and summary.redone == 0


# (name in the summary, how the config changes); each is its own test.
CHANGES = {
    "model": lambda cfg, tmp: replace(cfg, model="small"),
    "engine": lambda cfg, tmp: replace(cfg, engine="faster", model=_fake_ct2_model(tmp / "base")),
    "beam": lambda cfg, tmp: replace(cfg, decoder=DecoderOptions(beam_size=None)),
    "vad": lambda cfg, tmp: replace(cfg, vad=VadOptions("energy")),
    "agent_channel": lambda cfg, tmp: replace(cfg, agent_channel="right"),
    "mask_pii": lambda cfg, tmp: replace(cfg, mask_pii=False),
    "allow_truncated": lambda cfg, tmp: replace(cfg, allow_truncated=True),
    "diarizer": lambda cfg, tmp: replace(cfg, diarizer="mfcc"),
    "mono_asr": lambda cfg, tmp: replace(cfg, mono_asr="one_pass"),
}
EXPECTED_NAME = {"model": "model", "engine": "model", "beam": "asr", "vad": "vad",
                 "agent_channel": "agent_channel", "mask_pii": "mask_pii", "allow_truncated": "allow_truncated",
                 "diarizer": "diarizer", "mono_asr": "mono_asr"}


@pytest.mark.parametrize("setting", sorted(CHANGES))
def test_a_changed_setting_redoes_the_call(base, tmp_path, setting):
    cfg, pack, rec = base
    summary = _redone(CHANGES[setting](cfg, tmp_path), pack, rec)
    assert summary.redone == 1, setting
    assert EXPECTED_NAME[setting] in summary.redone_settings, summary.redone_settings


def test_compute_type_and_batch_size_of_the_faster_engine(base, tmp_path):
    cfg, pack, rec = base
    model = _fake_ct2_model(tmp_path / "base")
    faster = replace(cfg, engine="faster", model=model, compute_type="int8")
    settings = RunPlan.build(faster, pack).call_settings(rec.path)
    ResultStore(cfg.out_dir).write(CallResult(
        call_id="call", source=rec.path, status="ok",
        processed_at=(datetime.now(timezone.utc) + timedelta(seconds=5)).isoformat(),
        settings=settings.as_json(), settings_key=settings.key))
    assert pending([rec], RunPlan.build(faster, pack)) == []
    as_float = _redone(replace(faster, compute_type="float32"), pack, rec)
    assert as_float.redone == 1 and "model" in as_float.redone_settings
    batched = _redone(replace(faster, decoder=DecoderOptions(batch_size=8)), pack, rec)
    assert batched.redone == 1 and "asr" in batched.redone_settings


def test_another_rule_pack_redoes_the_call(base, tmp_path):
    cfg, _, rec = base
    summary = _redone(cfg, _strict_pack(tmp_path), rec)
    assert summary.redone == 1 and "lexicon" in summary.redone_settings


@pytest.mark.parametrize("sidecar,content,name", [
    (".meta.json", {"direction": "outbound"}, "metadata"),
    (".agent.json", {"segments": [{"text": "您好", "start": 0.6, "end": 1.2}]}, "supplied_words"),
])
def test_metadata_or_supplied_words_beside_the_recording_redo_the_call(base, sidecar, content, name):
    cfg, pack, rec = base
    Path(rec.path).with_name("call" + sidecar).write_text(json.dumps(content))
    summary = _redone(cfg, pack, rec)
    assert summary.redone == 1 and name in summary.redone_settings


#: JSON that is not whisper's words: ground truth, and a diarization reference's speaker
#: turns, whose `segments` have no text (tools/make_diarization_set.py writes these).
NOT_TRANSCRIPTS = [{"call_id": "call", "utterances": []},
                   {"name": "mix", "segments": [{"speaker": "a", "start_s": 0.0, "end_s": 1.5}]}]


@pytest.mark.parametrize("content", NOT_TRANSCRIPTS)
@pytest.mark.parametrize("sidecar", [".json", ".agent.json"])
def test_json_beside_the_recording_that_is_no_transcript_changes_nothing(base, sidecar, content):
    """A ground-truth file, a diarization reference or a CRM export named `<stem>.json` is
    not read as words (flows.speech.transcript.supplied_words wants whisper's segments: text,
    start, end), so the call stays current."""
    cfg, pack, rec = base
    Path(rec.path).with_name("call" + sidecar).write_text(json.dumps(content))
    assert pending([rec], RunPlan.build(cfg, pack)) == []


@pytest.mark.parametrize("content", NOT_TRANSCRIPTS)
def test_json_that_is_no_transcript_is_not_read_as_words(tmp_path, content):
    from flows.speech.transcript import supplied_words as _byo_words

    (tmp_path / "mix.json").write_text(json.dumps(content))
    assert _byo_words(tmp_path / "mix.wav", "mixed", "mono") is None


def test_supplied_words_are_read_and_a_broken_word_is_named(tmp_path):
    from flows.speech.transcript import SuppliedTranscriptError
    from flows.speech.transcript import supplied_words as _byo_words

    words = [{"word": "您好", "start": 0.5, "end": 0.9, "probability": 0.9}, {"word": " 請問", "start": 1.0, "end": 1.4}]
    (tmp_path / "call.agent.json").write_text(json.dumps({"segments": [{"text": "您好請問", "start": 0.5, "end": 1.4,
                                                                        "words": words}]}))
    got = _byo_words(tmp_path / "call.wav", "agent", "stereo")
    assert [(w.text, w.start_s, w.end_s) for w in got] == [("您好", 0.5, 0.9), ("请问", 1.0, 1.4)]
    del words[1]["start"]
    (tmp_path / "call.agent.json").write_text(json.dumps({"segments": [{"text": "您好請問", "start": 0.5, "end": 1.4,
                                                                        "words": words}]}))
    with pytest.raises(SuppliedTranscriptError, match=r"call\.agent\.json: segment 0, word 1: needs `word`, `start`"):
        _byo_words(tmp_path / "call.wav", "agent", "stereo")


def test_a_row_without_recorded_settings_is_redone(base):
    cfg, pack, rec = base
    row = ResultStore(cfg.out_dir).calls_by_id()["call"]
    ResultStore(cfg.out_dir).write(CallResult(**{**{k: row[k] for k in ("call_id", "source", "status", "processed_at")}}))
    summary = _redone(cfg, pack, rec)
    assert summary.redone == 1 and "unrecorded" in summary.redone_settings


def test_the_cache_key_holds_the_transcript_settings_and_the_row_all_of_them(base):
    cfg, pack, rec = base
    settings = RunPlan.build(cfg, pack).call_settings(rec.path)
    from flows.storage.cache import transcript_key

    # The cache key is made from the same transcript settings the row records.
    assert transcript_key("0" * 64, settings.transcript) == transcript_key(
        "0" * 64, RunPlan.build(cfg, pack).transcript_settings(rec.path))
    assert {"model", "asr", "vad", "agent_channel", "transcriber"} <= set(settings.transcript)
    assert {"lexicon", "mask_pii", "allow_truncated", "metadata"} <= set(settings.analysis)
    # Analysis settings never change the transcript's cache key: a rule change needs no ASR.
    no_mask = RunPlan.build(replace(cfg, mask_pii=False), pack).call_settings(rec.path)
    assert no_mask.transcript == settings.transcript and no_mask.key != settings.key
    assert CallSettings.from_json(settings.as_json()) == settings


# --- end to end, through the CLI ------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d{6,}")


def _all_text(out: Path) -> list[str]:
    store = ResultStore(out)
    texts = [u["text"] for u in store.read("utterances").to_pylist()]
    texts += [f"{f['text']} {f['detail']}" for f in store.read("findings").to_pylist()]
    return texts


def test_a_no_mask_run_then_a_masked_run_leaves_no_unmasked_number(tmp_path):
    from runs import byo_inputs, run_cli

    inputs, out = tmp_path / "in", tmp_path / "out"
    byo_inputs(inputs, copies=1)
    first = run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--no-mask", "--quiet")
    assert first.returncode == 0, first.stderr
    assert any(_DIGIT_RUN.search(t) for t in _all_text(out)), "the sample calls say order numbers"
    # A run that names no setting keeps the folder's (issue 35): still unmasked, nothing redone.
    kept = run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet")
    assert "0 ok, 0 errors, 3 already current" in kept.stdout, kept.stdout
    second = run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--mask", "--quiet")
    assert second.returncode == 0, second.stderr
    assert "settings changed from the output folder's: mask_pii False -> True" in second.stderr
    assert "3 redone because a setting changed (mask_pii)" in second.stdout, second.stdout
    leaked = [t for t in _all_text(out) if _DIGIT_RUN.search(t)]
    assert not leaked, leaked
    third = run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet")
    assert "0 ok, 0 errors, 3 already current" in third.stdout, third.stdout


def test_another_agent_channel_redoes_the_calls_and_swaps_the_roles(tmp_path):
    from runs import byo_inputs, run_cli

    inputs, out = tmp_path / "in", tmp_path / "out"
    byo_inputs(inputs, copies=1)
    assert run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet").returncode == 0
    before = {(u["call_id"], u["start_s"], u["speaker"]) for u in ResultStore(out).read("utterances").to_pylist()}
    proc = run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--agent-channel", "right", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "3 redone because a setting changed (agent_channel)" in proc.stdout, proc.stdout
    rows = ResultStore(out).calls_by_id()
    assert all(json.loads(r["settings"])["transcript"]["agent_channel"] == "right" for r in rows.values())
    after = {(u["call_id"], u["start_s"], u["speaker"]) for u in ResultStore(out).read("utterances").to_pylist()}
    assert after != before


def test_each_calls_outcome_is_in_the_log_at_info_not_at_warning(tmp_path):
    from runs import byo_inputs, run_cli

    inputs, out = tmp_path / "in", tmp_path / "out"
    calls = byo_inputs(inputs, copies=1)
    (inputs / "broken.wav").write_bytes(b"RIFF0000WAVEnot audio")
    proc = run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet")
    assert proc.returncode == 0, proc.stderr
    for call in calls:
        assert re.search(rf"INFO \[[1-4]/4\] {call.stem}: ok, grade [A-F]", proc.stderr), proc.stderr
    assert re.search(r"WARNING \[[1-4]/4\] broken: error: AudioError: .*not a decodable audio file", proc.stderr), proc.stderr
    # and once more after the summary line, with the reason, whatever the log level
    assert re.search(r"callqa: 1 recording failed:\n  broken: AudioError: .*not a decodable", proc.stderr), proc.stderr
    quiet = run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet", "--log-level", "warning")
    assert "INFO" not in quiet.stderr and re.search(r"WARNING \[1/1\] broken: error", quiet.stderr), quiet.stderr


def test_the_direction_default_redoes_the_call(base):
    cfg, pack, rec = base
    summary = _redone(replace(cfg, direction="outbound"), pack, rec)
    assert summary.redone == 1 and "direction" in summary.redone_settings


def test_a_metadata_sidecar_sets_the_direction_and_a_bad_one_is_an_error_row(tmp_path):
    from runs import byo_inputs, run_cli

    inputs, out = tmp_path / "in", tmp_path / "out"
    calls = byo_inputs(inputs, copies=1)
    calls[0].with_name(calls[0].stem + ".meta.json").write_text('{"direction": "outbound"}')
    calls[1].with_name(calls[1].stem + ".meta.json").write_text('{"direction": "outgoing"}')
    calls[2].with_name(calls[2].stem + ".meta.json").write_text('{"agnet_id": "A1"}')
    proc = run_cli("run", str(inputs), "--out", str(out), "--model", "base", "--vad", "energy", "--quiet")
    assert proc.returncode == 0, proc.stderr
    rows = ResultStore(out).calls_by_id()
    outbound = rows[calls[0].stem]
    assert outbound["status"] == "ok" and outbound["direction"] == "outbound"
    # An inbound script read as outbound: no purpose, no good-time check.
    findings = [f for f in ResultStore(out).read("findings").to_pylist() if f["call_id"] == calls[0].stem]
    assert {"outbound_purpose", "outbound_time_check"} <= {f["rule_id"] for f in findings}
    assert "direction must be one of inbound, outbound, not 'outgoing'" in rows[calls[1].stem]["error"]
    assert "unknown key(s) agnet_id" in rows[calls[2].stem]["error"]


def test_decoder_gating_and_vad_options_all_feed_the_cache_key():
    """Each option group is its own typed object, and every field of each changes the key;
    the `asr` part is the flat union of decoder and gating (no field name in both), so keys
    made before the split are the same keys."""
    from dataclasses import fields

    from flows.speech.transcribe import GatingOptions

    decoder_names = {f.name for f in fields(DecoderOptions)}
    gating_names = {f.name for f in fields(GatingOptions)}
    assert not decoder_names & gating_names
    cfg = PipelineConfig(out_dir="unused")
    base = cfg.transcript_settings("whisper-base.pt")
    assert set(base["asr"]) == (decoder_names - {"batch_size"}) | gating_names and base["vad"] == "silero"
    changed_cfgs = [replace(cfg, decoder=DecoderOptions(no_speech_threshold=0.5)),
                    replace(cfg, gating=GatingOptions(span_pad_s=0.3)), replace(cfg, vad=VadOptions("energy"))]
    keys = {json.dumps(c.transcript_settings("whisper-base.pt"), sort_keys=True) for c in [cfg, *changed_cfgs]}
    assert len(keys) == 4
