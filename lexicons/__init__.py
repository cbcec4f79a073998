"""Rule packs: the YAML files QA staff edit, loaded and checked into a `RulePack`.

A pack is a folder with `phrases.yaml` (what is said) and `rules.yaml` (thresholds,
severities, scorecard). `load_pack("zh-CN")` loads a folder next to this file;
`load_pack("/some/path")` loads any folder. This is the only module that reads
pack files; the analyzers get the frozen `RulePack`.

Every mistake raises `PackError` naming the file, the line and the field, so the
person who edited the YAML can fix it without reading Python.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Annotated, Any, Callable, TypeVar, get_args, get_origin

import yaml
from pydantic import (AfterValidator, AllowInfNan, BaseModel, BeforeValidator, ConfigDict, Field, Strict,
                      StrictBool, StringConstraints, ValidationError, create_model, model_validator)
from pydantic_core import PydanticCustomError

from analyzers.model import CATEGORIES
from analyzers.rules import (
    GRADES,
    REGEX_PREFIX,
    SEVERITIES,
    BannedEntry,
    ClosingRules,
    ComplaintRules,
    ConfirmationRules,
    CourtesyRules,
    RefusalRules,
    VoiceRules,
    FollowupRules,
    GreetingRules,
    HoldRules,
    OvertalkRules,
    PhraseGroup,
    RateRules,
    RulePack,
    ScoreItem,
    ScorecardRules,
)
from analyzers.text import find_phrase, normalise
from analyzers.tokens import canonical, check_pattern

__all__ = ["DEFAULT_PACK", "PACKS_DIR", "PackError", "RulePack", "load_pack"]

PACKS_DIR = Path(__file__).resolve().parent
DEFAULT_PACK = "zh-CN"
PACK_FILES = ("phrases.yaml", "rules.yaml")
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


# --- the schema: one pydantic model per YAML section --------------------------
#
# A check fails with a pydantic error; `_pack_error` turns the first one into a
# `PackError`, with the line from the loader's line tables. The wording is the
# checks' own (`_fail`) or `_EXPECTED`'s for pydantic's built-in error types, so the
# person who edited the YAML reads "expected a number, got str 'fast'", not pydantic.


def _kind(value: Any) -> str:
    if isinstance(value, _Map):
        return "a mapping"
    if isinstance(value, _Seq):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def _fail(message: str, *at: str | int) -> PydanticCustomError:
    """An error for a check to raise; `at` is the path below the checked value that it
    blames (a cross-field check on a mapping names the field, a list check the item)."""
    return PydanticCustomError("pack", "{message}", {"message": message, "at": at})


def _list(value: Any) -> Any:
    # Only a YAML list: pydantic's own tuple would also take a set (!!set) or a tuple.
    if not isinstance(value, list):
        raise _fail(f"expected a list, got {_kind(value)}")
    return value


def _lists_of(what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise _fail(f"expected a non-empty list of {what}, got {_kind(value)}")
        return value

    return check


def _one_of(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise _fail(f"{value!r} is not one of {', '.join(options)}")
        return value

    return check


def _number_as_text(value: Any) -> Any:
    # version: 2 is a fine thing for a person to write
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _phrase(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"expected a non-empty phrase, got {_kind(value)}")
    value = value.strip()
    if value.startswith(REGEX_PREFIX):
        try:
            re.compile(value[len(REGEX_PREFIX):])
        except re.error as exc:
            raise _fail(f"bad regular expression {value!r}: {exc}") from None
    return value


def _literal_phrase(value: Any) -> str:
    phrase = _phrase(value)
    if phrase.startswith(REGEX_PREFIX):
        raise _fail("banned phrases are literal text, not regular expressions")
    return phrase


def _token_pattern(value: Any) -> str:
    """A spaCy Matcher token pattern (a list of token mappings), checked by spaCy itself."""
    plain = _plain(value)
    problem = check_pattern(plain)
    if problem:
        raise _fail(f"not a valid token pattern: {problem}")
    return canonical(plain)


def _plain(value: Any) -> Any:
    """YAML's line-numbered containers as plain lists and dicts (for spaCy and JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _selector(value: Any) -> str:
    """A finding selector: a category, or category:rule_id."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"expected a category or category:rule_id, got {_kind(value)}")
    category, _, rule_id = value.strip().partition(":")
    if category not in CATEGORIES:
        raise _fail(f"{category!r} is not one of {', '.join(CATEGORIES)}")
    if ":" in value and not rule_id:
        raise _fail("a rule id must follow the ':'")
    return value.strip()


_LIST = BeforeValidator(_list)
# Strict: a quoted "0.7" or "20" in YAML is text, and a number field must not take it.
_Real = Annotated[float, Strict(), AllowInfNan(False)]
Number = Annotated[_Real, Field(ge=0)]
Fraction = Annotated[_Real, Field(ge=0, le=1)]
Percent = Annotated[_Real, Field(ge=0, le=100)]
Count = Annotated[int, Strict(), Field(ge=0)]
AtLeastOne = Annotated[int, Strict(), Field(ge=1)]
GradesDown = Annotated[int, Strict(), Field(ge=0, le=5)]
Text = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1)]
Version = Annotated[Text, BeforeValidator(_number_as_text)]
Severity = Annotated[str, BeforeValidator(_one_of(SEVERITIES))]
Grade = Annotated[str, BeforeValidator(_one_of(GRADES))]
Category = Annotated[str, BeforeValidator(_one_of(CATEGORIES))]
Phrase = Annotated[str, BeforeValidator(_phrase)]
Phrases = Annotated[tuple[Phrase, ...], _LIST, Field(min_length=1)]
LiteralPhrase = Annotated[str, BeforeValidator(_literal_phrase)]
TokenPattern = Annotated[str, BeforeValidator(_token_pattern)]
Selector = Annotated[str, BeforeValidator(_selector)]
Clause = Annotated[tuple[Phrase, ...], BeforeValidator(_lists_of("phrases"))]
Point = Annotated[tuple[Selector, ...], BeforeValidator(_lists_of("selectors"))]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _unique_ids(records: tuple[Any, ...]) -> tuple[Any, ...]:
    seen: set[str] = set()
    for i, record in enumerate(records):
        if record.id in seen:
            raise _fail(f"duplicate id {record.id!r}", i, "id")
        seen.add(record.id)
    return records


# phrases.yaml


class _Group(_Section):
    id: Text
    any: Phrases = ()
    all: Annotated[tuple[Clause, ...], BeforeValidator(_lists_of("phrase lists"))] = ()
    severity: Severity = ""

    @model_validator(mode="before")
    @classmethod
    def _one_form(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("any" in data) == ("all" in data):
            raise _fail("needs exactly one of 'any' (one phrase of a list) or 'all' (lists that all must match)")
        return data

    def rules(self) -> PhraseGroup:
        return PhraseGroup(self.id, (self.any,) if self.any else self.all, self.severity)


class _Banned(_Section):
    id: Text
    phrases: Annotated[tuple[LiteralPhrase, ...], _LIST, Field(min_length=1)] = ()
    patterns: Annotated[tuple[TokenPattern, ...], _LIST, Field(min_length=1)] = ()
    severity: Severity
    allow: Annotated[tuple[LiteralPhrase, ...], _LIST] = ()
    allow_patterns: Annotated[tuple[TokenPattern, ...], _LIST] = ()
    note: Text = ""
    homophones: StrictBool = True

    @model_validator(mode="after")
    def _usable(self) -> "_Banned":
        if not self.phrases and not self.patterns:
            raise _fail("needs 'phrases' (literal text) or 'patterns' (token patterns), or both")
        # An allowed form must contain a phrase (or a sound-alike: 步行 for 不行), else it
        # can never cover a hit and is most likely a typo. Entries with token patterns are
        # exempt: a pattern's hit has no fixed text to contain.
        for i, allowed in enumerate(() if self.patterns else self.allow):
            if not any(find_phrase(normalise(allowed), normalise(p), self.homophones) for p in self.phrases):
                raise _fail(f"{allowed!r} contains none of the phrases, so it can never excuse a hit", "allow", i)
        return self

    def rules(self) -> BannedEntry:
        return BannedEntry(self.id, self.phrases, self.severity, self.allow, self.note, self.homophones,
                           self.patterns, self.allow_patterns)


class _ComplaintPhrases(_Section):
    customer: Phrases
    acknowledge: Phrases


class _FollowupPhrases(_Section):
    promise: Phrases
    time_frame: Phrases
    asks_time: Phrases
    this_call: Phrases


class _CourtesyPhrases(_Section):
    request: Phrases
    polite: Phrases
    thanks: Phrases
    customer_thanks: Phrases
    reply: Phrases


class _RefusalPhrases(_Section):
    customer: Phrases
    apology: Phrases
    appointment: Phrases


_Groups = Annotated[tuple[_Group, ...], _LIST, AfterValidator(_unique_ids)]


class _PhrasesFile(_Section):
    greeting: _Groups
    outbound_greeting: _Groups
    closing: _Groups
    hold_notice: Phrases
    hold_apology: Phrases
    hold_reason: Phrases
    backchannel: Phrases
    confirmation: Phrases
    banned: Annotated[tuple[_Banned, ...], _LIST, AfterValidator(_unique_ids)]
    complaint: _ComplaintPhrases
    followup: _FollowupPhrases
    courtesy: _CourtesyPhrases
    outbound_refusal: _RefusalPhrases


# rules.yaml


class _Rate(_Section):
    pause_s: Number
    agent_min_chars_per_min: Number
    agent_max_chars_per_min: Number
    pace_ratio_min: Number
    pace_ratio_max: Number
    min_chars: Count
    min_utterance_chars: Count
    fast_severity: Severity = "minor"
    slow_severity: Severity = "minor"
    pace_severity: Severity = "minor"
    match_tolerance: Fraction

    @model_validator(mode="after")
    def _bands(self) -> "_Rate":
        if self.agent_min_chars_per_min >= self.agent_max_chars_per_min:
            raise _fail("must be above agent_min_chars_per_min", "agent_max_chars_per_min")
        if self.pace_ratio_min >= self.pace_ratio_max:
            raise _fail("must be above pace_ratio_min", "pace_ratio_max")
        return self


class _Holds(_Section):
    min_hold_s: Annotated[_Real, Field(ge=0.1)]
    notice_lookback_s: Number
    notice_utterances: AtLeastOne
    apology_lookahead_s: Number
    apology_utterances: AtLeastOne
    hold_severity: Severity = "info"
    notice_missing_severity: Severity = "minor"
    apology_missing_severity: Severity = "minor"
    reason_min_hold_s: Number
    reason_missing_severity: Severity = "info"


class _Greeting(_Section):
    opening_s: Number
    severity: Severity = "major"


class _Closing(_Section):
    last_utterances: AtLeastOne
    closing_s: Number
    severity: Severity = "major"


class _Overtalk(_Section):
    min_overlap_s: Number
    severity: Severity = "minor"
    backchannel_max_s: Number


class _Complaint(_Section):
    within_chars: Count
    severity: Severity


class _Confirmation(_Section):
    min_customer_chars: Count
    severity: Severity


class _SeverityOnly(_Section):
    severity: Severity


class _Courtesy(_Section):
    polite_request_severity: Severity
    thanks_severity: Severity
    reply_severity: Severity


class _Voice(_Section):
    raised_db: Number
    min_utterances: AtLeastOne
    min_duration_s: Number
    severity: Severity


class _Item(_Section):
    id: Text
    name: Text
    weight: Number
    manual: StrictBool = False
    findings: Annotated[tuple[Selector, ...], _LIST, Field(min_length=1)] = ()
    points: Annotated[tuple[Point, ...], BeforeValidator(_lists_of("selector lists"))] = ()
    manual_points: Count = 0

    @model_validator(mode="after")
    def _one_way(self) -> "_Item":
        if self.manual and (self.findings or self.points):
            raise _fail("a manual item has no 'findings' or 'points' (no recording can judge it)", "manual")
        if not self.manual and bool(self.findings) == bool(self.points):
            raise _fail("needs exactly one of 'findings' (graded by deduction) or 'points' "
                        "(one grade down per point missed), or 'manual: true'")
        return self

    def rules(self) -> ScoreItem:
        return ScoreItem(self.id, self.name, self.weight, self.findings, self.points, self.manual_points,
                         not self.manual)


def _items(items: tuple[_Item, ...]) -> tuple[_Item, ...]:
    if not items:
        raise _fail("needs at least one item")
    owner: dict[str, str] = {}
    for i, item in enumerate(items):
        for key, selectors in (("findings", item.findings), ("points", [s for p in item.points for s in p])):
            for sel in selectors:
                if sel in owner:
                    raise _fail(f"{sel!r} is already counted by item {owner[sel]!r}", i, key)
                owner[sel] = item.id
    _unique_ids(items)
    if sum(i.weight for i in items if not i.manual) <= 0:
        raise _fail("the graded items' weights must not all be zero")
    return items


class _NonIncreasing(_Section):
    """A grade table: each grade's value at most the value of the grade above."""

    @model_validator(mode="after")
    def _order(self) -> "_NonIncreasing":
        grades = list(type(self).model_fields)
        for above, grade in zip(grades, grades[1:]):
            if getattr(self, grade) > getattr(self, above):
                raise _fail(f"must be at most the value for the grade above ({getattr(self, above):g})", grade)
        return self


# Built from the constants, so the YAML's keys are the analyzers' severities and grades.
_Deduction = create_model("_Deduction", __base__=_Section, **{s: (GradesDown, ...) for s in SEVERITIES})
_GradeMinScore = create_model("_GradeMinScore", __base__=_NonIncreasing, **{g: (Percent, ...) for g in GRADES[:5]})


class _Flag(_Section):
    below_score: Percent = None  # absent: no score threshold (an explicit null is refused)
    grades: Annotated[tuple[Grade, ...], _LIST] = ()
    severities: Annotated[tuple[Severity, ...], _LIST] = ()
    categories: Annotated[tuple[Category, ...], _LIST] = ()
    item_grades: Annotated[tuple[Grade, ...], _LIST] = ()


class _Scorecard(_Section):
    items: Annotated[tuple[_Item, ...], _LIST, AfterValidator(_items)]
    deduction: _Deduction
    grade_min_score: _GradeMinScore
    flag: _Flag

    def rules(self) -> ScorecardRules:
        return ScorecardRules(
            items=tuple(i.rules() for i in self.items),
            deduction=tuple((s, getattr(self.deduction, s)) for s in SEVERITIES),
            grade_min_score=tuple(getattr(self.grade_min_score, g) for g in GRADES[:5]),
            flag_below_score=self.flag.below_score,
            flag_grades=self.flag.grades,
            flag_severities=self.flag.severities,
            flag_categories=self.flag.categories,
            flag_item_grades=self.flag.item_grades,
        )


class _RulesFile(_Section):
    name: Text
    version: Version
    rate: _Rate
    holds: _Holds
    greeting: _Greeting
    closing: _Closing
    overtalk: _Overtalk
    complaint: _Complaint
    confirmation: _Confirmation
    followup: _SeverityOnly
    courtesy: _Courtesy
    outbound_refusal: _SeverityOnly
    voice: _Voice
    scorecard: _Scorecard


def _rule_pack(p: _PhrasesFile, r: _RulesFile, content_hash: str) -> RulePack:
    """The checked YAML as the analyzers' frozen dataclasses."""
    def groups(gs: tuple[_Group, ...]) -> tuple[PhraseGroup, ...]:
        return tuple(g.rules() for g in gs)

    return RulePack(
        name=r.name,
        version=r.version,
        content_hash=content_hash,
        rate=RateRules(**r.rate.model_dump()),
        holds=HoldRules(**r.holds.model_dump(), notice_phrases=p.hold_notice, apology_phrases=p.hold_apology,
                        reason_phrases=p.hold_reason),
        greeting=GreetingRules(r.greeting.opening_s, groups(p.greeting), r.greeting.severity, groups(p.outbound_greeting)),
        closing=ClosingRules(r.closing.last_utterances, r.closing.closing_s, groups(p.closing), r.closing.severity),
        banned=tuple(b.rules() for b in p.banned),
        overtalk=OvertalkRules(r.overtalk.min_overlap_s, r.overtalk.severity, p.backchannel, r.overtalk.backchannel_max_s),
        scorecard=r.scorecard.rules(),
        complaint=ComplaintRules(p.complaint.customer, p.complaint.acknowledge, r.complaint.within_chars,
                                 r.complaint.severity),
        confirmation=ConfirmationRules(p.confirmation, r.confirmation.min_customer_chars, r.confirmation.severity),
        followup=FollowupRules(p.followup.promise, p.followup.time_frame, p.followup.asks_time, p.followup.this_call,
                               r.followup.severity),
        courtesy=CourtesyRules(p.courtesy.request, p.courtesy.polite, p.courtesy.thanks, p.courtesy.customer_thanks,
                               p.courtesy.reply, r.courtesy.polite_request_severity, r.courtesy.thanks_severity,
                               r.courtesy.reply_severity),
        voice=VoiceRules(r.voice.raised_db, r.voice.min_utterances, r.voice.min_duration_s, r.voice.severity),
        refusal=RefusalRules(p.outbound_refusal.customer, p.outbound_refusal.apology, p.outbound_refusal.appointment,
                             r.outbound_refusal.severity),
    )


# --- pydantic's errors as PackError ----------------------------------------------

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
    """The field names of the model that validates the mapping at `loc`."""
    def bare(t: Any) -> Any:
        while get_origin(t) is Annotated:
            t = get_args(t)[0]
        return t

    t: Any = model
    for step in loc:
        t = bare(t)
        t = get_args(t)[0] if isinstance(step, int) else t.model_fields[step].annotation
    return sorted(bare(t).model_fields)


def _pack_error(path: Path, data: _Map, model: type[BaseModel], error: dict) -> PackError:
    loc, kind, ctx = tuple(error["loc"]), error["type"], error.get("ctx") or {}
    if kind == "missing":  # blamed on the mapping that lacks it, where that is named
        line, _ = _locate(data, loc[:-1])
        return PackError(path, line, _dotted(loc[:-1]), f"missing field '{loc[-1]}'")
    if kind == "pack":
        loc = (*loc, *ctx["at"])
    line, value = _locate(data, loc)
    if value is _ABSENT:
        value = error.get("input")
    if kind == "pack":
        message = error["msg"]
    elif kind == "extra_forbidden":
        message = f"unknown field (expected one of: {', '.join(_fields_at(model, loc[:-1]))})"
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {_kind(value)}"
    elif kind == "greater_than_equal":
        message = f"must be at least {ctx['ge']:g}, got {value!r}"
    elif kind == "less_than_equal":
        message = f"must be at most {ctx['le']:g}, got {value!r}"
    elif kind == "too_short":
        message = "must not be empty"
    else:
        message = f"{error['msg']}, got {_kind(value)}"
    return PackError(path, line, _dotted(loc), message)


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


def load_pack(name_or_path: str | os.PathLike[str] = DEFAULT_PACK) -> RulePack:
    """Load and check a rule pack; raises `PackError` naming file, line and field."""
    folder = resolve(name_or_path)
    digest = hashlib.sha256()
    texts = {}
    for file_name in PACK_FILES:
        path = folder / file_name
        if not path.is_file():
            raise PackError(path, None, "", "missing pack file")
        raw = path.read_bytes()
        digest.update(file_name.encode() + b"\0" + raw + b"\0")
        try:
            texts[file_name] = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PackError(path, None, "", f"not UTF-8 text: {exc}") from None
    phrases_path, rules_path = folder / "phrases.yaml", folder / "rules.yaml"
    phrases = _check(_PhrasesFile, phrases_path, _parse(phrases_path, texts["phrases.yaml"]))
    rules = _check(_RulesFile, rules_path, _parse(rules_path, texts["rules.yaml"]))
    return _rule_pack(phrases, rules, digest.hexdigest())
