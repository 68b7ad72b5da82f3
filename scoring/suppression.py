"""Small-cell suppression: the one place where results too small to publish are blanked.

`build_report` computes every cell, passes them all through `suppress_small_cells`, and
derives indices, combined dimensions and comparisons only from what comes out, so no later
step can put a suppressed number back.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from scoring.config import GROUP_ORDER
from scoring.report import DimensionScore, GroupResult

__all__ = ["suppress_small_cells"]

# Cells keyed by unit code; None is the institution.
Cells = Mapping[str | None, tuple[GroupResult, ...]]


def _blank(cell: GroupResult) -> GroupResult:
    """Return `cell` with every number derived from answers removed (counts stay)."""
    return dataclasses.replace(
        cell,
        score=None,
        moe=None,
        suppressed=True,
        dimensions=tuple(DimensionScore(d.dimension, None, d.n) for d in cell.dimensions),
    )


def _hide_thin_dimensions(cell: GroupResult, k: int) -> GroupResult:
    """Blank dimension scores resting on fewer than k respondents inside a shown cell."""
    dims = tuple(d if d.n >= k else DimensionScore(d.dimension, None, d.n) for d in cell.dimensions)
    return dataclasses.replace(cell, dimensions=dims)


def suppress_small_cells(cells: Cells, k: int) -> dict[str | None, tuple[GroupResult, ...]]:
    """Suppress every cell with 0 < n < k valid responses, and protect it from differencing.

    Rules, per group:
    1. a unit or institution cell with 0 < n < k is blanked (`suppressed=True`);
    2. the institution total equals the sum of its units, so if the suppressed unit cells
       together hold fewer than k responses, their pooled score could be recovered as
       institution − shown units; the smallest shown unit cells are then blanked too,
       until the blanked cells hold at least k responses;
    3. inside a shown cell, a dimension answered by fewer than k respondents is blanked.
    Cells with n == 0 have no numbers to hide and are not marked suppressed.
    """
    out: dict[str | None, list[GroupResult]] = {code: list(row) for code, row in cells.items()}
    for gi, _group in enumerate(GROUP_ORDER):
        hidden = 0
        for code, row in out.items():
            if 0 < row[gi].n < k:
                row[gi] = _blank(row[gi])
                if code is not None:
                    hidden += row[gi].n
        institution = out.get(None)
        if institution is not None and not institution[gi].suppressed:
            shown = sorted(
                (row[gi].n, str(code))
                for code, row in out.items()
                if code is not None and row[gi].n > 0 and not row[gi].suppressed
            )
            for n, code in shown:
                if not 0 < hidden < k:
                    break
                out[code][gi] = _blank(out[code][gi])
                hidden += n
        for row in out.values():
            if not row[gi].suppressed:
                row[gi] = _hide_thin_dimensions(row[gi], k)
    return {code: tuple(row) for code, row in out.items()}
