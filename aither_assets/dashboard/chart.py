"""Geometry of the history chart: bars of tests passed/failed per head and a line of duration.

Only numbers are computed here; the SVG itself is a Jinja template (``templates/chart.svg.j2``) rendered
with autoescaping, so every piece of text in it (SHAs, labels) is escaped. A missing figure is a gap:
no bar, a break in the line, and a "missing" note under that head; never a zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .model import HistoryPoint

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 64, 36, 64


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "passed" | "failed"
    value: int
    label: str  # tooltip text


@dataclass(frozen=True)
class Tick:
    pos: float
    text: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Slot:
    x: float  # centre
    label: str  # v3, or a short SHA
    sub: str  # short SHA, or ""
    missing: str  # e.g. "missing: failed, duration"; "" when complete
    current: bool


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    bars: list[Bar] = field(default_factory=list)
    segments: list[list[tuple[float, float]]] = field(default_factory=list)  # duration line, broken at gaps
    dots: list[Dot] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    left_ticks: list[Tick] = field(default_factory=list)
    right_ticks: list[Tick] = field(default_factory=list)
    has_duration: bool = False
    description: str = ""

    @property
    def has_figures(self) -> bool:
        return bool(self.bars or self.dots)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above ``value`` (1 for nothing above zero)."""
    if value <= 0:
        return 1
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10 ** exponent
        if candidate >= value:
            return candidate
    return 10 ** (exponent + 1)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _slot_label(point: HistoryPoint, index: int) -> tuple[str, str]:
    short = (point.sha or "")[:7]
    if point.iteration is not None:
        return f"v{point.iteration}", short
    if short:
        return short, ""
    return f"#{index + 1}", ""


def build_chart(points: list[HistoryPoint]) -> Chart:
    chart = Chart()
    if not points:
        return chart
    plot_w = chart.right - chart.left
    plot_h = chart.bottom - chart.top
    counts = [v for p in points for v in (p.tests_passed, p.tests_failed) if v is not None]
    durations = [p.duration_seconds for p in points if p.duration_seconds is not None]
    count_max = nice_ceiling(max(counts, default=0))
    duration_max = nice_ceiling(max(durations, default=0))
    chart.has_duration = bool(durations)
    if counts:
        chart.left_ticks = [Tick(chart.bottom - plot_h * f, _fmt(count_max * f)) for f in (0, 0.5, 1)]
    if durations:
        chart.right_ticks = [Tick(chart.bottom - plot_h * f, _fmt(duration_max * f)) for f in (0, 0.5, 1)]

    slot_w = plot_w / len(points)
    bar_w = max(4.0, min(26.0, slot_w * 0.28))
    segment: list[tuple[float, float]] = []
    for index, point in enumerate(points):
        centre = chart.left + slot_w * (index + 0.5)
        label, sub = _slot_label(point, index)
        missing = [name for name, value in (("passed", point.tests_passed), ("failed", point.tests_failed),
                                            ("duration", point.duration_seconds)) if value is None]
        chart.slots.append(Slot(centre, label, sub, ("missing: " + ", ".join(missing)) if missing else "",
                                point.current))
        for offset, kind, value in ((-bar_w - 1, "passed", point.tests_passed), (1, "failed", point.tests_failed)):
            if value is None:
                continue
            height = plot_h * value / count_max
            chart.bars.append(Bar(centre + offset, chart.bottom - height, bar_w, height, kind, value,
                                  f"{label}: {value} {kind}"))
        if point.duration_seconds is None:
            if segment:
                chart.segments.append(segment)
            segment = []
        else:
            y = chart.bottom - plot_h * point.duration_seconds / duration_max
            segment.append((centre, y))
            chart.dots.append(Dot(centre, y, f"{label}: {_fmt(round(point.duration_seconds, 2))} s"))
    if segment:
        chart.segments.append(segment)

    described = []
    for slot, point in zip(chart.slots, points, strict=True):
        parts = [f"{name} {'missing' if value is None else _fmt(value)}" for name, value in
                 (("passed", point.tests_passed), ("failed", point.tests_failed),
                  ("duration s", None if point.duration_seconds is None else round(point.duration_seconds, 2)))]
        described.append(f"{slot.label}: " + ", ".join(parts))
    chart.description = "; ".join(described)
    return chart
