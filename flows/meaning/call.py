"""A call's utterances embedded once (per sentence, one batch per call) and judged against
the fitted intents; the decisions go to the analyzers as data (analyzers.intents.CallIntents)."""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from analyzers.intent_stack import IntentStack, evidence
from analyzers.intents import (NGRAM, CallIntents, SentenceParts, char_ngrams, match_many, meaning_sentences,
                               part_rows, sentence_parts, utterance_key)
from analyzers.memo import latest_by_identity
from analyzers.model import Transcript

from .bank import FittedIntent
from .bank_cache import kept_or_built
from .encoder import DEFAULT_ENCODER, Encoder, load_encoder


#: What a row embeds (analyzers.intents.meaning_sentences): a cache of other units is stale. The
#: parts' rows (clause17) come after the sentences' and their counts after the utterances' (stored):
#: a cache kept without them has the layout it had before, read as "no parts" (embedded again where
#: an intent reads them), and one with them has more counts than utterances (a miss for older code).
UNITS = b"sentences with their end marks\0"


@dataclass(frozen=True)
class CallEmbeddings:
    """Every utterance's sentences (in transcript order) and one unit vector per sentence; where
    an intent judges by a sentence's parts, the lead clause and rest of its speaker's sentences."""

    encoder: str
    #: sha256 of UNITS and the utterances' texts: embeddings of another transcript, or of
    #: other units of the same one, are never used.
    texts_hash: str
    sentence_counts: tuple[int, ...]
    vectors: np.ndarray
    #: Per sentence: its lead clause's row in `part_vectors` (its rest the next), -1 for one
    #: clause or another speaker's; `part_vectors` None: no parts were embedded (no model reads them).
    part_index: tuple[int, ...] = ()
    part_vectors: np.ndarray | None = None
    #: sha256 of the parts' texts (`parts_hash`), kept with them so that a changed splitter's
    #: parts are embedded again; "" where none were embedded (or from_stored, which cannot tell).
    parts_hash: str = ""

    def rows(self, index: int) -> np.ndarray:
        start = sum(self.sentence_counts[:index])
        return self.vectors[start:start + self.sentence_counts[index]]

    @functools.cached_property
    def parts(self) -> SentenceParts | None:
        """Every sentence's parts (its own row as the lead where none); None if none were embedded."""
        return None if self.part_vectors is None else SentenceParts.of(self.vectors, self.part_index, self.part_vectors)

    def stored(self) -> tuple[tuple[int, ...], np.ndarray]:
        """(counts, rows) as the transcript cache keeps them: the sentences per utterance, then, where
        parts were embedded, 2 or 0 per sentence (its parts' rows after all sentence rows)."""
        if self.part_vectors is None:
            return self.sentence_counts, self.vectors
        return ((*self.sentence_counts, *(2 * (i >= 0) for i in self.part_index)),
                np.vstack([self.vectors, self.part_vectors]) if len(self.part_vectors) else self.vectors)

    @classmethod
    def from_stored(cls, encoder: str, texts_hash: str, utterances: int, counts, rows,
                    parts_hash: str = "") -> "CallEmbeddings | None":
        """`stored`'s inverse for a call of `utterances`; None for another layout. `parts_hash`:
        what the reader checked the kept parts against (none where no parts were kept)."""
        sentence_counts, more = tuple(counts[:utterances]), tuple(counts[utterances:])
        n = sum(sentence_counts)
        if len(sentence_counts) != utterances or len(rows) != n + sum(more):
            return None
        if not more and n:  # no parts were embedded
            return cls(encoder, texts_hash, sentence_counts, rows)
        if len(more) != n or not set(more) <= {0, 2}:
            return None
        return cls(encoder, texts_hash, sentence_counts, rows[:n], part_rows([m == 2 for m in more]), rows[n:],
                   parts_hash)


def part_speakers(models: Mapping[str, "FittedIntent"]) -> frozenset[str]:
    """The speakers whose sentences' parts some model judges by (no extra embedding otherwise)."""
    return frozenset(f.examples.speaker for f in models.values() if f.model.part_weights is not None)


@latest_by_identity  # asked twice a call (reading the cache, then decide): the transcript is frozen
def texts_hash(transcript: Transcript) -> str:
    texts = [u.text for u in transcript.utterances]  # each text and a \0, hashed in one update
    return hashlib.sha256(UNITS + ("\0".join(texts) + "\0" * bool(texts)).encode("utf-8")).hexdigest()


@latest_by_identity  # read twice a call too (the cache read checks the parts, decide scores the sentences)
def split_call(transcript: Transcript) -> tuple[list[str], ...]:
    """Each utterance's meaning_sentences (not to be mutated: every caller gets the same lists)."""
    return tuple(meaning_sentences(u.text) for u in transcript.utterances)


def embed_call(transcript: Transcript, encoder: Encoder, speakers: frozenset[str] = frozenset()) -> CallEmbeddings:
    """All sentences of the call embedded in one batch, at the precision the transcript cache
    keeps (float16 values as float32): a run that embeds and a reprocess that reads the cache
    decide on the same numbers. With `speakers` (part_speakers), their sentences' lead clause
    and rest where a sentence has two, in a second batch (the sentences' rows stay as they were)."""
    split = split_call(transcript)
    return _embedded(transcript, encoder, split, _part_index(transcript, split, speakers) if speakers else None)


def _embedded(transcript: Transcript, encoder: Encoder, split: list[list[str]],
              parts: tuple[tuple[int, ...], list[str]] | None) -> CallEmbeddings:
    """embed_call's work on the call's sentences `split` and, unless None, its parts (`_part_index`)."""
    flat = [s for ss in split for s in ss]
    vecs = encoder.embed(flat) if flat else np.zeros((0, 0), dtype=np.float32)
    counts = tuple(len(ss) for ss in split)
    half = lambda v: np.asarray(v, dtype=np.float16).astype(np.float32)  # noqa: E731
    if parts is None:
        return CallEmbeddings(encoder.name, texts_hash(transcript), counts, half(vecs))
    index, texts = parts
    part_vecs = encoder.embed(texts) if texts else np.zeros((0, vecs.shape[1] if flat else 0), dtype=np.float32)
    return CallEmbeddings(encoder.name, texts_hash(transcript), counts, half(vecs), index, half(part_vecs),
                          parts_hash(texts))


def parts_hash(texts) -> str:
    """What the cache keeps of the parts' texts (lead then rest, sentence by sentence)."""
    return hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()


def _part_index(transcript: Transcript, split, speakers: frozenset[str]) -> tuple[tuple[int, ...], list[str]]:
    """(per sentence, its lead's row among the parts or -1; the parts' texts, lead then rest):
    part_rows' layout, built in one pass."""
    index: list[int] = []
    texts: list[str] = []
    for u, ss in zip(transcript.utterances, split):
        if u.speaker not in speakers:
            index += [-1] * len(ss)
            continue
        for s in ss:
            lead, rest = sentence_parts(s)
            if rest is None:
                index.append(-1)
            else:
                index.append(len(texts))
                texts += (lead, rest)
    return tuple(index), texts


#: A best sentence whose stacked probability is within this of an intent's threshold is
#: judged again by match_many: the stack sums in another order (differences ~1e-7).
STACK_SLACK = 1e-3


#: Stacks built, by the identity of their models (kept alive here, so ids are not reused).
_STACKS: dict[tuple, tuple[tuple, "_Plan"]] = {}


@dataclass(frozen=True)
class _Plan:
    """What decide reads of a set of models, built with their stack: not once per call."""

    stack: IntentStack
    fits: tuple
    #: Per intent: the least best probability judged (-1: every one, a model with other n-grams).
    floors: np.ndarray
    #: Per intent: its speaker's number in `speakers`.
    speaker_of: np.ndarray
    speakers: Mapping[str, int]


def _plan_of(models: Mapping[str, FittedIntent]) -> _Plan:
    """The models' stack and decide's arrays, built once per set of fitted models (per run, per worker)."""
    kept = tuple(f.model for f in models.values())
    key = tuple((intent, id(f.model)) for intent, f in models.items())
    if key not in _STACKS:
        if len(_STACKS) >= 4:
            _STACKS.pop(next(iter(_STACKS)))
        fits = tuple(models.items())
        speakers = {sp: n for n, sp in enumerate(dict.fromkeys(f.examples.speaker for _, f in fits))}
        # the stack counts the default n-grams: a model with others is judged exactly everywhere
        floors = np.array([f.model.min_probability - STACK_SLACK if f.model.ngram == NGRAM else -1.0 for _, f in fits])
        _STACKS[key] = (kept, _Plan(IntentStack.of({intent: f.model for intent, f in fits}), fits, floors,
                                    np.array([speakers[f.examples.speaker] for _, f in fits]), speakers))
    return _STACKS[key][1]


def stack_of(models: Mapping[str, FittedIntent]) -> IntentStack:
    """The models' stack, built once per set of fitted models (per run, per worker)."""
    return _plan_of(models).stack


def decide(transcript: Transcript, embeddings: CallEmbeddings,
           models: Mapping[str, FittedIntent]) -> CallIntents:
    """The intents each utterance hits (only its speaker's intents), with their evidence:
    an utterance is judged by its most probable sentence (as analyzers.intents.match_sentences).
    All sentences are scored for all intents at once (IntentStack, the same probabilities up
    to float rounding); a best sentence within STACK_SLACK of the threshold is judged again
    by match_many, so the decisions are match_many's."""
    if embeddings.texts_hash != texts_hash(transcript):
        raise ValueError("these embeddings belong to another transcript (its texts differ)")
    split = split_call(transcript)
    starts = np.cumsum((0, *embeddings.sentence_counts))
    flat = [x for ss in split for x in ss]
    if not flat or not models:
        return CallIntents({})
    plan = _plan_of(models)
    stack, fits = plan.stack, plan.fits
    parts = embeddings.parts if stack.part_columns else None  # None with part weights: the stack refuses
    p = stack.probabilities_of(embeddings.vectors, flat, parts)
    grams: dict[int, list] = {}  # utterance -> its sentences' char_ngrams, counted for the few judged again
    own = [i for i, ss in enumerate(split) if ss]
    best = np.maximum.reduceat(p, starts[own], axis=0)  # per utterance with sentences: its best sentence
    hits: dict = {}
    utterances = transcript.utterances
    said_by = np.array([plan.speakers.get(utterances[i].speaker, -1) for i in own])
    judged = (best > plan.floors) & (said_by[:, None] == plan.speaker_of)
    # per utterance and intent, its first sentence with the best probability (np.argmax's
    # choice), for every utterance at once: the row of each maximum, the least per utterance
    spans = np.array(embeddings.sentence_counts)[own]  # the rows each of `best` reduced
    top = np.minimum.reduceat(np.where(p == np.repeat(best, spans, axis=0), np.arange(len(p))[:, None], len(p)),
                              starts[own], axis=0)
    keys: dict[int, tuple] = {}  # utterance -> its utterance_key, made once for all its hits
    for k, n in zip(*(x.tolist() for x in np.nonzero(judged.T))):  # intent by intent, utterances in order
        intent, fitted = fits[k]
        i = own[n]
        if abs(best[n, k] - fitted.model.min_probability) < STACK_SLACK or fitted.model.ngram != NGRAM:
            at = slice(starts[i], starts[i + 1])
            if fitted.model.ngram == NGRAM and i not in grams:
                grams[i] = [char_ngrams(x) for x in split[i]]
            counted = grams[i] if fitted.model.ngram == NGRAM else None
            m = max(match_many(fitted.model, embeddings.vectors[at], split[i], counted,
                               None if parts is None else parts[at]), key=lambda m: m.probability)
        else:  # clear of the threshold: the stack's decision, with the best sentence's evidence
            row = int(top[n, k])
            m = evidence(fitted.model, embeddings.vectors[row], float(p[row, k]))
        if m.hit:
            if i not in keys:
                u = utterances[i]
                keys[i] = utterance_key(u.speaker, u.start_s, u.end_s, u.text)
            hits.setdefault(keys[i], {})[intent] = m
    return CallIntents(hits)


def cached_embeddings(cache, key: str, transcript: Transcript, encoder: Encoder,
                      speakers: frozenset[str] = frozenset()) -> tuple[CallEmbeddings, bool]:
    """The call's embeddings from the transcript cache (flows.storage.cache.TranscriptCache),
    or embedded now and kept there; the flag says whether they were embedded now. With
    `speakers` (part_speakers) a cache without their sentences' parts, or with parts of other
    texts (the splitter changed since, or a cache kept before parts_hash), is embedded again."""
    th = texts_hash(transcript)
    split = split_call(transcript)
    parts = _part_index(transcript, split, speakers) if speakers else None
    hashed = parts_hash(parts[1]) if parts is not None else None
    kept = cache.get_embeddings(key, encoder.name, th, hashed)
    emb = None if kept is None else CallEmbeddings.from_stored(encoder.name, th, len(transcript.utterances), *kept,
                                                               parts_hash=hashed or "")
    if emb is not None and (parts is None or (emb.part_vectors is not None and emb.part_index == parts[0])):
        return emb, False
    emb = _embedded(transcript, encoder, split, parts)  # the sentences and parts split once, above
    cache.put_embeddings(key, emb.encoder, emb.texts_hash, *emb.stored(), parts_hash=emb.parts_hash or None)
    return emb, True


@dataclass(frozen=True)
class IntentBankPlan:
    """The intents a rule pack reads, fitted once per run (the run plan carries it); the
    encoder travels by name (worker processes load it once each)."""

    models: Mapping[str, FittedIntent]
    encoder_name: str
    #: What fitting cost (CPU seconds), for the run's log.
    fit_cpu_s: float
    #: Whether the models were loaded from the fitted-model cache (flows/meaning/bank_cache.py).
    loaded: bool = False

    def cost(self) -> str:
        """What getting the models took, for a log line."""
        return f"{'loaded from cache' if self.loaded else 'fitted'} in {self.fit_cpu_s:.1f} s CPU"

    def encoder(self) -> Encoder:
        return _encoder(self.encoder_name)

    def decisions(self, transcript: Transcript, cache=None, key: str = "") -> CallIntents:
        """The call's intent decisions; its embeddings taken from / kept in `cache` under `key`."""
        enc, speakers = self.encoder(), part_speakers(self.models)
        emb = (cached_embeddings(cache, key, transcript, enc, speakers)[0] if cache is not None and key
               else embed_call(transcript, enc, speakers))
        return decide(transcript, emb, self.models)


@functools.lru_cache(maxsize=2)
def _encoder(name: str) -> Encoder:
    return load_encoder(name)


#: (section, field) of the checks' own intents (phrases.yaml `meaning:`, lexicons.layout).
HOOK_FIELDS = (("holds", "notice_meaning"), ("holds", "apology_meaning"), ("holds", "reason_meaning"),
               ("complaint", "customer_meaning"), ("complaint", "acknowledge_meaning"), ("confirmation", "meaning"),
               ("followup", "with_time_meaning"), ("followup", "without_time_meaning"),
               ("courtesy", "request_meaning"), ("courtesy", "thanks_meaning"), ("courtesy", "reply_meaning"),
               ("outbound_refusal", "customer_meaning"), ("outbound_refusal", "answered_meaning"),
               *(("greeting", f"{step}_meaning") for step in ("hello", "service_offer", "self_identification",
                                                              "outbound_purpose", "outbound_time_check")),
               *(("closing", f"{step}_meaning") for step in ("satisfaction_check", "thanks", "farewell", "invite_call_again")))


def pack_intents(pack) -> frozenset[str]:
    """The intents the rule pack reads: its banned entries' `meaning:`,
    the checks' intents (phrases.yaml `meaning:`) and the custom rules' `intent:` tests."""
    found = {b.meaning for b in pack.banned if b.meaning}
    found |= {getattr(getattr(pack, section), name) for section, name in HOOK_FIELDS} - {None}
    for rule in pack.custom_rules:
        for part in rule.parts():
            found |= {c.intent for c in part.walk() if isinstance(c.intent, str)}
    return frozenset(found)


def plan_intents(pack, examples_dir: str | Path, encoder: str = DEFAULT_ENCODER) -> IntentBankPlan | None:
    """The pack's intents fitted on `examples_dir`'s train splits; None when it reads none."""
    wanted = pack_intents(pack)
    if not wanted:
        return None
    t0 = time.process_time()
    models, loaded = kept_or_built(examples_dir, _encoder(encoder), only=wanted)
    return IntentBankPlan(models, encoder, time.process_time() - t0, loaded)
