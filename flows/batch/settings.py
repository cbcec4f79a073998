"""Every setting that changes a call's rows, defined once.

A call's settings have two parts:

- `transcript`: what changes the transcript (model and device, engine, decoder options,
  speech detection, agent channel, transcripts supplied beside the recording). It is
  the transcript cache key (with the audio's hash), so a change transcribes again.
- `analysis`: what changes the analysis of a transcript (rule pack, masking,
  truncation policy, call metadata beside the recording). A change re-analyses the
  cached transcript; no ASR runs.

Both parts are recorded in the call's row (`settings`, and its hash `settings_key`),
and a run treats a call as current only when its row's key equals the key the run
would write: a `--no-mask` run followed by a default run masks every call again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from flows.speech.transcript import MONO_ASR, is_whisper_words  # noqa: F401 - MONO_ASR re-exported

#: Files beside a recording `<stem>.wav` that supply its words (whisper-format JSON per
#: channel, or `<stem>.json` for a mono call): their content is part of the transcript.
TRANSCRIPT_SIDECARS = (".agent.json", ".customer.json", ".mixed.json", ".json")
#: Call metadata beside a recording (direction, agent, ...): part of the analysis.
METADATA_SIDECAR = ".meta.json"


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def files_sha256(paths: list[Path], stem: str) -> str:
    """One hash over the roles (`.agent.json`: the name after the recording's `stem`) and
    bytes of `paths` that exist; "" when none does. Not the stem itself: copies of a
    recording with the same sidecars under other names share their cached transcript."""
    h, found = hashlib.sha256(), False
    for path in paths:
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            continue
        found = True
        role = path.name[len(stem):] if path.name.startswith(stem) else path.name
        h.update(role.encode("utf-8") + b"\0" + len(data).to_bytes(8, "little") + data)
    return h.hexdigest() if found else ""


def sidecars(recording: str | os.PathLike[str], suffixes: tuple[str, ...]) -> list[Path]:
    path = Path(recording)
    return [path.with_name(path.stem + suffix) for suffix in suffixes]


def supplied_transcripts(recording: str | os.PathLike[str]) -> list[Path]:
    """The transcript sidecars beside `recording` that the pipeline would read: JSON with
    whisper's `segments` (flows.speech.transcript.supplied_words). Any other `<stem>.json` (the sample
    calls' ground truth, a CRM export) is not a transcript and must not change the key."""
    found = []
    for path in sidecars(recording, TRANSCRIPT_SIDECARS):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # absent, unreadable or not JSON: the pipeline skips it too
            continue
        if is_whisper_words(data):
            found.append(path)
    return found


@dataclass(frozen=True)
class CallSettings:
    """The settings one call's rows were (or would be) made with."""

    transcript: dict
    analysis: dict

    def __post_init__(self) -> None:
        # As JSON would give them back (tuples as lists), so that a row's recorded
        # settings compare equal to the same settings made in this run.
        for part in ("transcript", "analysis"):
            object.__setattr__(self, part, json.loads(_canonical(getattr(self, part))))

    def as_json(self) -> str:
        return _canonical({"transcript": self.transcript, "analysis": self.analysis})

    @property
    def key(self) -> str:
        """A short hash of both parts: what `runner.staleness` compares."""
        return hashlib.sha256(self.as_json().encode("utf-8")).hexdigest()[:32]

    @classmethod
    def from_json(cls, text: str | None) -> "CallSettings | None":
        """The settings recorded in a row; None for rows written before they were."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(dict(data["transcript"]), dict(data["analysis"]))
        except (ValueError, KeyError, TypeError):
            return None


def transcript_settings(*, model: str, transcriber: int, asr: dict, vad: str, agent_channel: str,
                        engine: str | None, recording: str | os.PathLike[str] | None, diarizer: str = "auto",
                        mono_asr: str = "per_speaker") -> dict:
    """The settings that change a transcript: the cache key's content besides the audio."""
    settings = {
        "model": model,  # names the device too where it is not the CPU (flows.speech.transcribe.model_version)
        "transcriber": transcriber,
        "asr": asr,
        "vad": vad,
        "agent_channel": agent_channel,
        # Who said what in a mono call (flows.speech.diarize_embed.diarize_call).
        "diarizer": diarizer,
        "mono_asr": mono_asr,
    }
    if engine:  # flows.speech.engines.engine_key: None for openai-whisper, whose keys predate engines
        settings["engine"] = engine
    supplied = files_sha256(supplied_transcripts(recording), Path(recording).stem) if recording else ""
    if supplied:  # absent when nothing is supplied: existing cache keys stay valid
        settings["supplied_words"] = supplied
    return settings


def analysis_settings(*, lexicon_version: str, mask_pii: bool, allow_truncated: bool, direction: str,
                      recording: str | os.PathLike[str] | None) -> dict:
    """The settings that change the analysis of a transcript and the rows written."""
    return {
        "lexicon": lexicon_version,
        "mask_pii": bool(mask_pii),
        "allow_truncated": bool(allow_truncated),
        "direction": direction,  # the run's default; a sidecar's own is in `metadata`
        "metadata": files_sha256(sidecars(recording, (METADATA_SIDECAR,)), Path(recording).stem) if recording else "",
    }


def changed(old: CallSettings | None, new: CallSettings) -> list[str]:
    """Names of the settings that differ (e.g. ["agent_channel", "mask_pii"]); for a row
    written before settings were recorded, ["unrecorded"]."""
    if old is None:
        return ["unrecorded"]
    names = []
    for part in ("transcript", "analysis"):
        a, b = getattr(old, part), getattr(new, part)
        names += [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return names
