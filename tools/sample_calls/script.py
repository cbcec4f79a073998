"""The script vocabulary of the sample calls: utterances, holds, pauses, a call, and the
helpers that turn a placed timeline into expected findings (pure: no audio)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyzers.model import AGENT, CUSTOMER, Finding

NORMAL_RATE = 160.0  # chars/min aimed at for normal speakers

CLAUSE_PUNCT = "、，。！？；：,.!?;:"
CHAR_RE = re.compile(r"[\u4e00-\u9fff0-9]")


def count_chars(text: str) -> int:
    """Chinese characters and digits, no punctuation."""
    return len(CHAR_RE.findall(text))


DIGITS = dict(zip("0123456789", "零一二三四五六七八九"))


def spoken(text: str) -> str:
    """What the TTS is given: digit strings (order/phone numbers) read digit by digit."""
    return "".join(DIGITS.get(ch, ch) for ch in text)


def split_clauses(text: str) -> list[str]:
    parts = re.split(r"(?<=[%s])" % re.escape(CLAUSE_PUNCT), text.strip())
    return [p for p in parts if count_chars(p)]


@dataclass
class U:
    """An utterance. `gap`: silence before it (from the latest end so far);
    `overlap` (instead of gap): start this many seconds before the previous
    utterance ends."""

    speaker: str
    text: str
    gap: float = 0.7
    overlap: float | None = None
    #: louder (dB) than the speaker's other utterances: a raised voice
    gain_db: float = 0.0


@dataclass
class Hold:
    seconds: float


@dataclass
class Pause:
    seconds: float


@dataclass
class Call:
    call_id: str
    description: str
    fmt: str  # "pcm", "mulaw", "mp3"
    layout: str  # "stereo" / "mono"
    script: list
    agent_rate: float = NORMAL_RATE
    customer_rate: float = NORMAL_RATE
    agent_pause_scale: float = 1.0
    customer_pause_scale: float = 1.0
    # findings are produced by a function of the placed timeline
    findings: object = None
    # written as `<call_id>.meta.json` next to the recording when set (e.g. direction)
    meta: dict | None = None


def A(text, gap=0.7, overlap=None, gain_db=0.0):
    return U(AGENT, text, gap, overlap, gain_db)


def C(text, gap=0.7, overlap=None):
    return U(CUSTOMER, text, gap, overlap)


GREETING = "您好，很高兴为您服务，我是客服小李，请问有什么可以帮到您？"
ANYTHING_ELSE = "请问还有什么可以帮您的吗？"
SATISFACTION = "请问您对我的服务满意吗？"
GOODBYE = "感谢您的来电，祝您生活愉快，再见！"


def closing(gap=0.7):
    return [
        A(ANYTHING_ELSE, gap),
        C("没有了，谢谢。"),
        A(SATISFACTION),
        C("很满意。"),
        A(GOODBYE),
    ]


def F(category, severity, start, end, text="", detail="", speaker=AGENT, rule_id=""):
    return Finding(
        category=category,
        rule_id=rule_id,
        severity=severity,
        speaker=speaker,
        start_s=round(start, 4),
        end_s=round(end, 4),
        text=text,
        detail=detail,
    )


def agent_utts(t):
    return [u for u in t["utterances"] if u.speaker == AGENT]


def whole_agent_span(t):
    a = agent_utts(t)
    return a[0].start_s, a[-1].end_s


def find_utt(t, speaker, fragment):
    hits = [u for u in t["utterances"] if u.speaker == speaker and fragment in u.text]
    assert len(hits) == 1, (speaker, fragment, hits)
    return hits[0]
