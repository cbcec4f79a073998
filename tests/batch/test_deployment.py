"""The `nightly` deployment of prefect.yaml, run as Prefect runs it at 02:00: deployed to a
server, a flow run created, picked up by a process worker that runs it from the checkout
(CALLQA_HOME); its rows are the CLI's (issue 35 item 2). The recordings carry their
transcripts (runs.byo_inputs): no whisper runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prefect.testing.utilities import prefect_test_harness

from flows.cli import main
from flows.storage.compare import compare, describe
from runs import ROOT, byo_inputs

PREFECT = str(Path(sys.executable).parent / "prefect")


def _prefect(*args: str, env: dict, timeout_s: float = 600, ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([PREFECT, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s)
    assert proc.returncode == 0 or not ok, (args, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def _deploy(env: dict) -> None:
    """`prefect deploy --name nightly` from prefect.yaml. Prefect 3.8.8's deploy creates the
    deployment, then fails asking its own server for the pool's online workers (422: limit
    None); that one error is let through, any other fails the test."""
    proc = _prefect("--no-prompt", "deploy", "--name", "nightly", env=env, ok=False)
    out = proc.stdout + proc.stderr
    assert "Deployment 'callqa-batch/nightly' successfully created" in out, out[-3000:]
    assert proc.returncode == 0 or ("422" in out and "/workers/filter" in out), out[-3000:]


def test_a_deployment_run_on_a_worker_writes_the_clis_rows(tmp_path):
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    inputs = tmp_path / "in"
    byo_inputs(inputs, copies=1)
    cli_out, flow_out = tmp_path / "cli", tmp_path / "flow"
    assert main(["run", str(inputs), "--out", str(cli_out), "--model", "base", "--engine", "openai",
                 "--quiet", "--no-report"]) == 0
    with prefect_test_harness(server_startup_timeout=180):
        env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "CALLQA_HOME": str(ROOT),
               "PYTHONPATH": str(ROOT)}
        _prefect("work-pool", "create", "callqa", "--type", "process", env=env)
        _deploy(env)
        run = run_deployment("callqa-batch/nightly", timeout=0, parameters={
            "inputs": [str(inputs)], "out_dir": str(flow_out), "model": "base", "engine": "openai"})
        worker = _prefect("worker", "start", "--pool", "callqa", "--run-once", env=env, timeout_s=900)
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            state = client.read_flow_run(run.id).state
            schedules = client.read_deployment_by_name("callqa-batch/nightly").schedules
    assert [(s.schedule.cron, s.schedule.timezone) for s in schedules] == [("0 2 * * *", "Asia/Shanghai")]
    assert state.is_completed(), (state, worker.stdout[-3000:], worker.stderr[-3000:])
    diffs = compare(cli_out, flow_out)
    assert not diffs, describe(diffs)
    assert len(list((flow_out / "calls").glob("*.parquet"))) == 3
