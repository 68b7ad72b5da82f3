"""KPK's published SPI results 2021–2025 (shipped with the package) and the figures derived
from them: the national index and the average of each level per year.

The file is `scoring/data/spi-published.csv` (from the public `Daffaariftama/spi-kpk`
dataset; docs/scoring.md §2 describes its columns). It is read once per process, lazily.
Its `NASIONAL` row of each year is KPK's national index, not an institution: it feeds
`national_index` and is left out of everything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final

import pandas as pd

__all__ = [
    "LEVELS",
    "PUBLISHED_COLUMNS",
    "REPRODUCED_WITHIN",
    "formula_gap",
    "institutions",
    "level_averages",
    "load_published",
    "national_index",
    "normalize_name",
    "read_published",
]

PUBLISHED_COLUMNS: Final = (
    "year",
    "institution_id",
    "name",
    "level",
    "province_code",
    "index",
    "internal",
    "external",
    "expert",
    "correction_integrity",
    "correction_prevalence",
)
LEVELS: Final = ("kabupaten", "kota", "provinsi", "kementerian", "lembaga")
NATIONAL_NAME: Final = "NASIONAL"
_NUMBERS: Final = (
    "index",
    "internal",
    "external",
    "expert",
    "correction_integrity",
    "correction_prevalence",
)
_NOT_ALNUM: Final = re.compile(r"[^0-9A-Z]+")
# Short forms people type, and what the published names spell out.
_PREFIXES: Final = (
    ("PEMKAB ", "PEMERINTAH KABUPATEN "),
    ("PEMKOT ", "PEMERINTAH KOTA "),
    ("PEMPROV ", "PEMERINTAH PROVINSI "),
    ("KAB ", "PEMERINTAH KABUPATEN "),
    ("KABUPATEN ", "PEMERINTAH KABUPATEN "),
    ("KOTA ", "PEMERINTAH KOTA "),
    ("PROV ", "PEMERINTAH PROVINSI "),
    ("PROVINSI ", "PEMERINTAH PROVINSI "),
)


def read_published(source: Path | str) -> pd.DataFrame:
    """Read a published-results CSV, checking its columns, levels and numbers (ValueError)."""
    frame = pd.read_csv(
        source,
        dtype={"institution_id": "string", "name": "string", "level": "string"},
        converters={"province_code": lambda v: v.strip() or None},
    )
    missing = [c for c in PUBLISHED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{source}: missing columns {missing}")
    frame = frame.loc[:, list(PUBLISHED_COLUMNS)]
    unknown = sorted(set(frame["level"].dropna()) - set(LEVELS))
    if unknown or frame["level"].isna().any():
        raise ValueError(f"{source}: unknown levels {unknown or ['(empty)']}")
    for column in _NUMBERS:
        frame[column] = pd.to_numeric(frame[column], errors="raise").astype("float64")
    if frame["index"].isna().any() or not frame["index"].between(0, 100).all():
        raise ValueError(f"{source}: every row needs an index within 0-100")
    frame["year"] = frame["year"].astype("int64")
    frame["key"] = frame["name"].map(normalize_name)
    return frame


@lru_cache(maxsize=1)
def _shipped() -> pd.DataFrame:
    with resources.as_file(resources.files("scoring.data") / "spi-published.csv") as path:
        return read_published(path)


def load_published() -> pd.DataFrame:
    """Return the shipped published results (a copy: callers may change it freely)."""
    return _shipped().copy()


def _frame(frame: pd.DataFrame | None) -> pd.DataFrame:
    return _shipped() if frame is None else frame


def institutions(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the rows that are institutions (without the national row of each year)."""
    f = _frame(frame)
    return f[f["key"] != NATIONAL_NAME]


def national_index(frame: pd.DataFrame | None = None) -> Mapping[int, float]:
    """Return KPK's national index per year (the file's `NASIONAL` rows)."""
    f = _frame(frame)
    rows = f[f["key"] == NATIONAL_NAME]
    return MappingProxyType(
        {int(y): float(v) for y, v in zip(rows["year"], rows["index"], strict=True)}
    )


# A published index counts as reproduced by the published formula within this many points.
REPRODUCED_WITHIN: Final = 0.02


def formula_gap(frame: pd.DataFrame | None = None) -> pd.Series:
    """Return per row the published index minus the published formula: each year's weights
    (scoring.config.RULES_BY_YEAR) times the group scores, minus both published corrections.

    Within ±REPRODUCED_WITHIN the row is reproduced. In 2022, 180 of 626 rows are not: the
    national row and 179 local governments, whose index lies a median 3.12 points below the
    formula; the reason is not published (docs/scoring.md §2), so no rule is invented for it.
    """
    from scoring.config import rules_for_year

    f = _frame(frame)
    out = pd.Series(float("nan"), index=f.index, dtype=float)
    for year, rows in f.groupby("year"):
        w = rules_for_year(int(str(year))).weights
        made = w.internal * rows["internal"] + w.external * rows["external"]
        made += w.expert * rows["expert"]
        made -= rows["correction_integrity"] + rows["correction_prevalence"]
        out.loc[rows.index] = rows["index"] - made
    return out


def level_averages(frame: pd.DataFrame | None = None) -> Mapping[str, Mapping[int, float]]:
    """Return the mean index of each level per year, over the institutions of that level.

    Unrounded. Levels come from the names (docs/scoring.md §2), so ministries and agencies
    may differ slightly from KPK's own averages; regional levels match to ±0.1.
    """
    means = institutions(frame).groupby(["level", "year"])["index"].mean()
    out: dict[str, Mapping[int, float]] = {}
    for level in LEVELS:
        if level in means.index.get_level_values(0):
            series = means.loc[level]
            out[level] = MappingProxyType({int(y): float(v) for y, v in series.items()})
    return MappingProxyType(out)


def normalize_name(name: str) -> str:
    """Return the matching key of an institution name: "Kab. Mojokerto" and
    "PEMERINTAH KABUPATEN MOJOKERTO" both give "PEMERINTAH KABUPATEN MOJOKERTO"."""
    key = _NOT_ALNUM.sub(" ", name.upper()).strip()
    if not key.startswith("PEMERINTAH "):
        for short, full in _PREFIXES:
            if key.startswith(short):
                return full + key[len(short) :]
    return key
