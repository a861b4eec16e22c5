"""Charts drawn on the server as inline SVG: no script, no external library, nothing to load.

Colours come from classes in static/style.css (the CSP allows no inline style); every text
value is escaped; each chart has a <title> and the pages give the same numbers as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from markupsafe import Markup, escape

from secposture.web.queries import LEVELS, LevelCompliance, TrendPoint

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 12, 28


def _x(day: date, first: date, last: date) -> float:
    span = max((last - first).days, 1)
    return LEFT + (WIDTH - LEFT - RIGHT) * (day - first).days / span


def _y(percent: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - percent / 100.0)


def trend_svg(points: Sequence[TrendPoint]) -> Markup:
    """Lines of the share of passing results per day, one per level."""
    if not points:
        return Markup('<p class="empty" data-testid="trend-empty">No scans recorded yet.</p>')
    first = min(p.day for p in points)
    last = max(p.day for p in points)
    parts = [
        f'<svg class="chart trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="trend-title" data-testid="trend-chart">'
        '<title id="trend-title">Share of control results passing, by day and level</title>'
    ]
    for percent in (0, 50, 100):
        y = _y(percent)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{percent}%</text>'
        )
    parts.append(
        f'<text class="axis" x="{LEFT}" y="{HEIGHT - 8}">{first.isoformat()}</text>'
        f'<text class="axis" x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
        f"{last.isoformat()}</text>"
    )
    for level in LEVELS:
        series = sorted((p for p in points if p.level == level), key=lambda p: p.day)
        if not series:
            continue
        coords = " ".join(f"{_x(p.day, first, last):.1f},{_y(p.percent):.1f}" for p in series)
        parts.append(f'<polyline class="line {level}" points="{coords}"/>')
        for p in series:
            parts.append(
                f'<circle class="dot {level}" cx="{_x(p.day, first, last):.1f}" '
                f'cy="{_y(p.percent):.1f}" r="3"><title>{level} {p.day.isoformat()}: '
                f"{p.percent:.0f}% ({p.passing} of {p.counted})</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # nosec B704 - every interpolated text is escaped


def compliance_svg(levels: Sequence[LevelCompliance]) -> Markup:
    """A bar per level: the share of repositories meeting every control of that level."""
    shown = [c for c in levels if c.repositories]
    if not shown:
        return Markup('<p class="empty">No scans recorded yet.</p>')
    row, label_width, bar_width = 34, 120, 360
    height = row * len(shown) + 8
    parts = [
        f'<svg class="chart compliance" viewBox="0 0 {label_width + bar_width + 160} {height}" '
        'role="img" aria-labelledby="compliance-title" data-testid="compliance-chart">'
        '<title id="compliance-title">Repositories meeting every control, by level</title>'
    ]
    for index, c in enumerate(shown):
        y = 4 + index * row
        filled = bar_width * c.percent / 100.0
        parts.append(
            f'<text class="label" x="0" y="{y + 19}">{escape(c.level)}</text>'
            f'<rect class="track" x="{label_width}" y="{y + 4}" width="{bar_width}" height="20"/>'
            f'<rect class="bar {escape(c.level)}" x="{label_width}" y="{y + 4}" '
            f'width="{filled:.1f}" height="20"/>'
            f'<text class="value" x="{label_width + bar_width + 8}" y="{y + 19}">'
            f"{c.compliant} of {c.repositories} ({c.percent:.0f}%)</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  # nosec B704 - every interpolated text is escaped
