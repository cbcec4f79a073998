"""`callqa run` and `callqa reprocess`: the run's settings (flows.batch.run_settings), then the
one run loop (flows.batch.runner), then the exit code a scheduler reads."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from flows.cli.common import Misuse, out_for_run, out_of_run, print_failed, progress_bar, refresh_report, with_bar

log = logging.getLogger("callqa.cli")

#: Exit code of a run in which every recording processed failed, or more than --max-error-share.
BATCH_FAILED = 5


def _planned(out: str, cache_dir: str | None, *, transcribes: bool = True, **given):
    """plan_run, its errors as the CLI reports them (misuse: exit 2)."""
    from flows.batch.metadata import MetadataError
    from flows.batch.run_settings import SettingsError, plan_run
    from flows.speech.engines import ModelNotConfigured
    from lexicons import PackError

    try:
        return plan_run(out, cache_dir, transcribes=transcribes, **given)
    except MetadataError as exc:
        raise Misuse(f"--metadata {exc.reason}") from exc
    except (PackError, FileNotFoundError) as exc:
        raise Misuse(f"lexicon error: {exc}") from exc
    except (SettingsError, ModelNotConfigured, ValueError) as exc:
        raise Misuse(str(exc)) from exc


def cmd_run(args) -> int:
    from flows.batch.recordings import AUDIO_EXTENSIONS
    from flows.batch.runner import batch_failed, run_batch
    from flows.speech.engines import ModelLoadError
    from flows.storage.store import output_lock

    for item in args.inputs:  # before the rule pack and the model: the cheapest mistake first
        if not Path(item).exists():
            print(f"callqa: no such file or folder: {item}", file=sys.stderr)
            return 2
    out = out_for_run(args.out)
    run = _planned(out, args.cache_dir, lexicon=args.lexicon, metadata=args.metadata, direction=args.direction,
                   engine=args.engine, model=args.model, compute_type=args.compute_type, beam_size=args.beam_size,
                   batch_size=args.batch_size, vad=args.vad, diarizer=args.diarizer, mono_asr=args.mono_asr,
                   agent_channel=args.agent_channel, mask_pii=args.mask, allow_truncated=args.allow_truncated)
    plan = run.plan
    with output_lock(plan.out_dir, plan.transcript_dir):
        # Named once the run is sure to start (a refused run prints its one error line only).
        log.info("ASR engine: %s (%s)", run.settings.engine, run.engine_why)
        run.start(log)
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
    refresh_report(plan.out_dir, args.no_report)
    failed = batch_failed(summary, args.max_error_share)
    if failed:
        print(f"callqa: the batch failed: {failed}", file=sys.stderr)
        return BATCH_FAILED
    return 0


def cmd_reprocess(args) -> int:
    from flows.batch.runner import reprocess_batch
    from flows.storage.store import output_lock

    out = out_of_run(args.out)
    run = _planned(out, args.cache_dir, transcribes=False, lexicon=args.lexicon, mask_pii=args.mask)
    plan = run.plan
    with output_lock(plan.out_dir, plan.transcript_dir):
        run.start(log)
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
    refresh_report(plan.out_dir, args.no_report)
    return 4 if summary.not_reprocessed else 0
