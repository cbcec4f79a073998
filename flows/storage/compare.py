"""Compare two output folders' tables, leaving out the columns that vary from run to run.

    python -m flows.storage.compare A B     # exit 0 when equal, 1 with the differing rows

Two runs of the same recordings with the same settings must write the same rows in every
table (calls, utterances, findings, scores) except analyzers.model.RUN_VARYING_COLUMNS
(when a call was processed, how long its stages took). Refactors are checked with it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from analyzers.model import RUN_VARYING_COLUMNS
from flows.storage.schema import TABLES


@dataclass
class TableDiff:
    """How one table differs between folders `a` and `b` (rows as sorted tuples)."""

    table: str
    only_a: list = field(default_factory=list)
    only_b: list = field(default_factory=list)
    columns: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.only_a or self.only_b)


def _rows(folder: Path, table: str) -> tuple[tuple[str, ...], list[tuple]]:
    """The table's comparable columns and its rows, sorted; no rows when it is absent."""
    import pyarrow.dataset as ds

    path = folder / table
    if not path.is_dir():
        return (), []
    data = ds.dataset(path, format="parquet").to_table()
    columns = tuple(sorted(c for c in data.column_names if c not in RUN_VARYING_COLUMNS))
    rows = data.select(list(columns)).to_pylist()
    return columns, sorted((tuple(repr(r[c]) for c in columns) for r in rows))


def compare(a: str | Path, b: str | Path, tables: tuple[str, ...] = TABLES) -> list[TableDiff]:
    """The tables whose rows differ between output folders `a` and `b` (empty: identical)."""
    diffs = []
    for table in tables:
        cols_a, rows_a = _rows(Path(a), table)
        cols_b, rows_b = _rows(Path(b), table)
        if cols_a != cols_b:
            diffs.append(TableDiff(table, [("columns", *cols_a)], [("columns", *cols_b)], cols_a or cols_b))
            continue
        left, right = list(rows_a), list(rows_b)
        for row in rows_b:  # a multiset difference: a row twice in one table and once in the other differs
            if row in left:
                left.remove(row)
                right.remove(row)
        if left or right:
            diffs.append(TableDiff(table, left, right, cols_a))
    return diffs


def describe(diffs: list[TableDiff], limit: int = 20) -> str:
    """The differing rows, table by table, as `column=value` lines (at most `limit` per side)."""
    lines = []
    for d in diffs:
        lines.append(f"{d.table}: {len(d.only_a)} row(s) only in A, {len(d.only_b)} only in B")
        for side, rows in (("A", d.only_a), ("B", d.only_b)):
            for row in rows[:limit]:
                lines.append(f"  {side}: " + ", ".join(f"{c}={v}" for c, v in zip(d.columns, row)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.storage.compare", description=__doc__.split("\n")[0])
    parser.add_argument("a", metavar="A", help="an output folder")
    parser.add_argument("b", metavar="B", help="another output folder")
    args = parser.parse_args(argv)
    for folder in (args.a, args.b):
        if not (Path(folder) / "calls").is_dir():
            print(f"compare: no run output in {folder} (expected {Path(folder) / 'calls'}/)", file=sys.stderr)
            return 2
    diffs = compare(args.a, args.b)
    if diffs:
        print(describe(diffs))
        return 1
    print(f"identical: {', '.join(TABLES)} (run-varying columns left out: {', '.join(RUN_VARYING_COLUMNS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
