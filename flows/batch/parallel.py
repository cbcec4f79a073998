"""Several recordings at once on one machine: a small pool of worker processes, or, in one
process with the faster engine, two calls finished side by side with their whisper passes
decoded together and the next recordings prepared ahead (`_in_order`).

Processes, not threads, because whisper is not thread-safe on a shared model: its decoder
keeps the key/value cache through forward hooks installed on the model's own layers, so two
decodes at once in one process corrupt each other (measured on two sample calls: one raised
KeyError on a Linear layer, the other's text changed), and the seed that makes fallback
sampling repeatable is global to the process. Each worker process therefore loads the
weights once (the lru_cache in `flows.speech.transcribe.load_model`) and runs one recording at a
time with its share of the cores as torch and CTranslate2 threads.

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
from flows.batch.pipeline import (
    AsrGroup,
    NotReprocessable,
    PipelineConfig,
    Recording,
    error_result,
    finish_recording,
    prepare_recording,
    process_recording,
    reprocess_call,
)
from flows.storage.store import ResultStore
from flows.speech.engines import ENGINES
from flows.speech.transcribe import ModelLoadError, load_model

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


def _process(rec: Recording, cfg: PipelineConfig, pack) -> CallResult:
    return without_children(process_recording(rec, cfg, pack))


def _reprocess(row: dict, cfg: PipelineConfig, pack) -> CallResult:
    return without_children(reprocess_call(row, cfg, pack, store=ResultStore(cfg.out_dir)))


def process_all(
    todo: Sequence[Recording], cfg: PipelineConfig, pack, *, store: ResultStore, workers: int = 1
) -> Iterator[CallResult]:
    """process_recording over `todo`: in this process when workers is 1 (in order), else
    in `workers` processes (in completion order). Every recording yields one result."""
    if workers <= 1:
        yield from _in_order(todo, cfg, pack, store)
        return
    with closing(imap_unordered(partial(_process, cfg=cfg, pack=pack), todo, workers=workers)) as results:
        for rec, result in results:
            if isinstance(result, ModelLoadError):
                raise result  # as in one process: stop, the rest stay pending
            if isinstance(result, BaseException):
                result = error_result(rec, result)
                store.write(result)
            yield result


#: In one process, recordings are finished two at a time (ASR_GROUP): their whisper
#: passes are decoded over the model's lanes together (flows.batch.pipeline.AsrGroup), so
#: that one call's long agent pass runs beside the other's rather than beside its own
#: shorter customer pass with a core idle. A call's passes start as soon as it is heard,
#: while the next call of its group is still being prepared; the next group is decoded,
#: its speech found and (mono) diarized in a helper thread meanwhile, unless this group
#: holds more than LOOKAHEAD_MAX_S of audio (s): then two long groups' samples are never
#: held at once. Only with an engine that does not decode on torch (the faster one):
#: speech detection changes torch's process-wide thread count.
ASR_GROUP = 2
LOOKAHEAD_MAX_S = 1200.0


def _in_order(todo: Sequence[Recording], cfg: PipelineConfig, pack, store: ResultStore) -> Iterator[CallResult]:
    """process_recording over `todo`, the results in order (see ASR_GROUP). The rows are
    those of one by one except where temperature fallback samples: the lane a pass meets
    depends on its group (flows.speech.transcribe.job_lanes), never on timing."""
    if not todo:
        return
    if getattr(ENGINES.get(cfg.engine), "decodes_on_torch", True):
        for rec in todo:
            yield process_recording(rec, cfg, pack, store=store)
        return
    groups = [todo[i : i + ASR_GROUP] for i in range(0, len(todo), ASR_GROUP)]
    # One helper prepares recordings, one after another (speech detection shares one
    # model under a lock: two at once would only wait for each other); another sets up
    # the analyzers (jieba's dictionaries, the matchers) beside the first recordings'
    # decoding, done before any analysis starts; a third finishes each group.
    # The model is loaded in a helper of its own as soon as a recording misses the
    # transcript cache, beside its decoding and speech detection (a run whose transcripts
    # are all cached never loads it).
    with ThreadPoolExecutor(1, thread_name_prefix="callqa-lookahead") as ahead, \
            ThreadPoolExecutor(1, thread_name_prefix="callqa-warm-up") as warmer, \
            ThreadPoolExecutor(1, thread_name_prefix="callqa-model") as model_loader, \
            ThreadPoolExecutor(1, thread_name_prefix="callqa-group") as finisher:
        model: list[Future] = []
        lock = threading.Lock()

        def need_model() -> None:
            with lock:
                if not model:
                    model.append(model_loader.submit(load_model, cfg.model_ref(), cfg.engine,
                                                     compute_type=cfg.compute_type))

        def loaded():
            need_model()
            return model[0].result()

        def prepare(rec: Recording) -> Future:
            return ahead.submit(prepare_recording, rec, cfg, pack, on_miss=need_model)

        warm = warmer.submit(prepare_analysis, pack)
        upcoming = [prepare(rec) for rec in groups[0]]
        for g in range(len(groups)):
            finishing = finisher.submit(_finish_group, upcoming, cfg, pack, warm, loaded)
            following = groups[g + 1] if g + 1 < len(groups) else []
            early = sum(f.result().audio_s for f in upcoming) <= LOOKAHEAD_MAX_S
            upcoming = [prepare(rec) for rec in following] if early else []
            results = finishing.result()
            if following and not early:
                upcoming = [prepare(rec) for rec in following]
            for result in results:
                if isinstance(result, BaseException):
                    raise result  # ModelLoadError: the calls before it are written, the rest stay pending
                yield store.write(result) or result


def _finish_group(upcoming: list[Future], cfg: PipelineConfig, pack, warm: Future | None = None,
                  loader: Callable[[], object] | None = None) -> list[CallResult | BaseException]:
    """finish_recording for each call of a group as its preparation (`upcoming`: futures of
    prepare_recording) comes in, side by side in threads, their whisper passes decoded
    together (AsrGroup): the results unwritten, in order, or in a call's place what
    finish_recording raised (ModelLoadError: the batch stops there, as with one call).
    `warm`: the analyzers' set-up, awaited before any call is finished; `loader`: the
    model (AsrGroup)."""

    def ready(f: Future):
        p = f.result()
        if warm is not None:
            _ = warm.exception()  # a failure shows again, per call, in the analysis itself
        return p

    if len(upcoming) == 1:
        try:
            return [finish_recording(ready(upcoming[0]), cfg, pack, write=False)]
        except ModelLoadError as exc:
            return [exc]
    asr = AsrGroup(len(upcoming), cfg, loader=loader)
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
                return finish_recording(p, cfg, pack, write=False)
            return finish_recording(p, cfg, pack, decode=member, write=False)
        finally:
            member.done()  # cached, supplied, failed or decoded: the next call need not wait for it
            finished[index].set()

    with ThreadPoolExecutor(len(upcoming), thread_name_prefix="callqa-finish") as pool:
        futures = [pool.submit(finish, i) for i in range(len(upcoming))]
    return [f.exception() or f.result() for f in futures]


def reprocess_all(
    rows: Sequence[dict], cfg: PipelineConfig, pack, *, store: ResultStore, workers: int = 1
) -> Iterator[tuple[dict, CallResult | NotReprocessable]]:
    """(row, reprocess_call's result) over `rows`, like process_all; a call that could not
    be reprocessed yields NotReprocessable in its result's place and keeps its rows."""
    if workers <= 1:
        for row in rows:
            try:
                yield row, reprocess_call(row, cfg, pack, store=store)
            except NotReprocessable as exc:
                yield row, exc
        return
    for row, result in imap_unordered(partial(_reprocess, cfg=cfg, pack=pack), rows, workers=workers):
        if isinstance(result, BaseException) and not isinstance(result, NotReprocessable):
            result = NotReprocessable(f"{type(result).__name__}: {result}")
        yield row, result
