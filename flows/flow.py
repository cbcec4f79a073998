"""Prefect flows: the nightly batch and the reprocess run.

Flows orchestrate; the work is `flows.batch.pipeline.process_recording` and
`reprocess_call`, plain functions. Each recording is one task: a transient failure is
retried, anything else ends as an error row for that recording while the rest of the
batch goes on. Runs in Prefect's local ephemeral mode when no server is configured
(PREFECT_API_URL unset), and unchanged against a server.

Tasks run in threads of the flow's process or, through prefect-dask, on the worker
processes of a dask.distributed cluster (`runner`, `dask_address`; see make_task_runner).
Either way at most `max_workers` recordings are in flight, each task writes its own call's
files, and only the `calls` row comes back to the flow.
"""

from __future__ import annotations

import functools
import inspect
import os
import queue
from typing import Iterator, Literal, Sequence

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from analyzers.model import CallResult
from flows.batch.parallel import without_children
from flows.batch.pipeline import PipelineConfig, Recording, RunPlan, process_recording, reprocess_call
from flows.batch.results import is_transient
from flows.batch.runner import Executor, Summary, reprocess_batch, run_batch
from flows.speech.engines import default_engine
from flows.storage.store import ResultStore, output_lock

Runner = Literal["threads", "dask"]

#: Prefect's setting for how long a flow waits for its local (ephemeral) API server to
#: start. Its default, 20 s, is too short for the first start on a small machine, which
#: creates and migrates the server's database (measured: see docs/prefect-and-dask.md).
STARTUP_TIMEOUT_SETTING = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
PREFECT_DEFAULT_STARTUP_TIMEOUT_S = 20
EPHEMERAL_STARTUP_TIMEOUT_S = 180


def ensure_startup_timeout() -> int:
    """Give the ephemeral server EPHEMERAL_STARTUP_TIMEOUT_S to start, unless the user set
    the timeout (the environment variable, or a Prefect profile / prefect.toml value other
    than Prefect's default). Returns the timeout in effect."""
    import prefect.context
    from prefect.settings import get_current_settings

    current = get_current_settings().server.ephemeral.startup_timeout_seconds
    if STARTUP_TIMEOUT_SETTING in os.environ or current != PREFECT_DEFAULT_STARTUP_TIMEOUT_S:
        return current
    os.environ[STARTUP_TIMEOUT_SETTING] = str(EPHEMERAL_STARTUP_TIMEOUT_S)
    prefect.context.refresh_global_settings_context()
    return get_current_settings().server.ephemeral.startup_timeout_seconds


ensure_startup_timeout()


def _retry_transient(task, task_run, state) -> bool:
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001
        return is_transient(exc)
    return False


# Inputs are recordings and configs, not values to cache on: the transcript cache
# (keyed by the audio's content) is what makes re-runs cheap. The task writes the call's
# files itself and returns only its `calls` row: utterances never travel back to the flow.
@task(name="process-recording", retries=2, retry_delay_seconds=10,
      retry_condition_fn=_retry_transient, cache_policy=NO_CACHE,
      task_run_name="{rec.call_id}")
def process_task(rec: Recording, plan: RunPlan) -> CallResult:
    return without_children(process_recording(rec, plan, reraise_transient=True))


@task(name="reprocess-call", cache_policy=NO_CACHE, task_run_name="reprocess-{row[call_id]}")
def reprocess_task(row: dict, plan: RunPlan) -> CallResult:
    return without_children(reprocess_call(row, plan, store=ResultStore(plan.out_dir)))


def make_task_runner(runner: Runner, max_workers: int | None, dask_address: str | None) -> TaskRunner:
    """Threads in the flow's process, or prefect-dask: an existing dask.distributed
    scheduler at `dask_address`, else a LocalCluster of `max_workers` worker processes.

    Threads share one whisper model whose decoding is serialised (flows.speech.transcribe), so
    they overlap decoding, speech detection and analysis, not ASR; dask workers are
    processes, each with its own model. Dask's nanny starts workers with OMP_NUM_THREADS=1,
    so torch uses one thread per worker: run one single-threaded worker per core.
    """
    if dask_address or runner == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": max_workers or 1, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    if runner != "threads":
        raise ValueError(f"runner must be 'threads' or 'dask', not {runner!r}")
    return ThreadPoolTaskRunner(max_workers=max_workers or 1)


def _in_flight_limit(runner: TaskRunner, max_workers: int | None) -> int:
    """max_workers, else the dask cluster's worker threads (all of them busy, none queued)."""
    if max_workers:
        return max_workers
    client = getattr(runner, "client", None)
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    return 1


def _submit_bounded(runner: TaskRunner, task_, params: Sequence[dict], limit: int) -> Iterator[tuple[dict, object]]:
    """(params, future) as the futures finish, with at most `limit` submitted and not yet
    finished: a batch of 100,000 recordings holds `limit` task runs, not 100,000."""
    done: queue.SimpleQueue = queue.SimpleQueue()
    waiting = iter(params)
    in_flight = 0

    def submit_next() -> bool:
        p = next(waiting, None)
        if p is None:
            return False
        future = runner.submit(task_, p)
        future.add_done_callback(lambda f, p=p: done.put((p, f)))
        return True

    while in_flight < limit and submit_next():
        in_flight += 1
    while in_flight:
        p, future = done.get()
        in_flight -= 1
        yield p, future
        if submit_next():
            in_flight += 1


def _on_task_runner(runner: TaskRunner, task_, plan: RunPlan, max_workers: int | None, name: str) -> Executor:
    """The run loop's Executor on a Prefect task runner: `task_` over the items (passed as
    parameter `name`), at most max_workers in flight; a task that failed (retries
    exhausted, a worker lost) gives its exception in its result's place."""

    def execute(items):
        if not items:
            return
        limit = _in_flight_limit(runner, max_workers)
        for params, future in _submit_bounded(runner, task_, [{name: item, "plan": plan} for item in items], limit):
            try:
                yield params[name], future.result()
            except Exception as exc:  # noqa: BLE001 - the loop makes it the call's error row
                yield params[name], exc

    return execute


def _one_run_per_output(fn):
    """Run the flow holding its out_dir's lock (flows.storage.store.output_lock), as the CLI does:
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


@flow(name="callqa-batch")
@_one_run_per_output
def qa_batch(
    inputs: list[str],
    out_dir: str,
    model: str | None = None,
    lexicon: str = "zh-CN",
    agent_channel: str = "left",
    max_workers: int | None = None,
    force: bool = False,
    cache_dir: str | None = None,
    mask_pii: bool = True,
    runner: Runner = "threads",
    dask_address: str | None = None,
    engine: str | None = None,
    allow_truncated: bool = False,
    direction: str = "inbound",
    diarizer: str = "auto",
    mono_asr: str = "per_speaker",
) -> dict:
    """Transcribe and analyse every new recording under `inputs` into `out_dir`.

    `max_workers`: recordings in flight at once (default: 1 with threads and a local dask
    cluster, every worker thread of the cluster at `dask_address`). With dask, `inputs`,
    `out_dir`, `cache_dir` and the model must be at the same paths on every worker
    (shared storage): each worker writes the files of the calls it processed.
    """
    from lexicons import load_pack

    pack = load_pack(lexicon)  # a broken rule pack fails the run before any audio
    logger = get_run_logger()
    if engine is None:  # as `callqa run`: the faster engine wherever its model is present
        engine, why = default_engine(model)
        logger.info("ASR engine: %s (%s)", engine, why)
    cfg = PipelineConfig(out_dir=out_dir, model=model, agent_channel=agent_channel, cache_dir=cache_dir,
                         mask_pii=mask_pii, engine=engine, allow_truncated=allow_truncated, direction=direction,
                         diarizer=diarizer, mono_asr=mono_asr)
    plan = RunPlan.build(cfg, pack)  # resolved here, once: every worker uses (and records) this model
    with make_task_runner(runner, max_workers, dask_address) as task_runner:
        summary = run_batch(inputs, plan, force=force, logger=logger,
                            execute=_on_task_runner(task_runner, process_task, plan, max_workers, "rec"))
    logger.info(summary.line())
    if summary.stages_line():
        logger.info(summary.stages_line())
    return _summary_dict(summary)


@flow(name="callqa-reprocess")
@_one_run_per_output
def qa_reprocess(out_dir: str, lexicon: str = "zh-CN", call_ids: list[str] | None = None,
                 max_workers: int | None = 2, cache_dir: str | None = None, mask_pii: bool = True,
                 runner: Runner = "threads", dask_address: str | None = None) -> dict:
    """Re-run the analyzers on cached transcripts (new lexicon or thresholds), no ASR."""
    from lexicons import load_pack

    plan = RunPlan.build(PipelineConfig(out_dir=out_dir, cache_dir=cache_dir, mask_pii=mask_pii),
                         load_pack(lexicon), transcribes=False)
    logger = get_run_logger()
    with make_task_runner(runner, max_workers, dask_address) as task_runner:
        summary = reprocess_batch(plan, call_ids=call_ids, logger=logger,
                                  execute=_on_task_runner(task_runner, reprocess_task, plan, max_workers, "row"))
    logger.info(summary.line())
    return _summary_dict(summary)


def _summary_dict(summary: Summary) -> dict:
    """The flow's return value: plain data a Prefect result can hold."""
    out = vars(summary).copy()
    out["redone_settings"] = dict(summary.redone_settings)
    out["not_reprocessed"] = [list(x) for x in summary.not_reprocessed]
    return out
