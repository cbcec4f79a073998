"""Prefect flows: the nightly batch and the reprocess run.

Flows orchestrate; the work is `flows.batch.pipeline.process_recording` and
`reprocess_call`, plain functions. A task runs a chunk of recordings (`chunk_size`): a
call that fails transiently is retried within it, anything else ends as an error row for
that recording while the rest of the batch goes on. Runs in Prefect's local ephemeral mode when no server is configured
(PREFECT_API_URL unset), and unchanged against a server.

Tasks run in threads of the flow's process or, through prefect-dask, on the worker
processes of a dask.distributed cluster (`runner`, `dask_address`; see make_task_runner).
Either way at most `max_workers` recordings are in flight, each task writes its own call's
files, and only the `calls` row comes back to the flow.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import pickle
import queue
import time
import uuid
from contextlib import contextmanager
from typing import Iterator, Literal, Sequence

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from analyzers.model import CallResult
from flows.batch.parallel import without_children
from flows.batch.pipeline import PipelineConfig, Recording, RunPlan, process_recording, reprocess_call
from flows.batch.results import is_transient
from flows.batch.runner import Executor, Summary, batch_failed, reprocess_batch, run_batch
from flows.speech.engines import ModelLoadError
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


#: Prefect's server telemetry: on by default, its heartbeat writes to the ephemeral server's
#: SQLite while the first run's writes hold it and logs a 70-line "database is locked"
#: traceback (issue 35 item 5). Off unless the user set it (environment or Prefect profile).
ANALYTICS_SETTING = "PREFECT_SERVER_ANALYTICS_ENABLED"


def ensure_no_telemetry() -> bool:
    """Turn Prefect's telemetry off unless the user set it; returns whether it is on."""
    import prefect.context
    from prefect.settings import get_current_settings, load_current_profile

    try:
        in_profile = any(s.name == ANALYTICS_SETTING for s in load_current_profile().settings)
    except Exception:  # noqa: BLE001 - an unreadable profile: Prefect itself reports it
        in_profile = False
    if ANALYTICS_SETTING in os.environ or in_profile:
        return get_current_settings().server.analytics_enabled
    os.environ[ANALYTICS_SETTING] = "false"
    prefect.context.refresh_global_settings_context()
    return get_current_settings().server.analytics_enabled


ensure_startup_timeout()
ensure_no_telemetry()


# Inputs are recordings and configs, not values to cache on: the transcript cache
# (keyed by the audio's content) is what makes re-runs cheap. A task writes its calls' files
# itself and returns only their `calls` rows: utterances never travel back to the flow.
# One task runs a chunk of calls: a task's Prefect task run and its copy of the RunPlan
# (13 MiB pickled with the intent bank) cost more than a call (docs/night-at-scale.md).
TASK_RETRIES, TASK_RETRY_DELAY_S = 2, 10


def _retrying(fn, item, retries: int = TASK_RETRIES, delay_s: float = TASK_RETRY_DELAY_S):
    """fn(item), tried again `retries` times `delay_s` apart while it fails transiently; the
    exception in the result's place when it fails for good. A ModelLoadError stops the chunk
    (every call would fail alike: the run loop stops the run on it)."""
    for attempt in range(retries + 1):
        try:
            return fn(item)
        except ModelLoadError:
            raise
        except Exception as exc:  # noqa: BLE001 - the run loop makes it the call's error row
            if not is_transient(exc) or attempt == retries:
                return exc
            time.sleep(delay_s)


#: In a worker process: the sealed values it has unpickled, by key (the run's plan, once).
_UNSEALED: dict[str, object] = {}
UNSEALED_KEPT = 2


class Sealed:
    """A task parameter Prefect passes as it is, unpickled once per process. Prefect walks
    every parameter looking for futures, into dataclasses (not into this): over the RunPlan
    (rule pack, intent bank) that walk took 52-60 % of the flow's and the workers' CPU, once
    per task and side (py-spy, N=60; Prefect's own `opaque` is a namedtuple, which dask
    unpacks into a plain tuple). The value is pickled once, and a worker that has its key
    reuses the object it unpickled before: per-object caches (the intent stack, the banned
    matchers) are built once a run, not once a task."""

    __slots__ = ("value", "key", "_payload")

    def __init__(self, value, key: str | None = None) -> None:
        self.value, self.key, self._payload = value, key or uuid.uuid4().hex, None

    def __reduce__(self):
        if self._payload is None:
            import cloudpickle

            self._payload = cloudpickle.dumps(self.value)
        return _unseal, (self.key, self._payload)


def _unseal(key: str, payload: bytes) -> Sealed:
    value = _UNSEALED.get(key)
    if value is None:
        value = pickle.loads(payload)
        while len(_UNSEALED) >= UNSEALED_KEPT:  # a long-lived worker of several runs keeps the latest
            _UNSEALED.pop(next(iter(_UNSEALED)))
        _UNSEALED[key] = value
    return Sealed(value, key)


def _process_one(rec: Recording, plan: RunPlan) -> CallResult:
    return without_children(process_recording(rec, plan, reraise_transient=True))


def _reprocess_one(row: dict, plan: RunPlan) -> CallResult:
    return without_children(reprocess_call(row, plan, store=ResultStore(plan.out_dir)))


def _chunk_name(first) -> str:
    """A chunk's task run name: its first call's id, and how many more it holds."""
    from prefect.runtime import task_run

    items = task_run.parameters["items"]
    return first(items[0]) + (f" (+{len(items) - 1})" if len(items) > 1 else "")


@task(name="process-recordings", cache_policy=NO_CACHE,
      task_run_name=functools.partial(_chunk_name, lambda rec: rec.call_id))
def process_task(items: list[Recording], plan: Sealed) -> list:
    """A chunk of recordings, one after another: each its `calls` row or its exception."""
    return [_retrying(functools.partial(_process_one, plan=plan.value), rec) for rec in items]


@task(name="reprocess-calls", cache_policy=NO_CACHE,
      task_run_name=functools.partial(_chunk_name, lambda row: "reprocess-" + row["call_id"]))
def reprocess_task(items: list[dict], plan: Sealed) -> list:
    """A chunk of calls re-analysed: each its `calls` row or its exception (not retried)."""
    return [_retrying(functools.partial(_reprocess_one, plan=plan.value), row, retries=0) for row in items]


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

        bound_dask_message_logs()
        # dask logs a closed comm at shutdown at INFO with its traceback ("Batched Comm Closed"):
        # benign, but a traceback in a good night's log; its warnings and errors still show.
        logging.getLogger("distributed.batched").setLevel(logging.WARNING)
        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": max_workers or 1, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    if runner != "threads":
        raise ValueError(f"runner must be 'threads' or 'dask', not {runner!r}")
    return ThreadPoolTaskRunner(max_workers=max_workers or 1)


@contextmanager
def started_task_runner(runner: Runner, max_workers: int | None, dask_address: str | None) -> Iterator[TaskRunner]:
    """make_task_runner, started. A local dask cluster's workers report to the flow's own
    API server: in ephemeral mode (no PREFECT_API_URL) each worker would start a temporary
    server of its own on the same SQLite database (a minute each on a small machine, and
    "database is locked" tracebacks). Workers of a cluster at `dask_address` are elsewhere:
    they need PREFECT_API_URL (docs/prefect-and-dask.md)."""
    from prefect.context import FlowRunContext
    from prefect.settings import PREFECT_API_URL, temporary_settings

    ctx = FlowRunContext.get()
    url = str(ctx.client.api_url) if ctx is not None and ctx.client is not None else None
    local_dask = runner == "dask" and not dask_address
    updates = {PREFECT_API_URL: url.rstrip("/")} if local_dask and url and not PREFECT_API_URL.value() else {}
    with temporary_settings(updates=updates), make_task_runner(runner, max_workers, dask_address) as started:
        yield started


#: dask's `distributed.admin.low-level-log-length` (default 1000): each comm's log of its
#: last messages, each holding a task's whole spec (Prefect's context and the RunPlan).
DASK_LOG_SETTING, DASK_LOG_DEFAULT, DASK_LOG_KEPT = "distributed.admin.low-level-log-length", 1000, 10


def bound_dask_message_logs() -> int:
    """Keep DASK_LOG_KEPT messages in dask's developer logs, unless the user set the length:
    at dask's 1000 the flow process (client, and a LocalCluster's scheduler) grew ~0.19 MiB
    a call until each log was full (docs/night-at-scale.md). Returns the length in effect."""
    import dask

    if dask.config.get(DASK_LOG_SETTING) == DASK_LOG_DEFAULT:
        dask.config.set({DASK_LOG_SETTING: DASK_LOG_KEPT})
    return dask.config.get(DASK_LOG_SETTING)


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


#: A chunk's calls at most (default chunk size): enough to spread a task's cost over many
#: calls, few enough that each worker gets several chunks of a night (balance, retries).
MAX_CHUNK, CHUNKS_PER_WORKER = 20, 4


def chunk_size_for(calls: int, workers: int, chunk_size: int | None = None) -> int:
    """Calls per task: `chunk_size` when given, else N / (CHUNKS_PER_WORKER x workers),
    between 1 and MAX_CHUNK (a few calls: a task each, so every worker gets some)."""
    if chunk_size is not None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be 1 or more, not {chunk_size}")
        return chunk_size
    return max(1, min(MAX_CHUNK, calls // (CHUNKS_PER_WORKER * max(1, workers))))


def _on_task_runner(runner: TaskRunner, task_, plan: RunPlan, max_workers: int | None,
                    chunk_size: int | None = None) -> Executor:
    """The run loop's Executor on a Prefect task runner: `task_` over chunks of the items
    (chunk_size_for), at most max_workers chunks in flight; a chunk that failed (a worker
    lost, a model that cannot load) gives its exception in each of its items' place."""

    def execute(items):
        if not items:
            return
        limit = _in_flight_limit(runner, max_workers)
        size = chunk_size_for(len(items), limit, chunk_size)
        chunks = [items[i:i + size] for i in range(0, len(items), size)]
        logger = get_run_logger()
        logger.info("%d call(s) in %d task(s) of up to %d, %d at a time", len(items), len(chunks), size, limit)
        sealed = Sealed(plan)  # one for the run: pickled once, unpickled once per worker
        params = [{"items": chunk, "plan": sealed} for chunk in chunks]
        for p, future in _submit_bounded(runner, task_, params, limit):
            try:
                results = future.result()
            except Exception as exc:  # noqa: BLE001 - the loop makes it each call's error row
                results = [exc] * len(p["items"])
            yield from zip(p["items"], results)

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


class BatchFailed(RuntimeError):
    """Every recording processed failed, or more than max_error_share did: the flow run
    fails (as `callqa run` exits 5), after writing every row; `summary` counts what it did."""

    def __init__(self, reason: str, summary: dict) -> None:
        super().__init__(f"the batch failed: {reason}")
        self.summary = summary


@flow(name="callqa-batch")
@_one_run_per_output
def qa_batch(
    inputs: list[str],
    out_dir: str,
    model: str | None = None,
    lexicon: str | None = None,
    agent_channel: str | None = None,
    max_workers: int | None = None,
    force: bool = False,
    cache_dir: str | None = None,
    mask_pii: bool | None = None,
    runner: Runner = "threads",
    dask_address: str | None = None,
    engine: str | None = None,
    allow_truncated: bool | None = None,
    direction: str | None = None,
    diarizer: str | None = None,
    mono_asr: str | None = None,
    metadata: str | None = None,
    compute_type: str | None = None,
    beam_size: int | None = None,
    batch_size: int | None = None,
    vad: str | None = None,
    max_error_share: float | None = None,
    report: bool = True,
    chunk_size: int | None = None,
) -> dict:
    """Transcribe and analyse every new recording under `inputs` into `out_dir`, as
    `callqa run` does with the same options: an option left None takes the output
    folder's setting, else the default (flows.batch.run_settings); `report`: refresh
    OUT/report/ when it is there. Returns what it did (Summary's counts); raises
    BatchFailed, failing the flow run, when every recording processed failed or more
    than `max_error_share` did.

    `max_workers`: recordings in flight at once (default: 1 with threads and a local dask
    cluster, every worker thread of the cluster at `dask_address`). `chunk_size`: recordings
    per task (default: a quarter of each worker's share, at most MAX_CHUNK). With dask, `inputs`,
    `out_dir`, `cache_dir` and the model must be at the same paths on every worker
    (shared storage): each worker writes the files of the calls it processed.
    """
    from flows.batch.run_settings import plan_run

    chunk_size_for(1, 1, chunk_size)  # a bad chunk size fails before any audio
    run = plan_run(out_dir, cache_dir, lexicon=lexicon, metadata=metadata, direction=direction, engine=engine,
                   model=model, compute_type=compute_type, beam_size=beam_size, batch_size=batch_size, vad=vad,
                   diarizer=diarizer, mono_asr=mono_asr, agent_channel=agent_channel, mask_pii=mask_pii,
                   allow_truncated=allow_truncated)  # a bad option, pack or model fails here, before any audio
    logger = get_run_logger()
    logger.info("ASR engine: %s (%s)", run.settings.engine, run.engine_why)
    run.start(logger)
    with started_task_runner(runner, max_workers, dask_address) as task_runner:
        summary = run_batch(inputs, run.plan, force=force, logger=logger,
                            execute=_on_task_runner(task_runner, process_task, run.plan, max_workers, chunk_size))
    return _finish(summary, out_dir, report, batch_failed(summary, max_error_share))


@flow(name="callqa-reprocess")
@_one_run_per_output
def qa_reprocess(out_dir: str, lexicon: str | None = None, call_ids: list[str] | None = None,
                 max_workers: int | None = 2, cache_dir: str | None = None, mask_pii: bool | None = None,
                 runner: Runner = "threads", dask_address: str | None = None, report: bool = True,
                 chunk_size: int | None = None) -> dict:
    """Re-run the analyzers on cached transcripts (new rule pack or masking), no ASR, as
    `callqa reprocess` does: options left None take the output folder's settings."""
    from flows.batch.run_settings import plan_run

    chunk_size_for(1, 1, chunk_size)
    run = plan_run(out_dir, cache_dir, transcribes=False, lexicon=lexicon, mask_pii=mask_pii)
    logger = get_run_logger()
    run.start(logger)
    with started_task_runner(runner, max_workers, dask_address) as task_runner:
        summary = reprocess_batch(run.plan, call_ids=call_ids, logger=logger,
                                  execute=_on_task_runner(task_runner, reprocess_task, run.plan, max_workers, chunk_size))
    return _finish(summary, out_dir, report)


def _finish(summary: Summary, out_dir: str, report: bool, failed: str = "") -> dict:
    """Log the summary, refresh the report, and return the counts (or raise BatchFailed)."""
    logger = get_run_logger()
    logger.info(summary.line())
    if summary.stages_line():
        logger.info(summary.stages_line())
    if report:
        from flows.review.report import refresh_report

        refreshed = refresh_report(out_dir)
        if refreshed is not None:
            logger.info("report refreshed: %s (%d call pages)", refreshed.index, refreshed.pages)
    if failed:
        raise BatchFailed(failed, _summary_dict(summary))
    return _summary_dict(summary)


def _summary_dict(summary: Summary) -> dict:
    """The flow's return value: plain data a Prefect result can hold."""
    out = vars(summary).copy()
    out["redone_settings"] = dict(summary.redone_settings)
    out["not_reprocessed"] = [list(x) for x in summary.not_reprocessed]
    return out
