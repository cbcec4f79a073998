"""One sample call end to end: synthesised, placed, sent down the telephone channel and
encoded, with its CallTruth JSON (read back and compared) and its metadata sidecar."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from analyzers.model import AGENT, CUSTOMER, CallTruth, from_dict, to_dict

from .calls_first import standard_findings
from .script import Call, U
from .synth import RATE
from .telephone import CODECS, encode, ffprobe, render_audio, span_rms_db
from .timeline import calibrate, check_timeline, place, speaker_rate


def build(call: Call, out_dir: Path) -> dict:
    """Write `<call_id>.<ext>`, `<call_id>.json` (and `<call_id>.meta.json`) into out_dir."""
    speeds, audios = {}, {}
    targets = {AGENT: call.agent_rate, CUSTOMER: call.customer_rate}
    for spk in (AGENT, CUSTOMER):
        speeds[spk], audios[spk] = calibrate(call, spk, targets[spk])
    utts, holds, pauses, placed, total = place(call, audios)
    check_timeline(call, utts, holds, pauses)
    audio = render_audio(call, placed, total)
    ext, _, codec = CODECS[call.fmt]
    path = out_dir / f"{call.call_id}.{ext}"
    encode(audio, call.fmt, path)
    probe = ffprobe(path)
    assert probe["codec"] == codec and probe["rate"] == RATE and probe["channels"] == audio.shape[1], probe

    if any(isinstance(item, U) and item.gain_db for item in call.script):
        # A call about loudness carries each utterance's level (RMS dBFS of its span on its
        # own channel, noise included) in its truth, so the analyzers see it without audio.
        utts = [replace(u, level_db=span_rms_db(audio, u, call.layout)) for u in utts]
    timeline = dict(utterances=utts, holds=holds, pauses=pauses)
    truth = CallTruth(
        call_id=call.call_id,
        audio=path.name,
        description=call.description,
        duration_s=round(total / RATE, 4),
        sample_rate_hz=RATE,
        channels=audio.shape[1],
        codec=codec,
        layout=call.layout,
        agent_channel="left" if call.layout == "stereo" else "",
        utterances=tuple(utts),
        holds=tuple(holds),
        pauses=tuple(pauses),
        expected_findings=tuple(call.findings(timeline)) + tuple(standard_findings(call.call_id, timeline)),
        agent_chars_per_min=round(speaker_rate(utts, AGENT), 1),
        customer_chars_per_min=round(speaker_rate(utts, CUSTOMER), 1),
    )
    jpath = write_truth(truth, out_dir / f"{call.call_id}.json")
    if call.meta is not None:
        # Metadata sidecar next to the recording (`<stem>.meta.json`), e.g. the call's
        # direction; not part of the truth.
        write_json(call.meta, out_dir / f"{call.call_id}.meta.json")
    return dict(truth=truth, speeds=speeds, size=path.stat().st_size + jpath.stat().st_size,
                audio_size=path.stat().st_size, probe=probe)


def write_json(data, path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.write("\n")


def write_truth(truth: CallTruth, path: Path) -> Path:
    """The truth as JSON, read back to check it round-trips to the same CallTruth."""
    write_json(to_dict(truth), path)
    with open(path, encoding="utf-8") as fh:
        assert from_dict(CallTruth, json.load(fh)) == truth
    return path
