"""`callqa run` and `callqa reprocess`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from flows.cli.common import (load_rule_pack, make_config, out_for_run, out_of_run, print_failed,
                              progress_bar, refresh_report, with_bar)
from flows.speech.engines import DecoderOptions, default_engine

log = logging.getLogger("callqa.cli")


def cmd_run(args) -> int:
    from flows.batch.plan import RunPlan
    from flows.batch.recordings import AUDIO_EXTENSIONS
    from flows.batch.runner import run_batch
    from flows.speech.engines import ModelLoadError, ModelNotConfigured
    from flows.speech.vad import VadOptions
    from flows.storage.store import output_lock

    for item in args.inputs:  # before the rule pack and the model: the cheapest mistake first
        if not Path(item).exists():
            print(f"callqa: no such file or folder: {item}", file=sys.stderr)
            return 2
    out = out_for_run(args.out)
    if args.metadata:  # a bad manifest concerns every call: stop before any audio
        from flows.batch.metadata import MetadataError, read_manifest

        try:
            read_manifest(args.metadata)
        except MetadataError as exc:
            print(f"callqa: --metadata {exc.reason}", file=sys.stderr)
            return 2
    pack = load_rule_pack(args.lexicon)  # fail fast, before any audio is touched
    engine, why = (args.engine, "as asked with --engine") if args.engine else default_engine(args.model)
    cfg = make_config(
        out_dir=out, model=args.model, agent_channel=args.agent_channel,
        vad=VadOptions(args.vad), decoder=DecoderOptions(beam_size=args.beam_size or None, batch_size=args.batch_size),
        cache_dir=args.cache_dir,
        mask_pii=not args.no_mask, engine=engine, compute_type=args.compute_type,
        allow_truncated=args.allow_truncated, direction=args.direction, diarizer=args.diarizer,
        mono_asr=args.mono_asr, metadata=args.metadata,
    )
    try:
        plan = RunPlan.build(cfg, pack)  # engine, model and pack resolved once for the whole run
    except ModelNotConfigured as exc:
        print(f"callqa: {exc}", file=sys.stderr)
        return 2
    with output_lock(cfg.out_dir, cfg.transcript_dir):
        # Named once the run is sure to start (a refused run prints its one error line only).
        log.info("ASR engine: %s (%s)", engine, why)
        try:
            summary = with_bar(lambda: run_batch(
                args.inputs, plan, force=args.force, workers=args.workers,
                progress=lambda xs: progress_bar(xs, args.quiet, "callqa run")))
        except ModelLoadError as exc:
            print(f"callqa: {exc}; batch stopped, recordings not yet processed stay pending",
                  file=sys.stderr)
            return 2
    print(summary.line(), flush=True)
    if summary.stages_line():
        print(summary.stages_line(), flush=True)
    if not summary.found:
        print(f"callqa: warning: no recordings found in {', '.join(args.inputs)} (looked in folders "
              f"recursively for {' '.join(sorted(AUDIO_EXTENSIONS))} files)", file=sys.stderr)
    print_failed(summary)
    refresh_report(cfg.out_dir, args.no_report)
    return 0


def cmd_reprocess(args) -> int:
    from flows.batch.plan import RunPlan
    from flows.batch.runner import reprocess_batch
    from flows.storage.store import output_lock

    out = out_of_run(args.out)
    pack = load_rule_pack(args.lexicon)
    cfg = make_config(out_dir=out, cache_dir=args.cache_dir, mask_pii=not args.no_mask)
    plan = RunPlan.build(cfg, pack, transcribes=False)
    with output_lock(cfg.out_dir, cfg.transcript_dir):
        summary = with_bar(lambda: reprocess_batch(
            plan, call_ids=args.call, workers=args.workers,
            progress=lambda xs: progress_bar(xs, args.quiet, "callqa reprocess")))
    print(summary.line(), flush=True)
    if not summary.found:
        print(f"callqa: warning: no calls to reprocess in {out}{' among ' + ', '.join(args.call) if args.call else ''} "
              "(only calls transcribed OK can be)", file=sys.stderr)
    for call_id, reason in summary.not_reprocessed:
        print(f"callqa: {call_id} not reprocessed (its rows are kept): {reason}", file=sys.stderr)
    print_failed(summary)
    refresh_report(cfg.out_dir, args.no_report)
    return 4 if summary.not_reprocessed else 0
