"""jieba tokens as spaCy Docs, and spaCy `Matcher`s built from token patterns kept as data.

No spaCy model is involved: the Doc is built on a blank Chinese vocabulary from
jieba's own segmentation, and each token carries jieba's part-of-speech flag as
its `TAG` (r pronoun, v verb, n noun, x punctuation, eng Latin, ...). Patterns are
spaCy Matcher patterns (lists of token dicts with ORTH / TAG / IS_PUNCT /
IS_SENT_START and OP quantifiers such as "?", "*", "{0,3}"), stored as canonical
JSON text so that a rule pack stays hashable.

Two conventions make clause-level patterns possible without a parser:

- a token starts a sentence (`IS_SENT_START`) at the start of the text and right
  after punctuation, so "喂，您好" and "好的。喂" both have 喂 at a sentence start;
- a Doc gets a sentinel "。" at its end when the text does not end in punctuation,
  so a pattern can require "followed by punctuation" to mean "ends the clause"
  (whisper often writes no punctuation at all).
"""

from __future__ import annotations

import functools
import importlib.abc
import json
import re
import sys
import threading
from typing import Any, Iterable

from .text import is_punct, normalise

#: Appended to a Doc whose text does not end in punctuation; never part of a hit.
SENTINEL = "。"
_OPTIONAL_OPS = ("?", "*")


class _NoTorchForThinc(importlib.abc.MetaPathFinder):
    """Refuses `import torch` to `thinc.compat` alone; any other importer gets torch as usual.

    spaCy imports thinc, which imports torch (1.5 s here) only to offer torch layers; the
    blank vocabulary, `Doc` and `Matcher` used here never touch them, and thinc runs
    without torch when the import fails. That second and a half sat in front of every
    run (the rule pack's patterns are checked with spaCy when the pack loads), and torch
    is imported later, where something needs it, in parallel with other work.
    """

    def find_spec(self, name, path, target=None):  # noqa: ARG002 (the finder protocol)
        if name == "torch" or name.startswith("torch."):
            frame = sys._getframe(1)
            while frame is not None:
                if frame.f_globals.get("__name__") == "thinc.compat":
                    raise ImportError("torch is not imported for spaCy's Matcher (analyzers.tokens)")
                frame = frame.f_back
        return None


_SPACY_IMPORT = threading.Lock()


def _spacy() -> Any:
    """spaCy with its `matcher` and `tokens` modules, imported without torch where torch is
    not imported yet (`_NoTorchForThinc`)."""
    if "spacy.matcher" not in sys.modules:
        with _SPACY_IMPORT:
            finder = _NoTorchForThinc()
            sys.meta_path.insert(0, finder)
            try:
                import spacy.matcher
                import spacy.tokens  # noqa: F401
            finally:
                sys.meta_path.remove(finder)
    import spacy

    return spacy


@functools.lru_cache(maxsize=1)
def vocab() -> Any:
    """The blank Chinese vocabulary every Doc and Matcher here shares (no model files)."""
    return _spacy().blank("zh").vocab


def matcher(validate: bool = False) -> Any:
    """An empty spaCy `Matcher` over `vocab()`."""
    return _spacy().matcher.Matcher(vocab(), validate=validate)


def _jieba() -> Any:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    return jieba


def add_words(words: Iterable[str]) -> None:
    """Keep these (normalised, 2+ chars) as single jieba tokens.

    jieba's dictionary is process-global; adding words only makes segmentation keep
    them whole, which is harmless for any other pack.
    """
    jieba = _jieba()
    for word in words:
        word = normalise(word)
        if len(word) >= 2:
            jieba.add_word(word, freq=100_000)
    tokens.cache_clear()


@functools.lru_cache(maxsize=16384)
def tokens(text: str) -> tuple[tuple[str, str], ...]:
    """(token, part-of-speech flag) pairs of `text` by jieba.posseg."""
    jieba = _jieba()
    return tuple((p.word, p.flag) for p in jieba.posseg.lcut(text) if p.word)


def is_punct_token(text: str) -> bool:
    return bool(text) and all(is_punct(c) for c in text)


def make_doc(text: str, sentinel: bool = True) -> Any:
    """A spaCy Doc of `text`'s jieba tokens (TAG = jieba flag), sentence starts after
    punctuation, and (with `sentinel`) a "。" when `text` does not end in punctuation."""
    Doc = _spacy().tokens.Doc
    pairs = list(tokens(text))
    if sentinel and (not pairs or not is_punct_token(pairs[-1][0])):
        pairs.append((SENTINEL, "x"))
    words = [w for w, _ in pairs]
    after_punct = [i == 0 or is_punct_token(words[i - 1]) for i in range(len(words))]
    return Doc(vocab(), words=words, spaces=[False] * len(pairs), tags=[t for _, t in pairs],
               sent_starts=after_punct)


def canonical(pattern: Any) -> str:
    """A token pattern as canonical JSON text (what a `BannedEntry` stores)."""
    return json.dumps(pattern, ensure_ascii=False, sort_keys=True)


def check_pattern(pattern: Any) -> str | None:
    """Why `pattern` is not a valid spaCy Matcher token pattern, or None when it is."""
    if not isinstance(pattern, list) or not pattern or not all(isinstance(t, dict) for t in pattern):
        return "a token pattern is a non-empty list of token mappings"
    try:
        matcher(validate=True).add("check", [pattern])
    except Exception as exc:  # spaCy raises MatcherError / ValueError with its own message
        return " ".join(str(exc).split())
    if all(t.get("OP") in _OPTIONAL_OPS or str(t.get("OP", "")).startswith("{0") for t in pattern):
        return "every token of the pattern is optional, so it would match nothing at all"
    return None


_PLAIN_ALTERNATIVES = re.compile(r"^\^?\(?([^()\\.*+?\[\]{}^$]+)\)?\$?$")


def _literals(value: object) -> tuple[str, ...] | None:
    """The texts an ORTH value can match, when it says: a string, an IN list, or a REGEX
    that is just alternatives of plain text ("^(没|没有)$"). None when it cannot say."""
    if isinstance(value, str):
        return (normalise(value),)
    if isinstance(value, dict):
        if isinstance(value.get("IN"), list) and all(isinstance(v, str) for v in value["IN"]):
            return tuple(normalise(v) for v in value["IN"])
        m = _PLAIN_ALTERNATIVES.match(value.get("REGEX", "")) if isinstance(value.get("REGEX"), str) else None
        if m:
            return tuple(normalise(v) for v in m.group(1).split("|"))
    return None


_COUNT_OP = re.compile(r"\{(\d*)(?:,(\d*))?\}")


def _is_required(op: str) -> bool:
    """Whether a token with this spaCy OP must occur at least once for its pattern to
    match: no OP, "+", "{n}", "{n,}" or "{n,m}" with n >= 1. Not "?", "*", "{0,m}",
    "{,m}", nor "!" (a negated token requires that its texts be absent, not present)."""
    return op != "!" and _count_bounds(op)[0] >= 1


#: A char that may be (part of) a punctuation token: `is_punct` accepts only chars of the
#: Unicode categories P, S and Z, and of those only "_" is a regex word char.
_PUNCT_CHAR = r"[\W_]"


#: Stands for any text, however long (a token whose text is not known, an optional one).
_ANY = ".*?"


def _count_bounds(op: str) -> tuple[int, int | None]:
    """(least, most) times a token with this spaCy OP occurs; most None = no bound."""
    if op in ("", "!"):
        return 1, 1
    if op == "+":
        return 1, None
    if op == "?":
        return 0, 1
    if op == "*":
        return 0, None
    m = _COUNT_OP.fullmatch(op)
    if not m:
        return 0, None  # an OP this code does not know: no constraint
    least = int(m.group(1) or 0)
    if m.group(2) is None:  # "{n}"
        return least, least
    return least, int(m.group(2)) if m.group(2) else None  # "{n,m}", "{n,}", "{,m}"


def _token_pieces(token: dict) -> list[str]:
    """What one required token can be in the text: regex pieces and `_ANY`s."""
    for key in ("ORTH", "TEXT", "LOWER"):
        value = token.get(key)
        found = _literals(value)
        if not found or not all(found):
            continue
        body = "(?:" + "|".join(re.escape(t) for t in sorted(found, key=len, reverse=True)) + ")"
        if isinstance(value, dict) and "REGEX" in value:
            # A REGEX searches the token: unanchored, the token may hold more around it.
            regex = value["REGEX"]
            return [*([] if regex.startswith("^") else [_ANY]), body, *([] if regex.endswith("$") else [_ANY])]
        return [body]
    if token.get("IS_PUNCT") is True:
        # A punctuation token, or the sentinel that `make_doc` adds at the end of the text.
        return [f"(?:{_PUNCT_CHAR}+|$)"]
    return [_ANY]


def text_regex(pattern_json: str) -> re.Pattern:
    """A regex over normalised text that matches wherever the token pattern can match
    (maybe more often: token boundaries, tags, optional tokens and unknown texts are not
    checked), so that a text it does not match need not be tokenised for this pattern.

    A Doc's tokens are its text without gaps, so the pattern's tokens in order are a
    stretch of the text: the required tokens' known texts become alternations in that
    order, IS_PUNCT a run of punctuation (or the text's end, where the sentinel goes),
    IS_SENT_START the text's start or a place after punctuation, and everything else
    (optional tokens, unknown texts, a negated token) one lazy gap. Gaps next to each
    other are one gap: nested gaps would backtrack without end on a long utterance.
    """
    pieces: list[str] = []
    for token in json.loads(pattern_json):
        op = str(token.get("OP", ""))
        least, most = _count_bounds(op)
        token_pieces = [_ANY] if op == "!" else _token_pieces(token)
        if token.get("IS_SENT_START") is True and token_pieces[0] != _ANY:
            token_pieces[0] = f"(?:^|(?<={_PUNCT_CHAR})){token_pieces[0]}"
        if (least, most) == (1, 1) or token_pieces == [_ANY]:
            pieces += token_pieces
        elif len(token_pieces) == 1:
            # A known text repeated: a literal alternation, which cannot backtrack badly.
            pieces.append(f"(?:{token_pieces[0]}){{{least},{'' if most is None else most}}}")
        else:
            pieces.append(_ANY)
    merged: list[str] = []
    for piece in pieces:
        if piece == _ANY and (not merged or merged[-1] == _ANY):
            continue
        merged.append(piece)
    while merged and merged[-1] == _ANY:
        merged.pop()
    return re.compile("".join(merged), re.DOTALL)


def needles(pattern_json: str) -> tuple[str, ...] | None:
    """Texts of which one must occur for the pattern to match at all (a cheap pre-check),
    from the required token whose texts are the most telling; None when no required
    token says what text it needs."""
    best: tuple[str, ...] | None = None
    best_key: tuple[int, int, int] | None = None
    for i, token in enumerate(json.loads(pattern_json)):
        if not _is_required(str(token.get("OP", ""))):
            continue
        for key in ("ORTH", "TEXT", "LOWER"):
            found = _literals(token.get(key))
            if not found or not all(found):
                continue
            # Longer texts, fewer of them, later in the pattern (content words) say more.
            rank = (min(map(len, found)), -len(found), i)
            if best_key is None or rank > best_key:
                best, best_key = found, rank
    return best


def span_chars(doc: Any, start: int, end: int, text_len: int) -> tuple[int, int] | None:
    """Char offsets of tokens [start, end) without punctuation (or the sentinel) at either end."""
    while start < end and is_punct_token(doc[start].text):
        start += 1
    while end > start and is_punct_token(doc[end - 1].text):
        end -= 1
    if start >= end:
        return None
    first = doc[start].idx
    last = min(doc[end - 1].idx + len(doc[end - 1].text), text_len)
    return (first, last) if first < last else None
