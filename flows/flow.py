"""Prefect flows: the nightly batch and the reprocess run.

Flows orchestrate; the work is `flows.pipeline.process_recording` and
`reprocess_call`, plain functions. Each recording is one task: a transient failure is
retried, anything else ends as an error row for that recording while the rest of the
batch goes on. Runs in Prefect's local ephemeral mode when no server is configured
(PREFECT_API_URL unset), and unchanged against a server.
"""

from __future__ import annotations

import functools
import inspect

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from analyzers.model import CallResult
from flows.batch import Summary, pending, reprocessable
from flows.pipeline import (
    PipelineConfig,
    Recording,
    error_result,
    find_recordings,
    is_transient,
    process_recording,
    reprocess_call,
)
from flows.store import ResultStore, output_lock


def _retry_transient(task, task_run, state) -> bool:
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001
        return is_transient(exc)
    return False


# Inputs are recordings and configs, not values to cache on: the transcript cache
# (keyed by the audio's content) is what makes re-runs cheap.
@task(name="process-recording", retries=2, retry_delay_seconds=10,
      retry_condition_fn=_retry_transient, cache_policy=NO_CACHE,
      task_run_name="{rec.call_id}")
def process_task(rec: Recording, cfg: PipelineConfig, pack) -> CallResult:
    return process_recording(rec, cfg, pack, reraise_transient=True)


@task(name="reprocess-call", cache_policy=NO_CACHE, task_run_name="reprocess-{row[call_id]}")
def reprocess_task(row: dict, cfg: PipelineConfig, pack) -> CallResult:
    return reprocess_call(row, cfg, pack, store=ResultStore(cfg.out_dir))


def _collect(items, futures, out_dir: str) -> Summary:
    store, summary = ResultStore(out_dir), Summary()
    for item, future in zip(items, futures):
        try:
            result = future.result()
        except Exception as exc:  # noqa: BLE001 - retries exhausted: record, go on
            rec = item if isinstance(item, Recording) else Recording(item["source"], item["call_id"])
            result = error_result(rec, exc)
            store.write(result)
        summary.add(result)
    return summary


def _one_run_per_output(fn):
    """Run the flow holding its out_dir's lock (flows.store.output_lock), as the CLI does:
    a second run on the same folder fails at once with OutputBusy."""
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def locked(*args, **kwargs):
        params = signature.bind(*args, **kwargs)
        params.apply_defaults()
        out_dir, cache_dir = params.arguments["out_dir"], params.arguments.get("cache_dir")
        with output_lock(out_dir, PipelineConfig(out_dir=out_dir, cache_dir=cache_dir).transcript_dir):
            return fn(*args, **kwargs)

    return locked


@flow(name="callqa-batch", log_prints=True)
@_one_run_per_output
def qa_batch(
    inputs: list[str],
    out_dir: str,
    model: str | None = None,
    lexicon: str = "zh-CN",
    agent_channel: str = "left",
    max_workers: int = 1,
    force: bool = False,
    cache_dir: str | None = None,
    mask_pii: bool = True,
) -> dict:
    """Transcribe and analyse every new recording under `inputs` into `out_dir`."""
    from lexicons import load_pack

    pack = load_pack(lexicon)  # a broken rule pack fails the run before any audio
    cfg = PipelineConfig(out_dir=out_dir, model=model, lexicon=lexicon,
                         agent_channel=agent_channel, cache_dir=cache_dir, mask_pii=mask_pii)
    recordings = find_recordings(inputs)
    todo = pending(recordings, cfg, pack, force=force)
    with ThreadPoolTaskRunner(max_workers=max(1, max_workers)) as runner:
        futures = [runner.submit(process_task, {"rec": r, "cfg": cfg, "pack": pack}) for r in todo]
        summary = _collect(todo, futures, out_dir)
    summary.skipped = len(recordings) - len(todo)
    print(summary.line())
    return vars(summary)


@flow(name="callqa-reprocess", log_prints=True)
@_one_run_per_output
def qa_reprocess(out_dir: str, lexicon: str = "zh-CN", call_ids: list[str] | None = None,
                 max_workers: int = 2, cache_dir: str | None = None, mask_pii: bool = True) -> dict:
    """Re-run the analyzers on cached transcripts (new lexicon or thresholds), no ASR."""
    from lexicons import load_pack

    pack = load_pack(lexicon)
    cfg = PipelineConfig(out_dir=out_dir, lexicon=lexicon, cache_dir=cache_dir, mask_pii=mask_pii)
    rows = reprocessable(ResultStore(out_dir), call_ids)
    with ThreadPoolTaskRunner(max_workers=max(1, max_workers)) as runner:
        futures = [runner.submit(reprocess_task, {"row": r, "cfg": cfg, "pack": pack}) for r in rows]
        summary = _collect(rows, futures, out_dir)
    print(summary.line())
    return vars(summary)
