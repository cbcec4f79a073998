"""A run's settings, one object for every route (CLI, Prefect flows), remembered by the folder.

`RunSettings` holds what a user may choose for a run: the rule pack, the metadata source,
the default direction, the engine and decoder options, speech detection, masking. The
output folder keeps the settings it was last run with in OUT/run-settings.json; a run
that names no setting takes the folder's (then the defaults), and one that names a
setting other than the folder's gets it, with the change named before anything is redone
(`RunSettings.resolve`). So a nightly flow without options never reverts what a user
chose on the command line, and the reverse.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from flows.batch.plan import PipelineConfig
from flows.speech.engines import DecoderOptions
from flows.speech.engines.faster import DEFAULT_COMPUTE_TYPE
from flows.speech.vad import VadOptions
from flows.storage.fsio import atomic_write

SETTINGS_FILE = "run-settings.json"
SETTINGS_VERSION = 1


class SettingsError(ValueError):
    """The folder's settings file cannot be read; nothing is run rather than guessed."""


@dataclass(frozen=True)
class RunSettings:
    """What a user chooses for a run (each None-able option of the CLI and the flows)."""

    lexicon: str = "zh-CN"
    metadata: str | None = None
    direction: str = "inbound"
    #: None: the faster engine where its model is present, else openai (recorded as chosen).
    engine: str | None = None
    model: str | None = None
    compute_type: str = DEFAULT_COMPUTE_TYPE
    #: 0: greedy decoding.
    beam_size: int = DecoderOptions.beam_size
    batch_size: int | None = None
    vad: str = "silero"
    diarizer: str = "auto"
    mono_asr: str = "per_speaker"
    agent_channel: str = "left"
    mask_pii: bool = True
    allow_truncated: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def resolve(cls, out_dir: str | os.PathLike[str], **given) -> tuple["RunSettings", list[tuple[str, object, object]]]:
        """The settings of a run into `out_dir`: each option given (not None) as given,
        else the folder's, else the default; and (name, folder's value, new value) for
        each given option that differs from the folder's."""
        unknown = set(given) - set(cls.names())
        if unknown:
            raise TypeError(f"unknown run settings: {', '.join(sorted(unknown))}")
        given = {k: _absolute(k, v) for k, v in given.items() if v is not None}
        saved = read_settings(out_dir)
        changes = [(k, saved[k], v) for k, v in given.items() if k in saved and saved[k] != v]
        return cls(**{**saved, **given}), changes

    def config(self, out_dir: str, cache_dir: str | None = None) -> PipelineConfig:
        """The PipelineConfig these settings make (ValueError for a bad value)."""
        return PipelineConfig(
            out_dir=out_dir, model=self.model, agent_channel=self.agent_channel, vad=VadOptions(self.vad),
            decoder=DecoderOptions(beam_size=self.beam_size or None, batch_size=self.batch_size),
            cache_dir=cache_dir, mask_pii=self.mask_pii, engine=self.engine or "openai",
            compute_type=self.compute_type, allow_truncated=self.allow_truncated, direction=self.direction,
            diarizer=self.diarizer, mono_asr=self.mono_asr, metadata=self.metadata)

    def with_engine(self, engine: str) -> "RunSettings":
        return replace(self, engine=engine)

    def save(self, out_dir: str | os.PathLike[str]) -> None:
        """Remember these as the folder's settings (written whole or not at all)."""
        from flows.storage.store import DIR_MODE, FILE_MODE

        Path(out_dir).mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        with atomic_write(Path(out_dir) / SETTINGS_FILE, FILE_MODE, text=True) as f:
            json.dump({"version": SETTINGS_VERSION, "settings": asdict(self)}, f, ensure_ascii=False, indent=1,
                      sort_keys=True)


def read_settings(out_dir: str | os.PathLike[str]) -> dict:
    """The folder's remembered settings ({} for a new folder or one made before they were)."""
    path = Path(out_dir) / SETTINGS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        saved = data["settings"]
    except (FileNotFoundError, NotADirectoryError):  # a new folder (one that cannot be, the lock reports)
        return {}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SettingsError(f"{path}: cannot read the folder's run settings ({type(exc).__name__}: {exc}); "
                            "fix or delete it (a run then uses the settings it is given)") from None
    if not isinstance(saved, dict):
        raise SettingsError(f"{path}: `settings` is not an object")
    return {k: v for k, v in saved.items() if k in RunSettings.names()}


def _absolute(name: str, value):
    """A metadata file, or a rule pack given as a folder, by its absolute path: the same
    file whichever folder a later run starts in."""
    if name == "metadata" or (name == "lexicon" and Path(value).is_dir()):
        return os.path.abspath(value)
    return value


def describe_changes(changes: list[tuple[str, object, object]]) -> str:
    """"lexicon zh-CN -> /rules/strict, mask_pii True -> False"."""
    return ", ".join(f"{name} {old} -> {new}" for name, old, new in changes)


@dataclass(frozen=True)
class PlannedRun:
    """A run ready to start: its settings (as the folder will remember them), the changes
    from the folder's, why the engine was chosen, and the plan every stage receives."""

    settings: RunSettings
    changes: list
    engine_why: str
    plan: object  # RunPlan

    def start(self, logger) -> None:
        """Name the settings that changed, then remember the run's settings in the folder;
        call holding the folder's lock, before any call is redone."""
        if self.changes:
            logger.warning("settings changed from the output folder's: %s (calls made with the old ones are redone)",
                           describe_changes(self.changes))
        self.settings.save(self.plan.out_dir)


def plan_run(out_dir: str, cache_dir: str | None = None, *, transcribes: bool = True, **given) -> PlannedRun:
    """The run into `out_dir` with the options `given` (None: not named), as every route
    builds it: the folder's settings merged in, the metadata manifest and the rule pack
    read, the engine chosen, the model resolved. Raises SettingsError, MetadataError,
    PackError / FileNotFoundError (rule pack), ValueError (a bad value) or
    ModelNotConfigured before any audio is touched."""
    from flows.batch.metadata import read_manifest
    from flows.batch.plan import RunPlan
    from flows.speech.engines import default_engine
    from lexicons import load_pack, resolve

    settings, changes = RunSettings.resolve(out_dir, **given)
    if settings.metadata:
        read_manifest(settings.metadata)  # a bad manifest concerns every call: stop before any audio
    pack = load_pack(settings.lexicon)
    why = ""
    if transcribes:
        if given.get("engine") is None and (settings.engine is None or given.get("model") is not None):
            engine, why = default_engine(settings.model)  # none named, or the one that runs the model named
            if settings.engine not in (None, engine):
                changes.append(("engine", settings.engine, engine))
            settings = settings.with_engine(engine)
        else:
            why = "as asked" if given.get("engine") else "the output folder's"
    cfg = settings.config(out_dir, cache_dir)
    plan = RunPlan.build(cfg, pack, transcribes=transcribes, examples_dir=resolve(settings.lexicon) / "examples")
    return PlannedRun(settings, changes, why, plan)
