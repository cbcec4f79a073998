"""The Prefect flows in Prefect's local ephemeral mode (no server configured)."""

from __future__ import annotations

import threading
import time

import pyarrow.dataset as ds
import pytest
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.testing.utilities import prefect_test_harness

from flows.flow import qa_batch, qa_reprocess
from analyzers.model import RUN_VARYING_COLUMNS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", autouse=True)
def harness():
    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_batch_flow_processes_good_and_bad_recordings(sample_run, tmp_path):
    good = sample_run["inputs"] / "call01_compliant.wav"
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEfmt garbage")
    out = tmp_path / "out"
    summary = qa_batch([str(good), str(bad)], str(out), max_workers=2, cache_dir=str(sample_run["cache"]))
    assert summary["ok"] == 1 and summary["errors"] == 1
    calls = {r["call_id"]: r for r in ds.dataset(out / "calls", format="parquet").to_table().to_pylist()}
    assert calls["call01_compliant"]["status"] == "ok"
    assert calls["broken"]["status"] == "error" and "broken.wav" in calls["broken"]["error"]

    again = qa_batch([str(good), str(bad)], str(out), cache_dir=str(sample_run["cache"]))
    assert again["skipped"] == 1 and again["errors"] == 1  # error rows are retried each night

    redone = qa_reprocess(str(out), cache_dir=str(sample_run["cache"]))
    assert redone["ok"] == 1


#: Sample calls the parallel tests run: stereo and mono, wav and mp3.
PARALLEL_CALLS = ["call01_compliant.wav", "call03_banned_phrases.mp3", "call06_slow_agent.mp3"]


def _rows(out, name: str, call_ids) -> list[dict]:
    """A table's rows of `call_ids`, in a stable order, without the run's timestamp."""
    table = ds.dataset(out / name, format="parquet").to_table().to_pylist()
    rows = [{k: v for k, v in r.items() if k not in RUN_VARYING_COLUMNS} for r in table if r["call_id"] in call_ids]
    return sorted(rows, key=lambda r: repr(sorted(r.items())))


def test_batch_flow_on_a_dask_cluster_writes_the_sequential_rows(sample_run, tmp_path):
    """prefect-dask against a running dask.distributed scheduler (here a LocalCluster of two
    worker processes): each worker writes the calls it ran; the output equals the CLI's
    sequential run over the same recordings."""
    from distributed import Client, LocalCluster

    inputs = [str(sample_run["inputs"] / name) for name in PARALLEL_CALLS]
    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        summary = qa_batch(inputs, str(out), dask_address=cluster.scheduler_address,
                           cache_dir=str(sample_run["cache"]))
        # Both worker processes ran recordings (unpickling a task imports the pipeline).
        ran = client.run(lambda: __import__("sys").modules.get("flows.batch.pipeline") is not None)
    assert sorted(ran.values()) == [True, True]
    assert summary["ok"] == len(PARALLEL_CALLS) and summary["errors"] == 0
    assert summary["seconds"] > 0
    call_ids = {name.rsplit(".", 1)[0] for name in PARALLEL_CALLS}
    for name in ("calls", "utterances", "findings"):
        assert _rows(out, name, call_ids) == _rows(sample_run["out"], name, call_ids), name


def test_task_runner_choice():
    from prefect_dask import DaskTaskRunner

    from flows.flow import make_task_runner

    local = make_task_runner("dask", 3, None)
    assert isinstance(local, DaskTaskRunner) and local.cluster_kwargs["n_workers"] == 3
    assert local.cluster_kwargs["processes"] and local.cluster_kwargs["threads_per_worker"] == 1
    remote = make_task_runner("threads", None, "tcp://10.0.0.5:8786")  # an address means dask
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://10.0.0.5:8786"
    assert isinstance(make_task_runner("threads", 4, None), ThreadPoolTaskRunner)
    with pytest.raises(ValueError, match="runner"):
        make_task_runner("ray", 2, None)


def test_prefect_yaml_deployments_name_real_flow_parameters():
    """A typo in a deployment parameter only shows at 02:00 on the server: check them here."""
    import importlib

    import yaml

    from conftest import ROOT

    deployments = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
    assert {d["name"] for d in deployments} >= {"nightly", "nightly-dask", "reprocess"}
    for d in deployments:
        path, name = d["entrypoint"].split(":")
        module = path.removesuffix(".py").replace("/", ".")
        fl = getattr(importlib.import_module(module), name)
        assert set(d.get("parameters", {})) <= set(fl.parameters.properties), d["name"]


_running = {"now": 0, "max": 0}
_running_lock = threading.Lock()


@task(cache_policy=NO_CACHE)
def _count_concurrency(n: int) -> int:
    with _running_lock:
        _running["now"] += 1
        _running["max"] = max(_running["max"], _running["now"])
    time.sleep(0.2)  # long enough for a free pool thread to start another task
    with _running_lock:
        _running["now"] -= 1
    return n


def test_no_more_than_the_limit_of_tasks_is_in_flight():
    """A pool with 8 threads, a limit of 2: the flow never hands the pool more than 2."""
    from flows.flow import _submit_bounded

    @flow
    def bounded() -> list[int]:
        with ThreadPoolTaskRunner(max_workers=8) as runner:
            return [f.result() for _, f in _submit_bounded(runner, _count_concurrency,
                                                           [{"n": n} for n in range(10)], 2)]

    assert sorted(bounded()) == list(range(10))
    assert _running["max"] == 2


def test_a_dask_runner_bounds_dasks_message_logs_unless_the_user_set_them():
    """dask keeps each comm's last 1000 messages (every task's whole spec): the flow process
    grew ~0.19 MiB a call through a night; the flow keeps 10, a user's own length stays."""
    import dask

    from flows.flow import DASK_LOG_DEFAULT, DASK_LOG_KEPT, DASK_LOG_SETTING, make_task_runner

    with dask.config.set({DASK_LOG_SETTING: DASK_LOG_DEFAULT}):
        make_task_runner("threads", 2, None)
        assert dask.config.get(DASK_LOG_SETTING) == DASK_LOG_DEFAULT  # threads: no dask
        make_task_runner("dask", 2, None)
        assert dask.config.get(DASK_LOG_SETTING) == DASK_LOG_KEPT
    with dask.config.set({DASK_LOG_SETTING: 50}):
        make_task_runner("threads", None, "tcp://10.0.0.5:8786")
        assert dask.config.get(DASK_LOG_SETTING) == 50


def test_chunk_size_spreads_a_night_over_the_workers_and_a_bad_size_is_refused(tmp_path):
    from flows.flow import MAX_CHUNK, chunk_size_for

    assert chunk_size_for(2000, 2) == MAX_CHUNK  # 250 a chunk would leave a worker idle at the end
    assert chunk_size_for(60, 2) == 7 and chunk_size_for(3, 2) == 1  # a few calls: a task each
    assert chunk_size_for(2000, 2, chunk_size=1) == 1
    with pytest.raises(ValueError, match="chunk_size"):
        chunk_size_for(10, 2, chunk_size=0)
    with pytest.raises(ValueError, match="chunk_size"):
        qa_batch([str(tmp_path / "in")], str(tmp_path / "out"), chunk_size=0)


def test_a_call_in_a_chunk_is_retried_alone_and_a_failure_stays_its_own():
    from flows.flow import _retrying
    from flows.speech.engines import ModelLoadError

    tries = {"flaky": 0}

    def work(item):
        if item == "flaky" and tries["flaky"] < 2:
            tries["flaky"] += 1
            raise TimeoutError("share busy")
        if item == "bad":
            raise ValueError("not audio")
        if item == "model":
            raise ModelLoadError("no weights")
        return item.upper()

    got = [_retrying(work, item, delay_s=0) for item in ("a", "flaky", "bad", "b")]
    assert got[0] == "A" and got[1] == "FLAKY" and got[3] == "B" and tries["flaky"] == 2
    assert isinstance(got[2], ValueError)
    tries["flaky"] = -5  # fails more often than the retries allow: its exception in its place
    assert isinstance(_retrying(work, "flaky", delay_s=0), TimeoutError)
    with pytest.raises(ModelLoadError):  # every call would fail alike: the chunk stops
        _retrying(work, "model", delay_s=0)


def test_prefect_does_not_walk_a_sealed_plan():
    """Prefect looks for futures in every task parameter, into dataclasses: over the run plan
    that walk was most of the dask route's CPU. A Sealed value is visited once, as a whole."""
    from dataclasses import dataclass

    from prefect.utilities.collections import visit_collection

    from flows.flow import Sealed

    @dataclass
    class Big:
        rows: list

    seen = []

    def visit(expr):
        seen.append(expr)
        return expr

    visit_collection({"plan": Big(list(range(1000)))}, visit_fn=visit, return_data=False)
    assert len(seen) > 1000
    seen.clear()
    visit_collection({"plan": Sealed(Big(list(range(1000))))}, visit_fn=visit, return_data=False)
    assert len(seen) == 3  # the dict, its key and the sealed value


@task(cache_policy=NO_CACHE)
def _double_chunk(items: list, plan) -> list:
    if plan.value == "broken" and 4 in items:
        raise RuntimeError("worker lost")
    return [2 * i for i in items]  # the executor seals the plan: the task reads plan.value


def test_the_flow_runs_calls_in_chunks_and_gives_each_call_its_result():
    from flows.flow import _on_task_runner

    @flow
    def chunked(plan: str) -> list:
        with ThreadPoolTaskRunner(max_workers=2) as runner:
            return list(_on_task_runner(runner, _double_chunk, plan, 2, chunk_size=3)(list(range(10))))

    got = dict(chunked("fine"))
    assert got == {i: 2 * i for i in range(10)}
    got = dict(chunked("broken"))  # the chunk [3, 4, 5] failed: its exception for each of its calls
    assert {i for i, r in got.items() if isinstance(r, RuntimeError)} == {3, 4, 5}
    assert all(got[i] == 2 * i for i in set(range(10)) - {3, 4, 5})


def test_a_sealed_value_is_unpickled_once_per_process_and_per_key():
    """A worker gets the run's plan with each chunk: it reuses the object it unpickled first,
    so what is built once per plan object (the intent stack) is built once a run."""
    import pickle

    from flows.flow import Sealed

    sealed = Sealed({"pack": list(range(10))})
    first, again = pickle.loads(pickle.dumps(sealed)), pickle.loads(pickle.dumps(sealed))
    assert first.value == sealed.value and again.value is first.value
    other = pickle.loads(pickle.dumps(Sealed({"pack": [1]})))  # another run's plan: its own object
    assert other.value == {"pack": [1]} and other.value is not first.value


def test_a_dask_runner_keeps_dasks_shutdown_traceback_out_of_the_log():
    """dask logs a comm closed at shutdown at INFO with a traceback (CI saw it in a night's log)."""
    import logging

    from flows.flow import make_task_runner

    batched = logging.getLogger("distributed.batched")
    level = batched.level
    try:
        batched.setLevel(logging.NOTSET)
        make_task_runner("dask", 1, None)
        assert not batched.isEnabledFor(logging.INFO) and batched.isEnabledFor(logging.WARNING)
    finally:
        batched.setLevel(level)
