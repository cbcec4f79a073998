"""The whisper passes of several calls, decoded together over the model's lanes (AsrGroup)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable

from analyzers.model import Word
from analyzers.timeline import merge
from flows.speech.engines import LoadedModel
from flows.speech.transcribe import SpeechJob, job_lanes, lanes_of, speech_seconds, transcribe_job
from flows.speech.transcript import SpeechOptions


@dataclass(eq=False)
class _Pass:
    """One whisper pass of an AsrGroup, queued on a lane, and what became of it."""

    job: SpeechJob
    words: list[Word] | BaseException | None = None
    started: float = 0.0
    ended: float = 0.0
    done: bool = False


class AsrGroup:
    """The whisper passes of several calls, decoded over the model's lanes as the calls
    come in: each call's finishing thread hands its passes in (`member(i)` as
    transcribe_call's `decode`), or says it needs none (`member(i).done()`: cached,
    supplied words, an error). Calls take their turn in order: call i's passes are
    planned once calls 0 .. i-1 have handed theirs in or said they need none (`job_lanes`,
    the speech already planned on each lane counted), and queue behind the passes already
    on their lanes. So the first call is decoded while the next is still being prepared,
    and which lane decodes a pass, after which others (temperature fallback samples from
    a generator per lane), depends on the calls and their order only, never on timing.

    A member gets its words once every pass of the group is decoded, with a share of the
    group's ASR time (the seconds in which the model was loading or a lane decoding) in
    proportion to its speech seconds. A failing pass fails its own call; a model that
    cannot load fails every call with passes. `loader()`: the model (RunPlan.load_model,
    or one being loaded ahead); `opts`: the decoder and gating options of every pass."""

    def __init__(self, size: int, opts: SpeechOptions, loader: Callable[[], LoadedModel]) -> None:
        self._opts, self._loader = opts, loader
        self._size = size
        self._turn = 0  # the member whose passes are planned next
        self._passes: list[list[_Pass]] = [[] for _ in range(size)]
        self._queues: list[list[_Pass]] = []
        self._planned_s: list[float] = []
        self._model = None
        self._load_error: BaseException | None = None
        self._busy: list[tuple[float, float]] = []  # (start, end) of the load and of each pass
        self._cond = threading.Condition()

    def member(self, index: int) -> "_AsrMember":
        return _AsrMember(self, index)

    def _arrive(self, index: int, jobs: list[SpeechJob]) -> bool:
        """Plan and queue member `index`'s passes in its turn; False if it had arrived before."""
        with self._cond:
            while self._turn < index:
                self._cond.wait()
            if self._turn > index:
                if jobs:
                    raise RuntimeError(f"call {index} of the group handed in its whisper passes twice")
                return False
            try:
                if jobs and self._model is None and self._load_error is None:
                    self._start_lanes()
                if jobs and self._load_error is None:
                    self._passes[index] = [_Pass(job) for job in jobs]
                    # each lane's passes in job order, as transcribe_jobs decodes them
                    for p, lane in zip(self._passes[index], job_lanes(jobs, len(self._queues), self._planned_s)):
                        self._queues[lane].append(p)
            finally:
                self._turn += 1
                self._cond.notify_all()
        return True

    def _start_lanes(self) -> None:
        """Load the model (holding the turn: the next calls plan on its lanes) and start a
        thread per lane."""
        started = time.perf_counter()
        try:
            self._model = self._loader()
        except BaseException as exc:  # noqa: BLE001 - raised to every member with passes (ModelLoadError: the batch stops)
            self._load_error = exc
            return
        finally:
            self._busy.append((started, time.perf_counter()))
        lanes = lanes_of(self._model)
        self._queues, self._planned_s = [[] for _ in range(lanes)], [0.0] * lanes
        for lane in range(lanes):
            threading.Thread(target=self._run_lane, args=(lane,), name=f"callqa-asr-lane_{lane}", daemon=True).start()

    def _run_lane(self, lane: int) -> None:
        """Decode the lane's passes in their order until every member has arrived and the
        queue is empty."""
        queue = self._queues[lane]
        while True:
            with self._cond:
                while not queue and self._turn < self._size:
                    self._cond.wait()
                if not queue:
                    return
                p = queue.pop(0)
            p.started = time.perf_counter()
            try:
                p.words = transcribe_job(self._model, p.job, self._opts.decoder, self._opts.gating, lane)
            except BaseException as exc:  # noqa: BLE001 - fails its own call (raised in its thread)
                p.words = exc
            p.ended = time.perf_counter()
            with self._cond:
                p.done = True
                self._busy.append((p.started, p.ended))
                self._cond.notify_all()

    def _collect(self, index: int) -> tuple[list[list[Word]], float]:
        """Member `index`'s words per pass and ASR seconds, once the group is decoded."""
        with self._cond:
            while self._turn < self._size or not all(p.done for ps in self._passes for p in ps):
                self._cond.wait()
            if self._load_error is not None:
                raise self._load_error
            mine = self._passes[index]
            failed = next((p.words for p in mine if isinstance(p.words, BaseException)), None)
            if failed is not None:
                raise failed
            speech = [sum(speech_seconds(p.job) for p in ps) for ps in self._passes]
            share = sum(e - s for s, e in merge(self._busy)) * speech[index] / (sum(speech) or 1.0)
            return [p.words for p in mine], share


class _AsrMember:
    def __init__(self, group: AsrGroup, index: int) -> None:
        self._group, self._index = group, index

    def __call__(self, jobs: list[SpeechJob]) -> tuple[list[list[Word]], float]:
        self._group._arrive(self._index, list(jobs))
        return self._group._collect(self._index)

    def done(self) -> None:
        """This call needs no (more) whisper; a no-op after its passes were handed in."""
        self._group._arrive(self._index, [])
