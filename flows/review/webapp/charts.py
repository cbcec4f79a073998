"""Inline SVG charts for the trends page (pure: strings in, markup out; no IO, no JS,
no CDN: the page works offline). Every label goes through `escape`, so a team or agent
name cannot inject markup."""

from __future__ import annotations

from markupsafe import Markup, escape

GRADE_COLOURS = {"A": "#2b8a3e", "B": "#69db7c", "C": "#ffd43b", "D": "#ffa94d", "E": "#ff6b6b", "F": "#c92a2a"}


def text_width(text: str, size: float = 12) -> float:
    """About how wide `text` is drawn at `size` px: a CJK character a full em, others 0.6."""
    return sum(size if ord(ch) > 0x2E7F else 0.6 * size for ch in text)


def fit(text: str, max_w: float, size: float = 12) -> str:
    """`text`, cut with "…" where it would be wider than `max_w`."""
    if text_width(text, size) <= max_w:
        return text
    while text and text_width(text + "…", size) > max_w:
        text = text[:-1]
    return text + "…"


def hbars(rows: list[tuple[str, float, str]], max_value: float | None = None, chart_id: str = "",
          width: int = 640, bar_h: int = 18, label_w: int | None = None, colour: str = "#2f6fdb") -> Markup:
    """Horizontal bars: (label, value, text shown after the bar). The label column is as
    wide as the longest label (at most 40% of the chart; longer ones cut, whole in a
    tooltip) and the plot leaves room for the longest text, so nothing is clipped."""
    if not rows:
        return Markup('<p class="muted">no data yet</p>')
    top = max_value if max_value is not None else max((v for _, v, _ in rows), default=0) or 1.0
    if label_w is None:
        label_w = int(min(max(text_width(label) for label, _, _ in rows) + 12, 0.4 * width))
    plot_w = width - label_w - max(text_width(text) for _, _, text in rows) - 12
    h = len(rows) * (bar_h + 6) + 6
    parts = [f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {h}" width="100%" role="img">']
    for i, (label, value, text) in enumerate(rows):
        y = 6 + i * (bar_h + 6)
        w = max(plot_w * (value / top if top else 0), 0.5)
        parts.append(
            f'<g class="bar" data-label="{escape(label)}" data-value="{value:g}"><title>{escape(label)}: '
            f'{escape(text)}</title>'
            f'<text x="{label_w - 6}" y="{y + bar_h - 5}" text-anchor="end">{escape(fit(label, label_w - 10))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}" rx="2"></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + bar_h - 5}">{escape(text)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_weeks(weeks: dict[str, dict[str, int]], grades: tuple[str, ...], chart_id: str = "",
                  width: int = 640, height: int = 220) -> Markup:
    """One column per week, stacked by grade (share of the week's calls)."""
    if not weeks:
        return Markup('<p class="muted">no data yet</p>')
    keys = sorted(weeks)[-26:]  # half a year is what fits
    left, bottom, top = 30, 40, 10
    plot_h = height - bottom - top
    col_w = (width - left) / len(keys)
    parts = [f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" width="100%" role="img">']
    for i, week in enumerate(keys):
        counts = weeks[week]
        total = sum(counts.values()) or 1
        y = top + plot_h
        x = left + i * col_w + 2
        for g in grades:
            n = counts.get(g, 0)
            if not n:
                continue
            h = plot_h * n / total
            y -= h
            parts.append(f'<rect class="g-{g}" x="{x:.1f}" y="{y:.1f}" width="{col_w - 4:.1f}" height="{h:.1f}" '
                         f'fill="{GRADE_COLOURS.get(g, "#999")}"><title>{escape(week)} {g}: {n}</title></rect>')
        parts.append(f'<text x="{x + (col_w - 4) / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                     f'font-size="10">{escape(week[5:])}</text>'
                     f'<text x="{x + (col_w - 4) / 2:.1f}" y="{height - bottom + 28}" text-anchor="middle" '
                     f'font-size="9" fill="#5f6b7a">{total}</text>')
    legend = "".join(f'<tspan fill="{GRADE_COLOURS[g]}">■</tspan> {g} ' for g in grades if g in GRADE_COLOURS)
    parts.append(f'<text x="{left}" y="{height - 2}" font-size="11">{legend}</text></svg>')
    return Markup("".join(parts))
