"""Matching by meaning: does an utterance say an intent, and which example is it most like.

Pure: the sentence embedding comes in already computed (flows/meaning embeds it); the
intent's model comes in already fitted (flows/meaning/bank.py fits it on the TRAIN
examples only). An intent's model is a logistic regression over two views of the
utterance: its sentence embedding (meaning) and its character 1-3-gram tf-idf (the
words, which tell near misses apart: 不好意思 as an apology or as a hold closing).
It hits when the probability exceeds `min_probability`. The evidence is the nearest
positive train example by cosine: "meaning: nearest example '…' (0.83)".

Why this and not the nearest-example margin alone: bench/bench_intents.py and
docs/meaning.md (measured on the test split).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .text import _SENTENCE_END, normalise  # the ends text.sentences splits at (as banned.py reads them)

#: Character n-gram lengths of the text view.
NGRAM = (1, 3)
#: A hit needs this probability. Above 0.5: a false flag costs more than a miss. 5-fold CV
#: within train preferred 0.55 by a margin within its noise; 0.6 is kept (docs/meaning.md).
MIN_PROBABILITY = 0.6


#: A sentence and the end marks after it (analyzers.text's sentence ends, a char class).
_MARKED_SENTENCE = re.compile(f"[^{_SENTENCE_END.pattern[1:-1]}]+{_SENTENCE_END.pattern}*")


def meaning_sentences(text: str) -> list[str]:
    """The units an utterance is judged by: its normalised sentences, each WITH the end marks
    that follow it (what ASR wrote). The models are fitted on examples that keep theirs; judged
    without them, a question lost its '?' and 9 of 28 intents their targets (docs/decisions.md)."""
    return _MARKED_SENTENCE.findall(normalise(text))


#: The marks a sentence's lead clause ends at: ，、； as written and as NFKC folds them (, ;).
_PART_MARK = re.compile(r"[,，、;；]")
_WORDLESS = re.compile(r"[\W_]")  # marks and spaces: a part of only these is no clause


#: (rt18) The replies to thanks or to an apology (003 §四.2(1)3 ✓客户向我们致谢、致歉时需作回应;
#: the standard gives no words: these are how agents say them, as phrases.yaml courtesy.reply)
#: that a sentence with no clause mark also splits after: whisper often drops the comma after
#: the reply (不客气您还有别的问题吗, 没事儿您慢慢说). Longest first: re's alternation takes the first.
REPLY_LEADS = tuple(sorted((
    "不客气", "别客气", "甭客气", "不用客气", "不要客气", "不必客气", "太客气了", "客气了",
    "不用谢", "不谢", "哪里哪里", "哪里的话", "哪儿的话", "应该的", "应该做的", "这是我应该做的", "这是我们应该做的",
    "没关系", "没事", "没事儿", "不要紧", "不碍事", "不打紧", "不麻烦", "小事一桩", "小意思", "举手之劳",
), key=len, reverse=True))
#: The particles a reply ends with (不客气哈, 没事的) and an address may end with (客气了您呐).
_PARTICLES = "的哈啊呀哦啦嘞呐噻哟喔嘛了"
#: A reply lead: an interjection, 您 / 你 (您别客气), the reply said up to three times, its particles.
_REPLY_LEAD = re.compile("(?:嗯|哎呀|哎|啊|哦|噢)*[您你]?(?:" + "|".join(REPLY_LEADS) + f"){{1,3}}[{_PARTICLES}]{{0,2}}")
#: What after the reply words makes them no clause of their own: a mark (不客气？: a question the
#: sentence ends on), a condition (没事的话), a question (没事吧), 什么 / 啥 (不客气什么呀), an
#: adverb (不客气地说), a final particle (举手之劳而已), a consequence (没事就好), a longer word (不要紧张, 没事干).
_NO_CLAUSE_AFTER = re.compile(r"[\W_]|的|话|什么|而已|罢了|[吧吗么呢啥地得就张干做]")
#: After a 的, only a new subject or the connective 那 (before one) starts a clause (没事的您慢慢说,
#: 应该的那我先帮您登记); a noun is attributed (应该的手续, 没关系的人, 您要的那款).
_SUBJECT = re.compile("[您你我咱]|那(?=[您你我咱就])")
#: 谢 / 麻烦 with a person after it is the verb with its object (不用谢我, 不麻烦您了), not the reply.
_VERB_OBJECT = re.compile("(?:谢我|麻烦[您你])$")


def sentence_parts(sentence: str) -> tuple[str, str | None]:
    """(lead clause, the rest after its mark) of one sentence (a meaning_sentences unit or an
    example), split at the first clause mark with words on both sides; with no such mark, after
    a leading reply (REPLY_LEADS) followed by 2+ more word chars of a clause of their own;
    (sentence, None) for one clause. Not normalised here: the fit embeds the examples' parts as written."""
    for m in _PART_MARK.finditer(sentence):
        lead, rest = sentence[:m.start()], sentence[m.end():]
        if _WORDLESS.sub("", lead) and _WORDLESS.sub("", rest):
            return lead, rest
    # no mark: a leading reply whose rest is a clause of its own (2+ word chars, particles aside)
    if (m := _REPLY_LEAD.match(sentence)) is not None:
        lead, rest = m.group(), sentence[m.end():]
        if (len(_WORDLESS.sub("", rest).rstrip(_PARTICLES)) >= 2 and not _NO_CLAUSE_AFTER.match(rest)
                and (_SUBJECT.match(rest) or not lead.endswith("的")) and not _VERB_OBJECT.search(lead + rest[:1])):
            return lead, rest
    return sentence, None


def part_rows(has_rest: Sequence[bool]) -> tuple[int, ...]:
    """Per sentence, its lead clause's row among the parts (lead then rest, sentence by
    sentence, only those with a rest), or -1: the one layout every caller keeps."""
    rows, at = [], 0
    for split in has_rest:
        rows.append(at if split else -1)
        at += 2 * bool(split)
    return tuple(rows)


@dataclass(frozen=True)
class SentenceParts:
    """Per sentence (one row each, as the sentence rows): its lead clause's unit embedding (the
    sentence's own row for one clause), its rest's (0 for one clause) and whether it has a rest."""

    lead: np.ndarray
    rest: np.ndarray
    has_rest: np.ndarray

    @classmethod
    def of(cls, rows: np.ndarray, index: Sequence[int], part_rows: np.ndarray) -> "SentenceParts":
        """From the sentences' `rows` and `index` (per sentence, its lead's row in `part_rows`, its
        rest the next; -1: one clause, or its parts not embedded)."""
        index = np.asarray(index, dtype=np.int64).reshape(-1)
        lead, rest = np.array(rows, dtype=np.float32), np.zeros_like(rows, dtype=np.float32)
        split = np.flatnonzero(index >= 0)
        lead[split], rest[split] = part_rows[index[split]], part_rows[index[split] + 1]
        return cls(lead, rest, index >= 0)

    def __getitem__(self, at) -> "SentenceParts":
        return SentenceParts(self.lead[at], self.rest[at], self.has_rest[at])

    def term(self, weights: np.ndarray) -> np.ndarray:
        """What the parts add to each sentence's logit under an intent's `part_weights`
        (lead, rest, has-rest), float32 like the sentence's own term."""
        d = self.lead.shape[1]
        if weights.shape != (2 * d + 1,):
            raise ValueError(f"{weights.shape[0]} part weights for parts of size {d}")
        return (np.asarray(self.lead, np.float32) @ weights[:d] + np.asarray(self.rest, np.float32) @ weights[d:2 * d]
                + np.asarray(self.has_rest, np.float32) * weights[2 * d])


def char_ngrams(text: str, ngram: tuple[int, int] = NGRAM) -> Counter[str]:
    """Character n-grams of the normalised `text` with their counts."""
    text = normalise(text)
    return Counter(text[i:i + n] for n in range(ngram[0], ngram[1] + 1) for i in range(len(text) - n + 1))


def tfidf(grams: Counter[str], idf: Mapping[str, float]) -> dict[str, float]:
    """Sublinear tf (1 + ln count) times idf over the vocabulary `idf`, L2-normalised:
    what scikit-learn's TfidfVectorizer(sublinear_tf=True) gives for the same vocabulary."""
    weights = {g: (1.0 + math.log(c)) * idf[g] for g, c in grams.items() if g in idf}
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {g: w / norm for g, w in weights.items()} if norm else {}


@dataclass(frozen=True)
class IntentBank:
    """One intent's train examples as unit row vectors, with their texts for evidence."""

    intent: str
    positive: np.ndarray
    negative: np.ndarray
    positive_texts: tuple[str, ...]
    negative_texts: tuple[str, ...]

    def __post_init__(self):
        for side, vecs, texts in (("positive", self.positive, self.positive_texts),
                                  ("negative", self.negative, self.negative_texts)):
            if vecs.ndim != 2 or vecs.shape[0] != len(texts) or not texts:
                raise ValueError(f"intent {self.intent}: {side} needs one vector per text "
                                 f"and at least one text (got {vecs.shape} for {len(texts)} texts)")
        if self.positive.shape[1] != self.negative.shape[1]:
            raise ValueError(f"intent {self.intent}: positive and negative vectors differ in size")


@dataclass(frozen=True)
class IntentModel:
    """A fitted intent: the linear weights of both views, and its examples for evidence."""

    bank: IntentBank
    embedding_weights: np.ndarray
    #: The text view's vocabulary with its idf, and the weight of each n-gram.
    idf: Mapping[str, float]
    ngram_weights: Mapping[str, float]
    bias: float
    min_probability: float = MIN_PROBABILITY
    ngram: tuple[int, int] = field(default=NGRAM)
    #: (2 x dim + 1,): the weights of the sentence's lead clause, rest and has-rest flag
    #: (SentenceParts), for an intent whose file says `clause_features: split`; else None.
    part_weights: np.ndarray | None = None
    #: A hit also needs its nearest train positive at least this close (cosine); 0: no floor
    #: (the example file's `min_similarity:`).
    min_similarity: float = 0.0

    @property
    def intent(self) -> str:
        return self.bank.intent

    def __post_init__(self):
        if self.embedding_weights.shape != (self.bank.positive.shape[1],):
            raise ValueError(f"intent {self.intent}: {self.embedding_weights.shape[0]} embedding weights "
                             f"for vectors of size {self.bank.positive.shape[1]}")
        if self.part_weights is not None and self.part_weights.shape != (2 * self.bank.positive.shape[1] + 1,):
            raise ValueError(f"intent {self.intent}: {self.part_weights.shape} part weights "
                             f"for vectors of size {self.bank.positive.shape[1]}")


@dataclass(frozen=True)
class IntentMatch:
    """The decision for one utterance and its evidence."""

    intent: str
    hit: bool
    probability: float
    #: The nearest positive train example and its cosine similarity.
    nearest: str
    similarity: float
    #: The nearest near miss (negative train example) and its similarity.
    nearest_negative: str
    negative_similarity: float

    def evidence(self) -> str:
        """How it matched, for a finding: meaning: nearest example '…' (0.83)."""
        return f"meaning: nearest example '{self.nearest}' ({self.similarity:.2f})"


def _rows(vectors: np.ndarray, model: IntentModel) -> np.ndarray:
    rows = np.asarray(vectors, dtype=np.float32)
    rows = rows[None, :] if rows.ndim == 1 else rows
    if rows.ndim != 2 or rows.shape[1] != model.bank.positive.shape[1]:
        raise ValueError(f"intent {model.intent}: vectors of shape {rows.shape}, the model's are "
                         f"{model.bank.positive.shape[1]} wide (another encoder?)")
    return rows


def match_many(model: IntentModel, vectors: np.ndarray, texts: Sequence[str],
               grams: Sequence[Counter[str]] | None = None, parts: SentenceParts | None = None) -> list[IntentMatch]:
    """The decision for each utterance: its unit sentence embedding (a row of `vectors`)
    and its text (`grams`: its char_ngrams already counted, shared by several intents);
    `parts`: the sentences' parts, row by row, which a model with part weights needs."""
    rows = _rows(vectors, model)
    if len(texts) != rows.shape[0]:
        raise ValueError(f"intent {model.intent}: {rows.shape[0]} vectors for {len(texts)} texts")
    z = rows @ model.embedding_weights + model.bias
    if model.part_weights is not None:
        if parts is None or parts.lead.shape != rows.shape:
            raise ValueError(f"intent {model.intent} judges a sentence with its parts: "
                             f"{'none' if parts is None else parts.lead.shape} given for {rows.shape}")
        z = z + parts.term(model.part_weights)
    pos, neg = rows @ model.bank.positive.T, rows @ model.bank.negative.T
    ip, ineg = pos.argmax(axis=1), neg.argmax(axis=1)
    out = []
    for i, text in enumerate(texts):
        view = tfidf(grams[i] if grams is not None else char_ngrams(text, model.ngram), model.idf)
        zi = float(z[i]) + sum(w * model.ngram_weights.get(g, 0.0) for g, w in view.items())
        p = 1.0 / (1.0 + math.exp(-zi)) if zi > -700 else 0.0
        out.append(IntentMatch(model.intent, p > model.min_probability and float(pos[i, ip[i]]) >= model.min_similarity, p,
                               model.bank.positive_texts[ip[i]], float(pos[i, ip[i]]),
                               model.bank.negative_texts[ineg[i]], float(neg[i, ineg[i]])))
    return out


def match(model: IntentModel, vector: np.ndarray, text: str, parts: SentenceParts | None = None) -> IntentMatch:
    """The decision for one utterance."""
    return match_many(model, vector, [text], parts=parts)[0]


def match_sentences(model: IntentModel, vectors: np.ndarray, sentences: Sequence[str],
                    parts: SentenceParts | None = None) -> IntentMatch | None:
    """One utterance judged by its sentences (each with its own embedding row): the most
    probable sentence decides, so a line with a hold apology and then the answer
    (对不起，让您久等了。您的包裹明天到。) is not diluted by the answer. None for no sentence."""
    if not sentences:
        return None
    return max(match_many(model, vectors, sentences, parts=parts), key=lambda m: m.probability)


def utterance_key(speaker: str, start_s: float, end_s: float, text: str) -> tuple[str, float, float, str]:
    """How a call's intent decisions name an utterance (its speaker, times and text)."""
    return (speaker, round(float(start_s), 3), round(float(end_s), 3), text)


@dataclass(frozen=True)
class CallIntents:
    """A call's intent decisions, computed outside the analyzers (flows/meaning) and handed
    in as data: per utterance, the intents it hits with their evidence."""

    hits: Mapping[tuple[str, float, float, str], Mapping[str, IntentMatch]]
    #: id(utterance) -> (the utterance, its hits): the checks ask about the same utterances
    #: many times; the utterance is kept, so its id cannot be reused by another meanwhile.
    _seen: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def _of(self, utterance) -> Mapping[str, IntentMatch]:
        seen = self._seen.get(id(utterance))
        if seen is None or seen[0] is not utterance:
            key = utterance_key(utterance.speaker, utterance.start_s, utterance.end_s, utterance.text)
            seen = self._seen[id(utterance)] = (utterance, self.hits.get(key, {}))
        return seen[1]

    def hit(self, utterance, intent: str) -> IntentMatch | None:
        """The match if `utterance` (an analyzers.model.Utterance) means `intent`, else None."""
        return self._of(utterance).get(intent)

    def intents_of(self, utterance) -> frozenset[str]:
        """Every intent `utterance` hits (what the rule language's `intent:` test reads)."""
        return frozenset(self._of(utterance))


def meant(meaning: CallIntents | None, utterances, intent: str | None):
    """(utterance, IntentMatch) of the first of `utterances` that means `intent`; None when
    none does, or there are no decisions (literal only) or the check names no intent."""
    if meaning is None or not intent:
        return None
    for u in utterances:
        if (m := meaning.hit(u, intent)) is not None:
            return u, m
    return None
