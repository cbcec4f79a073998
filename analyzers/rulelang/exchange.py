"""The rule language's tests that compare an utterance with what the other party said just
before it (schema.Repeat: `repeats`, `differs`); moved out of evaluate.py."""

from __future__ import annotations

import re

from ..model import other_party
from ..text import PUNCT, strip_punct
from .entities import comparable, entities, same_value
from .schema import Condition, Repeat


def _texts(call, pool: set[int] | None):
    """(index, normalised text) of the utterances in `pool` (None: all), as evaluate._texts."""
    texts = call.texts
    return enumerate(texts) if pool is None else ((i, texts[i]) for i in pool)


def _heard(call, i: int, r: Repeat) -> list[int]:
    """The other party's utterances among the `r.within` utterances before utterance i."""
    who = other_party(call.utts[i].speaker)
    return [j for j in range(max(0, i - r.within), i) if call.utts[j].speaker == who]


def _common_run(a: str, b: str, n: int) -> bool:
    return any(a[k:k + n] in b for k in range(len(a) - n + 1))


#: A clause's end: the punctuation that splits what was said (not spaces: 7703 2815 is one number).
_CLAUSE_END = re.compile(f"[{re.escape(''.join(sorted(PUNCT)))}]+")


def _openings(text: str, n: int) -> list[str]:
    """The first n spoken chars of each clause of `text` that has n or more."""
    return [o for part in _CLAUSE_END.split(text) if len(o := strip_punct(part)[:n]) == n]


#: A sentence and its end mark (normalised text: NFKC makes ？ a ?).
_SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;]*")


def _stated(text: str) -> list[str]:
    """The sentences of `text` that do not ask (no question mark), without punctuation."""
    return [strip_punct(s) for s in _SENTENCE.findall(text) if "?" not in s and "？" not in s]


def _repeats(call, c: Condition, pool: set[int] | None) -> set[int]:
    r, hits = c.repeats, set()
    for i, t in _texts(call, pool):
        heard = _heard(call, i, r)
        if not heard:
            continue
        said = entities(t) if any(kind != "words" for kind in r.what) else ()
        for kind in r.what:
            if kind == "words":
                if r.read_back:
                    theirs = [s for j in heard for s in _stated(call.texts[j])]
                    if any(o in s for o in _openings(t, r.min_chars) for s in theirs):
                        hits.add(i)
                elif any(_common_run(strip_punct(t), strip_punct(call.texts[j]), r.min_chars) for j in heard):
                    hits.add(i)
            elif any(k == kind and k2 == kind and same_value(kind, v, v2)
                     for k, v in said for j in heard for k2, v2 in entities(call.texts[j])):
                hits.add(i)
    return hits


#: (b8fix) The agent's own number (工号四一一六, 我是九号话务员, 坐席号 …): the speaker's, never a value of the other party's
#: (not 编号: 订单编号 is the customer's).
_OWN_ID = re.compile(r"(?:工号|坐席号|座席号|员工号)(?:是|为)?[0-9零〇幺一二两三四五六七八九十 ]+号?"
                     r"|[0-9零〇幺一二两三四五六七八九十]+号(?:话务员|客服|坐席|座席|专员|接线员|服务专员)")


def _differs(call, c: Condition, pool: set[int] | None) -> set[int]:
    r, hits = c.differs, set()
    for i, t in _texts(call, pool):
        heard = [e for j in _heard(call, i, r) for e in entities(call.texts[j])]
        if not heard:
            continue
        t = _OWN_ID.sub("，", t) if "号" in t else t   # the agent naming itself reads back nothing (001 §2.1 复述确认)
        for kind in r.what:
            mine = [v for k, v in entities(t) if k == kind]
            theirs = [v for k, v in heard if k == kind]
            # Only what the customer gave is compared: a value of the agent's with none of theirs
            # it could repeat (a date or number read from the order) is no wrong repeat.
            for a in mine:
                them = [b for b in theirs if comparable(kind, a, b)]
                # a value of theirs the utterance repeats right is confirmed; another value beside it
                # (the flat upstairs, 1103, next to the customer's 1003) is another thing, not a slip
                if them and not any(same_value(kind, a, b) for b in them) \
                        and not all(any(same_value(kind, x, b) for x in mine) for b in them):
                    hits.add(i)
    return hits
