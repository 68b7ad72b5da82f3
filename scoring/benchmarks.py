"""Published SPI benchmarks (DESIGN.md §2) as data, and the comparison of an index with them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from surveys.model import Text

__all__ = [
    "LEVEL_AVERAGES",
    "LEVEL_LABELS",
    "NATIONAL_INDEX",
    "RPJMN_TARGETS",
    "BenchmarkComparison",
    "compare_with_benchmarks",
]

NATIONAL_INDEX: Final[Mapping[int, float]] = MappingProxyType(
    {2021: 72.43, 2022: 71.94, 2023: 70.97, 2024: 71.53, 2025: 72.32}
)
LEVEL_AVERAGES: Final[Mapping[str, Mapping[int, float]]] = MappingProxyType(
    {
        "kabupaten": MappingProxyType({2021: 70.9, 2022: 70.6, 2023: 69.7, 2024: 69.99}),
        "provinsi": MappingProxyType({2021: 69.3, 2022: 69.2, 2023: 69.9, 2024: 67.52}),
        "kementerian": MappingProxyType({2021: 80.0, 2022: 77.8, 2023: 73.5, 2024: 79.02}),
        "lembaga": MappingProxyType({2021: 81.8, 2022: 79.5, 2023: 76.4, 2024: 79.70}),
        "kota": MappingProxyType({2024: 71.91}),
    }
)
RPJMN_TARGETS: Final[Mapping[int, float]] = MappingProxyType({2021: 70.0, 2022: 72.0, 2023: 74.0})

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
    index: float | None, *, level: str, year: int | None
) -> tuple[BenchmarkComparison, ...]:
    """Compare `index` with the national index, the level average and the RPJMN target.

    A benchmark with no figure for `year` is left out; `year=None` takes each series' latest.
    """
    candidates: list[tuple[str, Text, Mapping[int, float]]] = [
        ("national", _NATIONAL_LABEL, NATIONAL_INDEX)
    ]
    if level in LEVEL_AVERAGES:
        candidates.append((f"level:{level}", LEVEL_LABELS[level], LEVEL_AVERAGES[level]))
    candidates.append(("rpjmn_target", _TARGET_LABEL, RPJMN_TARGETS))
    out: list[BenchmarkComparison] = []
    for key, label, series in candidates:
        picked = _pick(series, year)
        if picked is None:
            continue
        y, value = picked
        delta = None if index is None else index - value
        out.append(BenchmarkComparison(key, label, y, value, delta))
    return tuple(out)
