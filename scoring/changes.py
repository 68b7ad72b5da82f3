"""How each unit's dimensions moved from one closed wave to the next (for the final report,
beside the follow-up actions done in between).

Both sides come from `Report`s, so a dimension hidden on either side (a suppressed cell, a
dimension answered by fewer than k) has no number and no change: nothing here can show what
suppression hid.
"""

from __future__ import annotations

from dataclasses import dataclass

from scoring.report import Report, ScopeResult
from surveys.model import Dimension

__all__ = ["DimensionChange", "unit_dimension_changes"]


@dataclass(frozen=True, slots=True)
class DimensionChange:
    """One dimension of one unit in the previous wave and in this one (None: not shown)."""

    dimension: Dimension
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        """Return after − before, or None when either is not shown."""
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


def _scores(scope: ScopeResult | None) -> dict[Dimension, float | None]:
    if scope is None:
        return {}
    return {d.dimension: d.score for d in scope.dimensions}


def _unit(report: Report | None, code: str) -> ScopeResult | None:
    if report is None:
        return None
    return next((u for u in report.units if u.code == code), None)


def unit_dimension_changes(
    current: Report, previous: Report | None, unit_code: str
) -> dict[Dimension, DimensionChange]:
    """Return every dimension of `unit_code` before (in `previous`) and after (`current`).

    A unit missing from a report (new, or renamed) has no numbers on that side.
    """
    before, after = _scores(_unit(previous, unit_code)), _scores(_unit(current, unit_code))
    return {d: DimensionChange(d, before.get(d), after.get(d)) for d in Dimension}
