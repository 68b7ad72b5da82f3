"""Published SPI benchmarks and the comparison of an index with them.

The national index and the level averages are derived from the shipped published results
(`scoring.published`), read on first use; only the RPJMN targets are typed in (DESIGN.md §2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Final, TypeVar

from surveys.model import Text

K = TypeVar("K")
V = TypeVar("V")

__all__ = [
    "LEVEL_AVERAGES",
    "LEVEL_LABELS",
    "NATIONAL_INDEX",
    "RPJMN_TARGETS",
    "BenchmarkComparison",
    "compare_with_benchmarks",
]


class _Derived(Mapping[K, V]):
    """A read-only mapping computed from the published results on first access."""

    def __init__(self, compute: Callable[[], Mapping[K, V]]) -> None:
        self._compute = compute

    @cached_property
    def _data(self) -> Mapping[K, V]:
        return self._compute()

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self._data)!r})"


def _national_index() -> Mapping[int, float]:
    from scoring.published import national_index  # pandas: loaded on first use, not at start

    return national_index()


def _level_averages() -> Mapping[str, Mapping[int, float]]:
    from scoring.published import level_averages

    return level_averages()


NATIONAL_INDEX: Final[Mapping[int, float]] = _Derived(_national_index)
LEVEL_AVERAGES: Final[Mapping[str, Mapping[int, float]]] = _Derived(_level_averages)
# RPJMN 2020-2024: 70 in 2021, two points more each year (DESIGN.md §2 for 2021-2023; KPK's
# Johanis Tanak, 26 Jan 2024, states the rule, which gives 76 for 2024). No target of the
# RPJMN 2025-2029 for the SPI is sourced here: a later wave is compared with 2024's, and
# says so (docs/scoring.md §2).
RPJMN_TARGETS: Final[Mapping[int, float]] = MappingProxyType(
    {2021: 70.0, 2022: 72.0, 2023: 74.0, 2024: 76.0}
)

LEVEL_LABELS: Final[Mapping[str, Text]] = MappingProxyType(
    {
        "kabupaten": Text(id="Rata-rata kabupaten", en="Regency average"),
        "kota": Text(id="Rata-rata kota", en="City average"),
        "provinsi": Text(id="Rata-rata provinsi", en="Province average"),
        "kementerian": Text(id="Rata-rata kementerian", en="Ministry average"),
        "lembaga": Text(id="Rata-rata lembaga", en="Agency average"),
    }
)
_NATIONAL_LABEL: Final = Text(id="Indeks nasional", en="National index")
_TARGET_LABEL: Final = Text(id="Target RPJMN", en="RPJMN target")


@dataclass(frozen=True, slots=True)
class BenchmarkComparison:
    """One benchmark, the year it is from, and index − benchmark (None without an index)."""

    key: str  # "national", "level:<level>" or "rpjmn_target"
    label: Text
    year: int
    value: float
    delta: float | None


def _pick(series: Mapping[int, float], year: int | None) -> tuple[int, float] | None:
    """Return (year, value) for `year`, or the latest year when `year` is None."""
    if not series:
        return None
    if year is None:
        latest = max(series)
        return latest, series[latest]
    return (year, series[year]) if year in series else None


def compare_with_benchmarks(
    index: float | None, *, level: str, year: int | None, target_year: int | None = None
) -> tuple[BenchmarkComparison, ...]:
    """Compare `index` with the national index, the level average and the RPJMN target.

    A benchmark with no figure for `year` is left out; `year=None` takes each series' latest.
    The RPJMN target is a goal for a year: with `year=None` it is the wave's year's target
    (`target_year`) when one is sourced, else the latest there is (its year says which).
    """
    candidates: list[tuple[str, Text, Mapping[int, float]]] = [
        ("national", _NATIONAL_LABEL, NATIONAL_INDEX)
    ]
    if level in LEVEL_AVERAGES:
        candidates.append((f"level:{level}", LEVEL_LABELS[level], LEVEL_AVERAGES[level]))
    candidates.append(("rpjmn_target", _TARGET_LABEL, RPJMN_TARGETS))
    out: list[BenchmarkComparison] = []
    for key, label, series in candidates:
        wanted = year
        if key == "rpjmn_target" and year is None and target_year in series:
            wanted = target_year
        picked = _pick(series, wanted)
        if picked is None:
            continue
        y, value = picked
        delta = None if index is None else index - value
        out.append(BenchmarkComparison(key, label, y, value, delta))
    return tuple(out)
