"""Two routes, one run: `callqa run` and the Prefect flow over the same recordings write the
same four tables (flows.storage.compare), and the comparison finds a row that differs.

The recordings carry their transcripts (runs.byo_inputs): each is decoded, its speech
detected, cached and analysed for real, but no whisper runs, so this runs in CI.
"""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from prefect.testing.utilities import prefect_test_harness

from flows.cli import main
from flows.storage.compare import compare, describe
from flows.storage.compare import main as compare_main
from runs import byo_inputs


@pytest.fixture(scope="module")
def two_routes(tmp_path_factory):
    """(cli output, flow output) of the same supplied-transcript recordings."""
    from flows.flow import qa_batch

    root = tmp_path_factory.mktemp("routes")
    inputs = root / "in"
    byo_inputs(inputs, copies=1)
    cli_out, flow_out = root / "cli", root / "flow"
    assert main(["run", str(inputs), "--out", str(cli_out), "--model", "base", "--engine", "openai",
                 "--quiet", "--no-report"]) == 0
    with prefect_test_harness(server_startup_timeout=180):
        summary = qa_batch([str(inputs)], str(flow_out), model="base", engine="openai")
    assert summary["ok"] == 3 and summary["errors"] == 0
    return cli_out, flow_out


def test_the_cli_and_the_flow_write_the_same_tables(two_routes, capsys):
    cli_out, flow_out = two_routes
    assert compare(cli_out, flow_out) == []
    assert compare_main([str(cli_out), str(flow_out)]) == 0
    assert "identical: calls, utterances, findings, scores" in capsys.readouterr().out


def test_a_changed_row_is_found_and_named(two_routes, tmp_path, capsys):
    cli_out, _ = two_routes
    changed = tmp_path / "changed"
    shutil.copytree(cli_out, changed)
    path = sorted((changed / "calls").glob("*.parquet"))[0]
    table = pq.read_table(path)
    grades = table.column("grade").to_pylist()
    table = table.set_column(table.schema.get_field_index("grade"), "grade",
                             pa.array(["F" if g != "F" else "A" for g in grades], table.schema.field("grade").type))
    pq.write_table(table, path)
    diffs = compare(cli_out, changed)
    assert [d.table for d in diffs] == ["calls"]
    assert len(diffs[0].only_a) == len(diffs[0].only_b) == 1
    assert "grade='F'" in describe(diffs) or "grade='A'" in describe(diffs)
    assert compare_main([str(cli_out), str(changed)]) == 1
    assert "calls: 1 row(s) only in A, 1 only in B" in capsys.readouterr().out
    shutil.rmtree(changed / "scores")  # a table gone from one side differs too
    assert "scores" in [d.table for d in compare(cli_out, changed)]


def test_run_varying_columns_are_left_out(two_routes):
    """The two runs differ in processed_at and stage seconds, and still compare equal."""
    cli_out, flow_out = two_routes
    a = pq.read_table(sorted((cli_out / "calls").glob("*.parquet"))[0]).column("processed_at").to_pylist()
    b = pq.read_table(sorted((flow_out / "calls").glob("*.parquet"))[0]).column("processed_at").to_pylist()
    assert a != b
