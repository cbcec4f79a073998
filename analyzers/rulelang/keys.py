"""A condition as a dict key, cheap to hash (evaluate.anchor_hits keeps hits per call by it)."""

from __future__ import annotations

from typing import Any


class Same:
    """A condition as a key: equal conditions (a YAML alias is a copy) are one key; its hash
    is worked out once per condition object (hashing a nested condition costs ~8 us)."""

    __slots__ = ("c", "h")
    _known: dict[int, "Same"] = {}

    def __init__(self, c: Any) -> None:
        self.c, self.h = c, hash(c)

    @classmethod
    def of(cls, c: Any) -> "Same":
        known = cls._known.get(id(c))
        if known is None or known.c is not c:  # (it holds c, so an id is never reused while known)
            if len(cls._known) > 4096:
                cls._known.clear()
            known = cls._known[id(c)] = cls(c)
        return known

    def __hash__(self) -> int:
        return self.h

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and (self.c is other.c or self.c == other.c)
