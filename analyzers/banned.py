"""Banned phrases said by the agent, matched in context.

Three passes per utterance, over normalised text (simplified, no whitespace):

1. spaCy PhraseMatcher on jieba tokens. Lexicon phrases and their allowed
   longer forms are added to jieba's dictionary first, so "不知道" or "麻烦您"
   come out as one token and are matched whole.
2. Character-level fallback for exact phrases that jieba still splits across
   token boundaries (jieba's HMM can glue a phrase to a neighbour).
3. Character-level pinyin pass for ASR homophones (不知到 -> 不知道). It has to
   be char-level: the misheard text segments differently ("不知" + "到"), so no
   token pattern can line up with it. Phrases of one char never match by sound.

Single-char entries (喂) count only as a whole token, repeated or not (喂喂), at
the start of the utterance or right after punctuation: "喂，你好" is a finding,
"为您服务" and "喂养" are not.

A hit is dropped when one of the entry's `allow` expressions covers it
(麻烦 inside 麻烦您, 什么 inside 有什么可以帮).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from .model import AGENT, Finding, Transcript, Utterance
from .rules import BannedEntry
from .text import find_phrase, is_punct, normalise


@dataclass(frozen=True)
class Hit:
    entry: BannedEntry
    phrase: str
    start: int
    end: int
    by_sound: bool


@dataclass
class _Matchers:
    nlp: Any
    phrase_matcher: Any
    #: match_id label -> (entry, phrase) for the PhraseMatcher.
    labels: dict[str, tuple[BannedEntry, str]]


@functools.lru_cache(maxsize=8)
def _matchers(entries: tuple[BannedEntry, ...]) -> _Matchers:
    """Build once per pack's banned list: a blank zh pipeline takes ~1 s to create."""
    import jieba
    import spacy
    from spacy.matcher import PhraseMatcher

    # jieba's dictionary is process-global; adding words only makes segmentation
    # keep them whole, which is harmless for any other pack.
    for entry in entries:
        for word in (*entry.phrases, *entry.allow):
            word = normalise(word)
            if len(word) >= 2:
                jieba.add_word(word, freq=100_000)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
    labels: dict[str, tuple[BannedEntry, str]] = {}
    for n, entry in enumerate(entries):
        for m, phrase in enumerate(entry.phrases):
            phrase = normalise(phrase)
            if len(phrase) >= 2:
                label = f"{n}:{m}"
                labels[label] = (entry, phrase)
                matcher.add(label, [nlp.make_doc(phrase)])
    return _Matchers(nlp, matcher, labels)


@functools.lru_cache(maxsize=8)
def _verbatim(entries: tuple[BannedEntry, ...]) -> tuple[str, ...]:
    """Every banned phrase, normalised: a text containing none needs no tokens."""
    return tuple({normalise(p) for e in entries for p in e.phrases if normalise(p)})


def _single_char_hits(doc: Any, entry: BannedEntry, char: str) -> list[Hit]:
    hits = []
    for token in doc:
        text = token.text
        if not text or set(text) != {char}:
            continue
        at_start = token.i == 0 or all(is_punct(c) for c in doc[token.i - 1].text)
        if at_start:
            hits.append(Hit(entry, char, token.idx, token.idx + len(text), False))
    return hits


def _allowed(text: str, hit: Hit) -> bool:
    for allowed in hit.entry.allow:
        allowed = normalise(allowed)
        start = text.find(allowed)
        while start != -1:
            if start <= hit.start and hit.end <= start + len(allowed):
                return True
            start = text.find(allowed, start + 1)
    return False


def find_banned(text: str, entries: tuple[BannedEntry, ...]) -> list[Hit]:
    """Banned hits in one utterance's text, in order, one per entry and place."""
    text = normalise(text)
    if not text or not entries:
        return []
    m = _matchers(entries)
    hits: list[Hit] = []
    # Tokenising is most of the cost of this function and only finds something where a
    # phrase occurs verbatim: most utterances are clean and skip it.
    doc = m.nlp(text) if any(p in text for p in _verbatim(entries)) else None
    if doc is not None:
        for match_id, start, end in m.phrase_matcher(doc):
            entry, phrase = m.labels[m.nlp.vocab.strings[match_id]]
            span = doc[start:end]
            hits.append(Hit(entry, phrase, span.start_char, span.end_char, False))
    for entry in entries:
        for phrase in entry.phrases:
            phrase = normalise(phrase)
            if len(phrase) == 1:
                if doc is not None:
                    hits.extend(_single_char_hits(doc, entry, phrase))
                continue
            for start, end, by_sound in find_phrase(text, phrase, entry.homophones):
                hits.append(Hit(entry, phrase, start, end, by_sound))
    kept: list[Hit] = []
    # Exact before by-sound so a place matched both ways reports the exact one.
    for hit in sorted(hits, key=lambda h: (h.start, h.by_sound, -(h.end - h.start))):
        if _allowed(text, hit):
            continue
        if any(k.entry.id == hit.entry.id and k.start < hit.end and hit.start < k.end for k in kept):
            continue
        kept.append(hit)
    return kept


def _hit_times(utterance: Utterance, text: str, hit: Hit) -> tuple[float, float]:
    """The matched words' times when word timings line up with the text, else the utterance."""
    if not utterance.words:
        return utterance.start_s, utterance.end_s
    pieces = [normalise(w.text) for w in utterance.words]
    joined = "".join(pieces)
    matched = text[hit.start : hit.end]
    offset = hit.start if joined == text else joined.find(matched)
    if offset < 0:
        return utterance.start_s, utterance.end_s
    end_offset = offset + len(matched)
    pos = 0
    covered = []
    for word, piece in zip(utterance.words, pieces):
        if pos < end_offset and offset < pos + len(piece):
            covered.append(word)
        pos += len(piece)
    if not covered:
        return utterance.start_s, utterance.end_s
    return min(w.start_s for w in covered), max(w.end_s for w in covered)


def banned_findings(transcript: Transcript, entries: tuple[BannedEntry, ...]) -> list[Finding]:
    findings = []
    for u in transcript.utterances:
        if u.speaker != AGENT:
            continue
        text = normalise(u.text)
        for hit in find_banned(u.text, entries):
            start_s, end_s = _hit_times(u, text, hit)
            detail = hit.phrase + (" (by sound)" if hit.by_sound else "")
            if hit.entry.note:
                detail += f"; {hit.entry.note}"
            findings.append(Finding("banned_phrase", hit.entry.id, hit.entry.severity, AGENT,
                                    start_s, end_s, text[hit.start : hit.end], detail))
    return findings
