"""Dimension chart: the seven SPI dimensions, weakest first, so the top row is where to act.

Dimensions without a shown score (nobody answered, or fewer than k respondents) go last
with a placeholder word instead of a bar.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from scoring.charts.bars import BarRow, draw_bar_rows
from scoring.charts.labels import dimension_label, label
from scoring.charts.style import (
    HEADER_IN,
    MUTED,
    SMALL_PT,
    WIDTH_IN,
    draw_header,
    ellipsize,
    new_figure,
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
    rows = [
        BarRow(
            label=wrap(dimension_label(d.dimension, language), 22),
            value=d.score,
            placeholder=label("insufficient" if d.n > 0 else "no_answers", language),
        )
        for d in [*shown, *hidden]
    ]
    top = HEADER_IN + 0.2
    height = top + ROW_IN * max(len(rows), 1) + 0.95
    fig = new_figure(height)
    title = label("dimensions_title", language)
    if unit_code is not None:
        title = f"{title} — {ellipsize(scope.name, 20)}"
    draw_header(fig, title, report, language)
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
