"""Issue #8.2: two runs at once. One output folder admits one run (flows.storage.store.output_lock):
a second CLI run exits 3 with a message naming the holder, a second Prefect flow run
fails with OutputBusy, both before touching any audio. Runs on different output folders
may share one transcript cache.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from flows.storage.store import LOCK_NAME, OutputBusy, ResultStore, output_lock
from runs import ROOT, byo_inputs, check_cache, check_output, cli_command, run_cli, snapshot


def _args(inputs, out, cache):
    return ["run", str(inputs), "--out", str(out), "--cache-dir", str(cache), "--vad", "energy", "--quiet"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, model_path):
    folder = tmp_path_factory.mktemp("concurrent") / "in"
    byo_inputs(folder, copies=3)
    return folder


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory):
    base = tmp_path_factory.mktemp("concurrent-ref")
    proc = run_cli(*_args(inputs, base / "out", base / "cache"))
    assert proc.returncode == 0 and "9 ok, 0 errors" in proc.stdout, proc.stderr
    return snapshot(base / "out")


def _wait_for_lock_holder(out, pid, timeout_s=120.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if f"pid {pid} " in (out / LOCK_NAME).read_text():
                return
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"run {pid} never took the lock")


def test_a_second_run_on_the_same_output_exits_3_and_changes_nothing(inputs, reference, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = subprocess.Popen(cli_command(*_args(inputs, out, cache)), cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_lock_holder(out, first.pid)
        # Frozen while it holds the lock, so that it is still running, however fast the
        # machine, when the second run tries.
        first.send_signal(signal.SIGSTOP)
        before = snapshot(out)
        second = run_cli(*_args(inputs, out, cache))
        assert snapshot(out) == before  # the second run changed nothing
    finally:
        first.send_signal(signal.SIGCONT)
        stdout, stderr = first.communicate(timeout=600)
    assert second.returncode == 3, second.stderr
    assert f"output folder {out} is in use by another callqa run (pid {first.pid} on " in second.stderr
    assert "Traceback" not in second.stderr and second.stdout == ""
    assert first.returncode == 0 and "9 ok, 0 errors" in stdout, stderr
    assert check_output(out) == {"orphan": 0, "temp": 0}
    assert snapshot(out) == reference


def test_two_runs_started_together_never_corrupt_the_output(inputs, reference, tmp_path):
    out, cache = tmp_path / "out", tmp_path / "cache"
    runs = [subprocess.Popen(cli_command(*_args(inputs, out, cache)), cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = sorted(((p.wait(timeout=600), *p.communicate()) for p in runs),
                     key=lambda r: (r[0], "9 ok" not in r[1]))  # the run that did the work first
    # One runs, the other finds the folder in use (3). Only if the scheduler held the
    # second back until the first had finished may it run too, and then it has nothing to do.
    (code_a, out_a, _), (code_b, out_b, err_b) = results
    assert code_a == 0 and "9 ok, 0 errors" in out_a, results
    assert code_b == 3 and "in use by another callqa run" in err_b or (
        code_b == 0 and "0 ok, 0 errors, 9 already current" in out_b), results
    assert check_output(out) == {"orphan": 0, "temp": 0}
    assert snapshot(out) == reference


def test_runs_on_two_outputs_can_share_one_cache(inputs, reference, tmp_path):
    cache = tmp_path / "shared-cache"
    runs = [subprocess.Popen(cli_command(*_args(inputs, tmp_path / f"out{i}", cache)), cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (1, 2)]
    for p in runs:
        assert p.wait(timeout=600) == 0, p.communicate()[1]
    for i in (1, 2):
        assert snapshot(tmp_path / f"out{i}") == reference
    assert check_cache(cache) == 3  # three different recordings, each cached once


def test_lock_is_free_again_after_the_holder_is_killed(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import fcntl, os, time; fd = os.open({str(out / LOCK_NAME)!r}, os.O_RDWR | os.O_CREAT);"
                          " fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputBusy):
            with output_lock(out):
                pass
    finally:
        holder.kill()
        holder.wait()
    with output_lock(out) as store:  # no stale lock to clean up by hand
        assert isinstance(store, ResultStore)


def test_prefect_flow_respects_the_lock(tmp_path, sample_run):
    """qa_batch on a folder another run holds fails with OutputBusy and processes nothing."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.flow import qa_batch

    good = sample_run["inputs"] / "call01_compliant.wav"
    out = tmp_path / "out"
    with prefect_test_harness(server_startup_timeout=180):
        with output_lock(out):
            with pytest.raises(OutputBusy, match="in use by another callqa run"):
                qa_batch([str(good)], str(out), cache_dir=str(sample_run["cache"]))
        assert ResultStore(out).calls_by_id() == {}
        summary = qa_batch([str(good)], str(out), cache_dir=str(sample_run["cache"]))
        assert summary["ok"] == 1
