"""Shared by the rule-language tests: a rule from a few fields, and the error a pack raises
when its custom_rules.yaml is replaced."""

from __future__ import annotations

import shutil

import pytest

from analyzers.rulelang.schema import Rule
from lexicons import PACKS_DIR, PackError, load_pack


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
