"""Turns: who holds the floor, from one change of speaker to the next.

The dialogue checks (a complaint and the agent's next turn, a request and the
thanks after the answer) look at turns, not utterances: one speaker's consecutive
utterances are one turn. Backchannels (嗯, 是的, 好的; short and nothing else) are
listening, not turns (001 §2.1 第一步: 通过“嗯”“是的”等回应示意关注): an agent's
backchannel, or anyone's said inside the other party's speech, does not end the
other party's turn; nor does an agent's utterance that hands the floor back
(您说, 我在听: b8fix), so what the customer says around it is one turn.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .memo import latest_by_identity
from .model import AGENT, CUSTOMER, Transcript, Utterance, other_party
from .rules import OvertalkRules
from .text import first_alternative, normalise, strip_punct


@dataclass(frozen=True)
class Turn:
    speaker: str
    utterances: tuple[Utterance, ...]

    @property
    def start_s(self) -> float:
        return self.utterances[0].start_s

    @property
    def end_s(self) -> float:
        return max(u.end_s for u in self.utterances)

    @functools.cached_property
    def text(self) -> str:
        """Normalised text of the turn, utterances joined by a full stop."""
        return "。".join(normalise(u.text) for u in self.utterances)

    @property
    def said(self) -> str:
        return " / ".join(u.text for u in self.utterances)


def is_backchannel_text(text: str, phrases: tuple[str, ...]) -> bool:
    """`text` is nothing but backchannel phrases (嗯嗯，好的), and not empty."""
    rest = strip_punct(normalise(text))
    if not rest or not phrases:
        return False
    ordered = sorted({strip_punct(normalise(p)) for p in phrases} - {""}, key=len, reverse=True)
    while rest:
        for p in ordered:
            if rest.startswith(p):
                rest = rest[len(p):]
                break
        else:
            return False
    return True


def is_backchannel(u: Utterance, rules: OvertalkRules) -> bool:
    return u.duration_s <= rules.backchannel_max_s + 1e-9 and is_backchannel_text(u.text, rules.backchannel_phrases)


@functools.lru_cache(maxsize=8)
def _any_of(phrases: tuple[str, ...]) -> re.Pattern:
    """One regex for `phrases` (a search per utterance instead of one per phrase: turns reads every agent utterance)."""
    return re.compile("|".join(map(re.escape, sorted(phrases, key=len, reverse=True))))


def hands_floor_back(text: str, rules: OvertalkRules, soften: bool = True) -> bool:
    """`text` invites the customer to go on (嗯，阿姨您说; 您接着说): backchannels, forms of address (and
    with `soften`, 没事 / 不急) and at least one yield phrase, nothing else (b7fix; 001 §2.1 第一步 不随意打断, 适时回应)."""
    if not rules.yield_phrases or not _any_of(rules.yield_phrases).search(normalise(text)):
        return False
    return is_backchannel_text(text, (*rules.backchannel_phrases, *rules.yield_phrases, *rules.yield_address_phrases,
                                      *(rules.yield_soften_phrases if soften else ())))


def _listens(u: Utterance, rules: OvertalkRules) -> bool:
    """An agent utterance that only listens: a backchannel, or (b8fix) one that hands the floor back
    (嗯，您说，我在听), whatever its length: the customer keeps the turn (001 §2.1 第一步 倾听, 适时回应).
    Not with 没事 / 没关系 (没关系，您说): that answers the customer's 不好意思, a turn (003 §四.2(1)3 ✓3)."""
    return is_backchannel(u, rules) or hands_floor_back(u.text, rules, soften=False)


def _inside_other(u: Utterance, others: list[Utterance]) -> bool:
    return any(o.start_s < u.start_s < o.end_s for o in others)


@latest_by_identity
def turns(transcript: Transcript, rules: OvertalkRules) -> tuple[Turn, ...]:
    """The call's turns in time order, agent and customer only, backchannels left out.

    Worked out once per call (`latest_by_identity`): five rules read them."""
    utts = sorted((u for u in transcript.utterances if u.speaker in (AGENT, CUSTOMER)),
                  key=lambda u: (u.start_s, u.end_s))
    by_speaker = {s: [u for u in utts if u.speaker == s] for s in (AGENT, CUSTOMER)}
    out: list[list[Utterance]] = []
    for u in utts:
        other = by_speaker[other_party(u.speaker)]
        if (_listens(u, rules) if u.speaker == AGENT else is_backchannel(u, rules) and _inside_other(u, other)):
            continue
        if out and out[-1][0].speaker == u.speaker:
            out[-1].append(u)
        else:
            out.append([u])
    return tuple(Turn(group[0].speaker, tuple(group)) for group in out)


def next_turn(ts: Sequence[Turn], i: int, speaker: str) -> Turn | None:
    """The turn right after ts[i] when it is `speaker`'s."""
    return ts[i + 1] if i + 1 < len(ts) and ts[i + 1].speaker == speaker else None


def customer_cues(ts: Sequence[Turn], phrases: tuple[str, ...]) -> Iterator[tuple[Turn, tuple[int, str], Turn]]:
    """(customer turn, the first of `phrases` it says, the agent's next turn) for every
    customer turn that says one and is answered: the shape of the rules that judge how the
    agent answers what the customer said (a complaint, thanks or an apology)."""
    for i, turn in enumerate(ts):
        if turn.speaker != CUSTOMER:
            continue
        cue = first_alternative(turn.text, phrases)
        reply = next_turn(ts, i, AGENT) if cue else None
        if reply is not None:
            yield turn, cue, reply
