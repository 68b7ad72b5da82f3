"""Unit ranking: one row per unit, best index first, coloured and labelled by category.

Order: units with a full index (ranked, category colour + word), then units with only a
partial index (grey bar, marked "parsial", not ranked, no category), then units with no
number at all, greyed out with "data belum cukup" (or "belum ada jawaban") and no bar. A
suppressed cell's score is not in the `Report`, so it cannot leak here; the row text is built
only from `index` and `partial_index`, which scoring derives from shown cells.
"""

from __future__ import annotations

from matplotlib.figure import Figure

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
    ellipsize,
    new_figure,
    no_number_word,
    style_value_axis,
    to_png,
    wrap,
    y_from_top,
)
from scoring.report import Report, ScopeResult

__all__ = ["ranking_chart"]

ROW_IN = 0.36
NAME_W_IN = 2.95
RIGHT_IN = 0.3
NAME_CHARS = 24  # about 0.105 in per character at BODY_PT, rank number included
TOP_IN = HEADER_IN + 0.75  # header, category key, axis ticks


def _ordered(units: tuple[ScopeResult, ...]) -> list[ScopeResult]:
    """Return full indices best first, then partial indices, then units with no number."""
    full = sorted((u for u in units if u.index is not None), key=lambda u: -(u.index or 0))
    partial = sorted(
        (u for u in units if u.index is None and u.partial_index is not None),
        key=lambda u: -(u.partial_index or 0),
    )
    rest = sorted((u for u in units if u.partial_index is None), key=lambda u: u.name)
    return [*full, *partial, *rest]


def _ranking_figure(report: Report, language: str = "id") -> Figure:
    """Build the ranking figure (exposed so tests can check no hidden number is drawn)."""
    units = _ordered(report.units)
    n_rows = max(len(units), 1)
    has_partial = any(u.index is None and u.partial_index is not None for u in units)
    footer = 0.75 if has_partial else 0.3
    height = TOP_IN + n_rows * ROW_IN + footer
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

    axes_w = WIDTH_IN - NAME_W_IN - RIGHT_IN
    ax = add_axes_in(fig, left=NAME_W_IN, top=TOP_IN, width=axes_w, height=n_rows * ROW_IN)
    style_value_axis(ax, top=True)
    ax.set_xlim(0, 100)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_yticks([])
    for threshold in (t.waspada_from, t.terjaga_from):
        ax.axvline(threshold, color=MUTED, lw=1, ls=(0, (2, 2)), zorder=3)

    # Bars and zebra stripes are collected and drawn with one barh call each (per-row calls
    # cost about a millisecond apiece on a 40-unit wave).
    zebra = [y for y in range(n_rows) if y % 2 == 1]
    ax.barh(zebra, [100] * len(zebra), height=1.0, color=GRID, alpha=0.25, lw=0, zorder=0)
    bar_y: list[int] = []
    bar_w: list[float] = []
    bar_c: list[str] = []
    name_x = 0.3 / WIDTH_IN
    rank = 0
    for y, unit in enumerate(units):
        value = unit.index if unit.index is not None else unit.partial_index
        row_y = y_from_top(fig, TOP_IN + (y + 0.5) * ROW_IN)
        if unit.index is not None:
            rank += 1
            prefix = f"{rank}. "
        else:
            prefix = ""
        fig.text(
            name_x,
            row_y,
            prefix + ellipsize(unit.name, NAME_CHARS - len(prefix)),
            fontsize=BODY_PT,
            color=INK if value is not None else FAINT,
            va="center",
            parse_math=False,
        )
        if value is None:
            ax.text(
                1,
                y,
                no_number_word(unit, language),
                fontsize=BODY_PT,
                color=FAINT,
                style="italic",
                va="center",
            )
            continue
        if unit.category is not None:
            fill, ink = category_fill(unit.category)
            text = f"{format_score(value, language)}  {category_word(unit.category, language)}"
        else:
            fill, ink = PARTIAL, INK
            text = f"{format_score(value, language)}  {label('partial', language)}"
        bar_y.append(y)
        bar_w.append(value)
        bar_c.append(fill)
        width_units = len(text) * 0.6 * BODY_PT / 72 / axes_w * 100
        if value - 1.5 >= width_units:
            ax.text(
                value - 1.5,
                y,
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
                y,
                text,
                fontsize=BODY_PT,
                color=INK,
                fontweight="bold",
                va="center",
                zorder=4,
            )
    ax.barh(bar_y, bar_w, height=0.72, color=bar_c, lw=0, zorder=2)
    ax.set_xlim(0, 100)
    ax.set_ylim(n_rows - 0.5, -0.5)
    if not units:
        ax.text(1, 0, label("no_answers", language), fontsize=BODY_PT, color=FAINT, va="center")
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
    """Render the unit ranking as PNG; its height grows with the number of units."""
    return to_png(_ranking_figure(report, language))
