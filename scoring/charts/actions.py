"""Follow-up chart: actions per unit by status (planned, in progress, done, dropped).

Pure: plain counts in (the caller reads the actions), PNG out. Words come from the caller
too (the message catalog), so this module holds no user-facing text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from scoring.charts.labels import format_count
from scoring.charts.style import (
    BODY_PT,
    INK,
    MUTED,
    SMALL_PT,
    TITLE_PT,
    WIDTH_IN,
    add_axes_in,
    new_figure,
    style_value_axis,
    to_png,
    wrap,
    y_from_top,
)

__all__ = ["ACTION_STATUSES", "actions_chart"]

# Status keys in stacking order, with colours that read without each other (done is dark).
ACTION_STATUSES: Final = ("done", "in_progress", "planned", "dropped")
_COLOURS: Final[Mapping[str, str]] = {
    "done": "#2E7D32",
    "in_progress": "#F9A825",
    "planned": "#90A4AE",
    "dropped": "#E0E0E0",
}
_INK: Final[Mapping[str, str]] = {
    "done": "white",
    "in_progress": INK,
    "planned": INK,
    "dropped": MUTED,
}
ROW_IN: Final = 0.42
NAME_W_IN: Final = 2.9
TOP_IN: Final = 1.35  # title, subtitle and the key
NAME_CHARS: Final = 24
SMALL_CHARS: Final = 30  # the same column at SMALL_PT


def _figure(
    rows: Sequence[tuple[str, Mapping[str, int]]],
    *,
    title: str,
    subtitle: str,
    status_words: Mapping[str, str],
    language: str,
) -> Figure:
    n_rows = max(1, len(rows))
    height = TOP_IN + n_rows * ROW_IN + 0.45
    fig = new_figure(height)
    left = 0.3 / WIDTH_IN
    fig.text(
        left,
        y_from_top(fig, 0.25),
        title,
        fontsize=TITLE_PT,
        fontweight="bold",
        color=INK,
        va="top",
    )
    fig.text(left, y_from_top(fig, 0.7), subtitle, fontsize=SMALL_PT, color=MUTED, va="top")
    key_x = left
    for status in ACTION_STATUSES:
        word = status_words.get(status, status)
        fig.text(
            key_x,
            y_from_top(fig, 1.0),
            f"■ {word}",
            fontsize=SMALL_PT,
            color=_COLOURS[status] if status != "dropped" else MUTED,
            fontweight="bold",
            va="top",
        )
        key_x += (len(word) + 3) * 0.11 / WIDTH_IN
    for y, (name, _counts) in enumerate(rows):
        fig.text(
            left,
            y_from_top(fig, TOP_IN + (y + 0.5) * ROW_IN),
            # A longer name goes on two lines in the smaller size, which fits its row.
            name if len(name) <= NAME_CHARS else wrap(name, SMALL_CHARS),
            fontsize=BODY_PT if len(name) <= NAME_CHARS else SMALL_PT,
            color=INK,
            va="center",
            parse_math=False,
        )
    width = WIDTH_IN - NAME_W_IN - 0.3
    ax = add_axes_in(fig, left=NAME_W_IN, top=TOP_IN, width=width, height=n_rows * ROW_IN)
    style_value_axis(ax)
    ax.set_yticks([])
    totals = [sum(c.get(s, 0) for s in ACTION_STATUSES) for _, c in rows]
    most = max(totals, default=0)
    starts = [0] * len(rows)
    for status in ACTION_STATUSES:
        values = [c.get(status, 0) for _, c in rows]
        ax.barh(range(len(rows)), values, left=starts, height=0.66, color=_COLOURS[status], lw=0)
        for y, (value, start) in enumerate(zip(values, starts, strict=True)):
            if value and value / max(most, 1) * width > 0.3:
                ax.text(
                    start + value / 2,
                    y,
                    format_count(value, language),
                    ha="center",
                    va="center",
                    fontsize=SMALL_PT,
                    color=_INK[status],
                    fontweight="bold",
                )
        starts = [a + b for a, b in zip(starts, values, strict=True)]
    ax.set_xlim(0, max(most, 1) * 1.05)
    # Actions are counted in whole numbers: no 0.5 tick when every unit has one or two.
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(n_rows - 0.5, -0.5)
    return fig


def actions_chart(
    rows: Sequence[tuple[str, Mapping[str, int]]],
    *,
    title: str,
    subtitle: str,
    status_words: Mapping[str, str],
    language: str = "id",
) -> bytes:
    """Render actions per unit by status as PNG: `rows` are (unit name, {status: count})."""
    return to_png(
        _figure(rows, title=title, subtitle=subtitle, status_words=status_words, language=language)
    )
