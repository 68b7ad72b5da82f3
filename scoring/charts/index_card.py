"""Index card: the composite index on the three category bands, with benchmark markers.

Without a full index (a group missing or suppressed) the card shows the partial composite,
labelled as such and without a category, or says there is not enough data: it never shows
a number the report does not have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scoring.benchmarks import BenchmarkComparison
from scoring.charts.labels import (
    category_word,
    format_delta,
    format_score,
    group_label,
    label,
)
from scoring.charts.style import (
    BAND_COLOURS,
    BODY_PT,
    FAINT,
    HEADER_IN,
    INK,
    MUTED,
    SMALL_PT,
    WIDTH_IN,
    add_axes_in,
    category_fill,
    draw_header,
    header_height,
    new_figure,
    no_number_word,
    scope_of,
    to_png,
    y_from_top,
)
from scoring.index import CATEGORIES
from scoring.report import Report, ScopeResult

__all__ = ["index_chart"]

LEFT_IN = 0.3
PLOT_W_IN = WIDTH_IN - 2 * LEFT_IN
BAND_TOP_IN = 2.45
BAND_H_IN = 0.62
STRIP_H_IN = 0.5
TABLE_TOP_IN = 3.9
KEY_IN = 0.3  # the category key's own line, below the axis numbers
ROW_IN = 0.34

# Marker shape and colour per benchmark key: shapes differ so markers read without colour.
_MARKERS: dict[str, tuple[str, str]] = {
    "national": ("D", "#1565C0"),
    "level": ("s", "#6A1B9A"),
    "rpjmn_target": ("^", "#E65100"),
    "previous": ("o", "#455A64"),
}


@dataclass(frozen=True, slots=True)
class _Reference:
    """One marker on the band and one row of the table below it."""

    kind: str  # a key of _MARKERS
    text: str
    value: float
    delta: float | None


def _benchmark_text(bench: BenchmarkComparison, wave_year: int | None, language: str) -> str:
    """Name a benchmark with its year; a target of another year than the wave's says so."""
    name = bench.label.get(language)
    if bench.key == "rpjmn_target" and wave_year is not None and bench.year != wave_year:
        return label("target_stale", language, label=name, year=bench.year, wave_year=wave_year)
    return label("benchmark_year", language, label=name, year=bench.year)


def _references(scope: ScopeResult, language: str, wave_year: int | None) -> list[_Reference]:
    """Collect the benchmarks and the previous wave that have a number."""
    refs = [
        _Reference(
            "level" if b.key.startswith("level:") else b.key,
            _benchmark_text(b, wave_year, language),
            b.value,
            b.delta,
        )
        for b in scope.benchmarks
    ]
    prev = scope.previous
    if prev is not None and prev.index is not None:
        text = label("previous_wave", language, wave=prev.wave)
        refs.append(_Reference("previous", text, prev.index, prev.delta))
    return refs


def _axis_floor(values: list[float], waspada_from: float) -> float:
    """Return the left end of the band: 60, or lower in steps of 10 to fit every value."""
    low = min([*values, waspada_from]) - 3
    return max(0.0, min(60.0, math.floor(low / 10) * 10))


def _draw_headline(
    fig: Figure, scope: ScopeResult, language: str, off: float, k: int
) -> float | None:
    """Draw the big number (or why there is none) `off` inches below its usual place (a
    unit's name takes room in the header); return the value to mark on the band."""
    left = LEFT_IN / WIDTH_IN

    def y(inches: float) -> float:
        return y_from_top(fig, inches + off)

    if scope.index is not None and scope.category is not None:
        fig.text(
            left,
            y(1.0),
            format_score(scope.index, language),
            fontsize=44,
            fontweight="bold",
            color=INK,
            va="top",
        )
        fill, ink = category_fill(scope.category)
        fig.text(
            2.75 / WIDTH_IN,
            y(1.42),
            category_word(scope.category, language),
            fontsize=18,
            fontweight="bold",
            color=ink,
            va="center",
            bbox={"boxstyle": "round,pad=0.45", "fc": fill, "ec": "none"},
        )
        if scope.index_moe is not None:
            fig.text(
                left,
                y(1.9),
                label("margin", language, moe=format_score(scope.index_moe, language)),
                fontsize=SMALL_PT,
                color=MUTED,
                va="top",
            )
        return scope.index
    if scope.partial_index is not None:
        groups = ", ".join(group_label(g, language) for g in scope.groups_included)
        fig.text(
            left,
            y(1.0),
            label("partial_index", language, groups=groups),
            fontsize=BODY_PT,
            fontweight="bold",
            color=MUTED,
            va="top",
        )
        fig.text(
            left,
            y(1.32),
            format_score(scope.partial_index, language),
            fontsize=34,
            fontweight="bold",
            color=MUTED,
            va="top",
        )
        fig.text(
            left,
            y(2.02),
            label("partial_note", language),
            fontsize=SMALL_PT,
            color=MUTED,
            va="top",
        )
        return scope.partial_index
    fig.text(
        left,
        y(1.15),
        label("no_index", language),
        fontsize=28,
        fontweight="bold",
        color=FAINT,
        va="top",
    )
    reason = no_number_word(scope, language, k)
    fig.text(left, y(1.8), reason, fontsize=BODY_PT, color=MUTED, va="top", parse_math=False)
    return None


def _word_fits(word: str, a: float, b: float, lo: float) -> bool:
    """Tell whether a category word fits inside its band from a to b."""
    width_in = (b - a) / (100 - lo) * PLOT_W_IN
    # Bold DejaVu Sans averages about 0.62 em per character.
    return len(word) * 0.62 * SMALL_PT / 72 + 0.08 <= width_in


def _band_words_fit(report: Report, lo: float, language: str) -> bool:
    """Tell whether every category word fits inside its band."""
    t = report.config.thresholds
    edges = [lo, t.waspada_from, t.terjaga_from, 100.0]
    return all(
        _word_fits(category_word(category, language), a, b, lo)
        for category, a, b in zip(CATEGORIES, edges, edges[1:], strict=False)
        if b > a
    )


def _draw_bands(band: Axes, report: Report, lo: float, language: str) -> bool:
    """Draw the three category bands; return False when a word did not fit inside its band."""
    t = report.config.thresholds
    edges = [lo, t.waspada_from, t.terjaga_from, 100.0]
    all_fit = True
    for category, a, b in zip(CATEGORIES, edges, edges[1:], strict=False):
        if b <= a:
            continue
        band.axvspan(a, b, color=BAND_COLOURS[category.key], lw=0)
        word = category_word(category, language)
        if _word_fits(word, a, b, lo):
            band.text(
                (a + b) / 2,
                0.25,  # lower half: the index line runs through the upper half only
                word,
                fontsize=SMALL_PT,
                fontweight="bold",
                color=INK,
                ha="center",
                va="center",
            )
        else:
            all_fit = False
    band.set_xlim(lo, 100)
    band.set_ylim(0, 1)
    band.set_axis_off()
    return all_fit


def _index_figure(report: Report, language: str = "id", unit_code: str | None = None) -> Figure:
    """Build the index card figure (exposed for tests that inspect its text)."""
    scope = scope_of(report, unit_code)
    refs = _references(scope, language, report.year)
    unit_name = scope.name if unit_code is not None else None
    off = header_height(unit_name) - HEADER_IN  # a unit's name pushes everything down
    t = report.config.thresholds
    values = [r.value for r in refs]
    if scope.index is not None or scope.partial_index is not None:
        values.append(scope.index if scope.index is not None else scope.partial_index or 0.0)
    lo = _axis_floor(values, t.waspada_from)
    words_fit = _band_words_fit(report, lo, language)
    # When a band is too narrow for its word, the key goes on a line of its own below the
    # axis numbers (never over them), and the table moves down to make room.
    table_top = TABLE_TOP_IN + off + (0 if words_fit else KEY_IN)
    rows = len(refs) + 1 if refs else 0  # +1: the column header
    height = table_top + rows * ROW_IN + 0.35
    fig = new_figure(height)
    draw_header(fig, label("index_title", language), report, language, unit_name)

    marked = _draw_headline(fig, scope, language, off, report.config.min_cell_size)
    band_top = BAND_TOP_IN + off
    band = add_axes_in(fig, left=LEFT_IN, top=band_top, width=PLOT_W_IN, height=BAND_H_IN)
    _draw_bands(band, report, lo, language)
    if marked is not None:
        full = scope.index is not None
        colour = INK if full else MUTED
        band.axvline(marked, ymin=0.5, color=colour, lw=4 if full else 3, ls="-" if full else "--")
        band.plot([marked], [1.16], marker="v", ms=15, color=colour, clip_on=False, ls="none")

    strip = add_axes_in(
        fig, left=LEFT_IN, top=band_top + BAND_H_IN, width=PLOT_W_IN, height=STRIP_H_IN
    )
    strip.set_xlim(lo, 100)
    strip.set_ylim(0, 1)
    for ref, y in zip(refs, _dodge([r.value for r in refs], lo), strict=True):
        shape, colour = _MARKERS[ref.kind]
        strip.plot([ref.value], [y], marker=shape, ms=11, color=colour, mec="white", mew=1.2)
    ticks = sorted({lo, t.waspada_from, t.terjaga_from, 100.0})
    strip.set_xticks(ticks, [format_score(v, language, 0) for v in ticks])
    strip.set_yticks([])
    strip.tick_params(axis="x", length=0, labelsize=SMALL_PT, colors=MUTED, pad=4)
    for spine in strip.spines.values():
        spine.set_visible(False)
    if not words_fit:
        # A narrow band cannot hold its word: spell the key out below the axis numbers.
        fig.text(
            LEFT_IN / WIDTH_IN,
            y_from_top(fig, table_top - 0.08),
            label("category_key", language, w=_num(t.waspada_from), t=_num(t.terjaga_from)),
            fontsize=SMALL_PT,
            color=MUTED,
            va="bottom",
        )

    if refs:
        _draw_table(fig, refs, language, table_top)
    return fig


def _dodge(values: list[float], lo: float) -> list[float]:
    """Return a marker row (y) per value, moving a marker down when it would overlap another."""
    too_close = (100 - lo) * 0.035  # about one marker width
    placed: list[tuple[float, float]] = []
    out = []
    for value in values:
        y = 0.75
        for row in (0.75, 0.3):
            if all(abs(value - v) >= too_close for v, r in placed if r == row):
                y = row
                break
        placed.append((value, y))
        out.append(y)
    return out


def _num(value: float) -> str:
    return f"{value:g}"


def _draw_table(fig: Figure, refs: list[_Reference], language: str, top: float) -> None:
    """List each marker with its label, value and the index's difference from it."""
    rows = len(refs) + 1
    table = add_axes_in(fig, left=LEFT_IN, top=top + 0.1, width=PLOT_W_IN, height=rows * ROW_IN)
    table.set_xlim(0, 1)
    table.set_ylim(rows, 0)
    table.set_axis_off()
    table.text(
        1.0,
        0.5,
        label("delta_header", language),
        fontsize=SMALL_PT,
        color=MUTED,
        ha="right",
        va="center",
    )
    for i, ref in enumerate(refs, start=1):
        y = i + 0.5
        shape, colour = _MARKERS[ref.kind]
        table.plot([0.02], [y], marker=shape, ms=11, color=colour, mec="white", mew=1.2)
        table.text(0.06, y, ref.text, fontsize=BODY_PT, color=INK, va="center", parse_math=False)
        table.text(
            0.8,
            y,
            format_score(ref.value, language),
            fontsize=BODY_PT,
            color=INK,
            ha="right",
            va="center",
        )
        delta = "—" if ref.delta is None else format_delta(ref.delta, language)
        table.text(1.0, y, delta, fontsize=BODY_PT, color=INK, ha="right", va="center")


def index_chart(report: Report, language: str = "id", unit_code: str | None = None) -> bytes:
    """Render the index card as PNG: the institution's, or one unit's with `unit_code`."""
    return to_png(_index_figure(report, language, unit_code))
