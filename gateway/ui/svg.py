"""Inline SVG charts: no script, no external asset, readable without colour (every bar carries its
number as text) and described for screen readers (role="img" with a title and description)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["bar_chart", "line_chart", "share_chart"]

_ROW = 28
_LABEL_W = 230
_BAR_W = 420
_VALUE_W = 80


def bar_chart(
    title: str, rows: Sequence[tuple[str, int, str]], *, chart_id: str, links: Sequence[str] | None = None
) -> Markup:
    """A horizontal bar chart of ``(label, value, css class)`` rows, scaled to the largest value;
    with ``links``, each row (label, bar and number) is a link to the list behind it."""
    peak = max((v for _, v, _ in rows), default=0) or 1
    height = _ROW * len(rows) + 8
    width = _LABEL_W + _BAR_W + _VALUE_W
    desc = "; ".join(f"{label}: {value}" for label, value, _ in rows)
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    for i, (label, value, css) in enumerate(rows):
        y = 4 + i * _ROW
        w = round(_BAR_W * value / peak) if value else 0
        row = (
            f'<text x="{_LABEL_W - 8}" y="{y + 18}" text-anchor="end" class="chart-label">{escape(label)}</text>'
            f'<rect x="{_LABEL_W}" y="{y + 4}" width="{max(w, 1)}" height="{_ROW - 8}" class="bar {escape(css)}"/>'
            f'<text x="{_LABEL_W + w + 6}" y="{y + 18}" class="chart-value">{value}</text>'
        )
        if links is not None:
            row = f'<a href="{escape(links[i])}">{row}</a>'
        parts.append(row)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every interpolated text is escaped above)


_LINE_W = 720
_LINE_H = 180
_PAD_L = 44
_PAD_B = 28


def line_chart(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int], str]], *, chart_id: str
) -> Markup:
    """Counts over time: one polyline per ``(name, values, css class)``, a legend with each
    series' total, and every value in the description for screen readers."""
    n = max(len(labels), 1)
    peak = max((max(v, default=0) for _, v, _ in series), default=0) or 1
    step = (_LINE_W - _PAD_L - 10) / max(n - 1, 1)
    height = _LINE_H + _PAD_B + 22 * ((len(series) + 2) // 3)
    desc = "; ".join(f"{name}: " + ", ".join(f"{lab} {v}" for lab, v in zip(labels, values, strict=False))
                     for name, values, _ in series)  # fmt: skip
    parts = [
        f'<svg class="chart trend" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'viewBox="0 0 {_LINE_W} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
        f'<line x1="{_PAD_L}" y1="{_LINE_H}" x2="{_LINE_W - 10}" y2="{_LINE_H}" class="axis"/>',
        f'<text x="{_PAD_L - 6}" y="14" text-anchor="end" class="chart-value">{peak}</text>',
        f'<text x="{_PAD_L - 6}" y="{_LINE_H}" text-anchor="end" class="chart-value">0</text>',
    ]
    every = max(1, n // 8)
    for i, label in enumerate(labels):
        if i % every == 0:
            x = _PAD_L + i * step
            parts.append(f'<text x="{x:.1f}" y="{_LINE_H + 18}" text-anchor="middle" class="chart-label">'
                         f"{escape(label[-5:] if len(label) > 10 else label[5:])}</text>")  # fmt: skip
    for j, (name, values, css) in enumerate(series):
        points = " ".join(
            f"{_PAD_L + i * step:.1f},{_LINE_H - (_LINE_H - 10) * v / peak:.1f}" for i, v in enumerate(values)
        )
        parts.append(f'<polyline points="{points}" class="line {escape(css)}" fill="none"/>')
        lx, ly = _PAD_L + (j % 3) * 220, _LINE_H + _PAD_B + 16 + 22 * (j // 3)
        parts.append(
            f'<rect x="{lx}" y="{ly - 10}" width="14" height="4" class="swatch {escape(css)}"/>'
            f'<text x="{lx + 20}" y="{ly}" class="chart-label">{escape(name)}: {sum(values)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every interpolated text is escaped above)


_CHART_W = 720
_PLOT_H = 172
_LEGEND_ROW = 18
_PAD_L, _PAD_R, _PAD_T = 48, 28, 12


def share_chart(
    title: str, series: Sequence[tuple[str, Sequence[tuple[str, float | None]]]], *, chart_id: str
) -> Markup:
    """Shares (0..1) over time as lines, one per ``(name, [(x label, share or None), …])``, all on
    the same x labels (days); a missing share breaks the line. Every point carries its value as a
    tooltip title, the description lists the values, and a legend under the axis names each line
    by its dash pattern as well as its colour."""
    labels = [x for x, _ in series[0][1]] if series else []
    n = len(labels)
    inner_w, inner_h = _CHART_W - _PAD_L - _PAD_R, _PLOT_H
    axis_y = _PAD_T + _PLOT_H + 20  # the day labels
    height = axis_y + 10 + _LEGEND_ROW * len(series)

    def x_of(i: int) -> float:
        return _PAD_L + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)

    def y_of(v: float) -> float:
        return _PAD_T + inner_h * (1 - v)

    desc = "; ".join(
        f"{name}: " + ", ".join(f"{x} {v:.0%}" for x, v in points if v is not None) for name, points in series
    )
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'viewBox="0 0 {_CHART_W} {height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    for tick in (0.0, 0.5, 1.0):
        y = y_of(tick)
        parts.append(
            f'<line x1="{_PAD_L}" y1="{y:.1f}" x2="{_CHART_W - _PAD_R}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{_PAD_L - 6}" y="{y + 4:.1f}" text-anchor="end" class="chart-label">{tick:.0%}</text>'
        )
    step = max(1, n // 8)
    for i in range(0, n, step):
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{axis_y}" text-anchor="middle" class="chart-label">{escape(labels[i])}</text>'
        )
    dashes = ("", "6 3", "2 3", "8 3 2 3")
    for k, (name, points) in enumerate(series):
        segment: list[str] = []
        runs: list[list[str]] = [segment]
        for i, (x, v) in enumerate(points):
            if v is None:
                segment = []
                runs.append(segment)
                continue
            px, py = x_of(i), y_of(v)
            segment.append(f"{px:.1f},{py:.1f}")
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" class="line-{k}"><title>{escape(name)} {escape(x)}: '
                f"{v:.0%}</title></circle>"
            )
        dash = f' stroke-dasharray="{dashes[k % len(dashes)]}"' if dashes[k % len(dashes)] else ""
        for run in runs:
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" class="line line-{k}"{dash}/>')
        lx = _PAD_L
        ly = axis_y + 10 + _LEGEND_ROW * (k + 1) - 4
        parts.append(
            f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 28}" y2="{ly - 4}" class="line line-{k}"{dash}/>'
            f'<text x="{lx + 34}" y="{ly}" class="chart-label">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every interpolated text is escaped above)
