"""The last route of `text._holds`: a group's regexes tried on the text respelled by sound,
asked first once for the whole group (nearly every text has nothing to respell)."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=4096)
def _union(group) -> tuple[tuple[str, ...], frozenset[str]]:
    """(every stretch of the group's regexes, once, in a kept tuple; their chars)."""
    stretches = tuple(dict.fromkeys(s for _, _, kept in group.regexes for s in kept))
    return stretches, frozenset("".join(stretches))


def heard_holds(text: str, group) -> bool:
    """Whether a regex of `group` matches `text` respelled toward its stretches (as
    `text.search_by_sound` tries it).

    `_respelled` leaves a text as it is unless it shares a char with the stretches and has a
    window sounding like one, spelled otherwise (`soundregex.may_differ`); asked once for the union of the
    group's stretches, a no answers for every regex (nearly all texts: one search, not eight)."""
    stretches, chars = _union(group)
    if not stretches or chars.isdisjoint(text) or not _soundregex.may_differ(text, stretches):
        return False
    respelled = _text._respelled
    for (_, regex, kept), kept_chars in zip(group.regexes, group.stretch_chars):
        if kept and (heard := respelled(text, kept, kept_chars)) is not text and regex.search(heard):
            return True
    return False


from . import soundregex as _soundregex  # noqa: E402
from . import text as _text  # noqa: E402  (it imports this module)
