"""Words QA staff read on every page: speaker and category labels, times as m:ss.s."""

from __future__ import annotations

from analyzers.timeline import clock


SPEAKER_LABELS = {"agent": "坐席 agent", "customer": "客户 customer", "unknown": "未知 unknown"}

CATEGORY_LABELS = {
    "greeting_missing": "缺少问候语",
    "closing_missing": "缺少结束语",
    "banned_phrase": "禁用语",
    "hold": "静音等待",
    "hold_notice_missing": "等待前未告知",
    "hold_apology_missing": "等待后未致歉",
    "speech_rate_fast": "语速过快",
    "speech_rate_slow": "语速过慢",
    "pace_mismatch": "语速不匹配",
    "overtalk": "抢话",
    "complaint_apology_missing": "投诉未先致歉",
    "confirmation_missing": "未复述确认",
    "followup_time_missing": "承诺无时限",
    "polite_request_missing": "询问未用礼貌语",
    "thanks_missing": "未致谢",
    "reply_missing": "未回应致谢",
    "hold_reason_missing": "等待未说明原因",
    "raised_voice": "音量过高",
    "pack_rule": "规则包规则",
}


def fmt_time(t_s: float | None) -> str:
    """Seconds as m:ss.s (call recordings are minutes long)."""
    return "" if t_s is None else clock(t_s)


def category_label(category: str) -> str:
    zh = CATEGORY_LABELS.get(category)
    return f"{zh} {category}" if zh else category
