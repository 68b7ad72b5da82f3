"""Reports from the database: build a wave's `Report` once, with its earlier waves' results.

Used by the score commands, `spibot score`/`spibot report` and the scheduler. Charts and texts
of a bundle live in `services.report_charts` and `services.report_texts`.
"""

from __future__ import annotations

import asyncio
import difflib
import functools
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Final

import storage
from scoring import Corrections, Report, ScoringConfig, UnitInfo, WaveResult
from services.context import Services
from services.settings import Settings
from storage import AsyncEngine
from surveys import Group, Questionnaire, load_questionnaire_text

__all__ = [
    "ReportBundle",
    "current_bundle",
    "find_units",
    "load_report",
    "published_results",
    "unit_by_id",
    "units_matching",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportBundle:
    """A wave's report with the wave row and the earlier waves' results (oldest first)."""

    report: Report
    wave: storage.Wave
    history: tuple[WaveResult, ...]
    as_of: date | None = None  # the day the report was built, in the bot's time zone
    # Our institution's index in KPK's published results, per year (drawn on the trend).
    published: Mapping[int, float] = field(default_factory=lambda: MappingProxyType({}))


# -- building ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=32)
def _parse_questionnaire(questionnaire_id: int, source_yaml: str) -> Questionnaire:
    # A stored questionnaire version never changes, so parsing it once per process is safe.
    return load_questionnaire_text(source_yaml, source=f"questionnaire #{questionnaire_id}")


async def _questionnaires(engine: AsyncEngine, wave: storage.Wave) -> dict[Group, Questionnaire]:
    """Return the questionnaire each group of the wave answered."""
    out: dict[Group, Questionnaire] = {}
    for grp, questionnaire_id in wave.questionnaire_ids.items():
        stored = await storage.get_questionnaire(engine, questionnaire_id)
        if stored is None:
            logger.warning("wave %s links a missing questionnaire", wave.name)
            continue
        out[Group(grp)] = _parse_questionnaire(stored.id, stored.source_yaml)
    return out


def _corrections(wave: storage.Wave, correction: storage.Correction | None) -> Corrections | None:
    """Return the correction in force as scoring takes it; a stored bad one is skipped.

    New corrections are checked where they are recorded, but a value stored before that check
    (an `inf` from an old CLI) must not take down every score of the wave and of later waves.
    """
    if correction is None:
        return None
    try:
        return Corrections(correction.integrity, correction.prevalence, correction.note)
    except ValueError as exc:
        logger.warning(
            "wave %s: ignoring stored correction #%d (%s); record a valid one with "
            "`spibot correction set`",
            wave.name,
            correction.id,
            exc,
        )
        return None


async def _build(
    engine: AsyncEngine,
    wave: storage.Wave,
    config: ScoringConfig,
    units: Sequence[UnitInfo],
    institution_name: str,
    history: Sequence[WaveResult],
    today: date,
) -> Report:
    """Read one wave's answers and score them (the scoring runs in a worker thread).

    An open wave is scored from the responses `shown_responses` lets a provisional result
    show (whole days before `today`, in steps of at least k per unit and group), so that
    reading a result before and after one person submits tells nothing about their answers.
    """
    # pandas and the scoring code are loaded on the first report, not when the bot starts:
    # a bot that only runs surveys never needs them (docs/benchmarks.md: memory).
    from scoring import build_report
    from scoring.provisional import shown_responses, waiting_counts

    answers = await storage.answers_frame(engine, wave.id)
    waiting: dict[tuple[str, Group], int] = {}
    if wave.is_open:
        shown = shown_responses(answers, config.min_cell_size, today)
        waiting = waiting_counts(answers, shown)
        answers = shown
    questionnaires = await _questionnaires(engine, wave)
    corrections = _corrections(wave, await storage.current_correction(engine, wave.id))
    # Scoring a large wave takes a noticeable fraction of a second: keep the event loop free.
    return await asyncio.to_thread(
        functools.partial(
            build_report,
            answers,
            questionnaires,
            config,
            wave=wave.name,
            wave_open=wave.is_open,
            units=units,
            corrections=corrections,
            history=history,
            institution_name=institution_name,
            waiting=waiting,
        )
    )


# Institution results of closed waves, which only change when a correction is added: without
# this every /skor would re-score every earlier wave (each possibly a million answers).
_EARLIER: dict[tuple[object, ...], WaveResult] = {}
_EARLIER_MAX: Final = 64


async def _earlier_result(
    engine: AsyncEngine,
    wave: storage.Wave,
    config: ScoringConfig,
    units: Sequence[UnitInfo],
    institution_name: str,
    today: date,
) -> WaveResult:
    """Return an earlier wave's institution result, scoring it only when something changed."""
    correction = await storage.current_correction(engine, wave.id)
    key = (
        engine.url.render_as_string(hide_password=True),
        wave.id,
        wave.closed_at,
        correction.id if correction else None,
        repr(config),  # frozen but holds mappings, so not hashable itself
        repr(tuple(units)),
    )
    cached = _EARLIER.get(key) if wave.closed_at is not None else None
    if cached is not None:
        return cached
    report = await _build(engine, wave, config, units, institution_name, (), today)
    result = report.to_wave_result()
    if wave.closed_at is not None:
        if len(_EARLIER) >= _EARLIER_MAX:
            _EARLIER.pop(next(iter(_EARLIER)))
        _EARLIER[key] = result
    return result


async def load_report(
    engine: AsyncEngine,
    settings: Settings,
    *,
    wave_name: str | None = None,
    today: date | None = None,
) -> ReportBundle | None:
    """Build the report of the named wave (default: the open one, else the newest).

    Returns None when there is no such wave. Earlier waves (by opening time) are scored too,
    for their institution result only, to give the previous-wave comparison and the trend.
    """
    waves = await storage.list_waves(engine)  # newest first
    if wave_name is not None:
        chosen = next((w for w in waves if w.name == wave_name), None)
    else:
        chosen = next((w for w in waves if w.is_open), waves[0] if waves else None)
    if chosen is None:
        return None
    institution = await storage.get_institution(engine)
    name = institution.name if institution else settings.institution_name
    level = institution.level if institution else settings.institution_level
    config = ScoringConfig(min_cell_size=settings.small_cell_k, level=level)
    units = [
        UnitInfo(
            code=u.code,
            name=u.name,
            kind=u.kind,
            parent_code=u.parent_code,
            serves_public=u.serves_public,
            roster_size=u.staff_count,
            expert_count=u.expert_count,
            service_user_count=u.service_user_count,
        )
        for u in await storage.list_units(engine)
    ]
    as_of = today or datetime.now(settings.zone).date()
    # list_waves is newest first (opening time, then id): the waves after `chosen` came before.
    earlier = list(reversed(waves[waves.index(chosen) + 1 :]))
    history: list[WaveResult] = []
    for wave in earlier:  # oldest first
        history.append(await _earlier_result(engine, wave, config, units, name, as_of))
    report = await _build(engine, chosen, config, units, name, tuple(history), as_of)
    return ReportBundle(
        report=report,
        wave=chosen,
        history=tuple(history),
        as_of=as_of,
        published=published_results(name, level),
    )


def published_results(name: str, level: str) -> Mapping[int, float]:
    """Return our index in KPK's published results per year (empty when not found)."""
    from scoring import find_institution  # the published results are a pandas table

    return MappingProxyType({r.year: r.index for r in find_institution(name, level=level)})


async def current_bundle(services: Services) -> ReportBundle | None:
    """Build the report of the open wave (else the newest), as of today in the bot's zone."""
    today = services.clock().astimezone(services.settings.zone).date()
    return await load_report(services.db.engine, services.settings, today=today)


async def unit_by_id(engine: AsyncEngine, unit_id: int) -> storage.Unit | None:
    """Return a unit by its id (from a /unit choice button)."""
    return await storage.get_unit_by_id(engine, unit_id)


# -- unit lookup --------------------------------------------------------------------------------

_WORD_RE: Final = re.compile(r"[0-9a-z]+")
_MAX_MATCHES: Final = 8  # buttons offered when a /unit query is ambiguous


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def find_units(units: Sequence[storage.Unit], query: str) -> list[storage.Unit]:
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

    def closeness(unit: storage.Unit) -> float:
        words = _words(f"{unit.code} {unit.name}")
        return min(max(difflib.SequenceMatcher(None, t, w).ratio() for w in words) for t in typed)

    scored = sorted(((closeness(u), u.code, u) for u in units), key=lambda s: (-s[0], s[1]))
    return [u for score, _, u in scored if score >= 0.8][:_MAX_MATCHES]


async def units_matching(engine: AsyncEngine, query: str) -> list[storage.Unit]:
    """Return the units a typed name or code means, best first (see `find_units`)."""
    return find_units(await storage.list_units(engine), query)
