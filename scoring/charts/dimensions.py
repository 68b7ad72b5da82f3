"""Dimension chart: the seven SPI dimensions, weakest first, so the top row is where to act.

Dimensions without a shown score (nobody answered yet, or fewer than k respondents: hidden)
go last with a placeholder saying so instead of a bar.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from scoring.charts.bars import BarRow, draw_bar_rows
from scoring.charts.labels import dimension_label, label
from scoring.charts.style import (
    MUTED,
    SMALL_PT,
    WIDTH_IN,
    draw_header,
    header_height,
    new_figure,
    no_number_word,
    scope_of,
    to_png,
    wrap,
    y_from_top,
)
from scoring.report import Report

__all__ = ["dimensions_chart"]

ROW_IN = 0.72
LABEL_W_IN = 2.75


def _dimensions_figure(
    report: Report, language: str = "id", unit_code: str | None = None
) -> Figure:
    """Build the dimensions figure (exposed for tests that inspect its text)."""
    scope = scope_of(report, unit_code)
    shown = sorted((d for d in scope.dimensions if d.score is not None), key=lambda d: d.score or 0)
    hidden = [d for d in scope.dimensions if d.score is None]
    k = report.config.min_cell_size
    # A dimension nobody answered yet: why the whole scope has no number (waiting, n/a...).
    nothing = (
        no_number_word(scope, language, k)
        if all(c.score is None for c in scope.groups)
        else label("no_answers", language)
    )
    rows = [
        BarRow(
            label=wrap(dimension_label(d.dimension, language), 22),
            value=d.score,
            placeholder=label("cell_small", language, k=k) if d.n > 0 else nothing,
        )
        for d in [*shown, *hidden]
    ]
    unit_name = scope.name if unit_code is not None else None
    top = header_height(unit_name) + 0.2
    height = top + ROW_IN * max(len(rows), 1) + 0.95
    fig = new_figure(height)
    draw_header(fig, label("dimensions_title", language), report, language, unit_name)
    if rows:
        draw_bar_rows(
            fig, rows, top_in=top, label_w_in=LABEL_W_IN, row_in=ROW_IN, language=language
        )
    fig.text(
        0.3 / WIDTH_IN,
        y_from_top(fig, height - 0.22),
        label("scale_note", language),
        fontsize=SMALL_PT,
        color=MUTED,
        va="bottom",
    )
    return fig


def dimensions_chart(report: Report, language: str = "id", unit_code: str | None = None) -> bytes:
    """Render the dimension scores, weakest first, as PNG."""
    return to_png(_dimensions_figure(report, language, unit_code))
