"""The Parquet output contract: four tables, their schemas derived from the data model.

`calls` is `CallResult` without its child tuples; `utterances`, `findings` and `scores`
are `Utterance` (without word timings), `Finding` and `ItemScore`, each with `call_id`
in front; a finding also carries its position in the call (`finding_index`), which the
scores' `finding_refs` name. A field
added to the dataclasses appears here by itself; renaming one is a contract change and
needs SCHEMA_VERSION bumped.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal

import pyarrow as pa

from analyzers.model import CallResult, Finding, ItemScore, Utterance

SCHEMA_VERSION = "3"
TABLES = ("calls", "utterances", "findings", "scores")

_CHILD_FIELDS = {"utterances", "findings", "scores", "words"}


def _arrow_type(tp: Any) -> tuple[pa.DataType, bool]:
    """(arrow type, nullable) for a dataclass field annotation."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        (inner,) = args
        return _arrow_type(inner)[0], True
    if origin is tuple:  # tuple[X, ...]: a list column
        (inner, _ellipsis) = typing.get_args(tp)
        return pa.list_(_arrow_type(inner)[0]), False
    if origin is Literal or tp is str:
        return pa.string(), False
    if tp is float:
        return pa.float64(), False
    if tp is bool:
        return pa.bool_(), False
    if tp is int:
        return pa.int64(), False
    raise TypeError(f"no Parquet type for {tp!r}")


def _fields_of(cls: type) -> list[pa.Field]:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.name in _CHILD_FIELDS:
            continue
        arrow_type, nullable = _arrow_type(hints[f.name])
        out.append(pa.field(f.name, arrow_type, nullable=nullable))
    return out


def _schema(name: str, fields: list[pa.Field]) -> pa.Schema:
    return pa.schema(
        fields,
        metadata={"callqa.schema_version": SCHEMA_VERSION, "callqa.table": name},
    )


_CALL_ID = pa.field("call_id", pa.string(), nullable=False)

CALLS = _schema("calls", _fields_of(CallResult))
UTTERANCES = _schema("utterances", [_CALL_ID, *_fields_of(Utterance)])
_FINDING_INDEX = pa.field("finding_index", pa.int64(), nullable=True)  # null in schema-1 files
FINDINGS = _schema("findings", [_CALL_ID, _FINDING_INDEX, *_fields_of(Finding)])
SCORES = _schema("scores", [_CALL_ID, *_fields_of(ItemScore)])
SCHEMAS = {"calls": CALLS, "utterances": UTTERANCES, "findings": FINDINGS, "scores": SCORES}


def rows(result: CallResult) -> dict[str, list[dict]]:
    """The rows one call contributes to each table."""
    call_row = {f.name: getattr(result, f.name) for f in CALLS}
    utt_rows = [
        {"call_id": result.call_id, **{f.name: getattr(u, f.name) for f in UTTERANCES if f.name != "call_id"}}
        for u in result.utterances
    ]
    finding_rows = [
        {"call_id": result.call_id, "finding_index": i,
         **{f.name: getattr(x, f.name) for f in FINDINGS if f.name not in ("call_id", "finding_index")}}
        for i, x in enumerate(result.findings)
    ]
    score_rows = [
        {"call_id": result.call_id, **{f.name: getattr(x, f.name) for f in SCORES if f.name != "call_id"}}
        for x in result.scores
    ]
    return {"calls": [call_row], "utterances": utt_rows, "findings": finding_rows, "scores": score_rows}


def tables(result: CallResult) -> dict[str, pa.Table]:
    """One Arrow table per output table for one call, typed by the schemas above."""
    return {
        name: pa.Table.from_pylist(table_rows, schema=SCHEMAS[name])
        for name, table_rows in rows(result).items()
    }
