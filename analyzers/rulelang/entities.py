"""Entities in what was said: numbers (order, phone, ID), amounts of money, dates.

Over normalised text (analyzers.text.normalise), Arabic or Chinese numerals alike, so
that "订单号是33578201" and "三三五七八二零一" give the same value, and "一千零八十元" and
"1080元" the same amount. Each entity is (kind, value): comparing values is how a
repeat-back is checked against what the customer said.
"""

from __future__ import annotations

import functools
import re

from ..text import normalise, strip_punct

_DIGIT = {"零": 0, "〇": 0, "幺": 1, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
          "八": 8, "九": 9}
_UNIT = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
_CN = "零〇幺一二两三四五六七八九十百千万亿"
_NUM = rf"(?:[0-9]+(?:点[0-9]+)?|[{_CN}]+(?:点[{_CN[:12]}]+)?)"
_AMOUNT = re.compile(rf"({_NUM})(?:块钱|块|元|万元|角|毛)")
# A price said without 元 after a price word (原价三千九百八, 只要一千二百九十九): sales talk drops the unit.
# Only a numeral with a place (十/百/千/万) or 3+ digits, and not one a unit of time or count follows.
_PRICE = re.compile(rf"(?:原价|现价|售价|价格|价钱|定价|优惠价|特价|活动价|只要|只需|仅需|仅要|一共|总共|合计|总价|学费|月租|年费)"
                    rf"(?:是|为|就|才|只要|也就)?([0-9]{{3,}}|[{_CN}]*[十百千万][{_CN}]*)(?![0-9{_CN}月日号天年个次节期位点分岁斤小周多来余公米克吨升层楼人家件台部张条份套项户辆笔])")
# A weekday of this week (本周六, 这个礼拜三) is that weekday: the bare 周六 means this week's.
_DATE = re.compile(rf"({_NUM})月(?:({_NUM})(?:日|号))?|({_NUM})(?:日|号)|(?:本|这个?)?(?:周|星期|礼拜)([一二三四五六日天])"
                   r"|(今天|明天|后天|昨天|前天|下周|下个月|本周|这周|(?:这个?|本|下个?)(?:星期|礼拜)|这个月|本月|下月)")
#: One span said two ways is one value (这周 and 本周, 下礼拜 and 下周): their canonical word.
_SAME_WORD = {"这周": "本周", "这星期": "本周", "这个星期": "本周", "本星期": "本周", "这礼拜": "本周", "这个礼拜": "本周",
              "本礼拜": "本周", "下星期": "下周", "下个星期": "下周", "下礼拜": "下周", "下个礼拜": "下周",
              "这个月": "本月", "下月": "下个月"}
_DECIMAL = re.compile(r"([0-9])\.([0-9])")
#: A run of digits read one by one (an order or phone number): 3 or more digits. Read without
#: punctuation, so a numeral said right after it (…三三七一九，一点七升的水壶; …尾号五六，一个包裹) would
#: join it: a run does not end just before 点 or a measure word (its last digit is that numeral's).
_DIGITS = re.compile(r"[0-9零〇幺一二三四五六七八九]{3,}(?![点个台件张份块条只瓶盒箱袋套本支斤升米天次])")


def _small(text: str) -> int | None:
    """一千零八十 -> 1080 (below 10 000); digits read one by one (一二三) -> 123."""
    if text.isdigit():
        return int(text)
    if all(c in _DIGIT for c in text) and len(text) > 1:
        return int("".join(str(_DIGIT[c]) for c in text))
    total, current, last_unit = 0, None, None
    for c in text:
        if c in _DIGIT:
            current = _DIGIT[c]
        elif c in _UNIT:
            total += (1 if current is None else current) * _UNIT[c]
            current, last_unit = None, _UNIT[c]
        else:
            return None
    # 三千九百八 is 3980 as said: a last digit right after a place (no 零) counts one place down.
    if current is not None and last_unit and last_unit > 10 and text[-2] in _UNIT:
        current *= last_unit // 10
    return total + (current or 0)


def cn_number(text: str) -> float | None:
    """A numeral (Arabic or Chinese, with 万 / 亿 and a decimal 点) as a number; None if not one."""
    whole, _, frac = text.partition("点")
    if re.fullmatch(r"[0-9]+(点[0-9]+)?", text):
        return float(text.replace("点", "."))
    value, rest = 0, whole
    for big in ("亿", "万"):
        if big in rest:
            head, rest = rest.split(big, 1)
            head_value = _small(head) if head else 1
            if head_value is None:
                return None
            value += head_value * _BIG[big]
    if rest:
        # 一万五 is 15000 as said: one digit right after 万 / 亿 counts one place down.
        if value and len(rest) == 1 and rest in _DIGIT and rest not in "零〇" and whole[-2] in _BIG:
            return float(value + _DIGIT[rest] * _BIG[whole[-2]] // 10) + (float("0." + frac) if frac.isdigit() else 0)
        small = _small(rest)
        if small is None:
            return None
        value += small
    if frac:
        if not all(c in _DIGIT for c in frac):
            return None
        value += float("0." + "".join(str(_DIGIT[c]) for c in frac))
    return float(value)


def _fmt(value: float) -> str:
    return f"{value:g}"


@functools.lru_cache(maxsize=16384)
def entities(text: str) -> tuple[tuple[str, str], ...]:
    """(kind, value) of every number, amount and date in `text`, in order of appearance."""
    # A decimal point between digits is part of the number, not punctuation.
    bare = strip_punct(_DECIMAL.sub(r"\1点\2", normalise(text)))
    found: list[tuple[int, str, str]] = []
    taken: list[tuple[int, int]] = []
    for m in _AMOUNT.finditer(bare):
        value = cn_number(m.group(1))
        if value is not None:
            scale = 10_000 if m.group(0).endswith("万元") else (0.1 if m.group(0)[-1] in "角毛" else 1)
            found.append((m.start(), "amount", _fmt(value * scale)))
            taken.append(m.span())
    # Prices over the text with its punctuation (a comma ends the numeral), placed in `bare`.
    marked = _DECIMAL.sub(r"\1点\2", normalise(text))
    for m in _PRICE.finditer(marked):
        start = len(strip_punct(marked[:m.start(1)]))
        if any(s <= start < e for s, e in taken):
            continue
        value = cn_number(m.group(1))
        if value is not None:
            found.append((start, "amount", _fmt(value)))
            taken.append((start, start + len(m.group(1))))
    for m in _DATE.finditer(bare):
        if any(s <= m.start() < e for s, e in taken):
            continue
        month, day, day_only, weekday, word = m.groups()
        if word:
            value = _SAME_WORD.get(word, word)
        elif weekday:
            value = "周" + ("日" if weekday in "日天" else weekday)
        else:
            parts = [("m", month), ("d", day or day_only)]
            nums = [(k, cn_number(v)) for k, v in parts if v]
            if any(n is None for _, n in nums):
                continue
            value = "".join(f"{k}{n:g}" for k, n in nums)
        found.append((m.start(), "date", value))
        taken.append(m.span())
    for m in _DIGITS.finditer(bare):
        if any(s <= m.start() < e for s, e in taken):
            continue
        if m.group(0).isdigit() or all(c in _DIGIT for c in m.group(0)):
            found.append((m.start(), "number", "".join(str(_DIGIT.get(c, c)) for c in m.group(0))))
    return tuple((k, v) for _, k, v in sorted(found))


def same_value(kind: str, a: str, b: str) -> bool:
    """Whether two values of `kind` are the same thing said twice: equal, or for a long
    number its last 4+ digits (尾号5678 for 13912345678)."""
    if a == b:
        return True
    if kind == "number":
        short, long_ = sorted((a, b), key=len)
        return len(short) >= 4 and long_.endswith(short)
    return False


#: A date word's unit: a day word is no repeat of a week or month word (今天 vs 下个月: another date).
_WORD_UNIT = {"今天": "day", "明天": "day", "后天": "day", "昨天": "day", "前天": "day",
              "下周": "week", "本周": "week", "下个月": "month", "本月": "month"}


def _date_form(value: str) -> str:
    """Which way a date was said: a calendar day (m12d5, d5), a weekday (周三) or a word of a unit (前天: word-day)."""
    if value[0] in "md" and value[1:2].isdigit():
        return "calendar"
    return "weekday" if value.startswith("周") else "word-" + _WORD_UNIT.get(value, value)


def comparable(kind: str, a: str, b: str) -> bool:
    """Whether `a` may be a repeat of `b` at all, so that a difference is a wrong repeat: a date
    said the same way (前天 and 十二月五号 may be one day: the call's date is unknown), a number
    of about the same length or a tail of it (an order number is no repeat of a phone number).
    A tail (4-6 digits) only of a long number (7+: phone, card, order): b10fix, a 6-digit 验证码 is no card's 尾号."""
    if kind == "date":
        return _date_form(a) == _date_form(b)
    if kind == "number":
        short, long_ = sorted((a, b), key=len)
        return len(long_) - len(short) <= 1 or (4 <= len(short) <= 6 and len(long_) >= 7)
    return True
