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
import math
import os
import re
from pathlib import Path
from typing import Any, Callable

import yaml

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


# --- field checking ----------------------------------------------------------


class _Fields:
    """One YAML mapping being read: takes fields, then complains about leftovers."""

    def __init__(self, file: Path, data: Any, path: str, line: int):
        self.file = file
        self.path = path
        if not isinstance(data, _Map):
            raise PackError(file, line, path or "(top)", f"expected a mapping, got {_kind(data)}")
        self.data = data
        #: Where the mapping is named (its key's line): what a missing field points at.
        self.where_line = line
        self.seen: set[str] = set()

    def field(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def line(self, key: str | None = None) -> int:
        if key is not None and key in self.data.lines:
            return self.data.lines[key]
        return self.where_line

    def error(self, key: str | None, message: str) -> PackError:
        return PackError(self.file, self.line(key), self.field(key) if key else self.path, message)

    def get(self, key: str, check: Callable[[Any, "_Fields", str], Any], default: Any = ...) -> Any:
        self.seen.add(key)
        if key not in self.data:
            if default is ...:
                raise self.error(None, f"missing field '{key}'")
            return default
        return check(self.data[key], self, key)

    def sub(self, key: str) -> "_Fields":
        self.seen.add(key)
        if key not in self.data:
            raise self.error(None, f"missing field '{key}'")
        return _Fields(self.file, self.data[key], self.field(key), self.line(key))

    def done(self) -> None:
        for key in self.data:
            if key not in self.seen:
                raise self.error(key, f"unknown field (expected one of: {', '.join(sorted(self.seen))})")


def _kind(value: Any) -> str:
    if isinstance(value, _Map):
        return "a mapping"
    if isinstance(value, _Seq):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def _number(minimum: float | None = None, maximum: float | None = None, integer: bool = False):
    def check(value: Any, f: _Fields, key: str) -> float | int:
        ok = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok or (isinstance(value, float) and not math.isfinite(value)):
            raise f.error(key, f"expected {'an integer' if integer else 'a number'}, got {_kind(value)}")
        if minimum is not None and value < minimum:
            raise f.error(key, f"must be at least {minimum:g}, got {value!r}")
        if maximum is not None and value > maximum:
            raise f.error(key, f"must be at most {maximum:g}, got {value!r}")
        return value if integer else float(value)

    return check


def _text(value: Any, f: _Fields, key: str) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and key == "version":
        return str(value)  # version: 2 is a fine thing for a person to write
    if not isinstance(value, str) or not value.strip():
        raise f.error(key, f"expected non-empty text, got {_kind(value)}")
    return value.strip()


def _choice(options: tuple[str, ...]):
    def check(value: Any, f: _Fields, key: str) -> str:
        if value not in options:
            raise f.error(key, f"{value!r} is not one of {', '.join(options)}")
        return value

    return check


def _phrase(value: Any, f: _Fields, where: str, line: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PackError(f.file, line, where, f"expected a non-empty phrase, got {_kind(value)}")
    value = value.strip()
    if value.startswith(REGEX_PREFIX):
        try:
            re.compile(value[len(REGEX_PREFIX):])
        except re.error as exc:
            raise PackError(f.file, line, where, f"bad regular expression {value!r}: {exc}") from None
    return value


def _list_of(item: Callable[[Any, _Fields, str, int], Any], allow_empty: bool = False):
    def check(value: Any, f: _Fields, key: str) -> tuple:
        if not isinstance(value, _Seq):
            raise f.error(key, f"expected a list, got {_kind(value)}")
        if not value and not allow_empty:
            raise f.error(key, "must not be empty")
        return tuple(item(v, f, f"{f.field(key)}[{i}]", value.lines[i]) for i, v in enumerate(value))

    return check


def _severity_or_category(options: tuple[str, ...]):
    def item(value: Any, f: _Fields, where: str, line: int) -> str:
        if value not in options:
            raise PackError(f.file, line, where, f"{value!r} is not one of {', '.join(options)}")
        return value

    return item


def _records(value: Any, f: _Fields, key: str) -> list[_Fields]:
    if not isinstance(value, _Seq):
        raise f.error(key, f"expected a list, got {_kind(value)}")
    return [_Fields(f.file, v, f"{f.field(key)}[{i}]", value.lines[i]) for i, v in enumerate(value)]


def _unique_ids(records: list[_Fields], ids: list[str]) -> None:
    seen: set[str] = set()
    for rec, id_ in zip(records, ids):
        if id_ in seen:
            raise rec.error("id", f"duplicate id {id_!r}")
        seen.add(id_)


# --- the two files -----------------------------------------------------------


def _groups(f: _Fields, key: str) -> tuple[PhraseGroup, ...]:
    records = f.get(key, _records)
    groups = []
    for rec in records:
        id_ = rec.get("id", _text)
        if ("any" in rec.data) == ("all" in rec.data):
            raise rec.error(None, "needs exactly one of 'any' (one phrase of a list) or 'all' (lists that all must match)")
        if "any" in rec.data:
            clauses = (rec.get("any", _list_of(_phrase)),)
        else:
            rec.seen.add("all")
            clauses = _all_clauses(rec)
        severity = rec.get("severity", _choice(SEVERITIES), "")
        rec.done()
        groups.append(PhraseGroup(id_, clauses, severity))
    _unique_ids(records, [g.id for g in groups])
    return tuple(groups)


def _all_clauses(rec: _Fields) -> tuple[tuple[str, ...], ...]:
    value = rec.data["all"]
    where = rec.field("all")
    if not isinstance(value, _Seq) or not value:
        raise rec.error("all", f"expected a non-empty list of phrase lists, got {_kind(value)}")
    clauses = []
    for i, clause in enumerate(value):
        line = value.lines[i]
        if not isinstance(clause, _Seq) or not clause:
            raise PackError(rec.file, line, f"{where}[{i}]", f"expected a non-empty list of phrases, got {_kind(clause)}")
        clauses.append(tuple(_phrase(p, rec, f"{where}[{i}][{j}]", clause.lines[j]) for j, p in enumerate(clause)))
    return tuple(clauses)


def _banned(f: _Fields) -> tuple[BannedEntry, ...]:
    records = f.get("banned", _records)
    entries = []
    for rec in records:
        id_ = rec.get("id", _text)
        phrases = rec.get("phrases", _list_of(_literal_phrase), ())
        patterns = rec.get("patterns", _list_of(_token_pattern), ())
        if not phrases and not patterns:
            raise rec.error(None, "needs 'phrases' (literal text) or 'patterns' (token patterns), or both")
        severity = rec.get("severity", _choice(SEVERITIES))
        allow = rec.get("allow", _list_of(_literal_phrase, allow_empty=True), ())
        allow_patterns = rec.get("allow_patterns", _list_of(_token_pattern, allow_empty=True), ())
        note = rec.get("note", _text, "")
        homophones = rec.get("homophones", _boolean, True)
        rec.done()
        for i, allowed in enumerate(allow):
            # An allowed form must contain a phrase (or a sound-alike: 步行 for 不行),
            # else it can never cover a hit and is most likely a typo. Entries with
            # token patterns are exempt: a pattern's hit has no fixed text to contain.
            if patterns:
                continue
            if not any(find_phrase(normalise(allowed), normalise(p), homophones) for p in phrases):
                raise PackError(rec.file, rec.data["allow"].lines[i], f"{rec.field('allow')}[{i}]",
                                f"{allowed!r} contains none of the phrases, so it can never excuse a hit")
        entries.append(BannedEntry(id_, phrases, severity, allow, note, homophones, patterns, allow_patterns))
    _unique_ids(records, [e.id for e in entries])
    return tuple(entries)


def _token_pattern(value: Any, f: _Fields, where: str, line: int) -> str:
    """A spaCy Matcher token pattern (a list of token mappings), checked by spaCy itself."""
    plain = _plain(value)
    problem = check_pattern(plain)
    if problem:
        raise PackError(f.file, line, where, f"not a valid token pattern: {problem}")
    return canonical(plain)


def _plain(value: Any) -> Any:
    """YAML's line-numbered containers as plain lists and dicts (for spaCy and JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _literal_phrase(value: Any, f: _Fields, where: str, line: int) -> str:
    phrase = _phrase(value, f, where, line)
    if phrase.startswith(REGEX_PREFIX):
        raise PackError(f.file, line, where, "banned phrases are literal text, not regular expressions")
    return phrase


def _boolean(value: Any, f: _Fields, key: str) -> bool:
    if not isinstance(value, bool):
        raise f.error(key, f"expected true or false, got {_kind(value)}")
    return value


def _read_phrases(path: Path, data: _Map) -> dict[str, Any]:
    f = _Fields(path, data, "", 1)
    out = {
        "greeting": _groups(f, "greeting"),
        "outbound_greeting": _groups(f, "outbound_greeting"),
        "closing": _groups(f, "closing"),
        "hold_notice": f.get("hold_notice", _list_of(_phrase)),
        "hold_apology": f.get("hold_apology", _list_of(_phrase)),
        "hold_reason": f.get("hold_reason", _list_of(_phrase)),
        "backchannel": f.get("backchannel", _list_of(_phrase)),
        "confirmation": f.get("confirmation", _list_of(_phrase)),
        "banned": _banned(f),
    }
    for section, keys in _PHRASE_SECTIONS.items():
        sub = f.sub(section)
        out[section] = {key: sub.get(key, _list_of(_phrase)) for key in keys}
        sub.done()
    f.done()
    return out


#: phrases.yaml sections that are mappings of phrase lists.
_PHRASE_SECTIONS = {
    "complaint": ("customer", "acknowledge"),
    "followup": ("promise", "time_frame", "asks_time", "this_call"),
    "courtesy": ("request", "polite", "thanks", "customer_thanks", "reply"),
    "outbound_refusal": ("customer", "apology", "appointment"),
}


def _read_rate(f: _Fields) -> RateRules:
    sev = _choice(SEVERITIES)
    r = RateRules(
        pause_s=f.get("pause_s", _number(0)),
        agent_min_chars_per_min=f.get("agent_min_chars_per_min", _number(0)),
        agent_max_chars_per_min=f.get("agent_max_chars_per_min", _number(0)),
        pace_ratio_min=f.get("pace_ratio_min", _number(0)),
        pace_ratio_max=f.get("pace_ratio_max", _number(0)),
        min_chars=f.get("min_chars", _number(0, integer=True)),
        min_utterance_chars=f.get("min_utterance_chars", _number(0, integer=True)),
        fast_severity=f.get("fast_severity", sev, "minor"),
        slow_severity=f.get("slow_severity", sev, "minor"),
        pace_severity=f.get("pace_severity", sev, "minor"),
        match_tolerance=f.get("match_tolerance", _number(0, 1)),
    )
    f.done()
    if r.agent_min_chars_per_min >= r.agent_max_chars_per_min:
        raise f.error("agent_max_chars_per_min", "must be above agent_min_chars_per_min")
    if r.pace_ratio_min >= r.pace_ratio_max:
        raise f.error("pace_ratio_max", "must be above pace_ratio_min")
    return r


def _read_holds(f: _Fields, notice: tuple[str, ...], apology: tuple[str, ...], reason: tuple[str, ...]) -> HoldRules:
    sev = _choice(SEVERITIES)
    r = HoldRules(
        min_hold_s=f.get("min_hold_s", _number(0.1)),
        notice_lookback_s=f.get("notice_lookback_s", _number(0)),
        notice_utterances=f.get("notice_utterances", _number(1, integer=True)),
        apology_lookahead_s=f.get("apology_lookahead_s", _number(0)),
        apology_utterances=f.get("apology_utterances", _number(1, integer=True)),
        notice_phrases=notice,
        apology_phrases=apology,
        hold_severity=f.get("hold_severity", sev, "info"),
        notice_missing_severity=f.get("notice_missing_severity", sev, "minor"),
        apology_missing_severity=f.get("apology_missing_severity", sev, "minor"),
        reason_phrases=reason,
        reason_min_hold_s=f.get("reason_min_hold_s", _number(0)),
        reason_missing_severity=f.get("reason_missing_severity", sev, "info"),
    )
    f.done()
    return r


def _grade_table(f: _Fields, key: str, grades: tuple[str, ...], integer: bool, rising: bool) -> tuple:
    table = f.sub(key)
    check = _number(0, None if integer else 100, integer=integer)
    values = tuple(table.get(g, check) for g in grades)
    table.done()
    for g, (a, b) in zip(grades[1:], zip(values, values[1:])):
        if (b < a) if rising else (b > a):
            raise table.error(g, f"must be {'at least' if rising else 'at most'} the value for the grade above ({a:g})")
    return values


def _selector(value: Any, f: _Fields, where: str, line: int) -> str:
    """A finding selector: a category, or category:rule_id."""
    if not isinstance(value, str) or not value.strip():
        raise PackError(f.file, line, where, f"expected a category or category:rule_id, got {_kind(value)}")
    category, _, rule_id = value.strip().partition(":")
    if category not in CATEGORIES:
        raise PackError(f.file, line, where, f"{category!r} is not one of {', '.join(CATEGORIES)}")
    if ":" in value and not rule_id:
        raise PackError(f.file, line, where, "a rule id must follow the ':'")
    return value.strip()


def _points(value: Any, f: _Fields, key: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, _Seq) or not value:
        raise f.error(key, f"expected a non-empty list of selector lists, got {_kind(value)}")
    out = []
    for i, point in enumerate(value):
        line = value.lines[i]
        if not isinstance(point, _Seq) or not point:
            raise PackError(f.file, line, f"{f.field(key)}[{i}]", f"expected a non-empty list of selectors, got {_kind(point)}")
        out.append(tuple(_selector(s, f, f"{f.field(key)}[{i}][{j}]", point.lines[j]) for j, s in enumerate(point)))
    return tuple(out)


def _read_scorecard(f: _Fields) -> ScorecardRules:
    records = f.get("items", _records)
    if not records:
        raise f.error("items", "needs at least one item")
    items: list[ScoreItem] = []
    seen: dict[str, tuple[_Fields, str]] = {}
    for rec in records:
        item_id = rec.get("id", _text)
        name = rec.get("name", _text)
        weight = rec.get("weight", _number(0))
        manual = rec.get("manual", _boolean, False)
        selectors = rec.get("findings", _list_of(_selector), ())
        points = rec.get("points", _points, ())
        manual_points = rec.get("manual_points", _number(0, integer=True), 0)
        rec.done()
        if manual and (selectors or points):
            raise rec.error("manual", "a manual item has no 'findings' or 'points' (no recording can judge it)")
        if not manual and bool(selectors) == bool(points):
            raise rec.error(None, "needs exactly one of 'findings' (graded by deduction) or 'points' "
                                  "(one grade down per point missed), or 'manual: true'")
        for sel in (*selectors, *(s for p in points for s in p)):
            if sel in seen:
                raise rec.error("findings" if sel in selectors else "points",
                                f"{sel!r} is already counted by item {seen[sel][1]!r}")
            seen[sel] = (rec, item_id)
        items.append(ScoreItem(item_id, name, weight, selectors, points, manual_points, not manual))
    _unique_ids(records, [i.id for i in items])
    if sum(i.weight for i in items if i.automatic) <= 0:
        raise f.error("items", "the graded items' weights must not all be zero")
    ded = f.sub("deduction")
    deduction = tuple((sev, ded.get(sev, _number(0, 5, integer=True))) for sev in SEVERITIES)
    ded.done()
    cutoffs = _grade_table(f, "grade_min_score", GRADES[:5], integer=False, rising=False)
    flag = f.sub("flag")
    rules = ScorecardRules(
        items=tuple(items),
        deduction=deduction,
        grade_min_score=tuple(float(c) for c in cutoffs),
        flag_below_score=flag.get("below_score", _number(0, 100), None),
        flag_grades=flag.get("grades", _list_of(_severity_or_category(GRADES), allow_empty=True), ()),
        flag_severities=flag.get("severities", _list_of(_severity_or_category(SEVERITIES), allow_empty=True), ()),
        flag_categories=flag.get("categories", _list_of(_severity_or_category(CATEGORIES), allow_empty=True), ()),
        flag_item_grades=flag.get("item_grades", _list_of(_severity_or_category(GRADES), allow_empty=True), ()),
    )
    flag.done()
    f.done()
    return rules


def _read_rules(path: Path, data: _Map, phrases: dict[str, Any], content_hash: str) -> RulePack:
    f = _Fields(path, data, "", 1)
    name = f.get("name", _text)
    version = f.get("version", _text)
    rate = _read_rate(f.sub("rate"))
    holds = _read_holds(f.sub("holds"), phrases["hold_notice"], phrases["hold_apology"], phrases["hold_reason"])
    g = f.sub("greeting")
    greeting = GreetingRules(g.get("opening_s", _number(0)), phrases["greeting"],
                             g.get("severity", _choice(SEVERITIES), "major"), phrases["outbound_greeting"])
    g.done()
    c = f.sub("closing")
    closing = ClosingRules(c.get("last_utterances", _number(1, integer=True)),
                           c.get("closing_s", _number(0)), phrases["closing"],
                           c.get("severity", _choice(SEVERITIES), "major"))
    c.done()
    o = f.sub("overtalk")
    overtalk = OvertalkRules(o.get("min_overlap_s", _number(0)), o.get("severity", _choice(SEVERITIES), "minor"),
                             phrases["backchannel"], o.get("backchannel_max_s", _number(0)))
    o.done()
    sev = _choice(SEVERITIES)
    c = f.sub("complaint")
    complaint = ComplaintRules(phrases["complaint"]["customer"], phrases["complaint"]["acknowledge"],
                               c.get("within_chars", _number(0, integer=True)), c.get("severity", sev))
    c.done()
    c = f.sub("confirmation")
    confirmation = ConfirmationRules(phrases["confirmation"], c.get("min_customer_chars", _number(0, integer=True)),
                                     c.get("severity", sev))
    c.done()
    c = f.sub("followup")
    fp = phrases["followup"]
    followup = FollowupRules(fp["promise"], fp["time_frame"], fp["asks_time"], fp["this_call"], c.get("severity", sev))
    c.done()
    c = f.sub("courtesy")
    cp = phrases["courtesy"]
    courtesy = CourtesyRules(cp["request"], cp["polite"], cp["thanks"], cp["customer_thanks"], cp["reply"],
                             c.get("polite_request_severity", sev), c.get("thanks_severity", sev),
                             c.get("reply_severity", sev))
    c.done()
    rp = phrases["outbound_refusal"]
    c = f.sub("outbound_refusal")
    refusal = RefusalRules(rp["customer"], rp["apology"], rp["appointment"], c.get("severity", sev))
    c.done()
    c = f.sub("voice")
    voice = VoiceRules(c.get("raised_db", _number(0)), c.get("min_utterances", _number(1, integer=True)),
                       c.get("min_duration_s", _number(0)), c.get("severity", sev))
    c.done()
    scorecard = _read_scorecard(f.sub("scorecard"))
    f.done()
    return RulePack(name, version, content_hash, rate, holds, greeting, closing,
                    phrases["banned"], overtalk, scorecard, complaint, confirmation, followup, courtesy, voice,
                    refusal)


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
    phrases = _read_phrases(phrases_path, _parse(phrases_path, texts["phrases.yaml"]))
    return _read_rules(rules_path, _parse(rules_path, texts["rules.yaml"]), phrases, digest.hexdigest())
