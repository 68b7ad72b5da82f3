"""Progress chart: valid responses against the needed sample, per unit and respondent group.

Three small panels (one per group) share the unit rows, each bar the share of the target
reached, with the 100% line drawn. The units furthest from their targets come first (after
the institution), and long names wrap onto more lines rather than being cut. Only counts
appear: they are shown even for suppressed cells (docs/scoring.md §5 keeps `n`, `needed` and
`remaining` for /progres), but no score is ever read here.
"""

from __future__ import annotations

import textwrap

from matplotlib.figure import Figure

from scoring.charts.labels import format_count, group_label, label
from scoring.charts.style import (
    ACCENT,
    ACCENT_LIGHT,
    BODY_PT,
    FAINT,
    GRID,
    HEADER_IN,
    INK,
    MUTED,
    SMALL_PT,
    WIDTH_IN,
    add_axes_in,
    draw_header,
    new_figure,
    to_png,
    wrap,
    y_from_top,
)
from scoring.config import GROUP_ORDER
from scoring.report import GroupResult, Report, ScopeResult

__all__ = ["progress_chart"]

ROW_IN = 0.36
LINE_IN = 0.2  # each further line of a wrapped name
NAME_W_IN = 2.55
RIGHT_IN = 0.25
GAP_IN = 0.12
NAME_CHARS = 20  # about 0.105 in per character at BODY_PT
TOP_IN = HEADER_IN + 1.05  # header, two key lines, panel titles
X_MAX = 1.12  # a little room past 100% so the target line and overshoot are visible


def _cell_text(cell: GroupResult, language: str) -> str:
    if cell.needed == 0:
        return "—"
    done = " ✓" if cell.submitted >= cell.needed else ""
    return f"{format_count(cell.submitted, language)}/{format_count(cell.needed, language)}{done}"


def _reached(scope: ScopeResult) -> tuple[int, float, str]:
    """Sort key: units with targets first, the smallest share of their targets reached first."""
    needed = sum(c.needed for c in scope.groups)
    if needed == 0:
        return (1, 0.0, scope.name)
    done = sum(min(c.submitted, c.needed) for c in scope.groups)
    return (0, done / needed, scope.name)


def _name_lines(name: str) -> str:
    """Wrap a unit name to the name column; every word is kept (the row grows)."""
    return "\n".join(textwrap.wrap(" ".join(name.split()), NAME_CHARS) or [""])


def _progress_figure(report: Report, language: str = "id") -> Figure:
    """Build the progress figure (exposed for tests that inspect its text).

    The institution comes first, then the units furthest from their targets (the smallest
    share reached): the ones to chase at the top. Names wrap instead of being cut.
    """
    scopes: list[ScopeResult] = [report.institution, *sorted(report.units, key=_reached)]
    names = [
        label("institution_total", language) if s.code is None else _name_lines(s.name)
        for s in scopes
    ]
    heights = [ROW_IN + LINE_IN * name.count("\n") for name in names]
    tops = [sum(heights[:i]) for i in range(len(heights))]
    middles = [top + h / 2 for top, h in zip(tops, heights, strict=True)]
    rows_in = sum(heights)
    height = TOP_IN + rows_in + 0.5
    fig = new_figure(height)
    draw_header(fig, label("progress_title", language), report, language)
    fig.text(
        0.3 / WIDTH_IN,
        y_from_top(fig, HEADER_IN + 0.02),
        f"{label('progress_key', language)}\n{label('progress_order', language)}",
        fontsize=SMALL_PT,
        color=MUTED,
        va="top",
    )

    name_x = 0.3 / WIDTH_IN
    for scope, name, middle in zip(scopes, names, middles, strict=True):
        fig.text(
            name_x,
            y_from_top(fig, TOP_IN + middle),
            name,
            fontsize=BODY_PT,
            fontweight="bold" if scope.code is None else "normal",
            color=INK,
            va="center",
            linespacing=1.15,
            parse_math=False,
        )

    panel_w = (WIDTH_IN - NAME_W_IN - RIGHT_IN - 2 * GAP_IN) / len(GROUP_ORDER)
    zebra = [i for i in range(len(scopes)) if i % 2 == 1]
    for gi, group in enumerate(GROUP_ORDER):
        left = NAME_W_IN + gi * (panel_w + GAP_IN)
        ax = add_axes_in(fig, left=left, top=TOP_IN, width=panel_w, height=rows_in)
        ax.set_axis_off()
        # Axes text rather than set_title: titles trigger a costly tight-bbox pass per axes.
        ax.text(
            0.0,
            1.0 + 0.1 / rows_in,
            wrap(group_label(group, language), 12),
            fontsize=SMALL_PT,
            fontweight="bold",
            color=INK,
            va="bottom",
            transform=ax.transAxes,
        )
        ax.axvline(1.0, color=MUTED, lw=1.2, ls=(0, (3, 2)), zorder=3)
        # One barh call per layer: per-row calls cost ~1 ms each on a 40-unit wave.
        ax.barh(
            [middles[i] for i in zebra],
            [X_MAX] * len(zebra),
            height=[heights[i] for i in zebra],
            color=GRID,
            alpha=0.35,
            lw=0,
            zorder=0,
        )
        cells = [scope.group(group) for scope in scopes]
        targeted = [(i, c) for i, c in enumerate(cells) if c.needed > 0]
        ax.barh(
            [middles[i] for i, _ in targeted],
            [min(c.submitted / c.needed, X_MAX) for _, c in targeted],
            height=ROW_IN * 0.7,
            color=[ACCENT if c.submitted >= c.needed else ACCENT_LIGHT for _, c in targeted],
            lw=0,
            zorder=2,
        )
        for middle, cell in zip(middles, cells, strict=True):
            reached = cell.needed > 0 and cell.submitted >= cell.needed
            ax.text(
                0.04,
                middle,
                _cell_text(cell, language),
                fontsize=SMALL_PT,
                color="white" if reached else (FAINT if cell.needed == 0 else INK),
                fontweight="bold",
                va="center",
                zorder=4,
            )
        ax.set_xlim(0, X_MAX)
        ax.set_ylim(rows_in, 0)
    if any(s.group(g).needed == 0 for s in scopes for g in GROUP_ORDER):
        fig.text(
            name_x,
            y_from_top(fig, height - 0.15),
            f"— = {label('not_applicable', language)}",
            fontsize=SMALL_PT,
            color=MUTED,
            va="bottom",
        )
    return fig


def progress_chart(report: Report, language: str = "id") -> bytes:
    """Render responses against targets per unit and group as PNG."""
    return to_png(_progress_figure(report, language))
