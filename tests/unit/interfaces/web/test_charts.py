"""Server-side SVG charts: data in words for screen readers, escaped text, empty when no data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailshield.interfaces.web.charts import SCORE_BANDS, Point, bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_line_chart_states_its_data() -> None:
    """The chart is an image with a title and a description listing every value."""
    svg = line_chart([Point("1 May", 80), Point("2 May", 90)], title="Score", bands=SCORE_BANDS)
    root = ET.fromstring(str(svg))
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Score"
    assert root.find(f"{SVG}desc").text == "1 May: 80, 2 May: 90"
    assert len(root.findall(f".//{SVG}circle")) == 2


def test_points_link_to_their_pages() -> None:
    """A point with a link is wrapped in an SVG anchor."""
    svg = str(line_chart([Point("a", 1, href="/domains/1/checks/2")], title="t"))
    assert '<a href="/domains/1/checks/2">' in svg


@pytest.mark.parametrize(
    "chart", [line_chart([], title="x"), bar_chart([], [], title="x", series=())]
)
def test_no_data_no_chart(chart: object) -> None:
    """Without data there is nothing to draw."""
    assert str(chart) == ""


def test_bars_stack_their_parts() -> None:
    """Each label gets one rectangle per non-zero part, with a tooltip naming it."""
    svg = str(bar_chart(["d1", "d2"], [(90, 10), (100, 0)], title="s", series=("ok", "failed")))
    root = ET.fromstring(svg)
    rects = root.findall(f".//{SVG}rect")
    assert len(rects) == 3
    assert rects[1].find(f"{SVG}title").text == "d1: 10 failed"


@given(st.text(max_size=40), st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_any_label_is_escaped(label: str, value: float) -> None:
    """Whatever the label, the SVG stays well-formed XML (text is escaped)."""
    clean = "".join(c for c in label if c.isprintable())
    ET.fromstring(str(line_chart([Point(clean, value)], title=clean)))
    ET.fromstring(str(bar_chart([clean], [(abs(value),)], title=clean, series=(clean,))))
