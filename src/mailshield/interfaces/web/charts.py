"""Charts drawn on the server as inline SVG: no script, no external service, readable without CSS.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that states the data in
words, so screen readers get the numbers too; every point carries a ``<title>`` tooltip and,
when given, a link. Colours come from CSS classes (``chart-*``) so the page's stylesheet, and
its dark mode, decide them; no inline styles (the Content Security Policy forbids them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 40, 44, 14, 30  # plot margins: axis labels, band labels


@dataclass(frozen=True, slots=True)
class Point:
    """One value; ``label`` names it on the axis and in its tooltip."""

    label: str
    value: float
    href: str | None = None
    note: str = ""  # extra tooltip text, e.g. the grade


@dataclass(frozen=True, slots=True)
class Band:
    """A shaded horizontal range with a label (e.g. the scores that earn an A)."""

    low: float
    high: float
    label: str
    css: str


def _x(index: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + span / 2 if count == 1 else LEFT + span * index / (count - 1)


def _y(value: float, y_max: float) -> float:
    span = HEIGHT - TOP - BOTTOM
    clamped = min(max(value, 0.0), y_max)
    return TOP + span * (1 - clamped / y_max)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _grid(y_max: float, ticks: Sequence[float], bands: Sequence[Band]) -> list[str]:
    parts = []
    for band in bands:
        top, bottom = _y(band.high, y_max), _y(band.low, y_max)
        parts.append(
            f'<rect class="chart-band {escape(band.css)}" x="{LEFT}" y="{_num(top)}" '
            f'width="{WIDTH - LEFT - RIGHT}" height="{_num(bottom - top)}"/>'
            f'<text class="chart-band-label" x="{WIDTH - RIGHT + 6}" '
            f'y="{_num((top + bottom) / 2)}" dy="0.32em">{escape(band.label)}</text>'
        )
    for tick in ticks:
        y = _num(_y(tick, y_max))
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>'
            f'<text class="chart-axis" x="{LEFT - 6}" y="{y}" dy="0.32em" '
            f'text-anchor="end">{_num(tick)}</text>'
        )
    return parts


def _x_labels(points: Sequence[Point]) -> list[str]:
    count = len(points)
    wanted = sorted({0, count // 2, count - 1}) if count > 2 else list(range(count))
    parts = []
    for index in wanted:
        anchor = (
            "middle"
            if count == 1
            else ("start" if index == 0 else "end" if index == count - 1 else "middle")
        )
        parts.append(
            f'<text class="chart-axis" x="{_num(_x(index, count))}" y="{HEIGHT - 8}" '
            f'text-anchor="{anchor}">{escape(points[index].label)}</text>'
        )
    return parts


def _marks(points: Sequence[Point], y_max: float, unit: str) -> list[str]:
    count = len(points)
    parts = []
    for index, point in enumerate(points):
        tip = f"{point.label}: {_num(point.value)}{unit}" + (f" {point.note}" if point.note else "")
        circle = (
            f'<circle class="chart-point" cx="{_num(_x(index, count))}" '
            f'cy="{_num(_y(point.value, y_max))}" r="4.5"><title>{escape(tip)}</title></circle>'
        )
        if point.href:
            circle = f'<a href="{escape(point.href)}">{circle}</a>'
        parts.append(circle)
    return parts


def line_chart(
    points: Sequence[Point],
    *,
    title: str,
    y_max: float = 100.0,
    ticks: Sequence[float] = (0, 50, 100),
    bands: Sequence[Band] = (),
    unit: str = "",
) -> Markup:
    """A line chart of ``points`` in order (oldest first); empty markup when there are none."""
    if not points:
        return Markup("")
    count = len(points)
    coords = " ".join(
        f"{_num(_x(i, count))},{_num(_y(p.value, y_max))}" for i, p in enumerate(points)
    )
    values = ", ".join(f"{p.label}: {_num(p.value)}{unit}" for p in points)
    body = [
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(values)}</desc>",
        *_grid(y_max, ticks, bands),
        f'<polyline class="chart-line" points="{coords}"/>' if count > 1 else "",
        *_marks(points, y_max, unit),
        *_x_labels(points),
    ]
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        + "".join(body)
        + "</svg>"
    )
    return Markup(svg)  # noqa: S704 - every piece of text above is escaped


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 5 × a power of ten)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def bar_chart(
    labels: Sequence[str],
    stacks: Sequence[tuple[float, ...]],
    *,
    title: str,
    series: Sequence[str],
) -> Markup:
    """Stacked bars, one per label; ``series`` names the parts of each stack, bottom first.

    Parts get the classes ``chart-bar chart-bar-<n>`` (0 = bottom) for the stylesheet to colour.
    """
    if not labels:
        return Markup("")
    y_max = _nice_max(max((sum(stack) for stack in stacks), default=0.0))
    count = len(labels)
    slot = (WIDTH - LEFT - RIGHT) / count
    width = max(2.0, slot * 0.7)
    bars, words = [], []
    for index, (label, stack) in enumerate(zip(labels, stacks, strict=True)):
        x = LEFT + slot * index + (slot - width) / 2
        base = 0.0
        parts = ", ".join(f"{_num(v)} {name}" for name, v in zip(series, stack, strict=True))
        words.append(f"{label}: {parts}")
        for part, value in enumerate(stack):
            if value <= 0:
                continue
            top, bottom = _y(base + value, y_max), _y(base, y_max)
            bars.append(
                f'<rect class="chart-bar chart-bar-{part}" x="{_num(x)}" y="{_num(top)}" '
                f'width="{_num(width)}" height="{_num(bottom - top)}">'
                f"<title>{escape(label)}: {_num(value)} {escape(series[part])}</title></rect>"
            )
            base += value
    points = [Point(label, 0) for label in labels]
    body = [
        f"<title>{escape(title)}</title>",
        f"<desc>{escape('; '.join(words))}</desc>",
        *_grid(y_max, (0, y_max / 2, y_max), ()),
        *bars,
        *_x_labels(points),
    ]
    svg = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        + "".join(body)
        + "</svg>"
    )
    return Markup(svg)  # noqa: S704 - every piece of text above is escaped


SCORE_BANDS = (
    Band(90, 100, "A", "chart-band-good"),
    Band(70, 90, "B–C", "chart-band-fair"),
    Band(0, 70, "D–F", "chart-band-poor"),
)
