"""Reports from the database: a wave's `Report` once, with its earlier waves' results.

An open wave is scored now (`services.reports.build`); a closed wave's report is the frozen
one in force (`services.reports.revisions`). Used by the score commands, `spibot score`/`spibot
report`, the rakor PDF and the scheduler. Charts and texts of a bundle live in
`services.reports.charts` and `services.reports.texts`.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Final

import storage.units
import storage.waves
from scoring import Report, WaveResult
from services.context import Services
from services.release import today_for
from services.reports import revisions
from services.reports.build import build_live, load_context
from services.reports.revisions import Revision
from services.settings import Settings
from storage.db import AsyncEngine

__all__ = [
    "ReportBundle",
    "current_bundle",
    "find_units",
    "load_report",
    "published_results",
    "unit_by_id",
    "units_matching",
    "wave_names",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportBundle:
    """A wave's report with the wave row and the earlier waves' results (oldest first)."""

    report: Report
    wave: storage.waves.Wave
    history: tuple[WaveResult, ...]
    as_of: date | None = None  # the day the report was built, in the bot's time zone
    # Our institution's index in KPK's published results, per year (drawn on the trend).
    published: Mapping[int, float] = field(default_factory=lambda: MappingProxyType({}))
    # Each unit's results in the earlier waves (oldest first): a unit head's /tren.
    unit_history: Mapping[str, tuple[WaveResult, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def history_of(self, unit_code: str | None) -> tuple[WaveResult, ...]:
        """Return the earlier waves' results of the institution (None) or one unit."""
        return self.history if unit_code is None else self.unit_history.get(unit_code, ())

    # A closed wave's published versions, oldest first; the last is in force (empty: open).
    revisions: tuple[Revision, ...] = ()

    @property
    def revision(self) -> Revision | None:
        """Return the revision in force when it is not the first final report, else None."""
        return self.revisions[-1] if len(self.revisions) > 1 else None


# -- building ---------------------------------------------------------------------------------


async def load_report(
    engine: AsyncEngine,
    settings: Settings,
    *,
    wave_name: str | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> ReportBundle | None:
    """Return the report of the named wave (default: the open one, else the newest).

    Returns None when there is no such wave. An open wave is scored now, through the release
    rule (`services.reports.build`); a closed wave's report is the frozen one in force
    (`services.reports.revisions`: frozen at its closing, revised only by a later correction), with
    the comparison with the previous wave taken from that wave's report in force. Earlier
    waves give their institution results for the comparison and the trend.
    """
    waves = await storage.waves.list_waves(engine)  # newest first
    if wave_name is not None:
        chosen = next((w for w in waves if w.name == wave_name), None)
    else:
        chosen = next((w for w in waves if w.is_open), waves[0] if waves else None)
    if chosen is None:
        return None
    moment = now or datetime.now(settings.zone)
    as_of = today or moment.astimezone(settings.zone).date()
    ctx = await load_context(engine, settings)
    earlier = await revisions.earlier_scopes(engine, settings, chosen, ctx, moment)
    history = earlier.get(None, ())
    report = await revisions.freeze(engine, settings, chosen, ctx=ctx, history=history, now=moment)
    if report is None:
        report = await build_live(engine, settings, ctx, chosen, history, as_of)
    else:
        # The published numbers stay; only the comparison follows a revised previous wave.
        if history:
            from scoring.build import previous_comparison  # pandas: loaded with a report

            inst = report.institution
            previous = previous_comparison(inst.index, inst.groups, report.wave, history)
            report = dataclasses.replace(
                report, institution=dataclasses.replace(inst, previous=previous)
            )
    return ReportBundle(
        report=report,
        wave=chosen,
        history=history,
        as_of=as_of,
        published=published_results(ctx.institution_name, ctx.level),
        unit_history=MappingProxyType(
            {code: results for code, results in earlier.items() if code is not None}
        ),
        revisions=await revisions.revisions_of(engine, settings, chosen),
    )


def published_results(name: str, level: str) -> Mapping[int, float]:
    """Return our index in KPK's published results per year (empty when not found)."""
    from scoring import find_institution  # the published results are a pandas table

    return MappingProxyType({r.year: r.index for r in find_institution(name, level=level)})


async def current_bundle(services: Services, wave_name: str | None = None) -> ReportBundle | None:
    """Build the report of the named wave (default: the open one, else the newest), as of
    today in the bot's zone; None when there is no such wave."""
    now = services.clock()
    return await load_report(
        services.db.engine,
        services.settings,
        wave_name=wave_name,
        today=today_for(services),
        now=now,
    )


async def wave_names(services: Services) -> list[str]:
    """Return every wave's name, newest first (to answer a wave name that does not exist)."""
    return [w.name for w in await storage.waves.list_waves(services.db.engine)]


async def unit_by_id(engine: AsyncEngine, unit_id: int) -> storage.units.Unit | None:
    """Return a unit by its id (from a /unit choice button)."""
    return await storage.units.get_unit_by_id(engine, unit_id)


# -- unit lookup --------------------------------------------------------------------------------

_WORD_RE: Final = re.compile(r"[0-9a-z]+")
_MAX_MATCHES: Final = 8  # buttons offered when a /unit query is ambiguous


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def find_units(units: Sequence[storage.units.Unit], query: str) -> list[storage.units.Unit]:
    """Return the units a typed name or code means, best first (at most 8).

    An exact code or name wins outright; then units containing every typed word; then, for
    typos ("kesehatn"), units whose words are close to every typed word.
    """
    needle = " ".join(_words(query))
    if not needle:
        return []
    for unit in units:
        if needle in (" ".join(_words(unit.code)), " ".join(_words(unit.name))):
            return [unit]
    typed = needle.split()
    containing = [u for u in units if all(word in f"{u.code} {u.name}".lower() for word in typed)]
    if containing:
        return containing[:_MAX_MATCHES]

    def closeness(unit: storage.units.Unit) -> float:
        words = _words(f"{unit.code} {unit.name}")
        return min(max(difflib.SequenceMatcher(None, t, w).ratio() for w in words) for t in typed)

    scored = sorted(((closeness(u), u.code, u) for u in units), key=lambda s: (-s[0], s[1]))
    return [u for score, _, u in scored if score >= 0.8][:_MAX_MATCHES]


async def units_matching(engine: AsyncEngine, query: str) -> list[storage.units.Unit]:
    """Return the units a typed name or code means, best first (see `find_units`)."""
    return find_units(await storage.units.list_units(engine), query)
