"""Inline SVG charts: no script, no external asset, readable without colour (every bar carries its
number as text) and described for screen readers (role="img" with a title and description)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["bar_chart"]

_ROW = 28
_LABEL_W = 230
_BAR_W = 420
_VALUE_W = 80


def bar_chart(title: str, rows: Sequence[tuple[str, int, str]], *, chart_id: str) -> Markup:
    """A horizontal bar chart of ``(label, value, css class)`` rows, scaled to the largest value."""
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
        parts.append(
            f'<text x="{_LABEL_W - 8}" y="{y + 18}" text-anchor="end" class="chart-label">{escape(label)}</text>'
            f'<rect x="{_LABEL_W}" y="{y + 4}" width="{max(w, 1)}" height="{_ROW - 8}" class="bar {escape(css)}"/>'
            f'<text x="{_LABEL_W + w + 6}" y="{y + 18}" class="chart-value">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every interpolated text is escaped above)
