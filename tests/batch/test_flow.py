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
