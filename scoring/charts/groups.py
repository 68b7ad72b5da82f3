"""Group chart: the three respondent groups' scores with margin-of-error whiskers and n.

Group scores carry no category (KPK categorises only the composite), so the bars are one
neutral colour; a group without a score says why in a few words (not applicable, waiting for
the release rule, hidden and why) with its count, never a score.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from scoring.charts.bars import BarRow, draw_bar_rows
from scoring.charts.labels import format_count, group_label, label
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
    y_from_top,
)
from scoring.report import CellStatus, Report, cell_status

__all__ = ["groups_chart"]

ROW_IN = 0.95
LABEL_W_IN = 2.0


def _groups_figure(report: Report, language: str = "id", unit_code: str | None = None) -> Figure:
    """Build the group-scores figure (exposed for tests that inspect its text)."""
    scope = scope_of(report, unit_code)
    rows = [
        BarRow(
            # n of the score; without a score, every response submitted so far.
            label=group_label(g.group, language)
            + (
                ""  # a group that does not apply here has no count to give
                if cell_status(g, report.config.min_cell_size) is CellStatus.NOT_APPLICABLE
                else "\nn = " + format_count(g.n if g.score is not None else g.submitted, language)
            ),
            value=g.score,
            moe=g.moe,
            placeholder=no_number_word(g, language, report.config.min_cell_size),
        )
        for g in scope.groups
    ]
    unit_name = scope.name if unit_code is not None else None
    top = header_height(unit_name) + 0.2
    height = top + ROW_IN * len(rows) + 0.95
    fig = new_figure(height)
    draw_header(fig, label("groups_title", language), report, language, unit_name)
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
