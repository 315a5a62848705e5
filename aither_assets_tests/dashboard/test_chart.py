"""The history chart: inline SVG, missing points are gaps (no bar, a break in the line), never zeros."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from aither_assets.dashboard import HistoryPoint, render_history_svg
from aither_assets.dashboard.chart import build_chart, nice_ceiling

SVG = "{http://www.w3.org/2000/svg}"


def point(sha, iteration, passed, failed, duration, status="SUCCESS", current=False):
    return HistoryPoint(sha, iteration, None, passed, failed, duration, status, current)


POINTS = [
    point("1" * 40, 1, 50, 2, 10.0, "FAILURE"),
    point("2" * 40, 2, None, None, None, "CANCELED"),  # nothing recorded: a gap
    point("3" * 40, 3, 60, None, 12.5),  # failed count not recorded
    point("4" * 40, 4, 61, 0, 11.0, current=True),  # zero failed is a real zero
]


def test_missing_points_are_gaps_not_zeros():
    svg = render_history_svg(POINTS)
    root = ET.fromstring(svg)  # well-formed XML
    bars = [(r.get("class"), float(r.get("height"))) for r in root.iter(f"{SVG}rect") if "bar" in (r.get("class") or "")]
    assert [kind for kind, _ in bars] == ["bar passed", "bar failed", "bar passed", "bar passed", "bar failed"]
    assert bars[-1][1] == 0.0  # v4: 0 failed, drawn as a zero-height bar with its "0" label
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "missing: passed, failed, duration" in labels  # v2
    assert "missing: failed" in labels  # v3
    lines = [p.get("points").split() for p in root.iter(f"{SVG}polyline")]
    assert [len(line) for line in lines] == [2]  # v1 alone (gap at v2), then v3-v4 joined
    assert len(list(root.iter(f"{SVG}circle"))) == 3 + 1  # three duration points + the legend's dot
    assert "v4 (now)" in labels
    # No bar or dot was drawn for v2: nothing sits at its x position.
    chart = build_chart(POINTS)
    v2 = chart.slots[1].x
    assert all(abs(bar.x + bar.width / 2 - v2) > bar.width for bar in chart.bars)
    assert all(dot.x != v2 for dot in chart.dots)


def test_axes_have_labels_and_scale_to_real_values():
    chart = build_chart(POINTS)
    assert [t.text for t in chart.left_ticks] == ["0", "50", "100"]
    assert [t.text for t in chart.right_ticks] == ["0", "10", "20"]
    svg = render_history_svg(POINTS)
    assert ">tests</text>" in svg and ">seconds</text>" in svg
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.value == 61 and round(tallest.height / (chart.bottom - chart.top), 2) == 0.61
    assert nice_ceiling(119) == 200 and nice_ceiling(13.13) == 20 and nice_ceiling(0) == 1 and nice_ceiling(3) == 5


def test_all_missing_history_draws_no_bars_and_no_line():
    chart = build_chart([point(None, None, None, None, None, None)])
    assert chart.bars == [] and chart.segments == [] and chart.dots == [] and not chart.has_duration
    assert chart.left_ticks == [] and chart.right_ticks == [] and not chart.has_figures  # no scale for nothing
    svg = render_history_svg([point(None, None, None, None, None, None)])
    ET.fromstring(svg)
    assert "missing: passed, failed, duration" in svg and "seconds" not in svg


def test_text_in_the_svg_is_escaped():
    svg = render_history_svg([point("<script>alert(1)</script>", None, 1, 0, 1.0)])
    assert "<script" not in svg and "&lt;script" in svg
    ET.fromstring(svg)
