"""Shared by the rule-pack tests: a rule from a few fields, the error a pack raises when its
custom_rules.yaml is replaced, and some of the default pack's example files copied."""

from __future__ import annotations

import shutil

import pytest

from analyzers.rulelang.schema import Rule
from flows.meaning.examples import parse_examples
from lexicons import PACKS_DIR, PackError, load_pack

EXAMPLES = PACKS_DIR / "zh-CN" / "examples"


def rule(**fields) -> Rule:
    """A valid rule with `fields` over a minimal base (id r, minor, one hit and one miss)."""
    base = {"id": "r", "severity": "minor", "message": "m", "examples": {"hit": ["x"], "miss": ["y"]}}
    return Rule.model_validate({**base, **fields})


def custom_rules_error(tmp_path, text: str) -> PackError:
    """The PackError of the default pack copied under tmp_path with custom_rules.yaml = text."""
    folder = tmp_path / "pack"
    shutil.copytree(PACKS_DIR / "zh-CN", folder)
    (folder / "custom_rules.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(PackError) as info:
        load_pack(folder)
    return info.value


def copy_examples(intents, folder) -> None:
    """The default pack's example files of `intents` copied into `folder`, with every file they
    name in `not_background` (a folder must hold each intent its files name)."""
    todo, done = list(intents), set()
    while todo:
        intent = todo.pop()
        if intent not in done:
            done.add(intent)
            path = EXAMPLES / f"{intent}.yaml"
            shutil.copy(path, folder)
            todo += parse_examples(path, path.read_text(encoding="utf-8")).not_background
