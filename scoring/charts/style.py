"""Shared look of the charts: phone-sized figures, type sizes, colours, header and PNG output.

Figures are `matplotlib.figure.Figure` objects on their own `FigureCanvasAgg`: no pyplot, no
global figure registry, no rcParams changes, so rendering in a worker thread never touches
another thread's state. Every size is set explicitly on each artist for the same reason.
Layout is done in inches from the top edge, because the tall charts (ranking, progress) grow
with the number of units and a fixed-inch layout keeps rows, type and margins identical at
any height (and is much cheaper than tight or constrained layout on 40-row figures).
"""

from __future__ import annotations

import dataclasses
import io
import textwrap
from typing import Final

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from scoring.charts.labels import format_count, label
from scoring.index import Category
from scoring.report import CellStatus, GroupResult, Report, ScopeResult, cell_status

__all__ = [
    "ACCENT",
    "ACCENT_LIGHT",
    "BAND_COLOURS",
    "BODY_PT",
    "CATEGORY_COLOURS",
    "CATEGORY_INK",
    "DPI",
    "FAINT",
    "GRID",
    "HEADER_IN",
    "INK",
    "MUTED",
    "PARTIAL",
    "PLACEHOLDER",
    "SMALL_PT",
    "TITLE_PT",
    "WIDTH_IN",
    "add_axes_in",
    "category_fill",
    "draw_header",
    "ellipsize",
    "header_height",
    "new_figure",
    "no_number_word",
    "scope_of",
    "style_value_axis",
    "to_png",
    "unit_lines",
    "unit_reason_word",
    "wrap",
    "y_from_top",
]

# 7.2 in × 150 dpi = 1080 px: Telegram shows photos up to 1280 px, and a phone screen is
# about 1080 px wide, so nothing is downscaled into illegibility.
WIDTH_IN: Final = 7.2
DPI: Final = 150
# At 150 dpi one point is 2.08 px: 10 pt ≈ 21 px, well above the 14 px floor for body text.
TITLE_PT: Final = 16.0
BODY_PT: Final = 12.0
SMALL_PT: Final = 10.0
HEADER_IN: Final = 0.95  # title + subtitle band at the top of every chart
# A unit's chart names the unit on lines of its own under the title (not beside it, where the
# provisional badge sits): bold 13 pt, about 0.11 in a character across 6.6 in.
UNIT_PT: Final = 13.0
UNIT_LINE_IN: Final = 0.28
UNIT_CHARS: Final = 56

INK: Final = "#212121"
MUTED: Final = "#616161"
FAINT: Final = "#9E9E9E"
GRID: Final = "#E0E0E0"
PLACEHOLDER: Final = "#F0F0F0"
ACCENT: Final = "#1E5AA8"  # neutral bars: group and dimension scores have no category
ACCENT_LIGHT: Final = "#A9C4E6"
PARTIAL: Final = "#B0BEC5"  # partial indices: deliberately not a category colour

# Category colours (traffic light) and the text colour that stays readable on each fill.
# Sangat Rentan (SPI 2022's fourth band) only appears with such thresholds in the config.
CATEGORY_COLOURS: Final = {
    "sangat_rentan": "#7F0000",
    "rentan": "#C62828",
    "waspada": "#F9A825",
    "terjaga": "#2E7D32",
}
CATEGORY_INK: Final = {
    "sangat_rentan": "white",
    "rentan": "white",
    "waspada": INK,
    "terjaga": "white",
}
BAND_COLOURS: Final = {
    "sangat_rentan": "#E6A3A3",
    "rentan": "#F6C9C9",
    "waspada": "#FCE8A6",
    "terjaga": "#C7E3C8",
}


def new_figure(height_in: float) -> Figure:
    """Return an empty white 1080 px-wide figure of the given height, on an Agg canvas."""
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def to_png(fig: Figure) -> bytes:
    """Render `fig` to a palette PNG at the figure's own size (no tight bbox: width stays 1080).

    Charts are flat colours plus anti-aliased text, so a 128-colour palette looks the same as
    RGBA and is a third of the size (a 40-unit ranking: ~110 KB instead of ~370 KB), and
    quantising is faster than compressing the larger RGBA image.
    """
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    # Quantise the RGBA buffer in place (no copy): the figure is opaque, so alpha is all 255.
    rgba = Image.frombuffer(
        "RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
    )
    image = rgba.quantize(colors=128, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    # The octree averages white with its neighbours; snap near-white back to paper white.
    palette = image.getpalette() or []
    for i in range(0, len(palette), 3):
        if min(palette[i : i + 3]) >= 250:
            palette[i : i + 3] = [255, 255, 255]
    image.putpalette(palette)
    buf = io.BytesIO()
    image.save(buf, format="PNG", dpi=(DPI, DPI))
    return buf.getvalue()


def add_axes_in(fig: Figure, *, left: float, top: float, width: float, height: float) -> Axes:
    """Add axes placed in inches: `left` from the left edge, `top` from the top edge."""
    fig_w, fig_h = fig.get_size_inches()
    box = (left / fig_w, 1 - (top + height) / fig_h, width / fig_w, height / fig_h)
    return fig.add_axes(box)


def y_from_top(fig: Figure, inches: float) -> float:
    """Return the figure fraction of a point `inches` below the top edge."""
    return float(1 - inches / fig.get_size_inches()[1])


def unit_lines(name: str | None) -> list[str]:
    """Return a unit's name as the header's unit lines (at most two; none for no unit)."""
    if not name:
        return []
    return wrap(" ".join(name.split()), UNIT_CHARS, max_lines=2).split("\n")


def header_height(unit_name: str | None = None) -> float:
    """Return the header band's height: title and subtitle, and the unit's name if any."""
    return HEADER_IN + UNIT_LINE_IN * len(unit_lines(unit_name))


def draw_header(
    fig: Figure, title: str, report: Report, language: str, unit_name: str | None = None
) -> None:
    """Draw the title, the unit's name (on lines of its own, never under the badge), the
    institution and wave, and the provisional badge when it applies."""
    fig_w = float(fig.get_size_inches()[0])
    left = 0.3 / fig_w
    fig.text(
        left,
        y_from_top(fig, 0.22),
        title,
        fontsize=TITLE_PT,
        fontweight="bold",
        color=INK,
        va="top",
        parse_math=False,
    )
    names = unit_lines(unit_name)
    for i, line in enumerate(names):
        fig.text(
            left,
            y_from_top(fig, 0.6 + i * UNIT_LINE_IN),
            line,
            fontsize=UNIT_PT,
            fontweight="bold",
            color=INK,
            va="top",
            parse_math=False,
        )
    wave = label("wave", language, wave=report.wave)
    name = report.institution.name
    fig.text(
        left,
        y_from_top(fig, 0.6 + len(names) * UNIT_LINE_IN),
        ellipsize(f"{name} · {wave}" if name else wave, 72),
        fontsize=SMALL_PT,
        color=MUTED,
        va="top",
        parse_math=False,
    )
    if report.provisional:
        # Every chart carries the badge: charts get forwarded one by one, out of context.
        fig.text(
            1 - 0.3 / fig_w,
            y_from_top(fig, 0.24),
            label("provisional", language),
            fontsize=SMALL_PT,
            fontweight="bold",
            color="#8A3B00",
            ha="right",
            va="top",
            bbox={"boxstyle": "round,pad=0.35", "fc": "#FFE0B2", "ec": "#E65100", "lw": 1.2},
        )


def style_value_axis(ax: Axes, *, top: bool = False) -> None:
    """Give a horizontal-bar axes the shared look: no frame, light vertical grid, big ticks."""
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(axis="both", length=0, labelsize=SMALL_PT, colors=MUTED)
    ax.tick_params(axis="x", labeltop=top, labelbottom=not top)
    ax.xaxis.grid(True, color=GRID, linewidth=1.0)
    ax.set_axisbelow(True)


def category_fill(category: Category) -> tuple[str, str]:
    """Return (fill colour, text colour) for a category."""
    return CATEGORY_COLOURS[category.key], CATEGORY_INK[category.key]


def ellipsize(text: str, max_chars: int) -> str:
    """Cut `text` to `max_chars`, ending in an ellipsis when anything was cut."""
    text = " ".join(text.split())
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def wrap(text: str, width: int, max_lines: int = 2) -> str:
    """Wrap `text` to lines of `width` characters, at most `max_lines` (the last ellipsized)."""
    lines = textwrap.wrap(text, width) or [""]
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], ellipsize(" ".join(lines[max_lines - 1 :]), width)]
    return "\n".join(lines)


def scope_of(report: Report, unit_code: str | None) -> ScopeResult:
    """Return the institution's result, or the unit's when `unit_code` is given."""
    return report.institution if unit_code is None else report.unit(unit_code)


# Most telling first: a scope without any number is described by its first status here.
_SCOPE_REASONS: Final = (
    CellStatus.PROTECTING,
    CellStatus.EXCLUDED,
    CellStatus.SMALL,
    CellStatus.WAITING,
    CellStatus.TODAY,
)


def _cell_word(cell: GroupResult, status: CellStatus, language: str, k: int) -> str:
    n = format_count(cell.waiting, language)
    if status is CellStatus.TODAY:
        return label("cell_today" if cell.waiting >= k else "cell_today_wait", language, n=n, k=k)
    if status is CellStatus.WAITING:
        soon = cell.waiting >= k
        return label("cell_waiting_soon" if soon else "cell_waiting", language, n=n, k=k)
    if status is CellStatus.EXCLUDED:
        return label("cell_excluded", language, m=format_count(cell.excluded, language), k=k)
    if status is CellStatus.SMALL:
        return label("cell_small", language, k=k)
    if status is CellStatus.PROTECTING:
        return label("cell_protecting", language)
    if status is CellStatus.NOT_APPLICABLE:
        return label("not_applicable", language)
    return label("no_answers", language)


def unit_reason_word(scope: ScopeResult, language: str, k: int) -> str:
    """Say in a few words, without counts, why a unit has no number (units are grouped by
    these words, so they must not carry a unit's own count)."""
    found = {cell_status(c, k): c for c in scope.groups}
    for status in _SCOPE_REASONS:
        cell = found.get(status)
        if cell is None:
            continue
        if status is CellStatus.TODAY and cell.waiting >= k:
            return label("reason_today", language)
        if status in (CellStatus.TODAY, CellStatus.WAITING):
            return label("reason_waiting", language, k=k)
        if status is CellStatus.EXCLUDED:
            return label("reason_excluded", language)
        return _cell_word(cell, status, language, k)
    return label("no_answers", language)


def no_number_word(scope_or_cell: ScopeResult | GroupResult, language: str, k: int) -> str:
    """Say why there is no number, in a few words (scoring.report.cell_status): not
    applicable, nobody answered, waiting for the release rule, or hidden and why."""
    if isinstance(scope_or_cell, GroupResult):
        return _cell_word(scope_or_cell, cell_status(scope_or_cell, k), language, k)
    cells = scope_or_cell.groups
    found = {cell_status(c, k): c for c in cells}
    for status in _SCOPE_REASONS:
        if status in found:
            if status in (CellStatus.TODAY, CellStatus.WAITING):
                # Counted over the whole scope: "37 jawaban hari ini, tampil besok".
                waiting = sum(c.waiting for c in cells)
                today = sum(c.waiting_today for c in cells) == waiting
                merged = dataclasses.replace(found[status], waiting=waiting)
                status = CellStatus.TODAY if today else CellStatus.WAITING
                return _cell_word(merged, status, language, k)
            return _cell_word(found[status], status, language, k)
    return label("no_answers", language)
