"""Hand-written transcripts for analyzer tests.

`say` times an utterance from its text at a chosen speaking rate, so a test can
state the rate it means instead of doing arithmetic on timestamps.
"""

from __future__ import annotations

from dataclasses import replace

from analyzers.model import SpeechSpan, Transcript, Utterance, Word
from analyzers.text import count_chars

A, C = "agent", "customer"


def say(speaker: str, start_s: float, text: str, cpm: float = 180.0) -> Utterance:
    """An utterance starting at `start_s`, as long as `text` takes at `cpm` chars/min."""
    return Utterance(speaker, start_s, round(start_s + count_chars(text) * 60.0 / cpm, 3), text)


def at(speaker: str, start_s: float, end_s: float, text: str) -> Utterance:
    return Utterance(speaker, start_s, end_s, text)


def with_words(u: Utterance, pieces: list[str], gaps_s: dict[int, float] | None = None) -> Utterance:
    """`u` with words: pieces share the time evenly, then word i is pushed back by gaps_s[i]."""
    gaps_s = gaps_s or {}
    spoken_s = u.end_s - u.start_s - sum(gaps_s.values())
    each = spoken_s / len(pieces)
    words, t = [], u.start_s
    for i, piece in enumerate(pieces):
        t += gaps_s.get(i, 0.0)
        words.append(Word(piece, round(t, 3), round(t + each, 3)))
        t += each
    return replace(u, words=tuple(words))


def call(*utterances: Utterance, layout: str = "stereo", duration_s: float | None = None,
         spans: tuple[SpeechSpan, ...] = ()) -> Transcript:
    end = max([u.end_s for u in utterances] + [s.end_s for s in spans] + [0.0])
    return Transcript(
        call_id="t",
        duration_s=duration_s if duration_s is not None else round(end + 1.0, 3),
        layout=layout,
        utterances=tuple(sorted(utterances, key=lambda u: u.start_s)),
        speech_spans=spans,
    )


GREETING = "您好，很高兴为您服务，我是工号1234的客服小王。"
CLOSING_CHECK = "请问这样处理您满意吗？"  # a satisfaction check (还有其他…吗 is not one: docs/sample-truth.md P4)
CLOSING_BYE = "感谢您的来电，再见。"


def conversation(lines: list[tuple[str, str]], cpm: dict[str, float] | None = None,
                 gap_s: float = 0.5, layout: str = "stereo") -> Transcript:
    """Turns one after another, `gap_s` apart, each timed by its speaker's rate."""
    cpm = {A: 180.0, C: 180.0, **(cpm or {})}
    t, utts = 0.5, []
    for speaker, text in lines:
        u = say(speaker, t, text, cpm[speaker])
        utts.append(u)
        t = u.end_s + gap_s
    return call(*utts, layout=layout)


def good_lines(middle: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """A call that meets the standard; `middle` replaces the body between greeting and closing."""
    # 003 §四.2(1)3: thanks after the customer provides what was asked, a reply when the
    # customer thanks; 001 §2.1: the details repeated back (您是说…对吗).
    body = middle if middle is not None else [
        (C, "你好，我想查一下我的订单为什么还没有到。"),
        (A, "好的，麻烦您提供一下订单号。"),
        (C, "订单号是12345678。"),
        (A, "已经帮您查到了，明天上午就会送到您家。"),
        (C, "好的，谢谢你。"),
        (A, "不客气。"),
    ]
    if middle is None:
        body[3] = (A, "谢谢您。跟您确认一下，订单号是12345678，对吗？已经帮您查到了，明天上午就会送到您家。")
    return [(A, GREETING), *body, (A, CLOSING_CHECK), (C, "没有了，谢谢。"), (A, CLOSING_BYE)]


def good_call(**kwargs) -> Transcript:
    return conversation(good_lines(), **kwargs)
