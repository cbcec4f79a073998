"""Rule packs: the YAML data QA staff edit (one folder per pack), and their loader.

`from lexicons import load_pack, PackError, PACKS_DIR` is the short form of
`lexicons.loader`'s; the pack's schema is `analyzers.rules.RulePack`.
"""

from analyzers.rules import RulePack

from .loader import DEFAULT_PACK, PACKS_DIR, PackError, load_pack, resolve

__all__ = ["DEFAULT_PACK", "PACKS_DIR", "PackError", "RulePack", "load_pack", "resolve"]
