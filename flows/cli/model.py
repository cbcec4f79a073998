"""`callqa model list|add|convert`: which whisper model `run` uses, and the model folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flows.speech.engines import default_engine
from flows.speech.engines.openai import MODEL_DIR_ENV, MODEL_ENV


def cmd_model(args) -> int:
    from flows.speech.engines import ModelNotConfigured
    from flows.speech.engines import faster as fw_engine
    from flows.speech.engines.openai import find_model, folder_checkpoints, model_dir

    folder = model_dir()
    if args.model_command == "convert":
        return _model_convert(args)
    if args.model_command == "add":
        return _model_add(Path(args.path), folder, args.copy)
    try:
        ref, where = find_model(None)
        print(f"whisper model (--engine openai): {ref}\n  found in: {where}")
        if ref.endswith(".pt") and not Path(ref).is_file():
            print(f"  but no such file: {ref}")
    except ModelNotConfigured as exc:
        ref = None
        print(f"whisper model (--engine openai): none\n  {exc}")
    print(f"looked in, in this order: --model, ${MODEL_ENV} ({os.environ.get(MODEL_ENV) or 'not set'}), "
          f"the model folder {folder} (${MODEL_DIR_ENV} {'set' if os.environ.get(MODEL_DIR_ENV) else 'not set'})")
    found = folder_checkpoints(folder)
    print(f"model folder {folder}:" + ("" if found else " no checkpoints" if folder.is_dir() else " not there"))
    for p in found:
        target = f" -> {os.readlink(p)}" if p.is_symlink() else ""
        print(f"  {p.name}{target} ({p.stat().st_size / 1e6:.0f} MB)")
    try:
        fw = fw_engine.resolve_model_ref(None)
        print(f"faster-whisper model (--engine faster): {fw}")
    except ModelNotConfigured:
        print(f"faster-whisper model (--engine faster): none (`callqa model convert CHECKPOINT` writes "
              f"{fw_engine.default_model_dir()}; or ${fw_engine.MODEL_ENV}, or `python tools/fetch_fw_model.py` "
              f"into {fw_engine.DEFAULT_MODEL_DIR})")
    engine, why = default_engine()
    print(f"default engine (`run` without --engine): {engine} ({why})")
    return 0 if ref else 2


def _model_convert(args) -> int:
    from flows.speech.engines import faster
    from flows.speech.engines.convert import ConvertError, convert

    dest = Path(args.dest) if args.dest else faster.default_model_dir()
    try:
        done = convert(args.checkpoint, dest, quantization=args.quantization, force=args.force, heads_of=args.heads_of)
    except ConvertError as exc:
        print(f"callqa: {exc}", file=sys.stderr)
        return 2
    if done.reused:
        print(f"{done.dest} holds {args.checkpoint} converted already (--force converts again)")
        return 0
    print(f"converted {args.checkpoint} -> {done.dest} ({'multilingual' if done.multilingual else 'English-only'}, "
          f"{done.layers[0]}+{done.layers[1]} layers, {args.quantization}); {done.tensors_compared} tensors compared "
          f"with the checkpoint: max abs difference {done.max_abs_diff:g}; alignment heads: {done.alignment_heads}")
    if args.dest:
        print(f"use it: callqa run ... --model {done.dest} (or set ${faster.MODEL_ENV})")
    return 0


def _model_add(src: Path, folder: Path, copy: bool) -> int:
    import shutil

    if not src.is_file():
        print(f"callqa: no such checkpoint: {src}", file=sys.stderr)
        return 2
    if src.suffix != ".pt":
        print(f"callqa: not an openai-whisper checkpoint (*.pt): {src}", file=sys.stderr)
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / src.name
    tmp = folder / f".{src.name}.tmp"
    tmp.unlink(missing_ok=True)
    if copy:
        shutil.copyfile(src, tmp)
    else:
        tmp.symlink_to(src.resolve())
    os.replace(tmp, dst)
    print(f"{'copied' if copy else 'linked'}: {dst} {'from' if copy else '->'} {src.resolve()}")
    return 0
