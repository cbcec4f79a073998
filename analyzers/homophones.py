"""Windows of a text that sound like any of many phrases, found in one walk per place.

`text.sounds_alike` compares one window with one phrase; a phrase group or a regex's
stretches are tens of phrases that share their first chars (您再说一下, 您再讲一下 …), so
comparing each phrase at each place repeats the same char tests. Here the phrases are a
trie (built once per tuple of phrases): from each place whose char can be read as some
phrase's first syllable, the walk follows only the chars that still sound alike. The
windows found are exactly those `text.find_phrase` finds by `sounds_alike`.
"""

from __future__ import annotations


import functools

from . import text as _text

#: A trie node: (edges, the phrases ending here, the edges' chars, the union of the edges'
#: syllables); an edge is (phrase char, the syllables a heard char may be read as to stand
#: for it (`text._accepted_readings`), the next node). The last two reject most places at once.
Node = tuple[list, list, frozenset, frozenset]


#: id(phrases) -> (the tuple, its trie): callers pass the pack's own tuples, so identity
#: finds the trie without hashing every phrase at every text.
_TRIES: dict[int, tuple[tuple[str, ...], tuple[dict, Node]]] = {}


def trie(phrases: tuple[str, ...]) -> tuple[dict[str, tuple[list, frozenset, frozenset]], Node]:
    """(first syllable -> (the root's edges whose char may be heard as it, the union of their
    children's chars, and of their syllables), the trie of the phrases of 2+ chars; a
    phrase's number in the trie is its index in `phrases`)."""
    return kept_per_tuple(_TRIES, phrases, _build)


def kept_per_tuple(cache: dict, phrases: tuple[str, ...], build):
    """`build(phrases)`, kept in `cache` by the tuple's identity (the tuple kept with it, so its
    id is not reused); at most 4096 tuples, then the cache starts again."""
    seen = cache.get(id(phrases))
    if seen is None or seen[0] is not phrases:
        if len(cache) >= 4096:
            cache.clear()
        seen = cache[id(phrases)] = (phrases, build(phrases))
    return seen[1]


def _build(phrases: tuple[str, ...]) -> tuple[dict[str, tuple[list, frozenset, frozenset]], Node]:
    root: dict = {}  # char, accepted -> child, the phrases ending there
    for index, phrase in enumerate(phrases):
        if len(phrase) < 2:  # a lone char never matches by sound
            continue
        node = (root, [])
        for key in zip(phrase, _text._accepted_readings(phrase)):
            node = node[0].setdefault(key, ({}, []))
        node[1].append(index)
    top = _frozen((root, []))
    firsts: dict[str, list] = {}
    for edge in top[0]:  # the first char's accepted syllables are `text.first_syllables`
        for syl in edge[1]:
            firsts.setdefault(syl, []).append(edge)
    # with the union of their children's chars and syllables: one test rejects most places
    return {syl: (edges, frozenset().union(*(e[2][2] for e in edges)), frozenset().union(*(e[2][3] for e in edges)))
            for syl, edges in firsts.items()}, top


def _frozen(node: tuple[dict, list]) -> Node:
    edges = [(char, accepted, _frozen(child)) for (char, accepted), child in node[0].items()]
    return (edges, node[1], frozenset(c for c, _, _ in edges), frozenset().union(*(a for _, a, _ in edges)))


def windows(text: str, phrases: tuple[str, ...], min_same: int = 0, first_only: bool = False) -> list[tuple[int, int, int]]:
    """Every (phrase index, start, chars the same) where a window of `text` sounds like the
    phrase (`text.sounds_alike(window, phrase, min_same)`, its first char read as the
    phrase's first syllable, as `find_phrase` places it), exact windows included;
    `first_only`: stop at the first found. In no particular order; a window whose first
    char is read as two of the phrase's first syllables is listed twice."""
    firsts, root = trie(phrases)
    by_syllable, heard_at, odd_at = places(text)
    held = firsts.keys() & by_syllable.keys()
    if not held:
        return []
    n, found, stack = len(text), [], []
    for syl in held:
        edges, chars2, syls2 = firsts[syl]
        for i in by_syllable[syl]:  # ascending
            if i + 1 >= n:  # a phrase has 2+ chars
                break
            h1 = text[i + 1]
            if h1 not in chars2 and (odd_at[i + 1] or syls2.isdisjoint(heard_at[i + 1])):
                continue  # no edge's second char is heard here (the per-edge test below, for all edges)
            # the first char is read as the edge's syllable: itself, or a sound-alike; the
            # second (the same for every edge) is tested here, before anything is stacked
            h, odd1, heard = text[i], odd_at[i + 1], heard_at[i + 1]
            for c, _, child in edges:
                if (h == c or not odd_at[i]) and (h1 in child[2] or not (odd1 or child[3].isdisjoint(heard))):
                    stack.append((child, i + 1, int(h == c)))
            while stack:
                (nexts, ends, chars, syls), at, same = stack.pop()
                if ends and same >= min_same:
                    found += [(index, i, same) for index in ends]
                    if first_only:
                        return found
                if at >= n or not nexts:
                    continue
                h = text[at]
                if odd_at[at]:
                    if h in chars:
                        stack += [(child, at + 1, same + 1) for c, _, child in nexts if c == h]
                    continue
                heard = heard_at[at]
                if h in chars or not syls.isdisjoint(heard):
                    stack += [(child, at + 1, same + (c == h)) for c, accepted, child in nexts
                              if c == h or not accepted.isdisjoint(heard)]
    return found


@functools.lru_cache(maxsize=65536)
def places(text: str) -> tuple[dict[str, tuple[int, ...]], list[tuple[str, ...]], list[bool]]:
    """(`text.syllable_positions`: syllable -> the places of the chars that may be read so,
    each char's readings, whether each char is a numeral or punctuation: heard only as
    itself), in one pass over the text, once per text."""
    table = _CHARS
    got = [table.get(c) or _char(c) for c in text]
    by_syllable: dict[str, tuple[int, ...]] = {}
    for i, (readings, _) in enumerate(got):
        for syl in readings:  # a syllable is at a few places: tuples grow cheaply, and the GC stops tracking them
            by_syllable[syl] = by_syllable.get(syl, ()) + (i,)
    return by_syllable, [g[0] for g in got], [g[1] for g in got]


#: char -> (its readings: text.char_pinyins as a tuple, whether it is a numeral or punctuation).
_CHARS: dict[str, tuple[tuple[str, ...], bool]] = {}


def _char(c: str) -> tuple[tuple[str, ...], bool]:
    got = _CHARS[c] = (tuple(_text.char_pinyins(c)), c in _text.NUMERALS or _text.is_punct(c))
    return got
