"""bench/bench_night.py at tiny N: a 3-call night through `callqa run --workers 1` and through
`qa_batch` on a local dask cluster of 2 workers, each in its own process as the benchmark runs
them: every call ok with its agent id from the manifest, CPU and memory per process measured.
(The figures themselves belong to the benchmark, docs/night-at-scale.md, not to this test.)"""

from __future__ import annotations

import pytest

from conftest import need_tool
from tools.make_night import make_night

N = 3


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    need_tool("ffmpeg")
    folder = tmp_path_factory.mktemp("night") / "in"
    make_night(folder, N, seed=3, min_s=8, max_s=12)
    return folder


@pytest.mark.parametrize("route", ["cli:1", "dask:2"])
def test_the_bench_runs_a_tiny_night_through_both_routes(night, tmp_path, route):
    from bench.bench_night import run_route

    r = run_route(route, night, tmp_path / "out", tmp_path / "route.log", early=1)
    assert (r["calls"], r["ok"], r["with_agent_id"]) == (N, N, N)
    assert r["audio_s"] > N * 4 and r["wall_s"] > 0 and r["cpu_s"] > 0
    roles = [m["role"] for m in r["memory"].values()]
    assert "main" in roles and all(m["pss"] > 0 for m in r["memory"].values())
    if route.startswith("dask"):
        assert (tmp_path / "route.log").read_text().count("RESULT ") == 1
