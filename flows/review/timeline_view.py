"""The call page's timeline: utterances, holds and findings as SVG bars, seconds to x."""

from __future__ import annotations

from dataclasses import dataclass

from flows.review.labels import SPEAKER_LABELS, category_label, fmt_time


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
