"""The field types of the rule pack: what a value in the pack may be, checked as it is built.

Pure checks on values (no files): `analyzers.rules` declares the pack with these types,
`lexicons.loader` validates the YAML against it and turns a failed check into a
`PackError` naming file, line and field. A check fails with `fail(message, *at)`, in
words for the person who edits the YAML; `at` is the path below the checked value that
it blames (a cross-field check on a mapping names the field, a list check the item).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Callable

from pydantic import AllowInfNan, BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints
from pydantic_core import PydanticCustomError

from .model import CATEGORIES, GRADES, SEVERITIES
from .tokens import canonical, check_pattern

#: A phrase alternative starting with this prefix is a regular expression.
REGEX_PREFIX = "re:"


class Section(BaseModel):
    """A mapping of the pack: frozen (so a pack is hashable), no unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def fail(message: str, *at: str | int) -> PydanticCustomError:
    """An error for a check to raise; the loader reports `message` at the value's path + `at`."""
    return PydanticCustomError("pack", "{message}", {"message": message, "at": at})


def kind(value: Any) -> str:
    """A value as an error message names it: "a mapping", "a list", "str 'fast'"."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def _list(value: Any) -> Any:
    # A list or tuple only: pydantic's own tuple would also take a set (YAML's !!set).
    if not isinstance(value, (list, tuple)):
        raise fail(f"expected a list, got {kind(value)}")
    return value


def _lists_of(what: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, (list, tuple)) or not value:
            raise fail(f"expected a non-empty list of {what}, got {kind(value)}")
        return value

    return check


def _one_of(options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in options:
            raise fail(f"{value!r} is not one of {', '.join(options)}")
        return value

    return check


def _number_as_text(value: Any) -> Any:
    # version: 2 is a fine thing for a person to write
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _phrase(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(f"expected a non-empty phrase, got {kind(value)}")
    value = value.strip()
    if value.startswith(REGEX_PREFIX):
        try:
            re.compile(value[len(REGEX_PREFIX):])
        except re.error as exc:
            raise fail(f"bad regular expression {value!r}: {exc}") from None
    return value


def _literal_phrase(value: Any) -> str:
    phrase = _phrase(value)
    if phrase.startswith(REGEX_PREFIX):
        raise fail("banned phrases are literal text, not regular expressions")
    return phrase


def _plain(value: Any) -> Any:
    """Mappings and lists of any subclass as plain dicts and lists (for spaCy and JSON)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _token_pattern(value: Any) -> str:
    """A spaCy Matcher token pattern (a list of token mappings), checked by spaCy itself,
    kept as canonical JSON text."""
    plain = _plain(value)
    problem = check_pattern(plain)
    if problem:
        raise fail(f"not a valid token pattern: {problem}")
    return canonical(plain)


def _selector(value: Any) -> str:
    """A finding selector: a category, or category:rule_id."""
    if not isinstance(value, str) or not value.strip():
        raise fail(f"expected a category or category:rule_id, got {kind(value)}")
    category, _, rule_id = value.strip().partition(":")
    if category not in CATEGORIES:
        raise fail(f"{category!r} is not one of {', '.join(CATEGORIES)}")
    if ":" in value and not rule_id:
        raise fail("a rule id must follow the ':'")
    return value.strip()


def unique_ids(records: tuple[Any, ...]) -> tuple[Any, ...]:
    seen: set[str] = set()
    for i, record in enumerate(records):
        if record.id in seen:
            raise fail(f"duplicate id {record.id!r}", i, "id")
        seen.add(record.id)
    return records


LIST = BeforeValidator(_list)
# Strict: a quoted "0.7" or "20" in YAML is text, and a number field must not take it.
Real = Annotated[float, Strict(), AllowInfNan(False)]
Number = Annotated[Real, Field(ge=0)]
Fraction = Annotated[Real, Field(ge=0, le=1)]
Percent = Annotated[Real, Field(ge=0, le=100)]
Count = Annotated[int, Strict(), Field(ge=0)]
AtLeastOne = Annotated[int, Strict(), Field(ge=1)]
GradesDown = Annotated[int, Strict(), Field(ge=0, le=5)]
Text = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1)]
Version = Annotated[Text, BeforeValidator(_number_as_text)]
Severity = Annotated[str, BeforeValidator(_one_of(SEVERITIES))]
Grade = Annotated[str, BeforeValidator(_one_of(GRADES))]
Category = Annotated[str, BeforeValidator(_one_of(CATEGORIES))]
Phrase = Annotated[str, BeforeValidator(_phrase)]
#: A non-empty list of phrases (a `re:` phrase is a regular expression).
Phrases = Annotated[tuple[Phrase, ...], LIST, Field(min_length=1)]
LiteralPhrase = Annotated[str, BeforeValidator(_literal_phrase)]
TokenPattern = Annotated[str, BeforeValidator(_token_pattern)]
Selector = Annotated[str, BeforeValidator(_selector)]
Point = Annotated[tuple[Selector, ...], BeforeValidator(_lists_of("selectors"))]
Points = Annotated[tuple[Point, ...], BeforeValidator(_lists_of("selector lists"))]
