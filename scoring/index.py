"""The SPI composite index, its margin of error, categories and the sample a result needs.

Plain functions on floats, so the formulas can be checked by hand (docs/scoring.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from scoring.config import (
    GROUP_ORDER,
    CategoryThresholds,
    GroupWeights,
    SamplingConfig,
    check_correction,
)
from surveys.model import Group, Text

__all__ = [
    "CATEGORIES",
    "SANGAT_RENTAN",
    "TERJAGA",
    "WASPADA",
    "Category",
    "categories_of",
    "categorize",
    "composite_index",
    "composite_moe",
    "margin_of_error",
    "needed_sample",
    "resolve_weights",
]


def resolve_weights(weights: GroupWeights | Mapping[str, float] | None) -> GroupWeights:
    """Return `weights` as GroupWeights (SPI defaults when None)."""
    if weights is None:
        return GroupWeights()
    if isinstance(weights, GroupWeights):
        return weights
    return GroupWeights.from_mapping(weights)


def _check_score(name: str, value: float) -> None:
    if not math.isfinite(value) or not 0.0 <= value <= 100.0:
        raise ValueError(f"{name} score must be within 0-100, got {value!r}")


def composite_index(
    internal: float,
    external: float,
    expert: float,
    *,
    correction_integrity: float = 0.0,
    correction_prevalence: float = 0.0,
    weights: GroupWeights | Mapping[str, float] | None = None,
) -> float:
    """Return w_i·internal + w_e·external + w_x·expert − corrections, unrounded.

    Corrections are deductions of 0-20 points (`check_correction`; ValueError otherwise).
    """
    for name, value in (("internal", internal), ("external", external), ("expert", expert)):
        _check_score(name, value)
    check_correction("integrity", correction_integrity)
    check_correction("prevalence", correction_prevalence)
    w = resolve_weights(weights)
    weighted = w.internal * internal + w.external * external + w.expert * expert
    return weighted - correction_integrity - correction_prevalence


def composite_moe(
    moes: Mapping[Group, float | None], weights: GroupWeights | None = None
) -> float | None:
    """Return the composite's margin of error, sqrt(Σ (w_g·moe_g)²), treating groups as independent.

    None when any group's margin is unknown. Corrections are fixed numbers: no error of their own.
    """
    w = weights or GroupWeights()
    total = 0.0
    for group in GROUP_ORDER:
        moe = moes.get(group)
        if moe is None:
            return None
        total += (w.of(group) * moe) ** 2
    return math.sqrt(total)


def margin_of_error(
    sd: float, n: int, population: int | None = None, *, z: float = 1.96
) -> float | None:
    """Return z·sd/√n, times the finite-population factor √((N−n)/(N−1)) when N is known.

    None for n < 2 (no spread can be estimated). With the whole roster answering (n = N) the
    margin is 0. More responses than the roster (n > N) means the roster is stale: the
    correction is then dropped rather than claiming a census.
    """
    if n < 2 or not math.isfinite(sd):
        return None
    moe = z * sd / math.sqrt(n)
    if population is not None and population > 1 and n <= population:
        moe *= math.sqrt((population - n) / (population - 1))
    return moe


def needed_sample(
    sd: float | None,
    population: int | None = None,
    *,
    sampling: SamplingConfig | None = None,
    minimum: int = 0,
) -> int:
    """Return the valid responses needed for a ±target margin (95%).

    n0 = (z·σ/target)²; with a known population N, n = n0 / (1 + (n0 − 1)/N). σ is the observed
    spread when given, else `sampling.prior_sd`. The result is rounded up, raised to `minimum`,
    and finally capped at N (nobody can survey more people than exist).
    """
    s = sampling or SamplingConfig()
    sigma = s.prior_sd if sd is None or not math.isfinite(sd) else sd
    n0 = (s.z * sigma / s.target_moe) ** 2
    n = n0 / (1 + (n0 - 1) / population) if population else n0
    # Round half-away noise first so 30.0000000001 does not become 31.
    needed = max(math.ceil(round(n, 9)), minimum)
    if population is not None:
        needed = min(needed, population)
    return needed


@dataclass(frozen=True, slots=True)
class Category:
    """An SPI category with its traffic-light colour and labels."""

    key: str
    colour: str
    label: Text


SANGAT_RENTAN: Final = Category(
    "sangat_rentan", "dark_red", Text(id="Sangat Rentan", en="Highly vulnerable")
)
RENTAN: Final = Category("rentan", "red", Text(id="Rentan", en="Vulnerable"))
WASPADA: Final = Category("waspada", "yellow", Text(id="Waspada", en="Alert"))
TERJAGA: Final = Category("terjaga", "green", Text(id="Terjaga", en="Maintained"))
# The three current categories, lowest first (charts draw these bands).
CATEGORIES: Final = (RENTAN, WASPADA, TERJAGA)


def categories_of(thresholds: CategoryThresholds | None = None) -> tuple[Category, ...]:
    """Return the categories `thresholds` make, lowest first (four when Sangat Rentan is on)."""
    t = thresholds or CategoryThresholds()
    return CATEGORIES if t.sangat_rentan_below is None else (SANGAT_RENTAN, *CATEGORIES)


def categorize(index: float, thresholds: CategoryThresholds | None = None) -> Category:
    """Return the category of an index.

    The index is compared at display precision (2 decimals), so a shown 78.00 is never Waspada.
    """
    t = thresholds or CategoryThresholds()
    shown = round(index, 2)
    if shown >= t.terjaga_from:
        return TERJAGA
    if shown >= t.waspada_from:
        return WASPADA
    if t.sangat_rentan_below is not None and shown < t.sangat_rentan_below:
        return SANGAT_RENTAN
    return RENTAN
