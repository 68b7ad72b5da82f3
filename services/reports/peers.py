"""Our institution among KPK's published SPI results: per-year standing, percentile, peers.

Used by /tren (our KPK result per year beside our own waves) and `spibot peers`. The
published results ship with the package (`scoring.published`); the institution is found by
the stored institution name and level (else INSTITUTION_NAME and INSTITUTION_LEVEL).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import storage.units
from services.i18n import catalog
from services.numbers import format_number
from services.settings import Settings
from storage.db import AsyncEngine

if TYPE_CHECKING:  # scoring.peers reads the published results with pandas: loaded on use
    from scoring.peers import PublishedResult, YearStanding

__all__ = [
    "PEER_COUNT",
    "OurInstitution",
    "display_name",
    "load_standings",
    "our_institution",
    "peers_json",
    "peers_text",
]

PEER_COUNT: Final = 5
# Category colours as marks, always beside the category word.
_MARKS: Final[Mapping[str, str]] = {
    "sangat_rentan": "🟥",
    "rentan": "🔴",
    "waspada": "🟡",
    "terjaga": "🟢",
}
_SHORT: Final = (
    ("PEMERINTAH KABUPATEN ", "Kab. "),
    ("PEMERINTAH KOTA ", "Kota "),
    ("PEMERINTAH PROVINSI ", "Prov. "),
)


@dataclass(frozen=True, slots=True)
class OurInstitution:
    """The name and level we look ourselves up by."""

    name: str
    level: str


async def our_institution(engine: AsyncEngine, settings: Settings) -> OurInstitution:
    """Return the stored institution, or the settings' name and level."""
    stored = await storage.units.get_institution(engine)
    if stored is not None:
        return OurInstitution(stored.name, stored.level)
    return OurInstitution(settings.institution_name, settings.institution_level)


async def load_standings(
    engine: AsyncEngine,
    settings: Settings,
    *,
    year: int | None = None,
    peers: int = PEER_COUNT,
) -> tuple[OurInstitution, tuple[YearStanding, ...]]:
    """Return our institution and its published standing per year (only `year` if given)."""
    from scoring.peers import standings  # pandas: loaded on use, not at start

    ours = await our_institution(engine, settings)
    years = None if year is None else [year]
    found = standings(
        ours.name, level=ours.level, years=years, peers=peers, rules=settings.year_rules
    )
    return ours, found


def display_name(name: str) -> str:
    """Return a published name as people write it: "Kab. Mojokerto" for a regency."""
    for prefix, short in _SHORT:
        if name.upper().startswith(prefix):
            return short + name[len(prefix) :].title()
    return name


def _mark(result: PublishedResult, language: str) -> str:
    return f"{_MARKS.get(result.category.key, '')} {result.category.label.get(language)}".strip()


def peers_text(
    ours: OurInstitution,
    found: Sequence[YearStanding],
    language: str,
    *,
    year: int | None = None,
) -> str:
    """Return our KPK result per year and the nearest peers of `year` (default: the latest)."""
    messages = catalog()

    def t(key: str, /, **values: object) -> str:
        return messages.t(language, key, **values)

    def num(value: float) -> str:
        return format_number(value, language)

    if not found:
        return t(
            "peers_not_found", name=html.escape(ours.name), level=t(f"peers_level_{ours.level}")
        )
    level = t(f"peers_level_{found[0].result.level}")
    lines = [t("peers_title", name=html.escape(display_name(found[0].result.name))), ""]
    for s in found:
        lines.append(
            t(
                "peers_year_line",
                year=s.year,
                value=num(s.result.index),
                mark=_mark(s.result, language),
                percentile=format_number(s.percentile, language, 0),
                rank=s.rank,
                of=s.of,
                level=level,
            )
        )
    chosen = next((s for s in found if s.year == year), found[-1])
    if chosen.peers:
        lines += ["", t("peers_table_title", year=chosen.year, level=level)]
        table = sorted([*chosen.peers, chosen.result], key=lambda r: -r.index)
        for rank, peer in enumerate(table, start=1):
            name = html.escape(display_name(peer.name))
            if peer is chosen.result:
                name = f"<b>{name}</b>"
            lines.append(
                t(
                    "peers_table_line",
                    rank=rank,
                    name=name,
                    value=num(peer.index),
                    mark=_mark(peer, language),
                )
            )
    averages = []
    if chosen.level_average is not None:
        averages.append(t("peers_level_average", level=level, value=num(chosen.level_average)))
    if chosen.national is not None:
        averages.append(t("peers_national", value=num(chosen.national)))
    if averages:
        lines += ["", t("peers_averages", year=chosen.year, values=" · ".join(averages))]
    lines += ["", t("peers_percentile_note", level=level)]
    return "\n".join(lines)


def _result_json(result: PublishedResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "province_code": result.province_code,
        "index": round(result.index, 2),
        "category": result.category.key,
    }


def peers_json(ours: OurInstitution, found: Sequence[YearStanding]) -> dict[str, Any]:
    """Return the JSON of `spibot peers`: one entry per year, `percentile` 0–100."""
    return {
        "institution": ours.name,
        "level": ours.level,
        "found": bool(found),
        "years": [
            {
                "year": s.year,
                **_result_json(s.result),
                "internal": s.result.internal,
                "external": s.result.external,
                "expert": s.result.expert,
                "percentile": round(s.percentile, 2),
                "rank": s.rank,
                "of": s.of,
                "level_average": None if s.level_average is None else round(s.level_average, 2),
                "national": s.national,
                "peers": [_result_json(p) for p in s.peers],
            }
            for s in found
        ],
    }
