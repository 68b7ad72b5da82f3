"""Group chart: the three respondent groups' scores with margin-of-error whiskers and n.

Group scores carry no category (KPK categorises only the composite), so the bars are one
neutral colour; a suppressed group shows "data belum cukup" and its count, never a score.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from scoring.charts.bars import BarRow, draw_bar_rows
from scoring.charts.labels import format_count, group_label, label
from scoring.charts.style import (
    HEADER_IN,
    MUTED,
    SMALL_PT,
    WIDTH_IN,
    draw_header,
    ellipsize,
    new_figure,
    no_number_word,
    scope_of,
    to_png,
    y_from_top,
)
from scoring.report import Report

__all__ = ["groups_chart"]

ROW_IN = 0.95
LABEL_W_IN = 2.0


def _groups_figure(report: Report, language: str = "id", unit_code: str | None = None) -> Figure:
    """Build the group-scores figure (exposed for tests that inspect its text)."""
    scope = scope_of(report, unit_code)
    rows = [
        BarRow(
            # n of the score; without a score, every response submitted so far.
            label=f"{group_label(g.group, language)}\nn = "
            + format_count(g.n if g.score is not None else g.submitted, language),
            value=g.score,
            moe=g.moe,
            placeholder=no_number_word(g, language),
        )
        for g in scope.groups
    ]
    top = HEADER_IN + 0.2
    height = top + ROW_IN * len(rows) + 0.95
    fig = new_figure(height)
    title = label("groups_title", language)
    if unit_code is not None:
        title = f"{title} — {ellipsize(scope.name, 24)}"
    draw_header(fig, title, report, language)
    draw_bar_rows(fig, rows, top_in=top, label_w_in=LABEL_W_IN, row_in=ROW_IN, language=language)
    fig.text(
        0.3 / WIDTH_IN,
        y_from_top(fig, height - 0.22),
        label("whisker_note", language),
        fontsize=SMALL_PT,
        color=MUTED,
        va="bottom",
    )
    return fig


def groups_chart(report: Report, language: str = "id", unit_code: str | None = None) -> bytes:
    """Render the three group scores as PNG: the institution's, or one unit's."""
    return to_png(_groups_figure(report, language, unit_code))
