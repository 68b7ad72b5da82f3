"""Trend chart: the institution's index across waves, with the national index of each year.

The `Report` keeps only the latest earlier wave (`institution.previous`); pass the full
`history` (the same `WaveResult`s given to `build_report`) to draw more. A first wave draws
its single point and says there is no trend yet. A wave with only a partial composite shows
it as a hollow grey point marked "parsial", never joined to the line of full indices: it
rests on fewer groups, so it is not comparable with them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from scoring.benchmarks import NATIONAL_INDEX
from scoring.charts.labels import category_word, format_score, label
from scoring.charts.style import (
    BAND_COLOURS,
    BODY_PT,
    HEADER_IN,
    INK,
    MUTED,
    SMALL_PT,
    WIDTH_IN,
    add_axes_in,
    draw_header,
    new_figure,
    no_number_word,
    to_png,
)
from scoring.config import WaveResult
from scoring.index import CATEGORIES
from scoring.report import Report

__all__ = ["trend_chart"]

HEIGHT_IN = 5.6
NATIONAL_COLOUR = "#1565C0"
PARTIAL_EDGE = "#78909C"  # grey: a partial composite has no category colour
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _waves(report: Report, history: Sequence[WaveResult]) -> list[WaveResult]:
    """Return the waves oldest first, ending with this one."""
    earlier = [h for h in history if h.wave != report.wave]
    prev = report.institution.previous
    if not earlier and prev is not None:
        earlier = [WaveResult(prev.wave, prev.index)]
    return [*earlier, report.to_wave_result()]


def _year(wave: str) -> int | None:
    """Return the year in a wave name such as "2025-1" or "SPI 2024", if there is one."""
    match = _YEAR.search(wave)
    return int(match.group(1)) if match else None


def _trend_figure(
    report: Report, language: str = "id", history: Sequence[WaveResult] = ()
) -> Figure:
    """Build the trend figure (exposed for tests that inspect its text)."""
    waves = _waves(report, history)
    xs = list(range(len(waves)))
    national = [NATIONAL_INDEX.get(y) if (y := _year(w.wave)) else None for w in waves]
    partials = [
        (x, w.partial_index) for x, w in zip(xs, waves, strict=True) if w.partial_index is not None
    ]
    values = [w.index for w in waves if w.index is not None] + [v for _, v in partials]
    values += [v for v in national if v is not None]
    t = report.config.thresholds
    lo = max(0.0, min(60.0, math.floor((min([*values, t.waspada_from]) - 4) / 10) * 10))

    fig = new_figure(HEIGHT_IN)
    draw_header(fig, label("trend_title", language), report, language)
    ax = add_axes_in(fig, left=0.85, top=HEADER_IN + 0.25, width=WIDTH_IN - 1.2, height=3.35)
    edges = [lo, t.waspada_from, t.terjaga_from, 100.0]
    for category, a, b in zip(CATEGORIES, edges, edges[1:], strict=False):
        if b <= a:
            continue
        ax.axhspan(a, b, color=BAND_COLOURS[category.key], lw=0, zorder=0)
        # The band's word at its right edge, so the colour never stands alone.
        ax.text(
            0.99,
            (a + b) / 2,
            category_word(category, language),
            fontsize=SMALL_PT,
            color=MUTED,
            fontweight="bold",
            ha="right",
            va="center",
            transform=ax.get_yaxis_transform(),
            zorder=1,
        )
    pad = 0.5 if len(waves) > 1 else 1.0
    ax.set_xlim(-pad, len(waves) - 1 + pad)
    ax.set_ylim(lo, 100)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks(xs, [w.wave for w in waves])
    ax.tick_params(axis="both", length=0, labelsize=SMALL_PT, colors=MUTED)
    ax.tick_params(axis="x", labelsize=BODY_PT, colors=INK)
    if len(waves) > 6:
        ax.tick_params(axis="x", labelrotation=30)

    nat_x = [x for x, v in zip(xs, national, strict=True) if v is not None]
    nat_y = [v for v in national if v is not None]
    if nat_y:
        ax.plot(nat_x, nat_y, color=NATIONAL_COLOUR, lw=2, ls="--", marker="D", ms=7, zorder=3)
    idx_x = [x for x, w in zip(xs, waves, strict=True) if w.index is not None]
    idx_y = [w.index for w in waves if w.index is not None]
    if idx_y:
        ax.plot(idx_x, idx_y, color=INK, lw=3, marker="o", ms=10, zorder=4)
    for x, w in zip(xs, waves, strict=True):
        if w.index is not None:
            ax.text(
                x,
                w.index + (100 - lo) * 0.035,
                format_score(w.index, language),
                fontsize=BODY_PT,
                fontweight="bold",
                color=INK,
                ha="center",
                va="bottom",
                zorder=5,
            )
    if partials:
        ax.plot(
            [x for x, _ in partials],
            [v for _, v in partials],
            ls="none",
            marker="o",
            ms=10,
            mfc="white",
            mec=PARTIAL_EDGE,
            mew=2.5,
            zorder=4,
        )
        for x, v in partials:
            ax.text(
                x,
                v + (100 - lo) * 0.035,
                f"{format_score(v, language)} {label('partial', language)}",
                fontsize=BODY_PT,
                color=MUTED,
                ha="center",
                va="bottom",
                zorder=5,
            )
    last = waves[-1]
    if last.index is None and last.partial_index is None:
        # This wave has no number at all: say why at its position.
        ax.text(
            xs[-1],
            lo + (100 - lo) * 0.5,
            no_number_word(report.institution, language),
            fontsize=BODY_PT,
            color=MUTED,
            style="italic",
            ha="center",
            va="center",
            rotation=90 if len(waves) > 3 else 0,
            zorder=5,
        )
    if len(waves) == 1:
        ax.text(
            0.5,
            0.9,
            label("first_wave", language),
            fontsize=BODY_PT,
            color=INK,
            ha="center",
            va="center",
            transform=ax.transAxes,
            zorder=5,
            bbox={"boxstyle": "round,pad=0.4", "fc": "white", "ec": MUTED},
        )

    handles = [Line2D([], [], color=INK, lw=3, marker="o", ms=9)]
    names = [label("this_institution", language)]
    if partials:
        handles.append(
            Line2D([], [], ls="none", marker="o", ms=9, mfc="white", mec=PARTIAL_EDGE, mew=2.5)
        )
        names.append(label("partial_legend", language))
    if nat_y:
        handles.append(Line2D([], [], color=NATIONAL_COLOUR, lw=2, ls="--", marker="D", ms=7))
        names.append(label("national_line", language))
    fig.legend(
        handles,
        names,
        loc="lower left",
        bbox_to_anchor=(0.3 / WIDTH_IN, 0.02),
        ncols=2,  # a third entry (partial) goes to a second row: one row would not fit
        fontsize=SMALL_PT,
        frameon=False,
        handlelength=2.5,
    )
    return fig


def trend_chart(report: Report, language: str = "id", history: Sequence[WaveResult] = ()) -> bytes:
    """Render the index across waves as PNG; `history` is oldest first, as for build_report."""
    return to_png(_trend_figure(report, language, history))
