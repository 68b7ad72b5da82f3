"""Keyword chart of respondents' suggestions: how many comments mention each keyword.

Pure: a CommentReview in, PNG bytes out (matplotlib object API on Agg, never pyplot).
"""

from __future__ import annotations

from typing import Final

from matplotlib.ticker import MaxNLocator

from scoring.charts.labels import format_count
from scoring.charts.style import (
    ACCENT,
    BODY_PT,
    HEADER_IN,
    INK,
    MUTED,
    SMALL_PT,
    TITLE_PT,
    WIDTH_IN,
    add_axes_in,
    new_figure,
    style_value_axis,
    to_png,
    y_from_top,
)
from scoring.comments import CommentReview
from surveys.model import Text

__all__ = ["keyword_chart"]

ROW_IN: Final = 0.42
LABEL_W_IN: Final = 1.9
_TITLE: Final = Text(
    id="Kata kunci dalam saran responden", en="Keywords in respondents' suggestions"
)
_SUBTITLE: Final = Text(
    id="Gelombang {wave} · {n} saran · jumlah saran yang menyebut kata itu",
    en="Wave {wave} · {n} suggestions · suggestions mentioning the word",
)


def keyword_chart(review: CommentReview, wave: str, language: str = "id") -> bytes:
    """Render the keyword counts of a review as a PNG bar chart, most mentioned on top."""
    rows = list(review.keyword_counts)
    height = HEADER_IN + 0.35 + ROW_IN * max(len(rows), 1) + 0.45
    fig = new_figure(height)
    left = 0.3 / WIDTH_IN
    fig.text(
        left,
        y_from_top(fig, 0.22),
        _TITLE.get(language),
        fontsize=TITLE_PT,
        fontweight="bold",
        color=INK,
        va="top",
    )
    subtitle = _SUBTITLE.get(language).format(
        wave=wave, n=format_count(len(review.comments), language)
    )
    fig.text(left, y_from_top(fig, 0.6), subtitle, fontsize=SMALL_PT, color=MUTED, va="top")
    top = HEADER_IN + 0.2
    ax = add_axes_in(
        fig, left=LABEL_W_IN, top=top, width=WIDTH_IN - LABEL_W_IN - 0.5, height=ROW_IN * len(rows)
    )
    style_value_axis(ax)
    counts = [count for _, count in rows]
    ax.barh(range(len(rows)), counts, height=0.65, color=ACCENT, lw=0)
    peak = max(counts, default=0) or 1
    for y, (word, count) in enumerate(rows):
        fig.text(
            left,
            y_from_top(fig, top + (y + 0.5) * ROW_IN),
            word,
            fontsize=BODY_PT,
            color=INK,
            va="center",
            parse_math=False,
        )
        ax.text(
            count + peak * 0.02,
            y,
            format_count(count, language),
            fontsize=SMALL_PT,
            color=INK,
            va="center",
        )
    ax.set_xlim(0, peak * 1.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks([])
    return to_png(fig)
