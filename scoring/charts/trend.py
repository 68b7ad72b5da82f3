"""Trend chart: the institution's index across waves, with the national index of each year
and our own KPK result of each year.

The `Report` keeps only the latest earlier wave (`institution.previous`); pass the full
`history` (the same `WaveResult`s given to `build_report`) to draw more. A first wave draws
its single point and says there is no trend yet. A wave with only a partial composite shows
it as a hollow grey point marked "parsial", never joined to the line of full indices: it
rests on fewer groups, so it is not comparable with them.

`published` (year → our index in KPK's published results) is drawn as its own series: at the
last wave of that year (the year in the wave's name), or at a slot of its own, in year order
among the waves, for a year without a wave of ours.

With `unit_code` the chart is one unit's index across waves (a unit head's /tren): `history`
then holds that unit's earlier results, and KPK's institution-wide results are not drawn.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
    ellipsize,
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
KPK_COLOUR = "#6A1B9A"  # purple: apart from the category bands and the national line
PARTIAL_EDGE = "#78909C"  # grey: a partial composite has no category colour
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def _waves(
    report: Report, history: Sequence[WaveResult], unit_code: str | None = None
) -> list[WaveResult]:
    """Return the waves oldest first, ending with this one (the unit's, with `unit_code`)."""
    earlier = [h for h in history if h.wave != report.wave]
    prev = report.institution.previous
    if not earlier and prev is not None and unit_code is None:
        earlier = [WaveResult(prev.wave, prev.index)]
    return [*earlier, report.to_wave_result(unit_code)]


def _year(wave: str) -> int | None:
    """Return the year in a wave name such as "2025-1" or "SPI 2024", if there is one."""
    match = _YEAR.search(wave)
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class _Slot:
    """One position on the x axis: a wave of ours, or a year with only KPK's result."""

    label: str
    wave: WaveResult | None
    year: int | None


def _slots(waves: Sequence[WaveResult], published: Mapping[int, float]) -> list[_Slot]:
    """Return the waves in order, with a slot before the first later wave (or at the end)
    for each published year that no wave of ours is named after."""
    slots = [_Slot(w.wave, w, _year(w.wave)) for w in waves]
    covered = {s.year for s in slots}
    for year in sorted(set(published) - covered):
        later = next((i for i, s in enumerate(slots) if s.year is not None and s.year > year), None)
        slots.insert(len(slots) if later is None else later, _Slot(str(year), None, year))
    return slots


def _kpk_points(slots: Sequence[_Slot], published: Mapping[int, float]) -> list[tuple[int, float]]:
    """Return (x, our KPK result) for each published year, at the last slot of that year."""
    last = {s.year: x for x, s in enumerate(slots) if s.year is not None}
    return sorted((last[year], value) for year, value in published.items() if year in last)


def _trend_figure(
    report: Report,
    language: str = "id",
    history: Sequence[WaveResult] = (),
    published: Mapping[int, float] | None = None,
    unit_code: str | None = None,
) -> Figure:
    """Build the trend figure (exposed for tests that inspect its text)."""
    if unit_code is not None:
        published = None  # KPK scores the institution, never one unit
    waves = _waves(report, history, unit_code)
    scope = report.institution if unit_code is None else report.unit(unit_code)
    slots = _slots(waves, published or {})
    xs = list(range(len(slots)))
    kpk = _kpk_points(slots, published or {})
    national = [None if s.year is None else NATIONAL_INDEX.get(s.year) for s in slots]
    partials = [
        (x, s.wave.partial_index)
        for x, s in zip(xs, slots, strict=True)
        if s.wave is not None and s.wave.partial_index is not None
    ]
    full = [
        (x, s.wave.index)
        for x, s in zip(xs, slots, strict=True)
        if s.wave is not None and s.wave.index is not None
    ]
    values = [v for _, v in full] + [v for _, v in partials] + [v for _, v in kpk]
    values += [v for v in national if v is not None]
    t = report.config.thresholds
    lo = max(0.0, min(60.0, math.floor((min([*values, t.waspada_from]) - 4) / 10) * 10))

    fig = new_figure(HEIGHT_IN)
    title = label("trend_title", language)
    if unit_code is not None:
        title = f"{title} — {ellipsize(scope.name, 32)}"
    draw_header(fig, title, report, language)
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
    pad = 0.5 if len(slots) > 1 else 1.0
    ax.set_xlim(-pad, len(slots) - 1 + pad)
    ax.set_ylim(lo, 100)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks(xs, [s.label for s in slots])
    ax.tick_params(axis="both", length=0, labelsize=SMALL_PT, colors=MUTED)
    ax.tick_params(axis="x", labelsize=BODY_PT, colors=INK)
    if len(slots) > 6:
        ax.tick_params(axis="x", labelrotation=30)

    nat_x = [x for x, v in zip(xs, national, strict=True) if v is not None]
    nat_y = [v for v in national if v is not None]
    if nat_y:
        ax.plot(nat_x, nat_y, color=NATIONAL_COLOUR, lw=2, ls="--", marker="D", ms=7, zorder=3)
    if kpk:
        # KPK's value sits below its marker, ours above: the two never cover each other.
        ax.plot(*zip(*kpk, strict=True), color=KPK_COLOUR, lw=2, ls=":", marker="s", ms=8, zorder=3)
        for x, v in kpk:
            ax.text(
                x,
                v - (100 - lo) * 0.035,
                format_score(v, language),
                fontsize=SMALL_PT,
                color=KPK_COLOUR,
                ha="center",
                va="top",
                zorder=5,
                # Readable where it crosses the national line.
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
            )
    if full:
        ax.plot(*zip(*full, strict=True), color=INK, lw=3, marker="o", ms=10, zorder=4)
    for x, v in full:
        ax.text(
            x,
            v + (100 - lo) * 0.035,
            format_score(v, language),
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
            max(x for x, s in zip(xs, slots, strict=True) if s.wave is last),
            lo + (100 - lo) * 0.5,
            no_number_word(scope, language, report.config.min_cell_size),
            fontsize=BODY_PT,
            color=MUTED,
            style="italic",
            ha="center",
            va="center",
            rotation=90 if len(slots) > 3 else 0,
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
    names = [label("this_institution" if unit_code is None else "this_unit", language)]
    if partials:
        handles.append(
            Line2D([], [], ls="none", marker="o", ms=9, mfc="white", mec=PARTIAL_EDGE, mew=2.5)
        )
        names.append(label("partial_legend", language))
    if kpk:
        handles.append(Line2D([], [], color=KPK_COLOUR, lw=2, ls=":", marker="s", ms=8))
        names.append(label("kpk_line", language))
    if nat_y:
        handles.append(Line2D([], [], color=NATIONAL_COLOUR, lw=2, ls="--", marker="D", ms=7))
        names.append(label("national_line", language))
    fig.legend(
        handles,
        names,
        loc="lower left",
        bbox_to_anchor=(0.3 / WIDTH_IN, 0.02),
        ncols=2,  # a third and fourth entry go to a second row: one row would not fit
        fontsize=SMALL_PT,
        frameon=False,
        handlelength=2.5,
    )
    return fig


def trend_chart(
    report: Report,
    language: str = "id",
    history: Sequence[WaveResult] = (),
    published: Mapping[int, float] | None = None,
    unit_code: str | None = None,
) -> bytes:
    """Render the index across waves as PNG; `history` is oldest first, as for build_report;
    `published` is our KPK result per year. With `unit_code`, one unit's trend (its own
    `history`)."""
    return to_png(_trend_figure(report, language, history, published, unit_code))
