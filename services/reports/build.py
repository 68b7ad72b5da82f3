"""Score one wave from the database: answers, questionnaires, fixed targets and corrections in,
a `Report` out, through the one release rule while the wave is open.

`services.reports` decides which report a reader gets (a closed wave's frozen one, or this);
`services.reports.revisions` freezes this one when a wave closes. Targets per unit and group are
fixed when the wave opens (`fix_targets`), so they do not move overnight.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, tzinfo

import storage.corrections
import storage.questionnaires
import storage.units
import storage.waves
from scoring import (
    Corrections,
    Report,
    ScoringConfig,
    UnitInfo,
    WaveResult,
)
from scoring.report import Exclusion
from services.release import released
from services.settings import Settings
from storage import integrity as stored_exclusions
from storage import wave_targets as stored_targets
from storage.db import AsyncEngine
from surveys import Group, Questionnaire, load_questionnaire_text

__all__ = [
    "ExclusionChange",
    "ScoringContext",
    "build_live",
    "exclusions_in_force",
    "fix_opening_targets",
    "fix_targets",
    "load_context",
    "questionnaires_of",
    "wave_year",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ScoringContext:
    """What scoring needs besides the answers: the config, the units and the institution."""

    config: ScoringConfig
    units: tuple[UnitInfo, ...]
    institution_name: str
    level: str


async def load_context(engine: AsyncEngine, settings: Settings) -> ScoringContext:
    """Read the institution and the units (every report of a request shares them)."""
    institution = await storage.units.get_institution(engine)
    name = institution.name if institution else settings.institution_name
    level = institution.level if institution else settings.institution_level
    units = tuple(
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
        for u in await storage.units.list_units(engine)
    )
    config = ScoringConfig(min_cell_size=settings.small_cell_k, level=level)
    return ScoringContext(config, units, name, level)


def wave_year(wave: storage.waves.Wave, settings: Settings) -> int:
    """Return the year a wave belongs to: the year it opened, in the bot's time zone."""
    return wave.opened_at.astimezone(settings.zone).year


@functools.lru_cache(maxsize=32)
def _parse_questionnaire(questionnaire_id: int, source_yaml: str) -> Questionnaire:
    # A stored questionnaire version never changes, so parsing it once per process is safe.
    return load_questionnaire_text(source_yaml, source=f"questionnaire #{questionnaire_id}")


async def questionnaires_of(
    engine: AsyncEngine, wave: storage.waves.Wave
) -> dict[Group, Questionnaire]:
    """Return the questionnaire each group of the wave answered."""
    out: dict[Group, Questionnaire] = {}
    for grp, questionnaire_id in wave.questionnaire_ids.items():
        stored = await storage.questionnaires.get_questionnaire(engine, questionnaire_id)
        if stored is None:
            logger.warning("wave %s links a missing questionnaire", wave.name)
            continue
        out[Group(grp)] = _parse_questionnaire(stored.id, stored.source_yaml)
    return out


def corrections_of(
    wave: storage.waves.Wave, correction: storage.corrections.Correction | None
) -> Corrections | None:
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


# -- targets fixed at opening -----------------------------------------------------------------


def _opening_targets(
    ctx: ScoringContext, questionnaires: dict[Group, Questionnaire]
) -> dict[tuple[str, str], int]:
    """Return each unit × group's target as scoring computes it before anyone answered.

    An empty wave scored by `build_report` gives exactly that (the prior σ, the populations,
    the floors and caps of docs/scoring.md §3): one formula, not a copy of it.
    """
    import pandas as pd  # loaded with the first report, not when the bot starts

    from scoring import ANSWER_COLUMNS, build_report

    empty = pd.DataFrame({column: pd.Series(dtype=object) for column in ANSWER_COLUMNS})
    report = build_report(
        empty, questionnaires, ctx.config, wave="", wave_open=True, units=ctx.units
    )
    targets = {
        (stored_targets.INSTITUTION, c.group.value): c.needed for c in report.institution.groups
    }
    for unit in report.units:
        assert unit.code is not None
        targets.update({(unit.code, c.group.value): c.needed for c in unit.groups})
    return targets


async def fix_targets(
    engine: AsyncEngine, ctx: ScoringContext, wave: storage.waves.Wave
) -> dict[tuple[str | None, Group], int]:
    """Return the wave's targets, first fixing those not stored yet (at opening: all of them;
    later: a unit added since). Stored targets never change."""
    stored = await stored_targets.targets_of(engine, wave.id)
    wanted = {stored_targets.INSTITUTION} | {u.code for u in ctx.units}
    if not wanted <= {unit for unit, _ in stored}:
        fresh = _opening_targets(ctx, await questionnaires_of(engine, wave))
        await stored_targets.fix_targets(engine, wave.id, fresh)
        stored = await stored_targets.targets_of(engine, wave.id)
    return {
        (None if unit == stored_targets.INSTITUTION else unit, Group(grp)): needed
        for (unit, grp), needed in stored.items()
    }


async def fix_opening_targets(
    engine: AsyncEngine, settings: Settings, wave: storage.waves.Wave
) -> None:
    """Fix a just-opened wave's targets (every path that opens a wave calls this)."""
    await fix_targets(engine, await load_context(engine, settings), wave)


# -- the inspectorate's exclusions (issue 24) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExclusionChange:
    """An exclusion as a decision would make it: one added with its responses, or one in
    force (by number) taken away. How a preview scores exactly what the decision will."""

    add: tuple[Exclusion, frozenset[str]] | None = None
    remove: int | None = None


async def exclusions_in_force(
    engine: AsyncEngine,
    wave: storage.waves.Wave,
    zone: tzinfo,
    change: ExclusionChange | None = None,
) -> tuple[tuple[Exclusion, ...], frozenset[str]]:
    """Return a wave's exclusions in force (with `change` applied), as reports carry them,
    and the ids of the responses they leave out."""
    found: list[Exclusion] = []
    ids: set[str] = set()
    for active in await stored_exclusions.active_exclusions(engine, wave.id):
        stored = active.exclusion
        if change is not None and change.remove == stored.id:
            continue
        day = (stored.decided_at or stored.created_at).astimezone(zone).date()
        found.append(
            Exclusion(
                stored.unit_code,
                Group(stored.grp),
                stored.count,
                stored.reason,
                number=stored.id,
                kind=stored.kind,
                created_on=day,
            )
        )
        ids |= active.response_ids
    if change is not None and change.add is not None:
        exclusion, members = change.add
        found.append(exclusion)
        ids |= members
    return tuple(found), frozenset(ids)


# -- scoring ----------------------------------------------------------------------------------


async def build_live(
    engine: AsyncEngine,
    settings: Settings,
    ctx: ScoringContext,
    wave: storage.waves.Wave,
    history: Sequence[WaveResult],
    today: date,
    *,
    change: ExclusionChange | None = None,
) -> Report:
    """Read one wave's answers and score them (the scoring runs in a worker thread).

    The answers come through the one release rule (`services.release.released`): an open
    wave is scored from whole days before `today`, in steps of at least k per unit and
    group, so that reading a result before and after one person submits tells nothing
    about their answers. The inspectorate's exclusions in force leave their responses out
    (`change`: as a decision about one would leave them).
    """
    from scoring import build_report  # pandas and the scoring code: loaded with a report

    release = await released(engine, wave, k=ctx.config.min_cell_size, today=today)
    exclusions, excluded = await exclusions_in_force(engine, wave, settings.zone, change)
    questionnaires = await questionnaires_of(engine, wave)
    corrections = corrections_of(
        wave, await storage.corrections.current_correction(engine, wave.id)
    )
    targets = await fix_targets(engine, ctx, wave)
    # Scoring a large wave takes a noticeable fraction of a second: keep the event loop free.
    return await asyncio.to_thread(
        functools.partial(
            build_report,
            release.answers,
            questionnaires,
            ctx.config,
            wave=wave.name,
            wave_open=wave.is_open,
            units=ctx.units,
            corrections=corrections,
            history=history,
            institution_name=ctx.institution_name,
            waiting=release.waiting,
            waiting_today=release.waiting_today,
            targets=targets,
            year=wave_year(wave, settings),
            exclusions=exclusions,
            excluded_responses=excluded,
        )
    )
