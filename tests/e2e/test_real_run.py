"""Single-voice real recordings through the whole pipeline (issue 18): `callqa run` over
../shared/audio/real with the default engine must read each clip as one voice and as
well as one whisper pass over the whole clip (pooled CER within 1 point)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzers.cer import pooled_cer
from conftest import REAL_CLIPS, need_file, need_tool, real_references
from flows.storage.store import ResultStore

pytestmark = pytest.mark.e2e

#: The issue's bound: pooled CER through `callqa run` at most this far above whole clips.
MARGIN = 0.01


def clip_rows(out, real) -> list[dict]:
    """Per real clip with a reference: its path, reference, the run's text (every utterance
    in time order) and how many speakers it was given (as tools/eval_real_run.py counts)."""
    store = ResultStore(out)
    by_source = {Path(c["source"]).resolve(): c for c in store.read("calls").to_pylist()}
    utts = store.read("utterances").to_pylist()
    rows = []
    for path, ref in real_references(real):
        call = by_source.get(path.resolve())
        assert call is not None and call["status"] == "ok", f"{path.name}: not processed ({call and call['error']})"
        own = sorted((u for u in utts if u["call_id"] == call["call_id"]), key=lambda u: (u["start_s"], u["end_s"]))
        rows.append({"path": path, "ref": ref, "hyp": "".join(u["text"] for u in own),
                     "speakers": len({u["speaker"] for u in own})})
    return rows


def test_real_clips_through_run_read_as_well_as_whole_clips(tmp_path, fw_model_path):
    from flows.cli import main
    from flows.speech.audio import load_call
    from flows.speech.transcribe import join_words, load_model, transcribe_speech

    need_tool("ffmpeg")
    need_file(REAL_CLIPS / "REFERENCES.tsv", "the real clips of ../shared/audio/real")
    out = tmp_path / "out"
    assert main(["run", str(REAL_CLIPS), "--out", str(out), "--no-mask", "--no-report", "--quiet",
                 "--engine", "faster", "--model", fw_model_path]) == 0
    rows = clip_rows(out, REAL_CLIPS)
    assert rows and all(r["speakers"] == 1 for r in rows), [(r["path"].name, r["speakers"]) for r in rows]

    model = load_model(fw_model_path, "faster")
    whole = []
    for r in rows:
        audio = load_call(r["path"])
        words = transcribe_speech(model, audio.channels["mixed"], [(0.0, audio.duration_s)])
        whole.append((join_words(words), r["ref"]))
    run_cer, whole_cer = pooled_cer((r["hyp"], r["ref"]) for r in rows), pooled_cer(whole)
    assert run_cer <= whole_cer + MARGIN, (run_cer, whole_cer, [(r["path"].name, r["hyp"]) for r in rows])
