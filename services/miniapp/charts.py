"""The dashboard's charts, drawn on the server as small SVG documents.

Why SVG from the server rather than a JavaScript chart library: the numbers on a chart are the
numbers the bot shows, written by `services.numbers` (decimal comma) from the same report, and
a suppressed cell cannot reach a chart because the server never draws one; no library bytes
go to a cheap phone, and nothing third-party runs beside the launch data. Colours come from
CSS classes (`app.css`), so the charts follow Telegram's light and dark themes; no inline
style, so the page's Content-Security-Policy allows them.

Every function takes what to draw, already decided and worded; text is XML-escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "Band",
    "Bar",
    "Marker",
    "Series",
    "bars",
    "meter",
    "scale",
    "scale_floor",
    "trend",
]

WIDTH: Final = 340
_LABEL_CHARS: Final = 44


@dataclass(frozen=True, slots=True)
class Band:
    """A category's stretch of the 0-100 scale, with its CSS key and word."""

    key: str
    low: float
    high: float
    label: str


@dataclass(frozen=True, slots=True)
class Marker:
    """A point on the scale: the value, its text, and an optional margin either side."""

    value: float
    text: str
    moe: float | None = None
    css: str = "now"


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of a bar chart (0-100)."""

    label: str
    value: float
    text: str
    css: str = "bar"
    moe: float | None = None


@dataclass(frozen=True, slots=True)
class Series:
    """A line through some of the trend's slots (None: no point there)."""

    css: str
    values: tuple[float | None, ...]
    texts: tuple[str | None, ...]
    hollow: tuple[bool, ...] = ()  # a partial composite: drawn hollow, never joined


def _svg(height: float, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'role="img" aria-label={quoteattr(label)} class="chart">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, css: str, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" class="{css}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def _rect(x: float, y: float, w: float, h: float, css: str, rx: float = 0) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" '
        f'rx="{rx:g}" class="{css}"/>'
    )


def _short(label: str, limit: int = _LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def scale_floor(values: Sequence[float]) -> float:
    """Return where a 0-100 scale starts so the values spread out: 50, or lower in tens."""
    if not values:
        return 50.0
    return float(min(50, max(0, math.floor((min(values) - 5) / 10) * 10)))


def scale(
    bands: Sequence[Band], markers: Sequence[Marker], *, label: str, floor: float | None = None
) -> str:
    """Draw the category bands with markers: the index (and a what-if result) on SPI's scale."""
    start = floor if floor is not None else scale_floor([m.value - (m.moe or 0) for m in markers])
    span = 100 - start
    left, right = 8.0, WIDTH - 8.0

    def x(value: float) -> float:
        return left + (min(max(value, start), 100) - start) / span * (right - left)

    top = 8 + 18 * len(markers)
    body: list[str] = []
    for band in bands:
        if band.high <= start:
            continue
        x0, x1 = x(max(band.low, start)), x(band.high)
        body.append(_rect(x0, top, x1 - x0, 14, f"band band-{band.key}"))
        if x1 - x0 > 40:
            body.append(_text((x0 + x1) / 2, top + 32, band.label, "tick", "middle"))
        if band.low > start:
            body.append(_text(x0, top + 46, f"{band.low:g}", "tick", "middle"))
    body.append(_text(left, top + 46, f"{start:g}", "tick", "start"))
    body.append(_text(right, top + 46, "100", "tick", "end"))
    for row, marker in enumerate(markers):
        cx = x(marker.value)
        y = 8 + 18 * row
        if marker.moe:
            lo, hi = x(marker.value - marker.moe), x(marker.value + marker.moe)
            body.append(_rect(lo, top + 5, hi - lo, 4, f"whisker whisker-{marker.css}", 2))
        body.append(
            f'<path d="M{cx:.1f} {top - 1:.1f} l-5 -7 h10 z" class="marker marker-{marker.css}"/>'
        )
        body.append(
            f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{top:.1f}" y2="{top + 14:.1f}" '
            f'class="needle needle-{marker.css}"/>'
        )
        anchor = "start" if cx < 60 else "end" if cx > WIDTH - 60 else "middle"
        body.append(_text(cx, y + 8, marker.text, f"value value-{marker.css}", anchor))
    return _svg(top + 52, label, body)


def bars(rows: Sequence[Bar], *, label: str) -> str:
    """Draw labelled horizontal bars on a 0-100 scale, one row each, in the given order."""
    value_width = 52.0
    full = WIDTH - value_width
    body: list[str] = []
    for i, row in enumerate(rows):
        y = i * 36
        body.append(_text(0, y + 12, _short(row.label), "label"))
        body.append(_rect(0, y + 17, full, 12, "track", 3))
        width = full * min(max(row.value, 0), 100) / 100
        body.append(_rect(0, y + 17, width, 12, row.css, 3))
        if row.moe:
            lo = full * max(row.value - row.moe, 0) / 100
            hi = full * min(row.value + row.moe, 100) / 100
            body.append(
                f'<line x1="{lo:.1f}" x2="{hi:.1f}" y1="{y + 23:.1f}" y2="{y + 23:.1f}" '
                'class="moe-line"/>'
            )
        body.append(_text(WIDTH, y + 28, row.text, "value", "end"))
    return _svg(max(len(rows) * 36, 1), label, body)


def meter(
    value: float,
    *,
    low: float = 0.0,
    high: float = 100.0,
    css: str = "bar",
    ticks: Sequence[float] = (),
) -> str:
    """Draw a thin bar for a list row: `value` between `low` and `high`, with tick marks."""
    span = max(high - low, 1e-9)
    share = min(max((value - low) / span, 0.0), 1.0)
    body = [
        '<rect x="0" y="2" width="100" height="6" rx="3" class="track"/>',
        f'<rect x="0" y="2" width="{100 * share:.1f}" height="6" rx="3" class="{css}"/>',
    ]
    for tick in ticks:
        if low < tick < high:
            at = 100 * (tick - low) / span
            body.append(f'<line x1="{at:.1f}" x2="{at:.1f}" y1="0" y2="10" class="tickline"/>')
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 10" preserveAspectRatio="none" '
        f'aria-hidden="true" class="meter">{"".join(body)}</svg>'
    )


def trend(
    slots: Sequence[str], series: Sequence[Series], bands: Sequence[Band], *, label: str
) -> str:
    """Draw lines across `slots` (years, waves), over the category bands."""
    height, top, bottom = 200.0, 14.0, 168.0
    values = [v for s in series for v in s.values if v is not None]
    start = scale_floor(values)
    left, right = 8.0, WIDTH - 8.0
    step = (right - left) / max(len(slots), 1)

    def y(value: float) -> float:
        return bottom - (min(max(value, start), 100) - start) / (100 - start) * (bottom - top)

    def x(slot: int) -> float:
        return left + step * (slot + 0.5)

    body: list[str] = []
    for band in bands:
        if band.high <= start:
            continue
        y0, y1 = y(band.high), y(max(band.low, start))
        body.append(_rect(left, y0, right - left, y1 - y0, f"zone band-{band.key}"))
    for slot, name in enumerate(slots):
        body.append(_text(x(slot), height - 16, _short(name, 10), "tick", "middle"))
    for line in series:
        points = [
            (x(i), y(v), line.texts[i] if i < len(line.texts) else None, i)
            for i, v in enumerate(line.values)
            if v is not None
        ]
        hollow = {i for i, h in enumerate(line.hollow) if h}
        solid = [(px, py) for px, py, _, i in points if i not in hollow]
        if len(solid) > 1:
            path = " ".join(
                f"{'M' if n == 0 else 'L'}{px:.1f} {py:.1f}" for n, (px, py) in enumerate(solid)
            )
            body.append(f'<path d="{path}" class="line line-{line.css}"/>')
        for px, py, text, i in points:
            kind = "hollow" if i in hollow else "dot"
            body.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" class="{kind} dot-{line.css}"/>'
            )
            if text:
                body.append(_text(px, py - 8, text, f"value value-{line.css}", "middle"))
    return _svg(height, label, body)
