"""What-if on a computed `Report`: "if procurement rises by 5 points in the internal and
expert groups, the index becomes …", and the smallest lift per dimension that reaches Terjaga.

A lift of X points raises a dimension's score in a cell (one group of a scope) to
min(100, score + X). The cell's group score follows the scoring rule (the weighted mean of the
cell's dimension scores, docs/scoring.md §1) and the scope is recomposed by
`scoring.build.compose_scope`, the code that built the report: index, category, partial
index and combined dimensions come out exactly as `build_report` would give them.

Privacy: a report holds no suppressed number, and the what-if reads nothing else. A cell
that is suppressed, or in which the dimension is hidden (fewer than k respondents) or not
asked, is left as it is and named in `skipped_groups`; a scope without a shown index gives
no index after the lift either.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from scoring.config import GROUP_ORDER, ScoringConfig, UnitInfo
from scoring.index import TERJAGA, Category, categories_of, categorize
from scoring.report import DimensionScore, GroupResult, Report, ScopeResult
from surveys.model import Dimension, Group

__all__ = [
    "DimensionNeed",
    "Lift",
    "TargetPlan",
    "WhatIf",
    "next_band",
    "reach_category",
    "what_if",
]

MAX_LIFT: Final = 100.0
_STEPS: Final = 100  # lifts are searched in hundredths of a point: what the display shows


@dataclass(frozen=True, slots=True)
class Lift:
    """Raise `dimension` by `delta` points in `groups` of one scope (None: the institution)."""

    dimension: Dimension
    delta: float
    groups: tuple[Group, ...] = GROUP_ORDER
    unit: str | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.delta) or abs(self.delta) > MAX_LIFT:
            raise ValueError(f"delta must be between -100 and 100 points, got {self.delta!r}")
        if not self.groups:
            raise ValueError("a lift needs at least one group")
        # One order everywhere, duplicates dropped.
        object.__setattr__(self, "groups", tuple(g for g in GROUP_ORDER if g in self.groups))


@dataclass(frozen=True, slots=True)
class WhatIf:
    """A scope before and after a lift."""

    lift: Lift
    before: ScopeResult
    after: ScopeResult
    lifted_groups: tuple[Group, ...]  # cells where the dimension was shown and changed
    skipped_groups: tuple[Group, ...]  # suppressed cell, hidden or unasked dimension

    @property
    def index_change(self) -> float | None:
        """Return after − before, when both indices exist."""
        if self.before.index is None or self.after.index is None:
            return None
        return self.after.index - self.before.index

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (`spibot whatif --json`), rounded to 2 decimals."""

        def side(scope: ScopeResult) -> dict[str, Any]:
            return {
                "index": _round(scope.index),
                "partial_index": _round(scope.partial_index),
                "category": scope.category.key if scope.category else None,
                "groups": {g.group.value: _round(g.score) for g in scope.groups},
            }

        return {
            "unit": self.lift.unit,
            "name": self.before.name,
            "dimension": self.lift.dimension.value,
            "delta": _round(self.lift.delta),
            "groups": [g.value for g in self.lift.groups],
            "lifted_groups": [g.value for g in self.lifted_groups],
            "skipped_groups": [g.value for g in self.skipped_groups],
            "before": side(self.before),
            "after": side(self.after),
            "index_change": _round(self.index_change),
        }


@dataclass(frozen=True, slots=True)
class DimensionNeed:
    """The smallest lift of one dimension (in every group) that reaches the target."""

    dimension: Dimension
    score: float | None  # the scope's combined dimension score now
    lift: float | None  # points, in hundredths; None when even +100 does not reach it
    index_after: float | None  # the index with that lift


@dataclass(frozen=True, slots=True)
class TargetPlan:
    """What it takes for one scope to reach `target`, dimension by dimension."""

    unit: str | None
    name: str
    target: Category
    index: float | None  # None: the scope has no shown index, so no plan
    category: Category | None
    reached: bool  # already at or above the target: nothing to lift
    needs: tuple[DimensionNeed, ...]  # weakest dimension first

    @property
    def cheapest(self) -> DimensionNeed | None:
        """Return the dimension that reaches the target with the smallest lift (the weaker
        one on a tie); None when none reaches it alone."""
        reaching = [n for n in self.needs if n.lift is not None]
        return min(reaching, key=lambda n: n.lift or 0.0) if reaching else None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form, rounded to 2 decimals."""
        cheapest = self.cheapest
        return {
            "unit": self.unit,
            "name": self.name,
            "target": self.target.key,
            "index": _round(self.index),
            "category": self.category.key if self.category else None,
            "reached": self.reached,
            "cheapest": None
            if cheapest is None
            else {"dimension": cheapest.dimension.value, "lift": _round(cheapest.lift)},
            "needs": [
                {
                    "dimension": n.dimension.value,
                    "score": _round(n.score),
                    "lift": _round(n.lift),
                    "index_after": _round(n.index_after),
                }
                for n in self.needs
            ],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _scope_of(report: Report, unit: str | None) -> ScopeResult:
    if unit is None:
        return report.institution
    try:
        return report.unit(unit)
    except KeyError:
        raise ValueError(f"unknown unit code {unit!r}") from None


def _lift_cell(
    cell: GroupResult, dimension: Dimension, delta: float, config: ScoringConfig
) -> GroupResult | None:
    """Return `cell` with `dimension` lifted, or None when it cannot be lifted here.

    The group score is the weighted mean of the cell's dimension scores over the dimensions
    that have respondents (those with n > 0, shown or hidden), so changing one dimension by
    d changes it by w·d / Σw. Computing it this way, rather than again from the shown
    dimensions, keeps a hidden dimension's score out of every number.
    """
    if cell.suppressed or cell.score is None:
        return None
    target = next((d for d in cell.dimensions if d.dimension is dimension), None)
    if target is None or target.score is None:
        return None
    new = min(100.0, max(0.0, target.score + delta))
    total_w = sum(config.dimension_weight(d.dimension) for d in cell.dimensions if d.n > 0)
    if total_w <= 0:
        return None
    weight = config.dimension_weight(dimension)
    score = min(100.0, max(0.0, cell.score + weight * (new - target.score) / total_w))
    dims = tuple(
        DimensionScore(d.dimension, new, d.n) if d.dimension is dimension else d
        for d in cell.dimensions
    )
    return dataclasses.replace(cell, score=score, dimensions=dims)


def _recompose(
    scope: ScopeResult, cells: tuple[GroupResult, ...], config: ScoringConfig
) -> ScopeResult:
    info = UnitInfo(
        code=scope.code or "",
        name=scope.name,
        kind=scope.kind,
        parent_code=scope.parent_code,
        serves_public=scope.serves_public,
    )
    institution = scope.code is None
    from scoring.build import compose_scope  # pandas: loaded with the report, not at start

    after = compose_scope(info, cells, config, scope.corrections, institution=institution)
    # Benchmarks and the previous wave describe the real result, not the imagined one.
    return dataclasses.replace(after, benchmarks=(), previous=None)


def what_if(report: Report, lift: Lift) -> WhatIf:
    """Return the lift's scope before and after (ValueError for an unknown unit)."""
    scope = _scope_of(report, lift.unit)
    cells: list[GroupResult] = []
    lifted: list[Group] = []
    skipped: list[Group] = []
    for cell in scope.groups:
        if cell.group not in lift.groups:
            cells.append(cell)
            continue
        changed = _lift_cell(cell, lift.dimension, lift.delta, report.config)
        if changed is None:
            skipped.append(cell.group)
            cells.append(cell)
        else:
            lifted.append(cell.group)
            cells.append(changed)
    after = _recompose(scope, tuple(cells), report.config)
    return WhatIf(lift, scope, after, tuple(lifted), tuple(skipped))


def _reaches(report: Report, lift: Lift, target: Category) -> tuple[bool, float | None]:
    after = what_if(report, lift).after
    if after.index is None:
        return False, None
    got = categorize(after.index, report.config.thresholds)
    keys = [c.key for c in categories_of(report.config.thresholds)]
    return keys.index(got.key) >= keys.index(target.key), after.index


def _smallest_lift(
    report: Report, dimension: Dimension, unit: str | None, target: Category
) -> tuple[float | None, float | None]:
    """Binary-search the smallest lift in hundredths (the index rises with the lift)."""
    top = int(MAX_LIFT * _STEPS)
    ok, best = _reaches(report, Lift(dimension, MAX_LIFT, unit=unit), target)
    if not ok:
        return None, None
    lo, hi = 0, top
    while lo < hi:
        mid = (lo + hi) // 2
        ok, index = _reaches(report, Lift(dimension, mid / _STEPS, unit=unit), target)
        if ok:
            hi, best = mid, index
        else:
            lo = mid + 1
    return hi / _STEPS, best


def reach_category(
    report: Report, *, unit: str | None = None, target: Category = TERJAGA
) -> TargetPlan:
    """Return, per dimension, the smallest lift (in every group) that makes the scope's
    index reach `target`, weakest dimension first (dimensions with no shown score last)."""
    scope = _scope_of(report, unit)
    keys = [c.key for c in categories_of(report.config.thresholds)]
    if target.key not in keys:
        raise ValueError(f"category {target.key!r} is not one of {', '.join(keys)}")
    needs: list[DimensionNeed] = []
    reached = _at_least(scope.category, target, keys)
    if scope.index is not None and not reached:
        order: Sequence[DimensionScore] = sorted(
            scope.dimensions,
            key=lambda d: (d.score is None, d.score if d.score is not None else 0.0),
        )
        for dim in order:
            if dim.score is None:
                continue
            lift, index = _smallest_lift(report, dim.dimension, unit, target)
            needs.append(DimensionNeed(dim.dimension, dim.score, lift, index))
    return TargetPlan(unit, scope.name, target, scope.index, scope.category, reached, tuple(needs))


def next_band(report: Report, unit: str | None = None) -> Category | None:
    """Return the category just above the scope's (None without an index, or at the top)."""
    scope = _scope_of(report, unit)
    if scope.category is None:
        return None
    bands = categories_of(report.config.thresholds)
    keys = [c.key for c in bands]
    at = keys.index(scope.category.key)
    return bands[at + 1] if at + 1 < len(bands) else None


def _at_least(category: Category | None, target: Category, keys: list[str]) -> bool:
    return category is not None and keys.index(category.key) >= keys.index(target.key)
