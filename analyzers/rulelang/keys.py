"""A condition as a dict key, cheap to hash and compare (evaluate.anchor_hits keeps hits per
call by it): equal conditions (a YAML alias is a copy) share one key object, found by the
condition object's id, so a lookup neither hashes nor compares a nested condition again."""

from __future__ import annotations

from typing import Any


class Same:
    __slots__ = ("c", "h")
    #: id(condition) -> (the condition, its shared key); holding the condition keeps its id unique.
    _known: dict[int, tuple[Any, "Same"]] = {}
    #: The shared key of each distinct condition.
    _shared: dict["Same", "Same"] = {}

    def __init__(self, c: Any) -> None:
        self.c, self.h = c, hash(c)  # hashing a nested condition costs ~8 us: once

    @classmethod
    def of(cls, c: Any) -> "Same":
        known = cls._known.get(id(c))
        if known is None or known[0] is not c:
            if len(cls._known) > 4096:
                cls._known.clear()
                cls._shared.clear()
            key = cls(c)
            known = cls._known[id(c)] = (c, cls._shared.setdefault(key, key))
        return known[1]

    def __hash__(self) -> int:
        return self.h

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and (self.c is other.c or self.c == other.c)
