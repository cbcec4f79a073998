"""The greeting's and closing's missing-step details in plain words (their checks are the
rules hello, service_offer, …, satisfaction_check, thanks_goodbye of custom_rules.yaml)."""

from __future__ import annotations

from .rule_types import REGEX_PREFIX


#: What each greeting and closing step is, in plain words (a detail "no <this> such as …",
#: as the rules' messages say it); a step not listed is named by its id.
GROUP_NAMES = {
    "hello": "greeting",
    "service_offer": "offer of help",
    "self_identification": "self-introduction",
    "outbound_purpose": "reason for the call",
    "outbound_time_check": "check that now is a good time",
    "satisfaction_check": "check that the matter is settled",
    "thanks_goodbye": "thanks and goodbye",
}
#: Examples quoted per clause: enough to recognise the requirement, not the whole list.
EXAMPLES_PER_CLAUSE = 3


def _examples(clause) -> list[str]:
    """The first few plain alternatives of a clause (regexes are left out)."""
    return [alt for alt in clause if not alt.startswith(REGEX_PREFIX)][:EXAMPLES_PER_CLAUSE]


def describe_missing(group_id: str, clauses) -> str:
    """A missing phrase group in plain words for QA staff, e.g. "no self-introduction such
    as 我是… / 我叫… / 工号…"; a group of two clauses: "no thanks and goodbye: 感谢… / 谢谢…
    together with 再见… / 拜拜…". Never the pattern list itself."""
    name = GROUP_NAMES.get(group_id, group_id.replace("_", " "))
    parts = [" / ".join(f"{alt}…" for alt in _examples(c)) for c in clauses]
    parts = [p for p in parts if p]
    if not parts:
        return f"no {name}"
    if len(parts) == 1:
        return f"no {name} such as {parts[0]}"
    return f"no {name}: " + " together with ".join(parts)


def plain_detail(category: str, rule_id: str, detail: str) -> str:
    """`detail` in plain words; a detail written before describe_missing existed
    ("missing: a|b|re:… + c|d") is turned into the same words."""
    if detail.startswith("missing: ") and category in ("greeting_missing", "closing_missing"):
        clauses = [_split_outside_brackets(c, "|") for c in detail.removeprefix("missing: ").split(" + ")]
        return describe_missing(rule_id, clauses)
    return detail


def _split_outside_brackets(text: str, sep: str) -> list[str]:
    """`text` split at `sep`, but not inside (…) or […] (a regex's own alternatives)."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "([":
            depth += 1
        elif c in ")]":
            depth = max(0, depth - 1)
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts
