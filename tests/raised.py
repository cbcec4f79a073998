"""Shared by the rule-fix tests: the rule ids the default pack raises on a hand-written call."""

from __future__ import annotations

import functools

from analyzers.analyze import analyze
from lexicons import load_pack
from transcripts import A, C, conversation


@functools.cache
def default_pack():
    """The default pack, loaded once for every test module that asks."""
    return load_pack()


def rules_raised(lines, direction: str = "inbound") -> list[str]:
    """The rule ids raised on `lines` ((speaker, text) pairs) read as one call."""
    return [f.rule_id for f in analyze(conversation(lines), default_pack(), direction=direction).findings]


def agent_says(said: str) -> list[str]:
    """The rule ids raised when the agent answers a plain question with `said`."""
    return rules_raised([(C, "我想问一下这个事情怎么弄。"), (A, said)])
