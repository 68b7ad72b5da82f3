"""Labelled horizontal score bars on a 0–100 scale, shared by the group and dimension charts.

A row without a number gets a grey placeholder band with a word in it, never a bar: an empty
bar of length 0 would read as a score of 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from scoring.charts.labels import format_score
from scoring.charts.style import (
    ACCENT,
    BODY_PT,
    INK,
    MUTED,
    PLACEHOLDER,
    SMALL_PT,
    WIDTH_IN,
    add_axes_in,
    style_value_axis,
)

__all__ = ["BarRow", "draw_bar_rows"]

RIGHT_IN = 0.35


@dataclass(frozen=True, slots=True)
class BarRow:
    """One row: its label, and a score (with margin) or the word that replaces it."""

    label: str
    value: float | None
    moe: float | None = None
    placeholder: str = ""


def _text_units(text: str, pt: float, axes_w_in: float) -> float:
    """Estimate the width of `text` in data units of a 0–100 axes `axes_w_in` wide."""
    return len(text) * 0.6 * pt / 72 / axes_w_in * 100


def draw_bar_rows(
    fig: Figure,
    rows: Sequence[BarRow],
    *,
    top_in: float,
    label_w_in: float,
    row_in: float,
    language: str,
) -> Axes:
    """Draw `rows` top to bottom in an axes below `top_in`; labels in a left column."""
    axes_w = WIDTH_IN - label_w_in - RIGHT_IN
    ax = add_axes_in(fig, left=label_w_in, top=top_in, width=axes_w, height=row_in * len(rows))
    style_value_axis(ax)
    ax.set_xlim(0, 100)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_yticks(range(len(rows)), [r.label for r in rows])
    ax.tick_params(axis="y", labelsize=BODY_PT, colors=INK, pad=10)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    for y, row in enumerate(rows):
        if row.value is None:
            ax.barh(y, 100, height=0.62, color=PLACEHOLDER, lw=0)
            ax.text(
                50,
                y,
                row.placeholder,
                fontsize=BODY_PT,
                color=MUTED,
                style="italic",
                ha="center",
                va="center",
            )
            continue
        ax.barh(y, row.value, height=0.62, color=ACCENT, lw=0)
        end = row.value
        text = format_score(row.value, language)
        if row.moe is not None:
            ax.errorbar(
                row.value,
                y,
                xerr=row.moe,
                fmt="none",
                ecolor=INK,
                elinewidth=2,
                capsize=7,
                capthick=2,
            )
            end = min(100.0, row.value + row.moe)
            text += f"  ±{format_score(row.moe, language)}"
        width = _text_units(text, BODY_PT, axes_w)
        if end + 1.5 + width <= 100:
            ax.text(end + 1.5, y, text, fontsize=BODY_PT, color=INK, fontweight="bold", va="center")
        else:
            # No room right of the bar: write inside it, left of the whisker.
            inside = row.value - (row.moe or 0) - 1.5
            ax.text(
                inside,
                y,
                text,
                fontsize=BODY_PT,
                color="white",
                fontweight="bold",
                ha="right",
                va="center",
            )
    ax.tick_params(axis="x", labelsize=SMALL_PT)
    return ax
