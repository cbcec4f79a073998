"""`callqa report`: a static HTML review report for QA staff, built from the Parquet output.

    OUT/report/index.html          overview: counts, grades, frequent findings, call table
    OUT/report/calls/<call>.html   one page per call: timeline, transcript, audio player

Plain functions in three steps: read the tables (`load_tables`), turn rows into view
models (`overview_view`, `call_view`, `timeline`, `transcript_rows`, ...), render them with
the Jinja2 templates in `flows/review/templates/` (autoescaped; CSS and JS are inlined, so every
page works offline and on its own). No Prefect here.

Recordings are linked relative to each call page, so the folder keeps working when the
report and the recordings move together; `--embed-audio` puts them into the pages as
data: URIs instead (large pages, but one folder that plays anywhere).
"""

from __future__ import annotations

import base64
import mimetypes
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import jinja2

from analyzers.model import GRADES, SEVERITIES
from analyzers.phrases import plain_detail
from analyzers.pii import join_masked
from analyzers.timeline import clock
from flows.storage.fsio import atomic_write
from flows.storage.store import DIR_MODE, FILE_MODE, ResultStore, call_file_name

#: Width of the timeline's SVG coordinate system; the SVG itself scales to the page.
TIMELINE_WIDTH = 1000.0

#: Timeline lanes, top to bottom: (key, label, height) in SVG units. Findings that overlap
#: in time are stacked in rows of FINDING_ROW_H within their lane.
LANES = (
    ("agent", "坐席 agent", 18.0),
    ("customer", "客户 customer", 18.0),
    ("hold", "静音 hold", 18.0),
    ("finding", "问题 findings", 18.0),
)
TIMELINE_TOP = 22.0
LANE_GAP = 6.0
FINDING_ROW_H = 12.0

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
}

#: Worst first: the order findings and calls are listed in.
SEVERITY_ORDER = {sev: rank for rank, sev in enumerate(reversed(SEVERITIES))}

#: The grades a rule pack gives (grade_min_score A-E, below that F): all shown, even at 0.
GRADE_ORDER = GRADES

AUDIO_MIME = {
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".flac": "audio/flac",
    ".webm": "audio/webm",
}

TEMPLATES = Path(__file__).with_name("templates")


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Tables:
    calls: list[dict]
    utterances: list[dict]
    findings: list[dict]
    scores: list[dict]


def load_tables(out_dir: str | os.PathLike[str]) -> Tables:
    """The four tables of a run's output folder as lists of row dicts."""
    root = Path(out_dir)
    if not (root / "calls").is_dir():
        raise FileNotFoundError(f"no calls/ dataset in {root} (is it the --out folder of `callqa run`?)")
    store = ResultStore(root)
    return Tables(*(store.read(name).to_pylist() for name in ("calls", "utterances", "findings", "scores")))


def group_by_call(rows: Iterable[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row["call_id"], []).append(row)
    return out


# ---------------------------------------------------------------------------- helpers


def fmt_time(t_s: float | None) -> str:
    """Seconds as m:ss.s (call recordings are minutes long)."""
    return "" if t_s is None else clock(t_s)


def category_label(category: str) -> str:
    zh = CATEGORY_LABELS.get(category)
    return f"{zh} {category}" if zh else category


def page_name(call_id: str) -> str:
    """The call page's file name: safe on any filesystem, unique per call_id."""
    return call_file_name(call_id).removesuffix(".parquet") + ".html"


def _finding_sort_key(f: dict) -> tuple:
    return (f["start_s"], SEVERITY_ORDER.get(f["severity"], 9), f["category"])


def worst_first_key(row: dict) -> tuple:
    """The overview's default order: flagged calls first, then by grade (F first), then by
    score (lowest first); calls that failed to process after every graded call."""
    grade = row.get("grade") or ""
    rank = GRADE_ORDER.index(grade) if grade in GRADE_ORDER else -1
    score = row.get("score")
    return (not row.get("flagged"), row.get("status") != "ok", -rank,
            score if score is not None else float("inf"), row["call_id"])


#: A finding named in a flag reason: "critical banned_phrase:blame_shifting at ...".
_REASON_FINDING = re.compile(r"^(critical|major|minor|info) ([a-z_]+):(\S+) at (.+)$")
_OLD_SCORE_REASON = re.compile(r"^score (\S+) < (\S+)$")


def plain_reason(reason: str) -> str:
    """A flag reason as QA staff read it: a finding's category by its label; reasons
    written by older runs ("score 42 < 50", "item … graded F", "… at 3.0 s") in today's words."""
    m = _REASON_FINDING.match(reason)
    if m:
        severity, category, rule_id, when = m.groups()
        if when.endswith(" s"):  # older runs: seconds
            when = fmt_time(float(when[:-2]))
        return f"{severity} finding: {category_label(category)} ({rule_id}) at {when}"
    m = _OLD_SCORE_REASON.match(reason)
    if m:
        return f"score {m.group(1)} is below {m.group(2)}"
    if reason.startswith("item "):
        return "scorecard " + reason
    return reason


# ---------------------------------------------------------------------------- audio


@dataclass(frozen=True)
class AudioRef:
    src: str | None  # relative URL or data: URI; None when there is nothing to play
    mime: str
    path: str  # the recording on disk as resolved
    exists: bool
    note: str = ""


def resolve_audio_path(source: str, audio_root: str | os.PathLike[str] | None = None,
                       cwd: str | os.PathLike[str] | None = None) -> Path:
    """Where the recording of `source` is on this machine.

    Without `audio_root`: `source` itself, a relative one taken from `cwd` (the folder
    `callqa run` was started in is not recorded, so the current one stands in for it).
    With `audio_root`: the recordings moved there; a relative `source` is looked up below
    it first, then the file name alone.
    """
    src = Path(source)
    base = Path(cwd) if cwd is not None else Path.cwd()
    if audio_root is None:
        return (src if src.is_absolute() else base / src).resolve()
    root = Path(audio_root)
    root = (root if root.is_absolute() else base / root).resolve()
    candidates = [] if src.is_absolute() else [root / src]
    candidates.append(root / src.name)
    for cand in candidates:
        if cand.exists():
            return cand
    return candidates[-1]


def audio_mime(path: str | os.PathLike[str]) -> str:
    ext = Path(path).suffix.lower()
    return AUDIO_MIME.get(ext) or mimetypes.guess_type(str(path))[0] or "application/octet-stream"


def relative_url(target: Path, from_dir: Path) -> str:
    """A relative URL from a page in `from_dir` to `target`, percent-encoded."""
    from urllib.parse import quote

    rel = os.path.relpath(target, from_dir)
    return "/".join(quote(part) for part in Path(rel).parts)


def audio_ref(source: str, page_dir: Path, audio_root: str | os.PathLike[str] | None = None,
              embed: bool = False, cwd: str | os.PathLike[str] | None = None) -> AudioRef:
    path = resolve_audio_path(source, audio_root, cwd)
    mime = audio_mime(path)
    exists = path.is_file()
    if embed:
        if not exists:
            return AudioRef(None, mime, str(path), False, f"recording not found: {path}")
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return AudioRef(f"data:{mime};base64,{data}", mime, str(path), True)
    note = "" if exists else f"recording not found at {path} (use --audio-root)"
    return AudioRef(relative_url(path, page_dir.resolve()), mime, str(path), exists, note)


# ---------------------------------------------------------------------------- view models


def time_to_x(t_s: float, duration_s: float, width: float = TIMELINE_WIDTH) -> float:
    """Position of time `t_s` on a timeline `width` wide that spans `duration_s`."""
    if duration_s <= 0:
        return 0.0
    return round(min(max(t_s, 0.0), duration_s) / duration_s * width, 3)


@dataclass
class Bar:
    lane: str
    x: float
    w: float
    y: float
    h: float
    start_s: float
    end_s: float
    css: str
    title: str
    target: str = ""  # id of the transcript row or finding this bar stands for


@dataclass
class Timeline:
    width: float
    height: float
    duration_s: float
    lanes: list[dict]
    bars: list[Bar]
    ticks: list[dict]


def _tick_step(duration_s: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if duration_s / step <= 12:
            return float(step)
    return 7200.0


def timeline(duration_s: float | None, utterances: list[dict], findings: list[dict],
             width: float = TIMELINE_WIDTH) -> Timeline:
    """Bars for speech per speaker, holds and findings, x and width proportional to time.

    Zero-length findings (e.g. "greeting missing" at 0 s) still get a visible sliver.
    """
    ends = [r["end_s"] for r in (*utterances, *findings) if r.get("end_s") is not None]
    duration = float(duration_s) if duration_s else 0.0
    duration = max(duration, max(ends, default=0.0))
    min_w = 4.0  # a zero-length finding (e.g. "greeting missing" at 0 s) is still something to click

    def extent(start: float, end: float) -> tuple[float, float]:
        x = time_to_x(start, duration, width)
        w = max(time_to_x(end, duration, width) - x, 0.0)
        if w < min_w:
            x, w = max(0.0, min(x - (min_w - w) / 2, width - min_w)), min_w
        return x, w

    # Findings that overlap on screen go to separate rows (greedy interval packing).
    row_of: dict[int, int] = {}
    row_ends: list[float] = []
    order = sorted((i for i, f in enumerate(findings) if f["category"] != "hold"),
                   key=lambda i: (findings[i]["start_s"], -findings[i]["end_s"]))
    for i in order:
        x, w = extent(findings[i]["start_s"], findings[i]["end_s"])
        row = next((r for r, end in enumerate(row_ends) if end <= x), len(row_ends))
        if row == len(row_ends):
            row_ends.append(0.0)
        row_ends[row] = x + w + 1.0
        row_of[i] = row
    n_rows = max(len(row_ends), 1)

    lanes: dict[str, tuple[float, float]] = {}
    y = TIMELINE_TOP
    for key, _, h in LANES:
        if key == "finding" and n_rows > 1:
            h = n_rows * FINDING_ROW_H
        lanes[key] = (y, h)
        y += h + LANE_GAP
    height = y + 2.0
    bars: list[Bar] = []

    for i, u in enumerate(utterances):
        lane = u["speaker"] if u["speaker"] in lanes else "agent"
        ly, lh = lanes[lane]
        x = time_to_x(u["start_s"], duration, width)
        w = max(time_to_x(u["end_s"], duration, width) - x, 0.0)
        bars.append(Bar(lane, x, w, ly, lh, u["start_s"], u["end_s"], f"speech {u['speaker']}",
                        f"{fmt_time(u['start_s'])}–{fmt_time(u['end_s'])} "
                        f"{SPEAKER_LABELS.get(u['speaker'], u['speaker'])}: {u['text']}", f"u{i}"))
    for i, f in enumerate(findings):
        lane = "hold" if f["category"] == "hold" else "finding"
        ly, lh = lanes[lane]
        if lane == "finding" and n_rows > 1:
            ly, lh = ly + row_of[i] * FINDING_ROW_H + 1.0, FINDING_ROW_H - 2.0
        x, w = extent(f["start_s"], f["end_s"])
        title = f"{fmt_time(f['start_s'])}–{fmt_time(f['end_s'])} {category_label(f['category'])} ({f['severity']})"
        if f.get("detail"):
            title += f": {f['detail']}"
        bars.append(Bar(lane, x, w, ly, lh, f["start_s"], f["end_s"],
                        f"finding sev-{f['severity']} cat-{f['category']}", title, f"f{i}"))
    ticks = []
    if duration > 0:
        step = _tick_step(duration)
        t = 0.0
        while t <= duration + 1e-9:
            ticks.append({"x": time_to_x(t, duration, width), "label": fmt_time(t).removesuffix(".0")})
            t += step
    lane_views = [{"key": k, "label": label, "y": lanes[k][0], "h": lanes[k][1]} for k, label, _ in LANES]
    return Timeline(width, height, duration, lane_views, bars, ticks)


@dataclass
class Segment:
    text: str
    finding: int | None = None  # index into the call's findings when highlighted
    css: str = ""


def _overlaps(a0: float, a1: float, b0: float, b1: float, slack: float = 0.5) -> bool:
    return a0 <= b1 + slack and b0 <= a1 + slack


def highlight(text: str, marks: list[tuple[str, int, str]]) -> list[Segment]:
    """Split `text` into segments, marking the first free occurrence of each phrase.

    `marks` are (phrase, finding index, css class); overlapping marks keep the first.
    The segments are plain text: the template escapes them.
    """
    spans: list[tuple[int, int, int, str]] = []
    for phrase, idx, css in marks:
        if not phrase:
            continue
        start = 0
        while True:
            pos = text.find(phrase, start)
            if pos < 0:
                break
            end = pos + len(phrase)
            if all(end <= s or pos >= e for s, e, _, _ in spans):
                spans.append((pos, end, idx, css))
                break
            start = pos + 1
    spans.sort()
    out: list[Segment] = []
    cursor = 0
    for s, e, idx, css in spans:
        if s > cursor:
            out.append(Segment(text[cursor:s]))
        out.append(Segment(text[s:e], idx, css))
        cursor = e
    if cursor < len(text) or not out:
        out.append(Segment(text[cursor:]))
    return out


@dataclass
class TranscriptRow:
    id: str
    speaker: str
    speaker_label: str
    start_s: float
    end_s: float
    time: str
    segments: list[Segment]
    finding_ids: list[int] = field(default_factory=list)  # findings that start in/at this row
    overlapping: list[int] = field(default_factory=list)  # findings whose span covers it


#: Findings about what is being said at a moment: the utterances they overlap get a side bar
#: (not for holds, which are silences, nor for window/whole-call findings like speech rate).
_SPOKEN = {"banned_phrase", "overtalk"}


def transcript_rows(utterances: list[dict], findings: list[dict]) -> list[TranscriptRow]:
    """Utterances in time order, each finding's quoted text marked in the utterance it is in.

    A finding is attached (listed under) the last utterance starting at or before it, as a
    comment on what was just said; findings before the first utterance go to the first.
    """
    rows: list[TranscriptRow] = []
    placed: set[int] = set()
    for i, u in enumerate(utterances):
        marks = []
        for j, f in enumerate(findings):
            if f.get("text") and j not in placed and _overlaps(u["start_s"], u["end_s"], f["start_s"], f["end_s"]) \
                    and f["text"] in u["text"]:
                marks.append((f["text"], j, f"sev-{f['severity']}"))
        segs = highlight(u["text"], marks)
        placed.update(s.finding for s in segs if s.finding is not None)
        covering = [j for j, f in enumerate(findings)
                    if f["category"] in _SPOKEN
                    and f["end_s"] > f["start_s"]
                    and _overlaps(u["start_s"], u["end_s"], f["start_s"], f["end_s"], slack=0.0)]
        rows.append(TranscriptRow(f"u{i}", u["speaker"], SPEAKER_LABELS.get(u["speaker"], u["speaker"]),
                                  u["start_s"], u["end_s"], fmt_time(u["start_s"]), segs, [], covering))
    for j, f in enumerate(findings):
        if not rows:
            break
        k = 0
        for i, row in enumerate(rows):
            if row.start_s <= f["start_s"] + 1e-6:
                k = i
        rows[k].finding_ids.append(j)
    return rows


def finding_view(index: int, f: dict) -> dict:
    """One finding as the call page shows it; `f` has been through `readable`."""
    return {
        "id": f"f{index}",
        "index": index,
        # the review workspace's stable key (empty for schema-2 output)
        "finding_id": f.get("finding_id") or "",
        "category": f["category"],
        "category_label": category_label(f["category"]),
        "rule_id": f["rule_id"],
        "severity": f["severity"],
        "speaker": f["speaker"],
        "speaker_label": SPEAKER_LABELS.get(f["speaker"], f["speaker"])
        + (" (说话人不确定 speaker uncertain)" if f.get("speaker_uncertain") else ""),
        "start_s": f["start_s"],
        "end_s": f["end_s"],
        "time": f"{fmt_time(f['start_s'])}–{fmt_time(f['end_s'])}",
        "text": f.get("text") or "",
        "detail": f.get("detail") or "",
    }


def _num(v: Any, fmt: str = "{:.0f}") -> str:
    return "" if v is None else fmt.format(v)


def call_summary(call: dict, findings: list[dict]) -> dict:
    """One row of the overview's call table."""
    cats = Counter(f["category"] for f in findings)
    worst = min((SEVERITY_ORDER.get(f["severity"], 9) for f in findings), default=None)
    processed = call.get("processed_at") or ""
    return {
        "call_id": call["call_id"],
        "href": f"calls/{page_name(call['call_id'])}",
        "status": call["status"],
        "error": call.get("error") or "",
        "grade": call.get("grade") or "",
        "score": call.get("score"),
        "score_text": _num(call.get("score")),
        "flagged": bool(call.get("flagged")),
        "duration_s": call.get("duration_s"),
        "duration_text": fmt_time(call.get("duration_s")),
        "processed_at": processed,
        "date": processed[:10],
        "processed_short": processed[:16].replace("T", " "),
        "source_name": Path(call.get("source") or "").name,
        "finding_count": len(findings),
        "categories": sorted(cats),
        "category_counts": [{"category": c, "label": category_label(c), "n": n} for c, n in sorted(cats.items())],
        "worst_severity": next((s for s, o in SEVERITY_ORDER.items() if o == worst), ""),
        "flag_reasons": [plain_reason(r) for r in call.get("flag_reasons") or []],
        "automatic_share": call.get("automatic_share"),
        "direction": call.get("direction") or "",
    }


def scorecard_view(scores: list[dict]) -> list[dict]:
    """The scorecard items of one call, in the rule pack's order, graded ones first."""
    rows = sorted(scores, key=lambda r: not r["automatic"])
    return [{
        "name": r["name"], "item_id": r["item_id"], "weight": f"{r['weight']:g}",
        "grade": r["grade"] or "—", "points": "" if r["points"] is None else str(r["points"]),
        "automatic": r["automatic"], "findings": len(r["finding_refs"] or []),
    } for r in rows]


def overview_view(calls: list[dict], findings: list[dict]) -> dict:
    """Counts, grade distribution, most frequent finding categories and the call table."""
    by_call = group_by_call(findings)
    calls = sorted(calls, key=worst_first_key)
    rows = [call_summary(c, sorted(by_call.get(c["call_id"], []), key=_finding_sort_key)) for c in calls]
    ok = [r for r in rows if r["status"] == "ok"]
    grades = Counter(r["grade"] for r in ok if r["grade"])
    grade_keys = list(GRADE_ORDER) + sorted(g for g in grades if g not in GRADE_ORDER)
    top_grade = max(grades.values(), default=0)
    known = {c["call_id"] for c in calls}
    cat_findings = Counter(f["category"] for f in findings if f["call_id"] in known)
    cat_calls = Counter(c for r in rows for c in r["categories"])
    sev_by_cat: dict[str, Counter] = {}
    for f in findings:
        sev_by_cat.setdefault(f["category"], Counter())[f["severity"]] += 1
    top_cat = max(cat_findings.values(), default=0)
    return {
        "total": len(rows),
        "ok": len(ok),
        "flagged": sum(r["flagged"] for r in rows),
        "errors": sum(r["status"] != "ok" for r in rows),
        "finding_total": sum(cat_findings.values()),
        "grades": [{"grade": g, "n": grades[g], "pct": max(round(100 * grades[g] / top_grade, 1), 1.0) if grades[g] else 0.0}
                   for g in grade_keys],
        "categories": [
            {"category": c, "label": category_label(c), "n": n, "calls": cat_calls[c],
             "pct": round(100 * n / top_cat, 1),
             "severities": ", ".join(f"{s} {k}" for s, k in sorted(sev_by_cat[c].items(),
                                                                   key=lambda kv: SEVERITY_ORDER.get(kv[0], 9)))}
            for c, n in sorted(cat_findings.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "rows": rows,
        "grade_options": [g for g in grade_keys if grades[g]],
        "category_options": sorted(cat_calls),
        "dates": sorted({r["date"] for r in rows if r["date"]}),
    }


def readable(rows: list[dict]) -> list[dict]:
    """Utterances or findings with masked numbers as one token and details in plain words
    (output of older runs too), the text the page shows and highlights."""
    out = []
    for r in rows:
        r = dict(r, text=join_masked(r.get("text") or ""))
        if "detail" in r:
            r["detail"] = join_masked(plain_detail(r["category"], r["rule_id"], r.get("detail") or ""))
        out.append(r)
    return out


def call_view(call: dict, utterances: list[dict], findings: list[dict], audio: AudioRef | None,
              scores: list[dict] | None = None) -> dict:
    """Everything a call page shows."""
    utterances = sorted(readable(utterances), key=lambda u: (u["start_s"], u["end_s"]))
    findings = sorted(readable(findings), key=_finding_sort_key)
    summary = call_summary(call, findings)
    metrics = []
    if call["status"] == "ok":
        metrics = [
            ("时长 duration", fmt_time(call.get("duration_s"))),
            ("声道 layout", call.get("layout") or ""),
            ("坐席语速 agent chars/min", _num(call.get("agent_chars_per_min"))),
            ("客户语速 customer chars/min", _num(call.get("customer_chars_per_min"))),
            ("坐席说话 agent talk", fmt_time(call.get("agent_talk_s"))),
            ("客户说话 customer talk", fmt_time(call.get("customer_talk_s"))),
            ("静音 holds", _num(call.get("hold_count"))),
            ("禁用语 banned", _num(call.get("banned_count"))),
            ("抢话 overtalk", _num(call.get("overtalk_count"))),
            ("问候 greeting", {True: "✓", False: "✗"}.get(call.get("greeting_ok"), "")),
            ("结束语 closing", {True: "✓", False: "✗"}.get(call.get("closing_ok"), "")),
            ("说话人置信度 speaker confidence", _num(call.get("speaker_confidence"), "{:.2f}")),
            ("说话人不确定 speakers uncertain", {True: "⚠ yes", False: "no"}.get(call.get("speakers_uncertain"), "")),
        ]
    return {
        "call": call,
        "summary": summary,
        "metrics": [{"label": k, "value": v} for k, v in metrics],
        "versions": f"model {call.get('model_version') or '?'}, rules {call.get('lexicon_version') or '?'}",
        "audio": audio,
        "timeline": timeline(call.get("duration_s"), utterances, findings) if call["status"] == "ok" else None,
        "findings": [finding_view(i, f) for i, f in enumerate(findings)],
        "transcript": transcript_rows(utterances, findings),
        "scorecard": scorecard_view(scores or []),
    }


# ---------------------------------------------------------------------------- rendering


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["t"] = fmt_time
    return env


def render_overview(view: dict, generated: dict, env: jinja2.Environment | None = None) -> str:
    return (env or environment()).get_template("index.html").render(view=view, gen=generated)


def render_call(view: dict, generated: dict, env: jinja2.Environment | None = None) -> str:
    return (env or environment()).get_template("call.html").render(view=view, gen=generated)


@dataclass(frozen=True)
class ReportResult:
    index: Path
    pages: int
    missing_audio: list[str]


def build_report(out_dir: str | os.PathLike[str], report_dir: str | os.PathLike[str] | None = None,
                 audio_root: str | os.PathLike[str] | None = None, embed_audio: bool = False,
                 cwd: str | os.PathLike[str] | None = None) -> ReportResult:
    """Write the report folder (default OUT/report/) and return where its index is."""
    from datetime import datetime, timezone

    out_dir = Path(out_dir)
    tables = load_tables(out_dir)
    report = Path(report_dir) if report_dir is not None else out_dir / "report"
    calls_dir = report / "calls"
    if calls_dir.is_dir():  # pages of calls that are gone must not linger
        for old in calls_dir.glob("*.html"):
            old.unlink()
    # Transcripts of personal conversations: owner-only, like the Parquet output.
    report.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    calls_dir.mkdir(exist_ok=True, mode=DIR_MODE)
    env = environment()
    generated = {
        "at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "out_dir": str(out_dir.resolve()),
    }
    utts = group_by_call(tables.utterances)
    finds = group_by_call(tables.findings)
    scores = group_by_call(tables.scores)
    missing: list[str] = []
    for call in tables.calls:
        cid = call["call_id"]
        audio = None
        if call.get("source") and call["status"] == "ok":
            audio = audio_ref(call["source"], calls_dir, audio_root, embed_audio, cwd)
            if not audio.exists:
                missing.append(audio.path)
        view = call_view(call, utts.get(cid, []), finds.get(cid, []), audio, scores.get(cid, []))
        _write(calls_dir / page_name(cid), render_call(view, generated, env))
    index = report / "index.html"
    _write(index, render_overview(overview_view(tables.calls, tables.findings), generated, env))
    return ReportResult(index, len(tables.calls), missing)


def _write(path: Path, text: str) -> None:
    with atomic_write(path, FILE_MODE, text=True) as f:
        f.write(text)
