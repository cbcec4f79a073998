"""Banned phrases said by the agent, matched in context.

Three passes per utterance, over normalised text (simplified, no whitespace):

1. Token patterns (`BannedEntry.patterns`): a spaCy `Matcher` over the jieba tokens
   of the text, each token tagged with jieba's part of speech (`analyzers.tokens`).
   This is where context lives: 什么 is banned only as a curt reply (什么？ / 什么意思 /
   你说什么), never inside a question (请问您想买的是什么类型, 为什么, 没什么问题), and an
   ASR slip in a polite question (请问我什么可以帮到您) stays polite; 喂 only as an
   interjection at the start of a clause, never inside 喂养. The pack's phrases and their
   allowed longer forms are added to jieba's dictionary first, so "不知道" or "麻烦您"
   come out as one token for the patterns.
2. Literal phrases of two chars or more: every exact occurrence in the text, wherever
   jieba's tokens fall.
3. Character-level pinyin pass for ASR homophones of literal phrases (不知到 ->
   不知道). It has to be char-level: the misheard text segments differently
   ("不知" + "到"), so no token pattern can line up with it. Phrases of one char
   never match by sound.

A literal phrase of one char (喂 in a pack that lists it as a phrase) counts only as
a whole token, repeated or not (喂喂), at the start of the utterance or right after
punctuation.

A hit is dropped when one of the entry's `allow` expressions or `allow_patterns`
covers it (麻烦 inside 麻烦您).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from . import homophones, soundregex
from . import tokens as tok
from .intents import CallIntents
from .model import AGENT, Finding, Transcript, Utterance
from .rules import BannedEntry
from .text import _SENTENCE_END, first_syllables, normalise
from .turns import is_backchannel_text


@dataclass(frozen=True)
class Hit:
    entry: BannedEntry
    phrase: str
    start: int
    end: int
    by_sound: bool


@dataclass
class _Matchers:
    token_matcher: Any
    #: match_id label -> (entry, allowing) for the token Matcher.
    pattern_labels: dict[str, tuple[BannedEntry, bool]]
    #: Texts of which one must occur before tokenising is worth it (a pattern's required
    #: word, a one-char phrase); None = always tokenise.
    needles: tuple[str, ...] | None
    #: The needles as one regex (one C-level scan of an utterance instead of one per needle).
    needle_re: re.Pattern | None
    #: The one-char phrases as one regex: where one occurs, the tokens are needed.
    char_re: re.Pattern | None
    #: Per pattern (not allow patterns), a regex no narrower than the pattern
    #: (`tok.text_regex`): it can only match where the text matches this.
    pattern_res: tuple[re.Pattern, ...]
    #: (entry, normalised phrase, syllables its first char may be heard as) per literal phrase,
    #: in the pack's order: the char-level passes' side, done once.
    literals: tuple[tuple[BannedEntry, str, tuple[str, ...]], ...]
    #: (index into `literals`, phrase) of the phrases of two chars or more.
    multi_char: tuple[tuple[int, str], ...]
    #: The one-char phrases' indices into `literals`.
    single_char: tuple[int, ...]
    #: Syllable -> indices into `literals` of the phrases matched by sound whose first char
    #: may be heard as it: a text without the syllable cannot hold them by sound.
    by_first: dict[str, tuple[int, ...]]
    #: (intent, the first entry naming it) per intent the entries name, in their order (_meant).
    meanings: tuple[tuple[str, BannedEntry], ...] = ()
    #: Per literal phrase, the phrase when it is matched by sound ("" when not): homophones.windows' side.
    sounded: tuple[str, ...] = ()


#: id(entries) -> (entries, their matchers). Looked up by identity first: hashing the pack's
#: entries (frozen models) for every utterance cost more than matching most of them.
_BUILT: dict[int, tuple[tuple[BannedEntry, ...], _Matchers]] = {}


def _matchers(entries: tuple[BannedEntry, ...]) -> _Matchers:
    built = _BUILT.get(id(entries))
    if built is not None and built[0] is entries:
        return built[1]
    m = _build_matchers(entries)
    if len(_BUILT) >= 8:
        _BUILT.clear()
    _BUILT[id(entries)] = (entries, m)  # the tuple is held, so its id is not reused
    return m


@functools.lru_cache(maxsize=8)
def _build_matchers(entries: tuple[BannedEntry, ...]) -> _Matchers:
    """Build once per pack's banned list."""
    tok.add_words(w for e in entries for w in (*e.phrases, *e.allow))
    token_matcher = tok.matcher()
    pattern_labels: dict[str, tuple[BannedEntry, bool]] = {}
    needles: set[str] | None = set()
    chars: set[str] = set()
    pattern_res = []
    for n, entry in enumerate(entries):
        for phrase in entry.phrases:
            phrase = normalise(phrase)
            if len(phrase) == 1:  # _single_char_hits reads the tokens
                chars.add(phrase)
                if needles is not None:
                    needles.add(phrase)
        for allowing, patterns in ((False, entry.patterns), (True, entry.allow_patterns)):
            for m, pattern in enumerate(patterns):
                label = f"{'a' if allowing else 'p'}{n}:{m}"
                pattern_labels[label] = (entry, allowing)
                token_matcher.add(label, [json.loads(pattern)])
                if not allowing:
                    found = tok.needles(pattern)
                    if found is None:
                        needles = None
                    elif needles is not None:
                        needles.update(found)
                    pattern_res.append(tok.text_regex(pattern))
    needles_sorted = None if needles is None else tuple(sorted(needles))
    needle_re = (None if not needles_sorted
                 else re.compile("|".join(re.escape(n) for n in sorted(needles_sorted, key=len, reverse=True))))
    literals = tuple((entry, normalise(phrase), first_syllables(normalise(phrase)))
                     for entry in entries for phrase in entry.phrases)
    char_re = re.compile("|".join(re.escape(c) for c in sorted(chars))) if chars else None
    meanings: dict[str, BannedEntry] = {}
    for entry in entries:
        if entry.meaning:
            meanings.setdefault(entry.meaning, entry)
    by_first: dict[str, list[int]] = {}
    for i, (entry, phrase, firsts) in enumerate(literals):
        if entry.homophones and len(phrase) > 1:
            for syl in firsts:
                by_first.setdefault(syl, []).append(i)
    return _Matchers(token_matcher=token_matcher, pattern_labels=pattern_labels, needles=needles_sorted,
                     needle_re=needle_re, char_re=char_re, pattern_res=_one_regex(pattern_res), literals=literals,
                     multi_char=tuple((i, p) for i, (_, p, _) in enumerate(literals) if len(p) > 1),
                     single_char=tuple(i for i, (_, p, _) in enumerate(literals) if len(p) == 1),
                     by_first={k: tuple(v) for k, v in by_first.items()},
                     meanings=tuple(meanings.items()),
                     sounded=tuple(p if e.homophones and len(p) > 1 else "" for e, p, _ in literals))


def _one_regex(regexes: list[re.Pattern]) -> tuple[re.Pattern, ...]:
    """The patterns' regexes as one alternation (a text is scanned once in C, not once per
    pattern: ~20 searches an agent utterance); as they are where they cannot be joined."""
    if len(regexes) < 2 or any(re.search(r"\\[1-9]|\(\?P=", r.pattern) for r in regexes):
        return tuple(regexes)  # a group reference would point elsewhere inside one regex
    try:
        return (re.compile("|".join(f"(?:{r.pattern})" for r in regexes)),)
    except re.error:  # an inline flag is allowed only at the start
        return tuple(regexes)


def _needs_tokens(text: str, m: _Matchers) -> bool:
    """Whether a pattern could match `text` or a one-char phrase occurs in it: only then
    is tokenising it worth its cost (allow patterns: see find_banned)."""
    if m.needles is None:
        return True
    if m.needle_re is None or not m.needle_re.search(text):
        return False
    if m.char_re is not None and m.char_re.search(text):
        return True
    return any(r.search(text) for r in m.pattern_res)


def _single_char_hits(doc: Any, entry: BannedEntry, char: str) -> list[Hit]:
    hits = []
    for token in doc:
        text = token.text
        if not text or set(text) != {char}:
            continue
        if token.is_sent_start:
            hits.append(Hit(entry, char, token.idx, token.idx + len(text), False))
    return hits


def _allowed(text: str, hit: Hit, allowed_spans: list[tuple[str, int, int]]) -> bool:
    for entry_id, start, end in allowed_spans:
        if entry_id == hit.entry.id and start <= hit.start and hit.end <= end:
            return True
    for allowed in hit.entry.allow:
        allowed = normalise(allowed)
        start = text.find(allowed)
        while start != -1:
            if start <= hit.start and hit.end <= start + len(allowed):
                return True
            start = text.find(allowed, start + 1)
    return False


def _literal_hits(text: str, m: _Matchers, doc: Any) -> list[Hit]:
    """The literal phrases' hits, exact and by sound, in the pack's order (one-char
    phrases from the tokens, when `text` was tokenised: only then can it hold one)."""
    # Exact places by str.find; places by sound from one walk over the text for all phrases
    # (analyzers.homophones: the windows find_phrase finds by sound, exact places excluded).
    by_sound: dict[int, set[int]] = {}
    if m.by_first and soundregex.may_sound_like(text, m.sounded):  # the walk only where the regex finds a window
        for i, start, same in homophones.windows(text, m.sounded):
            if same < len(m.sounded[i]):
                by_sound.setdefault(i, set()).add(start)
    todo = {i for i, phrase in m.multi_char if phrase in text} | by_sound.keys()
    if doc is not None:
        todo.update(m.single_char)
    hits: list[Hit] = []
    for i in sorted(todo):
        entry, phrase, _ = m.literals[i]
        if len(phrase) == 1:
            hits.extend(_single_char_hits(doc, entry, phrase))
            continue
        places = [(start, False) for start in _exact_starts(text, phrase)] + [(s, True) for s in by_sound.get(i, ())]
        hits += [Hit(entry, phrase, start, start + len(phrase), sound) for start, sound in sorted(places)]
    return hits


def _exact_starts(text: str, phrase: str) -> list[int]:
    starts, start = [], text.find(phrase)
    while start != -1:
        starts.append(start)
        start = text.find(phrase, start + 1)
    return starts


def find_banned(text: str, entries: tuple[BannedEntry, ...]) -> list[Hit]:
    """Banned hits in one utterance's text, in order, one per entry and place."""
    return _find(text, entries)[0]


def _find(text: str, entries: tuple[BannedEntry, ...]) -> tuple[list[Hit], list[Hit]]:
    """(hits kept, hits an allow form excused) in one utterance's text."""
    text = normalise(text)
    if not text or not entries:
        return [], []
    m = _matchers(entries)
    hits: list[Hit] = []
    allowed_spans: list[tuple[str, int, int]] = []
    # Tokenising is most of the cost of this function and only finds something where a
    # pattern's required word or a one-char phrase occurs: most utterances skip it.
    doc = tok.make_doc(text) if _needs_tokens(text, m) else None
    literal_hits = _literal_hits(text, m, doc)
    if doc is None and any(hit.entry.allow_patterns for hit in literal_hits):
        doc = tok.make_doc(text)  # an allow pattern may excuse the hit: it needs the tokens
    if doc is not None:
        for match_id, start, end in m.token_matcher(doc):
            entry, allowing = m.pattern_labels[tok.vocab().strings[match_id]]
            chars = tok.span_chars(doc, start, end, len(text))
            if chars is None:
                continue
            if allowing:
                allowed_spans.append((entry.id, *chars))
            else:
                hits.append(Hit(entry, text[chars[0]:chars[1]], chars[0], chars[1], False))
    hits += literal_hits
    kept: list[Hit] = []
    excused: list[Hit] = []
    # Exact before by-sound so a place matched both ways reports the exact one.
    for hit in sorted(hits, key=lambda h: (h.start, h.by_sound, -(h.end - h.start))):
        if _allowed(text, hit, allowed_spans):
            excused.append(hit)
            continue
        if any(k.entry.id == hit.entry.id and k.start < hit.end and hit.start < k.end for k in kept):
            continue
        kept.append(hit)
    return kept, excused


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


def prepare_matchers(entries: tuple[BannedEntry, ...]) -> None:
    """Build `entries`' matchers now (jieba's dictionary and tagger load on the way):
    what the first call with them would otherwise spend, ~1.5 s per process."""
    _matchers(entries)


def banned_findings(transcript: Transcript, entries: tuple[BannedEntry, ...],
                    meaning: CallIntents | None = None, listening: tuple[str, ...] = ()) -> list[Finding]:
    """One finding per entry and sentence (issue 31: a blame sentence with two of an entry's
    phrases raised the same finding twice); the detail names every phrase it matched. An
    entry with an intent also raises on an utterance that means it and matched no phrase
    of its intent: the detail is the evidence (meaning: nearest example '…' (0.83)); see _meant.
    `listening`: the backchannel phrases (嗯嗯, 好的): an utterance of nothing else means none of the
    entries (b8fix: 001 §2.1 第一步 names 嗯 / 是的 as the response that shows the agent listens)."""
    findings = []
    for u in transcript.utterances:
        if u.speaker != AGENT:
            continue
        text = normalise(u.text)
        grouped: dict[tuple[str, int], list[Hit]] = {}
        kept, excused = _find(u.text, entries)
        for hit in kept:
            grouped.setdefault((hit.entry.id, len(_SENTENCE_END.findall(text, 0, hit.start))), []).append(hit)
        for hits in grouped.values():
            first, last = hits[0], max(hits, key=lambda h: h.end)
            start_s, end_s = _hit_times(u, text, first)[0], _hit_times(u, text, last)[1]
            phrases = dict.fromkeys(h.phrase + (" (by sound)" if h.by_sound else "") for h in hits)
            detail = " / ".join(phrases) + (f"; {first.entry.note}" if first.entry.note else "")
            findings.append(Finding("banned_phrase", first.entry.id, first.entry.severity, AGENT,
                                    start_s, end_s, text[first.start : last.end], detail))
        said = {h.entry.meaning for h in (*kept, *excused) if h.entry.meaning}
        meant = _meant(u, text, entries, meaning, said)
        if meant and not (listening and is_backchannel_text(text, listening)):
            findings += meant
    return findings


def _meant(u: Utterance, text: str, entries: tuple[BannedEntry, ...], meaning: CallIntents | None,
           said: set[str]) -> list[Finding]:
    """One finding per intent that `u` means, under the first entry naming it, unless the
    words of an entry naming it matched (`said`: a hit, or a use its allow forms excuse:
    the pack's exceptions hold for the meaning too) or the match is below that entry's
    `meaning_min_probability`."""
    if meaning is None:
        return []
    out = []
    for intent, entry in _matchers(entries).meanings:
        if intent in said or (m := meaning.hit(u, intent)) is None:
            continue
        if m.probability < (entry.meaning_min_probability or 0.0):
            continue
        detail = m.evidence() + (f"; {entry.note}" if entry.note else "")
        out.append(Finding("banned_phrase", entry.id, entry.severity, AGENT, u.start_s, u.end_s, text, detail))
    return out
