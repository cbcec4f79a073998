"""`callqa rules check` (also `callqa lexicon check`): validate a rule pack and summarise it."""

from __future__ import annotations

from flows.cli.common import load_rule_pack


def cmd_lexicon_check(args) -> int:
    pack = load_rule_pack(args.path)
    print(f"ok: {pack.name} version {pack.version} ({pack.content_hash[:12]}), "
          f"{len(pack.banned)} banned entries, {len(pack.greeting.groups)} greeting groups, "
          f"{len(pack.closing.groups)} closing groups")
    return 0
