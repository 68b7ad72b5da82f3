"""Unit ranking: a row per unit with a number, best index first, coloured and labelled by category.

Order: units with a full index (ranked, category colour + word), then, under a heading of
their own, units with only a partial index (grey bar, marked "parsial", not ranked and so in
name order, no category), then one greyed line
that counts the units with no number at all ("46 unit tanpa angka — 3 data belum cukup ·
43 belum ada jawaban"): early in a wave most units have none, and a row each would bury the
ranking. Long names wrap onto more lines (the row grows) instead of being cut. A suppressed
cell's score is not in the `Report`, so it cannot leak here; the row text is built only from
`index` and `partial_index`, which scoring derives from shown cells.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from scoring.charts.labels import category_word, format_score, label
from scoring.charts.style import (
    BODY_PT,
    FAINT,
    GRID,
    HEADER_IN,
    INK,
    MUTED,
    PARTIAL,
    SMALL_PT,
    WIDTH_IN,
    add_axes_in,
    category_fill,
    draw_header,
    new_figure,
    style_value_axis,
    to_png,
    unit_reason_word,
    wrap,
    y_from_top,
)
from scoring.report import Report, ScopeResult

__all__ = ["ranking_chart"]

ROW_IN = 0.36  # a one-line row
SECTION_IN = 0.5  # the gap with the "not ranked" heading before the partial rows
LINE_IN = 0.2  # each further line of a wrapped name
BAR_IN = 0.26
NAME_W_IN = 2.95
RIGHT_IN = 0.3
NAME_CHARS = 24  # about 0.105 in per character at BODY_PT, rank number included
TOP_IN = HEADER_IN + 0.75  # header, category key, axis ticks
MIN_HEIGHT_IN = 4.0


@dataclass(frozen=True, slots=True)
class _Row:
    """One unit's row: its (wrapped) name and its place."""

    text: str
    unit: ScopeResult
    top: float  # inches from the top of the axes
    height: float

    @property
    def middle(self) -> float:
        return self.top + self.height / 2


def _ordered(units: tuple[ScopeResult, ...]) -> tuple[list[ScopeResult], list[ScopeResult]]:
    """Return (full indices best first, then partial indices by name) and the units with no
    number. Partial ones are not ranked, so not ordered by value either: a partial 74 below
    a full 44 must not read as "worse"."""
    full = sorted((u for u in units if u.index is not None), key=lambda u: -(u.index or 0))
    partial = sorted(
        (u for u in units if u.index is None and u.partial_index is not None),
        key=lambda u: u.name,
    )
    rest = [u for u in units if u.index is None and u.partial_index is None]
    return [*full, *partial], rest


def _name_lines(name: str, prefix: str) -> str:
    """Wrap a unit name to the name column; every word is kept."""
    width = NAME_CHARS - len(prefix)
    lines = textwrap.wrap(" ".join(name.split()), width) or [""]
    return prefix + "\n".join(lines)


def _without_number_line(rest: list[ScopeResult], language: str, k: int) -> str:
    """Count the units with no number, by reason, in one line."""
    reasons: dict[str, int] = {}
    for unit in rest:
        word = unit_reason_word(unit, language, k)
        reasons[word] = reasons.get(word, 0) + 1
    parts = " · ".join(f"{count} {word}" for word, count in reasons.items())
    return label("units_without_number", language, count=len(rest), reasons=parts)


def _layout(units: list[ScopeResult]) -> tuple[list[_Row], float | None]:
    """Place the rows top to bottom; a wrapped name makes its row taller. Before the first
    partial row a gap is left for the "not ranked" heading; its top is returned (or None)."""
    rows: list[_Row] = []
    top, rank = 0.0, 0
    heading: float | None = None
    for unit in units:
        prefix = ""
        if unit.index is not None:
            rank += 1
            prefix = f"{rank}. "
        elif heading is None:
            heading = top
            top += SECTION_IN
        text = _name_lines(unit.name, prefix)
        height = ROW_IN + LINE_IN * text.count("\n")
        rows.append(_Row(text, unit, top, height))
        top += height
    return rows, heading


def _ranking_figure(report: Report, language: str = "id") -> Figure:
    """Build the ranking figure (exposed so tests can check no hidden number is drawn)."""
    units, rest = _ordered(report.units)
    rows, heading = _layout(units)
    rows_in = (rows[-1].top + rows[-1].height) if rows else ROW_IN
    has_partial = heading is not None
    k = report.config.min_cell_size
    count_line = wrap(_without_number_line(rest, language, k), 70) if rest else ""
    count_in = (ROW_IN + LINE_IN * count_line.count("\n")) if rest else 0.0
    footer = count_in + (0.75 if has_partial else 0.3)
    # At least as tall as the other charts of the pack (600 px), even for a wave with no numbers.
    height = max(TOP_IN + rows_in + footer, MIN_HEIGHT_IN)
    fig = new_figure(height)
    draw_header(fig, label("ranking_title", language), report, language)
    t = report.config.thresholds
    fig.text(
        0.3 / WIDTH_IN,
        y_from_top(fig, HEADER_IN + 0.02),
        label("category_key", language, w=f"{t.waspada_from:g}", t=f"{t.terjaga_from:g}"),
        fontsize=SMALL_PT,
        color=MUTED,
        va="top",
    )

    # The y axis is in inches from the top of the axes, so rows can differ in height.
    axes_w = WIDTH_IN - NAME_W_IN - RIGHT_IN
    ax = add_axes_in(fig, left=NAME_W_IN, top=TOP_IN, width=axes_w, height=rows_in)
    style_value_axis(ax, top=True)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_yticks([])
    for threshold in (t.waspada_from, t.terjaga_from):
        ax.axvline(threshold, color=MUTED, lw=1, ls=(0, (2, 2)), zorder=3)

    # Bars and zebra stripes are collected and drawn with one barh call each (per-row calls
    # cost about a millisecond apiece on a 40-unit wave).
    zebra = [r for i, r in enumerate(rows) if i % 2 == 1]
    ax.barh(
        [r.middle for r in zebra],
        [100] * len(zebra),
        height=[r.height for r in zebra],
        color=GRID,
        alpha=0.25,
        lw=0,
        zorder=0,
    )
    bar_y: list[float] = []
    bar_w: list[float] = []
    bar_c: list[str] = []
    name_x = 0.3 / WIDTH_IN
    for row in rows:
        unit = row.unit
        row_y = y_from_top(fig, TOP_IN + row.middle)
        value = unit.index if unit.index is not None else unit.partial_index
        assert value is not None
        fig.text(
            name_x,
            row_y,
            row.text,
            fontsize=BODY_PT,
            color=INK,
            va="center",
            linespacing=1.15,
            parse_math=False,
        )
        if unit.category is not None:
            fill, ink = category_fill(unit.category)
            text = f"{format_score(value, language)}  {category_word(unit.category, language)}"
        else:
            fill, ink = PARTIAL, INK
            text = f"{format_score(value, language)}  {label('partial', language)}"
        bar_y.append(row.middle)
        bar_w.append(value)
        bar_c.append(fill)
        width_units = len(text) * 0.6 * BODY_PT / 72 / axes_w * 100
        if value - 1.5 >= width_units:
            ax.text(
                value - 1.5,
                row.middle,
                text,
                fontsize=BODY_PT,
                color=ink,
                fontweight="bold",
                ha="right",
                va="center",
                zorder=4,
            )
        else:
            ax.text(
                value + 1.5,
                row.middle,
                text,
                fontsize=BODY_PT,
                color=INK,
                fontweight="bold",
                va="center",
                zorder=4,
            )
    ax.barh(bar_y, bar_w, height=BAR_IN, color=bar_c, lw=0, zorder=2)
    if heading is not None:
        # The unranked section starts under a rule and a heading across the whole width.
        y_line = y_from_top(fig, TOP_IN + heading + 0.06)
        fig.add_artist(
            Line2D([name_x, 1 - RIGHT_IN / WIDTH_IN], [y_line, y_line], color=MUTED, lw=1.2)
        )
        fig.text(
            name_x,
            y_from_top(fig, TOP_IN + heading + SECTION_IN / 2 + 0.04),
            label("unranked_header", language),
            fontsize=BODY_PT,
            fontweight="bold",
            color=MUTED,
            va="center",
            parse_math=False,
            zorder=6,
            # White behind the words: the threshold lines of the bars run through this gap.
            bbox={"boxstyle": "square,pad=0.15", "fc": "white", "ec": "none"},
        )
    ax.set_xlim(0, 100)
    ax.set_ylim(rows_in, 0)
    if not rows and not rest:
        ax.text(1, ROW_IN / 2, label("no_answers", language), fontsize=BODY_PT, color=FAINT)
    if count_line:  # the units without a number, counted below the ranked rows
        fig.text(
            name_x,
            y_from_top(fig, TOP_IN + rows_in + 0.1 + count_in / 2),
            count_line,
            fontsize=BODY_PT,
            color=FAINT,
            style="italic",
            va="center",
            parse_math=False,
        )
    if has_partial:
        fig.text(
            name_x,
            y_from_top(fig, height - 0.12),
            wrap(label("partial_footnote", language), 86),
            fontsize=SMALL_PT,
            color=MUTED,
            va="bottom",
        )
    return fig


def ranking_chart(report: Report, language: str = "id") -> bytes:
    """Render the unit ranking as PNG; its height grows with the units that have a number."""
    return to_png(_ranking_figure(report, language))
