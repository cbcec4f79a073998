"""Loading a rule pack: its two YAML files read with line numbers and checked into a `RulePack`.

A pack is a folder with `phrases.yaml` (what is said) and `rules.yaml` (thresholds,
severities, scorecard). `load_pack("zh-CN")` loads a folder next to this file;
`load_pack("/some/path")` loads any folder. This is the only module that reads pack
files; the analyzers get the frozen `RulePack` (its schema: `analyzers.rules`).

Every mistake raises `PackError` naming the file, the line and the field, so the
person who edited the YAML can fix it without reading Python.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from analyzers.rule_types import kind
from analyzers.rules import RulePack

from analyzers.rulelang.pack import scored

from .layout import OWN_FILE, OwnFiles, PhrasesFile, RulesFile, assemble

PACKS_DIR = Path(__file__).resolve().parent
DEFAULT_PACK = "zh-CN"
PACK_FILES = ("phrases.yaml", "rules.yaml")
#: The pack's meaning examples, one file per intent (flows.meaning): what `intent:` tests name.
INTENTS_DIR = "examples"
#: Files a pack may have (custom_rules.yaml: rules in the rule language, analyzers.rulelang).
OPTIONAL_FILES = tuple(file for file, _ in OWN_FILE.values())
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class PackError(ValueError):
    """A rule pack is broken; `file`, `line` and `field` say where."""

    def __init__(self, file: str | Path, line: int | None, field: str, message: str):
        self.file = str(file)
        self.line = line
        self.field = field
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


# --- YAML with line numbers --------------------------------------------------


class _Map(dict):
    line: int = 0
    lines: dict


class _Seq(list):
    line: int = 0
    lines: list


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key and list item."""


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise PackError(loader.name, line, str(key), "keys must be text")
        if key in result:
            raise PackError(loader.name, line, key, "duplicate key")
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(n, deep=True) for n in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [n.start_mark.line + 1 for n in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def _parse(path: Path, text: str) -> _Map:
    loader = _LineLoader(text)
    loader.name = str(path)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise PackError(path, line, "", f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise PackError(path, None, "", f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, _Map):
        raise PackError(path, 1, "", "the file must be a mapping of fields")
    return data


# --- pydantic's errors as PackError ----------------------------------------------
#
# A check fails with a pydantic error; `_pack_error` turns the first one into a
# `PackError`, with the line from the loader's line tables. The wording is the checks'
# own (`analyzers.rule_types.fail`) or `_EXPECTED`'s for pydantic's built-in error
# types, so the person who edited the YAML reads "expected a number, got str 'fast'".

#: What a field of pydantic's built-in error types expected ("expected X, got Y").
_EXPECTED = {
    "float_type": "a number",
    "finite_number": "a number",
    "int_type": "an integer",
    "string_type": "non-empty text",
    "string_too_short": "non-empty text",
    "bool_type": "true or false",
    "model_type": "a mapping",
}
_ABSENT = object()


def _locate(data: _Map, loc: tuple) -> tuple[int, Any]:
    """The line of `loc` in the parsed YAML (a key's line, a list item's line) and its value."""
    line, node = 1, data
    for step in loc:
        if isinstance(node, _Map) and step in node:
            line, node = node.lines[step], node[step]
        elif isinstance(node, _Seq) and isinstance(step, int) and 0 <= step < len(node):
            line, node = node.lines[step], node[step]
        else:
            return line, _ABSENT
    return line, node


def _dotted(loc: tuple) -> str:
    """('banned', 3, 'severity') -> 'banned[3].severity'."""
    out = ""
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names (as written in the YAML) of the model that validates the mapping at `loc`."""
    def bare(t: Any) -> Any:
        while True:
            if get_origin(t) is Annotated:
                t = get_args(t)[0]
            elif get_origin(t) in (Union, UnionType):  # Optional[...]: the type it holds
                t = next(a for a in get_args(t) if a is not type(None))
            else:
                return t

    def written(t: Any) -> dict[str, Any]:
        return {info.alias or name: info for name, info in bare(t).model_fields.items()}

    t: Any = model
    for step in loc:
        t = bare(t)
        t = get_args(t)[0] if isinstance(step, int) else written(t)[step].annotation
    return sorted(written(t))


def _message(kind_: str, error: dict, value: Any, model: type[BaseModel], loc: tuple) -> str:
    ctx = error.get("ctx") or {}
    if kind_ == "pack":
        return error["msg"]
    if kind_ == "extra_forbidden":
        return f"unknown field (expected one of: {', '.join(_fields_at(model, loc[:-1]))})"
    if kind_ in _EXPECTED:
        return f"expected {_EXPECTED[kind_]}, got {kind(value)}"
    if kind_ == "greater_than_equal":
        return f"must be at least {ctx['ge']:g}, got {value!r}"
    if kind_ == "less_than_equal":
        return f"must be at most {ctx['le']:g}, got {value!r}"
    if kind_ == "too_short":
        return "must not be empty"
    return f"{error['msg']}, got {kind(value)}"


def _pack_error(path: Path, data: _Map, model: type[BaseModel], error: dict) -> PackError:
    loc, kind_ = tuple(error["loc"]), error["type"]
    if kind_ == "missing":  # blamed on the mapping that lacks it, where that is named
        line, _ = _locate(data, loc[:-1])
        return PackError(path, line, _dotted(loc[:-1]), f"missing field '{loc[-1]}'")
    if kind_ == "pack":
        loc = (*loc, *error["ctx"]["at"])
    line, value = _locate(data, loc)
    if value is _ABSENT:
        value = error.get("input")
    return PackError(path, line, _dotted(loc), _message(kind_, error, value, model, loc))


_M = TypeVar("_M", bound=BaseModel)


def _check(model: type[_M], path: Path, data: _Map) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _pack_error(path, data, model, exc.errors()[0]) from None


# --- entry point ---------------------------------------------------------------


def resolve(name_or_path: str | os.PathLike[str] = DEFAULT_PACK) -> Path:
    """A pack name (folder under lexicons/) or a path to a pack folder -> the folder."""
    raw = os.fspath(name_or_path)
    looks_like_path = isinstance(name_or_path, Path) or os.sep in raw or "/" in raw or raw.startswith(".")
    if looks_like_path:
        folder = Path(raw).expanduser()
    else:
        if not _NAME.match(raw):
            raise PackError(raw, None, "", "not a pack name (letters, digits, - _ .) nor a path")
        folder = PACKS_DIR / raw
    if not folder.is_dir():
        known = sorted(p.name for p in PACKS_DIR.iterdir() if (p / "rules.yaml").is_file())
        raise PackError(folder, None, "", f"no such pack folder (packs here: {', '.join(known)})")
    return folder


def _read(folder: Path) -> tuple[dict[str, str], str]:
    """The pack files' text by file name, and the sha256 of their bytes."""
    digest = hashlib.sha256()
    texts = {}
    for file_name in (*PACK_FILES, *OPTIONAL_FILES):
        path = folder / file_name
        if not path.is_file():
            if file_name in OPTIONAL_FILES:  # absent: hashed as before, so the pack's version stays
                continue
            raise PackError(path, None, "", "missing pack file")
        raw = path.read_bytes()
        digest.update(file_name.encode() + b"\0" + raw + b"\0")
        try:
            texts[file_name] = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PackError(path, None, "", f"not UTF-8 text: {exc}") from None
    # the intent examples decide meaning hits, so they are part of the pack's version
    for path in sorted((folder / "examples").glob("*.yaml")):
        digest.update(b"examples/" + path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return texts, digest.hexdigest()


def _check_items(path: Path, data: _Map, rules: tuple, scorecard: Any) -> None:
    """Each rule's `item` names a graded item of rules.yaml's scorecard."""
    graded = [i.id for i in scorecard.items if not i.manual]
    for n, rule in enumerate(rules):
        if rule.item is not None and rule.item not in graded:
            line, _ = _locate(data, ("rules", n, "item"))
            raise PackError(path, line, f"rules[{n}].item",
                            f"{rule.item!r} is not a graded scorecard item (graded: {', '.join(graded)})")


def _check_intents(path: Path, data: _Map, rules: tuple, examples: Path) -> None:
    """Each `intent:` test names an intent of the pack's meaning examples (examples/NAME.yaml)."""
    if not examples.is_dir():
        return
    known = sorted(p.stem for p in examples.glob("*.yaml"))
    for n, rule in enumerate(rules):
        for part, top in rule.named_parts():
            for cond in top.walk():
                if isinstance(cond.intent, str) and cond.intent not in known:
                    line, _ = _locate(data, ("rules", n, part))
                    raise PackError(path, line, f"rules[{n}].{part}", f"intent {cond.intent!r} has no examples "
                                    f"in {examples.name}/ (intents: {', '.join(known)})")


def _check_references(path: Path, data: _Map, rules: tuple) -> None:
    """Each `{list: ...}` names a phrase list of the pack, each `{setting: ...}` an intent setting."""
    for n, rule in enumerate(rules):
        for part, top in rule.named_parts():
            for cond in top.walk():
                problem = RulePack.reference_problem(getattr(cond.phrases, "list_", None), "phrases") \
                    or RulePack.reference_problem(getattr(cond.intent, "setting", None), "meaning")
                if problem:
                    line, _ = _locate(data, ("rules", n, part))
                    raise PackError(path, line, f"rules[{n}].{part}", problem)


def load_pack(name_or_path: str | os.PathLike[str] = DEFAULT_PACK) -> RulePack:
    """Load and check a rule pack; raises `PackError` naming file, line and field."""
    folder = resolve(name_or_path)
    texts, content_hash = _read(folder)
    phrases_path, rules_path = folder / "phrases.yaml", folder / "rules.yaml"
    phrases = _check(PhrasesFile, phrases_path, _parse(phrases_path, texts["phrases.yaml"]))
    rules = _check(RulesFile, rules_path, _parse(rules_path, texts["rules.yaml"]))
    own = {}
    for name, (file_name, model) in OwnFiles.items():
        if file_name in texts:
            path = folder / file_name
            data = _parse(path, texts[file_name])
            own[name] = getattr(_check(model, path, data), OWN_FILE[name][1])
            _check_items(path, data, own[name], rules.scorecard)
            _check_intents(path, data, own[name], folder / INTENTS_DIR)
            _check_references(path, data, own[name])
    data = assemble(phrases, rules, content_hash=content_hash, **own)
    data["scorecard"] = scored(rules.scorecard, own.get("custom_rules", ()))
    try:
        return RulePack.model_validate(data)
    except ValidationError as exc:  # a check across the two files (none today) has no one line to name
        error = exc.errors()[0]
        raise PackError(folder, None, _dotted(tuple(error["loc"])), error["msg"]) from None
