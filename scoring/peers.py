"""Where an institution stands among the published SPI results: its KPK result per year, its
percentile among the institutions of its level, and its nearest peers.

Percentile: the share (0–100) of the institutions of the same level that year (ourselves
included in the count) with a lower index. Nearest peers: the same level and the same
province, closest index first; institutions without a province (ministries, agencies) and
provinces themselves are compared with their whole level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from scoring.config import YearRules, rules_for_year
from scoring.index import Category, categorize
from scoring.published import (
    LEVELS,
    institutions,
    level_averages,
    national_index,
    normalize_name,
)

__all__ = [
    "PublishedResult",
    "YearStanding",
    "find_institution",
    "nearest_peers",
    "percentile",
    "standings",
]


@dataclass(frozen=True, slots=True)
class PublishedResult:
    """One institution's published result in one year, with that year's category."""

    year: int
    name: str
    level: str
    province_code: str | None
    index: float
    internal: float | None
    external: float | None
    expert: float | None
    correction_integrity: float | None
    correction_prevalence: float | None
    category: Category


@dataclass(frozen=True, slots=True)
class YearStanding:
    """Our published result in one year and where it stands among our level."""

    result: PublishedResult
    percentile: float  # 0-100: share of our level that year with a lower index
    rank: int  # 1 = the highest index of our level that year
    of: int  # institutions of our level that year
    level_average: float | None
    national: float | None
    peers: tuple[PublishedResult, ...]  # nearest first; never ourselves

    @property
    def year(self) -> int:
        """Return the year of this standing."""
        return self.result.year


def _number(value: object) -> float | None:
    """Return a finite float, or None for an empty cell (NaN, NA, None)."""
    if not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _result(row: pd.Series, rules: Mapping[int, YearRules] | None = None) -> PublishedResult:
    year = int(row["year"])
    index = float(row["index"])
    province = row["province_code"]
    return PublishedResult(
        year=year,
        name=str(row["name"]),
        level=str(row["level"]),
        province_code=None if province is None or pd.isna(province) else str(province),
        index=index,
        internal=_number(row["internal"]),
        external=_number(row["external"]),
        expert=_number(row["expert"]),
        correction_integrity=_number(row["correction_integrity"]),
        correction_prevalence=_number(row["correction_prevalence"]),
        category=categorize(index, rules_for_year(year, rules).thresholds),
    )


def find_institution(
    name: str,
    *,
    level: str | None = None,
    frame: pd.DataFrame | None = None,
    rules: Mapping[int, YearRules] | None = None,
) -> tuple[PublishedResult, ...]:
    """Return the published results of the institution called `name`, oldest year first.

    Names are matched after `normalize_name` (case, punctuation, "Kab."/"Kota" short forms);
    `level` narrows the match when a name is ambiguous. Empty when nothing matches. Each
    result's category follows its year's thresholds in `rules` (default: the built-in table).
    """
    rows = institutions(frame)
    rows = rows[rows["key"] == normalize_name(name)]
    if level is not None:
        rows = rows[rows["level"] == level]
    return tuple(_result(row, rules) for _, row in rows.sort_values("year").iterrows())


def _level_rows(level: str, year: int, frame: pd.DataFrame | None) -> pd.DataFrame:
    rows = institutions(frame)
    return rows[(rows["level"] == level) & (rows["year"] == year)]


def percentile(
    index: float, *, level: str, year: int, frame: pd.DataFrame | None = None
) -> float | None:
    """Return the share (0–100) of `level`'s institutions in `year` with an index below `index`.

    None when the file has no institution of that level in that year.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; one of {', '.join(LEVELS)}")
    values = _level_rows(level, year, frame)["index"]
    if values.empty:
        return None
    return float((values < index).mean() * 100.0)


def nearest_peers(
    result: PublishedResult,
    *,
    count: int = 5,
    frame: pd.DataFrame | None = None,
    rules: Mapping[int, YearRules] | None = None,
) -> tuple[PublishedResult, ...]:
    """Return up to `count` institutions of `result`'s level, year and province, nearest
    index first (ties: higher index first, then name); never `result` itself."""
    if count < 1:
        return ()
    rows = _level_rows(result.level, result.year, frame)
    if result.province_code is not None and result.level != "provinsi":
        rows = rows[rows["province_code"] == result.province_code]
    rows = rows[rows["key"] != normalize_name(result.name)]
    order = rows.assign(
        distance=(rows["index"] - result.index).abs(), minus_index=-rows["index"]
    ).sort_values(["distance", "minus_index", "key"])
    return tuple(_result(row, rules) for _, row in order.head(count).iterrows())


def _standing(
    result: PublishedResult,
    peers: int,
    frame: pd.DataFrame | None,
    rules: Mapping[int, YearRules] | None,
) -> YearStanding:
    same = _level_rows(result.level, result.year, frame)["index"]
    share = percentile(result.index, level=result.level, year=result.year, frame=frame)
    averages = level_averages(frame).get(result.level, {})
    return YearStanding(
        result=result,
        percentile=share if share is not None else 0.0,
        rank=int((same > result.index).sum()) + 1,
        of=len(same),
        level_average=averages.get(result.year),
        national=national_index(frame).get(result.year),
        peers=nearest_peers(result, count=peers, frame=frame, rules=rules),
    )


def standings(
    name: str,
    *,
    level: str | None = None,
    years: Sequence[int] | None = None,
    peers: int = 5,
    frame: pd.DataFrame | None = None,
    rules: Mapping[int, YearRules] | None = None,
) -> tuple[YearStanding, ...]:
    """Return the institution's standing in each published year (or only in `years`)."""
    found = find_institution(name, level=level, frame=frame, rules=rules)
    if years is not None:
        found = tuple(r for r in found if r.year in set(years))
    return tuple(_standing(r, peers, frame, rules) for r in found)
