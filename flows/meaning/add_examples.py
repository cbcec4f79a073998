"""Closing the QA loop: a finding a reviewer rejected becomes a near-miss example.

A rule listed in the pack's `near_misses` (rules.yaml) fires because a sentence says an
intent (a rude 没办法, a blame, a promise with no time); when a reviewer rejects one of
its findings, that sentence is a near miss of the intent and goes to
examples/<intent>.yaml `negative.train` (never to test: the test split stays held out),
with a comment saying where it came from. Both `callqa examples add` and the workspace's
supervisor button write through `add_near_misses`.

The file is edited in place with ruamel.yaml (its comments and layout kept, checked with
flows.meaning.examples before it replaces the old one); a sentence already in the file is
not added twice, and one on the positive side is refused for a person to look at.
"""

from __future__ import annotations

import fcntl
import io
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from ruamel.yaml import YAML

from analyzers.pii import mask_numbers
from analyzers.text import normalise, strip_punct
from flows.meaning.examples import SPLITS, ExamplesError, parse_examples


@dataclass(frozen=True)
class NearMiss:
    """One rejected finding's sentence, for `intent`'s negative.train."""
    intent: str
    sentence: str
    call_id: str
    #: category:rule_id of the rejected finding
    rule: str
    #: who rejected it, and when (YYYY-MM-DD)
    reviewer: str
    date: str
    #: who added it, when not the reviewer (the supervisor's button)
    added_by: str = ""

    def provenance(self) -> str:
        """The comment written after the sentence: one line, no YAML-breaking characters."""
        text = f"review: call {self.call_id}, {self.rule} rejected by {self.reviewer} {self.date}"
        if self.added_by and self.added_by != self.reviewer:
            text += f", added by {self.added_by}"
        return " ".join(text.split())


@dataclass
class AddResult:
    added: list[NearMiss] = field(default_factory=list)
    #: already in the file's negatives (the same text once normalised, punctuation aside): not added again
    duplicates: list[NearMiss] = field(default_factory=list)
    #: already a POSITIVE example of the intent: refused, a person must decide
    positive: list[NearMiss] = field(default_factory=list)
    #: (what, why) for rejected findings that give no near miss
    skipped: list[tuple[str, str]] = field(default_factory=list)


def intent_of(near_misses: Iterable, category: str, rule_id: str) -> str | None:
    """The intent a finding of category:rule_id reads (the pack's `near_misses`; the
    category:rule_id selector wins over the bare category), or None."""
    by_rule = {entry.rule: entry.intent for entry in near_misses}
    return by_rule.get(f"{category}:{rule_id}") or by_rule.get(category)


#: Where a sentence ends: analyzers.text.sentences' marks, kept here on the sentence.
_SENTENCE = re.compile(r"[^。？！?!；;…]+[。？！?!；;…]*")


def near_miss_sentence(finding: Mapping, utterances: Sequence[Mapping]) -> str | None:
    """The sentence of the call a finding stands on: the utterance of the finding's speaker
    at its time whose text holds the finding's text, cut to the sentence that holds it (the
    whole utterance when the finding's text spans sentences), as written there (its own
    punctuation). None when no utterance fits: a bare hit (没办法) must not become an
    example on its own. Numbers are masked (analyzers.pii), masked ones stay masked."""
    said = normalise(finding.get("text") or "")
    if not said:
        return None
    start, end = finding["start_s"], finding.get("end_s", finding["start_s"])
    for u in sorted(utterances, key=lambda u: u["start_s"]):
        if u.get("speaker") != finding.get("speaker") or u["end_s"] < start - 0.01 or u["start_s"] > end + 0.01:
            continue
        if said not in normalise(u["text"]):
            continue
        inside = [s.strip() for s in _SENTENCE.findall(u["text"]) if said in normalise(s)]
        return mask_numbers(inside[0] if inside else u["text"].strip())
    return None


def from_finding(finding: Mapping, utterances: Sequence[Mapping], near_misses: Iterable, reviewer: str,
                 date: str, added_by: str = "") -> NearMiss | str:
    """The near miss a rejected finding gives (a row with call_id, category, rule_id,
    speaker, start_s, end_s, text), or why it gives none."""
    rule = f"{finding['category']}:{finding['rule_id']}"
    if finding.get("origin", "rule") != "rule":
        return "added by a reviewer, no rule's finding"
    intent = intent_of(near_misses, finding["category"], finding["rule_id"])
    if intent is None:
        return f"{rule} reads no intent (the rule pack's near_misses)"
    sentence = near_miss_sentence(finding, utterances)
    if sentence is None:
        return f"no utterance of the call holds the finding's text {finding.get('text')!r}"
    return NearMiss(intent, sentence, finding["call_id"], rule, reviewer or "?", date[:10], added_by)


def _yaml() -> YAML:
    # the corpus' own layout (round-trips its 28 files byte for byte)
    y = YAML()
    y.preserve_quotes = True
    y.width = 100_000
    y.indent(mapping=2, sequence=4, offset=2)
    return y


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One writer at a time in an examples folder (the CLI and several workspace workers)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _key(sentence: str) -> str:
    """What makes two sentences the same example: their normalised text without punctuation."""
    return strip_punct(normalise(sentence))


def _add_to_file(path: Path, items: list[NearMiss], result: AddResult, dry_run: bool) -> None:
    text = path.read_text(encoding="utf-8")
    checked = parse_examples(path, text)  # a broken file is reported, never edited
    positives = {_key(s) for split in SPLITS for s in checked.texts("positive", split)}
    negatives = {_key(s) for split in SPLITS for s in checked.texts("negative", split)}
    y = _yaml()
    data = y.load(text)
    train = data["negative"]["train"]
    for item in items:
        key = _key(item.sentence)
        if key in positives:
            result.positive.append(item)
        elif key in negatives:
            result.duplicates.append(item)
        else:
            train.append(item.sentence)
            train.yaml_add_eol_comment(item.provenance(), len(train) - 1)
            negatives.add(key)
            result.added.append(item)
    if dry_run or len(train) == len(checked.texts("negative", "train")):
        return
    out = io.StringIO()
    y.dump(data, out)
    parse_examples(path, out.getvalue())  # what is written loads, or nothing is written
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(out.getvalue(), encoding="utf-8")
    shutil.copymode(path, tmp)
    os.replace(tmp, path)


def add_near_misses(examples_dir: str | os.PathLike[str], items: Iterable[NearMiss],
                    dry_run: bool = False) -> AddResult:
    """Append each near miss to examples_dir/<intent>.yaml negative.train (see the module
    doc); `dry_run`: decide and report, write nothing. Raises ExamplesError for an intent
    with no example file or a file that does not load."""
    folder = Path(examples_dir)
    by_intent: dict[str, list[NearMiss]] = {}
    for item in items:
        by_intent.setdefault(item.intent, []).append(item)
    result = AddResult()
    if not folder.is_dir():
        raise ExamplesError(folder, "(folder)", "is not an examples folder")
    with _locked(folder):
        for intent, group in sorted(by_intent.items()):
            path = folder / f"{intent}.yaml"
            if not path.is_file():
                raise ExamplesError(path, "(file)", f"no example file for intent {intent!r} "
                                    "(named in the rule pack's near_misses)")
            _add_to_file(path, group, result, dry_run)
    return result

