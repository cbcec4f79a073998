"""Several recordings at once on one machine: a small pool of worker processes, or, in one
process with the faster engine, two calls finished side by side with their whisper passes
decoded together and the next recordings prepared ahead (`_in_order`).

Processes, not threads: openai-whisper is not thread-safe on a shared model (its decoder
keeps the key/value cache in hooks on the model's layers; docs/decisions.md) and the seed
of fallback sampling is global to the process. Each worker process loads the weights once
(each engine caches its loaded models) and runs one recording at a time with its share of
the cores as torch and CTranslate2 threads.

Memory stays bounded: at most `workers` recordings are in flight, decoded audio never
leaves the worker, and what comes back is the `calls` row only (the worker has already
written the call's three files). A worker that dies (killed for memory, a crash in native
code) does not stop the batch: the recordings it may have been running are tried again one
at a time in a fresh pool, and the one that kills a worker alone gets an error row.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque
from contextlib import closing
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from functools import partial
from typing import Callable, Iterator, Sequence, TypeVar

from analyzers.analyze import prepare as prepare_analysis
from analyzers.model import CallResult
from flows.batch.asr_group import AsrGroup
from flows.batch.pipeline import (
    NotReprocessable,
    Recording,
    RunPlan,
    finish_recording,
    prepare_recording,
    process_recording,
    reprocess_call,
)
from flows.speech.engines import ModelLoadError
from flows.storage.store import ResultStore

T = TypeVar("T")
R = TypeVar("R")


class WorkerCrashed(RuntimeError):
    """The worker process running this item died (it ran alone, so the item is the cause)."""


def torch_threads_per_worker(workers: int) -> int:
    """This machine's cores shared out between the worker processes (at least 1 each):
    each worker's threads for torch and for CTranslate2 alike (see _init_worker)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


def _init_worker(threads: int) -> None:
    """A worker process's share of the cores, for both engines: torch's threads
    (openai-whisper, silero VAD) and CTranslate2's (the faster engine, which would
    otherwise start one thread per core in every worker). A run in one process keeps
    all cores."""
    import torch

    from flows.speech.engines import faster as fw_engine

    torch.set_num_threads(threads)
    fw_engine.set_cpu_threads(threads)


def imap_unordered(
    fn: Callable[[T], R], items: Sequence[T], *, workers: int
) -> Iterator[tuple[T, R | BaseException]]:
    """(item, fn(item)) in completion order, from `workers` processes; never more than
    `workers` items submitted at once. An exception raised by `fn`, or WorkerCrashed,
    takes the result's place. `fn` must be picklable (a module-level function or a
    functools.partial of one)."""
    ctx = multiprocessing.get_context("spawn")  # no fork of a parent that may hold torch threads

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                   initargs=(torch_threads_per_worker(workers),))

    todo: deque[T] = deque(items)
    suspects: deque[T] = deque()  # in flight when a worker died: each is run again alone
    in_flight: dict = {}  # future -> (item, ran alone)
    pool = new_pool()
    try:
        while todo or suspects or in_flight:
            if suspects:
                if not in_flight:
                    item = suspects.popleft()
                    in_flight[pool.submit(fn, item)] = (item, True)
            else:
                while todo and len(in_flight) < workers:
                    item = todo.popleft()
                    in_flight[pool.submit(fn, item)] = (item, False)
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                # A dead worker breaks the pool: every future still in flight fails with it.
                wait(in_flight)
                done = set(in_flight)
            broken = False
            for future in done:
                item, alone = in_flight.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = True
                    if not alone:
                        suspects.append(item)
                        continue
                    result = WorkerCrashed("the worker process died while processing this recording")
                except Exception as exc:  # noqa: BLE001 - raised by fn, or an unpicklable result
                    result = exc
                yield item, result
            if broken:
                pool.shutdown(wait=True, cancel_futures=True)
                pool = new_pool()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def without_children(result: CallResult) -> CallResult:
    """The `calls` row alone: what a worker sends back once it has written the call."""
    return replace(result, utterances=(), findings=(), scores=())


def _process(rec: Recording, plan: RunPlan) -> CallResult:
    return without_children(process_recording(rec, plan))


def _reprocess(row: dict, plan: RunPlan) -> CallResult:
    return without_children(reprocess_call(row, plan, store=ResultStore(plan.out_dir)))


#: (item, its result or the exception in its place): what an executor yields per item.
Outcome = tuple[T, "CallResult | BaseException"]


def process_all(todo: Sequence[Recording], plan: RunPlan, *, workers: int = 1) -> Iterator[Outcome]:
    """(recording, process_recording's result or exception) over `todo`: in this process
    when workers is 1 (in order, the results written), else in `workers` processes (in
    completion order; a worker that died gives WorkerCrashed, and no row is written)."""
    if workers <= 1:
        yield from _in_order(todo, plan, ResultStore(plan.out_dir))
        return
    with closing(imap_unordered(partial(_process, plan=plan), todo, workers=workers)) as results:
        yield from results


#: In one process, recordings are finished two at a time (ASR_GROUP): their whisper
#: passes are decoded over the model's lanes together (flows.batch.asr_group.AsrGroup), so
#: that one call's long agent pass runs beside the other's rather than beside its own
#: shorter customer pass with a core idle. A call's passes start as soon as it is heard,
#: while the next call of its group is still being prepared; the next group is decoded,
#: its speech found and (mono) diarized in a helper thread meanwhile, unless this group
#: holds more than LOOKAHEAD_MAX_S of audio (s): then two long groups' samples are never
#: held at once. Only with an engine that does not decode on torch (the faster one):
#: speech detection changes torch's process-wide thread count.
ASR_GROUP = 2
LOOKAHEAD_MAX_S = 1200.0


def _in_order(todo: Sequence[Recording], plan: RunPlan, store: ResultStore) -> Iterator[Outcome]:
    """(recording, result) over `todo` in order, the results written (see ASR_GROUP). The
    rows are those of one by one except where temperature fallback samples: the lane a
    pass meets depends on its group (flows.speech.transcribe.job_lanes), never on timing."""
    if not todo:
        return
    if plan.engine is None or plan.engine.decodes_on_torch:
        for rec in todo:
            yield rec, process_recording(rec, plan, store=store)
        return
    groups = [todo[i : i + ASR_GROUP] for i in range(0, len(todo), ASR_GROUP)]
    # Helpers: one prepares recordings one after another (speech detection shares one
    # model under a lock), one sets up the analyzers before any analysis, one loads the
    # model at the first cache miss (never when all transcripts are cached), one
    # finishes each group.
    with ThreadPoolExecutor(1, thread_name_prefix="callqa-lookahead") as ahead, \
            ThreadPoolExecutor(1, thread_name_prefix="callqa-warm-up") as warmer, \
            ThreadPoolExecutor(1, thread_name_prefix="callqa-model") as model_loader, \
            ThreadPoolExecutor(1, thread_name_prefix="callqa-group") as finisher:
        model: list[Future] = []
        lock = threading.Lock()

        def need_model() -> None:
            with lock:
                if not model:
                    model.append(model_loader.submit(plan.load_model))

        def loaded():
            need_model()
            return model[0].result()

        def prepare(rec: Recording) -> Future:
            return ahead.submit(prepare_recording, rec, plan, on_miss=need_model)

        warm = warmer.submit(prepare_analysis, plan.pack)
        upcoming = [prepare(rec) for rec in groups[0]]
        for g, group in enumerate(groups):
            finishing = finisher.submit(_finish_group, upcoming, plan, warm, loaded)
            following = groups[g + 1] if g + 1 < len(groups) else []
            early = sum(f.result().audio_s for f in upcoming) <= LOOKAHEAD_MAX_S
            upcoming = [prepare(rec) for rec in following] if early else []
            results = finishing.result()
            if following and not early:
                upcoming = [prepare(rec) for rec in following]
            for rec, result in zip(group, results):
                if isinstance(result, BaseException):
                    raise result  # ModelLoadError: the calls before it are written, the rest stay pending
                yield rec, store.write(result) or result


def _finish_group(upcoming: list[Future], plan: RunPlan, warm: Future | None = None,
                  loader: Callable[[], object] | None = None) -> list[CallResult | BaseException]:
    """finish_recording for each call of a group as its preparation (`upcoming`: futures of
    prepare_recording) comes in, side by side in threads, their whisper passes decoded
    together (AsrGroup): the results unwritten, in order, or in a call's place what
    finish_recording raised (ModelLoadError: the batch stops there, as with one call).
    `warm`: the analyzers' set-up, awaited before any call is finished; `loader`: the
    model (AsrGroup; default: the plan's)."""

    def ready(f: Future):
        p = f.result()
        if warm is not None:
            _ = warm.exception()  # a failure shows again, per call, in the analysis itself
        return p

    if len(upcoming) == 1:
        try:
            return [finish_recording(ready(upcoming[0]), plan, write=False)]
        except ModelLoadError as exc:
            return [exc]
    asr = AsrGroup(len(upcoming), plan.speech, loader or plan.load_model)
    finished = [threading.Event() for _ in upcoming]

    def finish(index: int) -> CallResult:
        member = asr.member(index)
        try:
            p = ready(upcoming[index])
            copies = [k for k in range(index) if p.key and upcoming[k].result().key == p.key]
            if p.transcript is None and copies:
                # The same audio as an earlier call of the group (copies under two names):
                # after it, so that this one takes its transcript from the cache, as it
                # always has.
                member.done()
                for k in copies:
                    finished[k].wait()
                return finish_recording(p, plan, write=False)
            return finish_recording(p, plan, decode=member, write=False)
        finally:
            member.done()  # cached, supplied, failed or decoded: the next call need not wait for it
            finished[index].set()

    with ThreadPoolExecutor(len(upcoming), thread_name_prefix="callqa-finish") as pool:
        futures = [pool.submit(finish, i) for i in range(len(upcoming))]
    return [f.exception() or f.result() for f in futures]


def reprocess_all(rows: Sequence[dict], plan: RunPlan, *, workers: int = 1) -> Iterator[Outcome]:
    """(row, reprocess_call's result or exception) over `rows`, like process_all; a call
    that could not be reprocessed (NotReprocessable) keeps its rows."""
    if workers <= 1:
        store = ResultStore(plan.out_dir)
        for row in rows:
            try:
                yield row, reprocess_call(row, plan, store=store)
            except NotReprocessable as exc:
                yield row, exc
        return
    yield from imap_unordered(partial(_reprocess, plan=plan), rows, workers=workers)
