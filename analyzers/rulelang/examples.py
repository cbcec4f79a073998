"""A rule's examples as calls: each `hit` example must make the rule fire, each `miss` not.

An example is a short dialogue (`schema.ExampleLine`s) turned into a stereo transcript:
lines one after another, 4 spoken chars a second, half a second apart, unless the line
gives its own times. `callqa rules check` runs every rule's examples this way.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Transcript, Utterance
from ..rules import RulePack
from ..text import count_chars
from .evaluate import Call, rule_findings
from .schema import ExampleLine, Rule

CHARS_PER_S = 4.0
GAP_S = 0.5


def example_call(lines: tuple[ExampleLine, ...], call_id: str = "example") -> tuple[Transcript, tuple | None]:
    """The transcript of an example, and its intents (None when no line gives one)."""
    utts, t = [], 0.0
    for line in lines:
        start = line.start_s if line.start_s is not None else t + (GAP_S if utts else 0.0)
        end = line.end_s if line.end_s is not None else start + max(1.0, count_chars(line.text) / CHARS_PER_S)
        utts.append(Utterance(line.speaker, start, max(start, end), line.text, level_db=line.level_db))
        t = max(t, end)
    intents = tuple(line.intent for line in lines) if any(line.intent for line in lines) else None
    return Transcript(call_id, t + 1.0, "stereo", tuple(utts)), intents


@dataclass(frozen=True)
class Miss:
    """An example that did not do what it says."""

    rule_id: str
    #: "hit" (should fire, did not) or "miss" (should stay quiet, fired).
    kind: str
    index: int
    said: str

    def __str__(self) -> str:
        want = "should hit but did not" if self.kind == "hit" else "should not hit but did"
        return f"{self.rule_id}: examples.{self.kind}[{self.index}] {want}: {self.said}"


def check_examples(rule: Rule, pack: RulePack) -> list[Miss]:
    """Every example of `rule` that does not do what it says (empty: all pass)."""
    misses = []
    direction = rule.direction or "inbound"
    for kind, examples in (("hit", rule.examples.hit), ("miss", rule.examples.miss)):
        for n, lines in enumerate(examples):
            transcript, intents = example_call(lines)
            fired = bool(rule_findings(Call(transcript, pack, direction, intents), rule))
            if fired != (kind == "hit"):
                said = " / ".join(f"{'A' if x.speaker == 'agent' else 'C'}: {x.text}" for x in lines)
                misses.append(Miss(rule.id, kind, n, said))
    return misses
