#!/usr/bin/env python3
"""Dump what the pipeline computes apart from whisper's decoding, to compare two checkouts.

Speech spans, diarization, whisper's gating windows, one-voice windows and widened spans of
the sample calls and six real clips; the rows (all four tables, `processed_at` left out) of
every cached transcript in CACHE analysed both ways (inbound, outbound). A refactoring that
changes no result gives byte-identical dumps:

    PYTHONPATH=OLD python tools/dump_pipeline_state.py /tmp/old.json [CACHE]
    PYTHONPATH=NEW python tools/dump_pipeline_state.py /tmp/new.json [CACHE]
    cmp /tmp/old.json /tmp/new.json

The pre-subpackage module paths are tried too, so a checkout from before issue 19 compares.
"""
import json, sys, glob, os
from pathlib import Path
try:
    from flows.speech.audio import load_call
    from flows.speech.vad import call_speech_spans, widen_speech_edges
    from flows.speech.diarize_embed import diarize_call
    from flows.speech.transcribe import _merge_spans
    try:
        from flows.speech.transcribe import GatingOptions as AsrOptions  # after issue 19 item 2
    except ImportError:
        from flows.speech.transcribe import AsrOptions
    from flows.batch.pipeline import one_voice_windows, refine, call_result
    from flows.storage.schema import rows
except ImportError:
    from flows.audio import load_call
    from flows.vad import call_speech_spans, widen_speech_edges
    from flows.diarize_embed import diarize_call
    from flows.transcribe import _merge_spans, AsrOptions
    from flows.pipeline import one_voice_windows, refine, call_result
    from flows.schema import rows
from analyzers.model import from_dict, Transcript
from analyzers.analyze import analyze
from lexicons import load_pack
import dataclasses

ROOT = Path(__file__).resolve().parent.parent
out = {}
opts = AsrOptions()
for wav in sorted(glob.glob(str(ROOT / "sample_audio") + "/*.wav") + glob.glob(str(ROOT / "sample_audio") + "/*.mp3")) + sorted(glob.glob(str(ROOT.parent / "shared" / "audio" / "real" / "*.wav")))[:6]:
    audio = load_call(wav)
    spans = call_speech_spans(audio)
    d = {"spans": [dataclasses.astuple(s) for s in spans]}
    if audio.layout == "mono":
        dia = diarize_call(audio.channels["mixed"], audio.sample_rate_hz, spans)
        d["dia"] = [dataclasses.astuple(s) for s in dia.spans] + [dia.confidence, dia.uncertain, dia.speakers]
        d["one_voice"] = one_voice_windows(dia.spans, audio.duration_s)
        spans = dia.spans
    for sp in sorted({s.speaker for s in spans}):
        d["gate_" + sp] = _merge_spans([(s.start_s, s.end_s) for s in spans if s.speaker == sp], audio.duration_s, opts)
    d["widened"] = [dataclasses.astuple(s) for s in widen_speech_edges(spans, audio)]
    out[os.path.basename(wav)] = d
pack = load_pack()
for f in sorted(glob.glob(os.path.join(sys.argv[2] if len(sys.argv) > 2 else "out/cache/transcripts", "*.json"))):
    t = refine(from_dict(Transcript, json.load(open(f))))
    for direction in ("inbound", "outbound"):
        a = analyze(t, pack, direction)
        r = rows(call_result(t, a, source="x", audio_sha256="y", key="k", direction=direction))
        for v in r.values():
            for row in v:
                row.pop("processed_at", None)
        out[os.path.basename(f) + direction] = r
json.dump(out, open(sys.argv[1], "w"), default=str, sort_keys=True, ensure_ascii=False)
print(len(out))
