"""`callqa report`: a static HTML review report for QA staff, built from the Parquet output.

    OUT/report/index.html          overview: counts, grades, frequent findings, call table
    OUT/report/calls/<call>.html   one page per call: timeline, transcript, audio player

Plain functions in three steps: read the tables (`load_tables`), turn rows into view
models (`overview_view`, `call_view`, `transcript_rows`, ...; the timeline in timeline_view.py,
the audio players' sources in playback.py), render them with
the Jinja2 templates in `flows/review/templates/` (autoescaped; CSS and JS are inlined, so every
page works offline and on its own). No Prefect here.

Recordings are linked relative to each call page, so the folder keeps working when the
report and the recordings move together; `--embed-audio` puts them into the pages as
data: URIs instead (large pages, but one folder that plays anywhere).
"""

from __future__ import annotations

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
from flows.review.labels import CATEGORY_LABELS, SPEAKER_LABELS, category_label, fmt_time
from flows.review.playback import AUDIO_MIME, AudioRef, audio_mime, audio_ref, relative_url, resolve_audio_path
from flows.review.timeline_view import TIMELINE_WIDTH, Bar, Timeline, time_to_x, timeline
from flows.storage.fsio import atomic_write
from flows.storage.store import DIR_MODE, FILE_MODE, ResultStore, call_file_name

# The page's parts live in their own modules; callers (the review workspace, tests) read them here too.
__all__ = ["AUDIO_MIME", "CATEGORY_LABELS", "SPEAKER_LABELS", "TIMELINE_WIDTH", "AudioRef", "Bar", "Timeline",
           "audio_mime", "audio_ref", "build_report", "call_view", "category_label", "fmt_time", "load_tables",
           "overview_view", "refresh_report", "relative_url", "render_call", "render_overview", "resolve_audio_path", "time_to_x",
           "timeline", "transcript_rows"]



#: Worst first: the order findings and calls are listed in.
SEVERITY_ORDER = {sev: rank for rank, sev in enumerate(reversed(SEVERITIES))}

#: The grades a rule pack gives (grade_min_score A-E, below that F): all shown, even at 0.
GRADE_ORDER = GRADES


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


# ---------------------------------------------------------------------------- view models



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
        # older output has no confidence columns: no marker
        "heard": heard_note(f),
    }


def heard_note(f: dict) -> str:
    """'heard with low confidence (0.42)' for a finding marked low_confidence, else ''."""
    if not f.get("low_confidence"):
        return ""
    mean = f.get("confidence_mean")
    return "heard with low confidence" + (f" ({mean:.2f})" if isinstance(mean, (int, float)) else "")


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


def refresh_report(out_dir: str | os.PathLike[str]) -> ReportResult | None:
    """After a run or reprocess, whichever route: rewrite OUT/report/ when it is there, so it
    never shows older results (None when there is none: `callqa report` makes the first)."""
    if not (Path(out_dir) / "report" / "index.html").is_file():
        return None
    return build_report(out_dir)
