"""Survey integrity (issue 24): the signals of a wave, what excluding each would do, and the
inspectorate's decisions to exclude a flagged set or restore it, with a trail.

Everything reads the wave through the one release rule (`services.release`): the answers
of the released responses, and the hourly arrival counts of the same released days only
(never today's, never a cell's days not yet released), so signals move in the same steps of
k as the scores. A cell under k is never looked at (`scoring.integrity`).

The index "with and without" a set is computed by the very function that scores the wave
after the decision (`services.reports.build.build_live` with an `ExclusionChange`), so a
decision changes the index by exactly what the quality report said. For a closed wave the
frozen final report is not moved silently: a decision writes a dated revision of it in the
same transaction (`services.reports.revisions` shows it like a correction's).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Final, cast

import storage.units
import storage.waves
from scoring import GROUP_ORDER, Report, ScopeResult, WaveResult
from scoring.frozen import report_to_json
from scoring.report import Exclusion
from scoring.revisions import report_changes
from services import reports
from services.errors import AdminError
from services.release import released
from services.reports import (
    ExclusionChange,
    ScoringContext,
    build_live,
    exclusions_in_force,
    load_context,
    load_report,
    questionnaires_of,
)
from services.settings import Settings
from services.untrusted import clean_typed
from storage import integrity as stored
from storage.db import AsyncEngine
from storage.integrity import ExclusionConflict, ExclusionStatus, StoredExclusion
from storage.paradata import Arrival, ItemParadata, list_arrivals, list_item_paradata
from storage.report_revisions import RevisionConflict, RevisionDraft, RevisionKind
from surveys import Group, Questionnaire

if TYPE_CHECKING:  # numpy and pandas (scoring.integrity) load with the first quality report
    import pandas as pd

    from scoring.integrity_signals import CellSignals, Findings, Signal

__all__ = [
    "REASON_LIMIT",
    "DecisionTaken",
    "Effect",
    "FlaggedSet",
    "QualityReport",
    "SetChanged",
    "confirm",
    "draft",
    "exclude",
    "fingerprint",
    "items",
    "numbers_of",
    "quality_report",
    "restore",
    "restore_effect",
    "set_effect",
]

logger = logging.getLogger(__name__)

REASON_LIMIT: Final = 500  # characters of an exclusion's reason: a sentence or two
_FINGERPRINT: Final = 12


class DecisionTaken(AdminError):
    """The exclusion was already confirmed, cancelled or restored (a double tap)."""


class SetChanged(AdminError):
    """The flagged set is not the one the officer was shown any more, or is gone."""


def fingerprint(response_ids: frozenset[str]) -> str:
    """Return a short hash of a set of responses: what the officer saw is what is excluded."""
    digest = hashlib.sha256("\n".join(sorted(response_ids)).encode()).hexdigest()
    return digest[:_FINGERPRINT]


@dataclass(frozen=True, slots=True)
class Numbers:
    """What a reader sees of a unit × group and the institution in one version of a report."""

    unit_index: float | None
    unit_partial: float | None  # without a full index: the partial composite
    group_score: float | None
    institution_index: float | None


@dataclass(frozen=True, slots=True)
class Effect:
    """The report's numbers with the set (now) and without it (after the decision)."""

    before: Numbers
    after: Numbers


@dataclass(frozen=True, slots=True)
class FlaggedSet:
    """One signal of one cell: the set an officer may exclude, and what that would do."""

    cell: CellSignals
    signal: Signal
    fingerprint: str
    effect: Effect | None = None


@dataclass(frozen=True)
class QualityReport:
    """A wave's survey-integrity findings, as of a day, with the decisions taken so far."""

    wave: storage.waves.Wave
    as_of: date
    k: int
    findings: Findings
    sets: tuple[FlaggedSet, ...]
    decisions: tuple[StoredExclusion, ...]  # in force and restored, oldest first
    names: Mapping[str, str]  # unit code -> name
    questionnaires: Mapping[Group, Questionnaire]

    @property
    def provisional(self) -> bool:
        """Tell whether the wave is open (the findings follow the release rule)."""
        return self.wave.is_open

    def find(self, unit_code: str, group: Group, kind: str) -> FlaggedSet | None:
        """Return the set of one signal, or None when that cell has no such signal now."""
        return next(
            (
                s
                for s in self.sets
                if s.cell.unit_code == unit_code
                and s.cell.group is group
                and s.signal.kind.value == kind
            ),
            None,
        )


# -- reading ----------------------------------------------------------------------------------


def _released_arrivals(
    arrivals: list[Arrival], answers: pd.DataFrame, settings: Settings, is_open: bool
) -> pd.DataFrame:
    """The hourly counts of the released days only, in local hours (see the module doc)."""
    import pandas as pd

    from scoring.integrity_signals import ARRIVAL_COLUMNS

    zone = settings.zone
    rows = [
        (a.unit_code, a.grp, a.hour.astimezone(zone).replace(tzinfo=None), a.count)
        for a in arrivals
    ]
    frame = pd.DataFrame(rows, columns=list(ARRIVAL_COLUMNS))
    if frame.empty or not is_open:
        return frame
    if answers.empty:
        return frame.iloc[0:0]
    per = answers.drop_duplicates("response_id")
    last = per.groupby(["unit_code", "grp"], observed=True)["completed_on"].max()
    ends: dict[tuple[str, str], date] = {}
    for key, day in last.items():
        unit, grp = cast(tuple[object, object], key)
        ends[(str(unit), str(grp))] = pd.Timestamp(cast(str, day)).date()
    keep = [
        (unit, grp) in ends and hour.date() <= ends[(unit, grp)]
        for unit, grp, hour in zip(frame["unit_code"], frame["grp"], frame["hour"], strict=True)
    ]
    return frame[keep].reset_index(drop=True)


def numbers_of(report: Report, unit_code: str, group: Group) -> Numbers:
    """Return what a reader sees of a unit × group and the institution in a report."""
    unit: ScopeResult | None = next((u for u in report.units if u.code == unit_code), None)
    return Numbers(
        unit_index=None if unit is None else unit.index,
        unit_partial=None if unit is None or unit.index is not None else unit.partial_index,
        group_score=None if unit is None else unit.group(group).score,
        institution_index=report.institution.index,
    )


@dataclass(frozen=True)
class _Scorer:
    """Scores a wave as a decision would leave it, with what the reports use: for an open
    wave the live report's context as of `day`; for a closed one its frozen config and the
    history as of its closing, as of the closing day."""

    engine: AsyncEngine
    settings: Settings
    wave: storage.waves.Wave
    ctx: ScoringContext
    history: tuple[WaveResult, ...]
    day: date

    async def score(self, change: ExclusionChange) -> Report:
        """Return the report with `change` applied to the exclusions in force."""
        return await build_live(
            self.engine, self.settings, self.ctx, self.wave, self.history, self.day, change=change
        )


async def _scorer(
    engine: AsyncEngine,
    settings: Settings,
    wave: storage.waves.Wave,
    report: Report,
    *,
    today: date,
    now: datetime,
) -> _Scorer:
    ctx = await load_context(engine, settings)
    if wave.is_open or wave.closed_at is None:
        history = await reports.earlier_results(engine, settings, wave, ctx, now)
        return _Scorer(engine, settings, wave, ctx, history, today)
    ctx = dataclasses.replace(ctx, config=report.config)
    history = await reports.earlier_results(engine, settings, wave, ctx, wave.closed_at)
    closing = wave.closed_at.astimezone(settings.zone).date()
    return _Scorer(engine, settings, wave, ctx, history, closing)


def _exclusion_for(flagged: FlaggedSet, reason: str, on: date, number: int = 0) -> Exclusion:
    return Exclusion(
        flagged.cell.unit_code,
        flagged.cell.group,
        flagged.signal.responses,
        reason,
        number=number,
        kind=flagged.signal.kind.value,
        created_on=on,
    )


async def quality_report(
    engine: AsyncEngine,
    settings: Settings,
    wave: storage.waves.Wave,
    *,
    today: date,
    now: datetime,
    with_effects: bool = True,
) -> QualityReport:
    """Find a wave's signals as of `today` (the release rule) and, with `with_effects`, the
    index with and without each flagged set."""
    from scoring.integrity import find_signals

    k = settings.small_cell_k
    release = await released(engine, wave, k=k, today=today)
    _, excluded = await exclusions_in_force(engine, wave, settings.zone)
    answers = release.answers
    kept = answers[~answers["response_id"].astype(str).isin(excluded)] if excluded else answers
    arrivals = _released_arrivals(
        await list_arrivals(engine, wave.id), answers, settings, wave.is_open
    )
    questionnaires = await questionnaires_of(engine, wave)
    findings = await asyncio.to_thread(
        functools.partial(
            find_signals, kept, arrivals, questionnaires, settings.integrity_config, k
        )
    )
    sets = [
        FlaggedSet(cell, signal, fingerprint(signal.response_ids))
        for cell in findings.flagged
        for signal in cell.signals
    ]
    if with_effects and sets:
        sets = await _with_effects(engine, settings, wave, sets, today=today, now=now)
    names = {u.code: u.name for u in await storage.units.list_units(engine)}
    decisions = await stored.list_exclusions(engine, wave.id)
    return QualityReport(
        wave, today, k, findings, tuple(sets), tuple(decisions), names, questionnaires
    )


async def items(
    engine: AsyncEngine, wave: storage.waves.Wave
) -> tuple[list[ItemParadata], dict[int, tuple[Group, Questionnaire]]] | None:
    """Return a closed wave's paradata per item, with the questionnaire (and its group) of
    each questionnaire id; None for an open wave: the counts grow as each person finishes,
    so two readings while it runs would tell what one person did (docs/privacy.md)."""
    if wave.is_open:
        return None
    questionnaires = await questionnaires_of(engine, wave)
    by_id = {
        wave.questionnaire_ids[group.value]: (group, questionnaires[group])
        for group in GROUP_ORDER  # employees, service users, experts
        if group in questionnaires and group.value in wave.questionnaire_ids
    }
    return await list_item_paradata(engine, wave.id), by_id


async def _in_force(
    engine: AsyncEngine, settings: Settings, wave: storage.waves.Wave, *, today: date, now: datetime
) -> Report:
    bundle = await load_report(engine, settings, wave_name=wave.name, today=today, now=now)
    assert bundle is not None
    return bundle.report


async def _with_effects(
    engine: AsyncEngine,
    settings: Settings,
    wave: storage.waves.Wave,
    sets: list[FlaggedSet],
    *,
    today: date,
    now: datetime,
) -> list[FlaggedSet]:
    """Add to each set the report's numbers now (the report in force) and without it."""
    before = await _in_force(engine, settings, wave, today=today, now=now)
    scorer = await _scorer(engine, settings, wave, before, today=today, now=now)
    out = []
    for flagged in sets:
        cell = flagged.cell
        members = flagged.signal.response_ids
        after = await scorer.score(
            ExclusionChange(add=(_exclusion_for(flagged, "", today), members))
        )
        effect = Effect(
            numbers_of(before, cell.unit_code, cell.group),
            numbers_of(after, cell.unit_code, cell.group),
        )
        out.append(dataclasses.replace(flagged, effect=effect))
    return out


async def set_effect(
    engine: AsyncEngine,
    settings: Settings,
    wave: storage.waves.Wave,
    flagged: FlaggedSet,
    *,
    today: date,
    now: datetime,
) -> Effect:
    """Return what excluding one flagged set does to the report in force."""
    (done,) = await _with_effects(engine, settings, wave, [flagged], today=today, now=now)
    assert done.effect is not None
    return done.effect


async def restore_effect(
    engine: AsyncEngine,
    settings: Settings,
    exclusion: StoredExclusion,
    *,
    today: date,
    now: datetime,
) -> Effect:
    """Return what restoring an exclusion in force does to the report in force."""
    wave = await storage.waves.get_wave_by_id(engine, exclusion.wave_id)
    if wave is None:
        raise SetChanged(f"exclusion #{exclusion.id}: its wave is gone")
    before = await _in_force(engine, settings, wave, today=today, now=now)
    scorer = await _scorer(engine, settings, wave, before, today=today, now=now)
    after = await scorer.score(ExclusionChange(remove=exclusion.id))
    group = Group(exclusion.grp)
    return Effect(
        numbers_of(before, exclusion.unit_code, group),
        numbers_of(after, exclusion.unit_code, group),
    )


# -- deciding ---------------------------------------------------------------------------------


def clean_reason(text: str) -> str:
    """Return a typed reason cleaned (control and bidi characters out); AdminError when it
    is empty or longer than REASON_LIMIT."""
    reason = clean_typed(text).strip()
    if not reason:
        raise AdminError("give a reason: why are these responses left out?")
    if len(reason) > REASON_LIMIT:
        raise AdminError(f"the reason is {len(reason)} characters; at most {REASON_LIMIT}")
    return reason


async def draft(
    engine: AsyncEngine,
    wave: storage.waves.Wave,
    flagged: FlaggedSet,
    *,
    by: str,
    now: datetime,
    reason: str = "",
) -> StoredExclusion:
    """Start an exclusion of a flagged set (pending: it waits for its reason or its
    confirmation); the same officer's older drafts go."""
    return await stored.draft_exclusion(
        engine,
        wave_id=wave.id,
        unit_code=flagged.cell.unit_code,
        grp=flagged.cell.group.value,
        kind=flagged.signal.kind.value,
        fingerprint=flagged.fingerprint,
        created_by=by,
        now=now,
        reason=reason,
    )


async def _revision(
    engine: AsyncEngine,
    settings: Settings,
    wave: storage.waves.Wave,
    kind: RevisionKind,
    note: str,
    change: ExclusionChange,
    now: datetime,
) -> tuple[RevisionDraft, int] | None:
    """For a closed wave: the next revision of its frozen report, scored with `change`."""
    wave = await storage.waves.get_wave_by_id(engine, wave.id) or wave
    if wave.is_open or wave.closed_at is None:
        return None
    before = await reports.freeze(engine, settings, wave, now=now)
    latest = await reports.latest_number(engine, wave)
    assert before is not None
    assert latest is not None
    scorer = await _scorer(engine, settings, wave, before, today=date.min, now=now)
    after = await scorer.score(change)
    changes = report_changes(before, after)
    body = RevisionDraft(kind, note, report_to_json(after), reports.changes_json(changes))
    return body, latest + 1


async def confirm(
    engine: AsyncEngine,
    settings: Settings,
    exclusion_id: int,
    *,
    today: date,
    now: datetime,
) -> tuple[StoredExclusion, reports.Revision | None]:
    """Put a pending exclusion in force: its set is found again and must be the one the
    officer was shown (same fingerprint). AdminError when it is not pending, has no reason,
    or its set changed or is gone (a new release step, another exclusion)."""
    pending = await stored.get_exclusion(engine, exclusion_id)
    if pending is None or pending.status is not ExclusionStatus.PENDING:
        raise DecisionTaken(f"exclusion #{exclusion_id} is not waiting to be confirmed")
    if not pending.reason:
        raise AdminError(f"exclusion #{exclusion_id} has no reason yet")
    wave = await storage.waves.get_wave_by_id(engine, pending.wave_id)
    if wave is None:
        raise AdminError(f"exclusion #{exclusion_id}: its wave is gone")
    report = await quality_report(engine, settings, wave, today=today, now=now, with_effects=False)
    flagged = report.find(pending.unit_code, Group(pending.grp), pending.kind)
    if flagged is None or flagged.fingerprint != pending.fingerprint:
        raise SetChanged(
            f"the flagged set of {pending.unit_code} ({pending.grp}, {pending.kind}) changed "
            "since it was shown; look at the quality report again"
        )
    exclusion = _exclusion_for(
        flagged, pending.reason, now.astimezone(settings.zone).date(), pending.id
    )
    change = ExclusionChange(add=(exclusion, flagged.signal.response_ids))
    revision = await _revision(
        engine, settings, wave, RevisionKind.EXCLUSION, pending.reason, change, now
    )
    try:
        done, row = await stored.activate(
            engine, exclusion_id, flagged.signal.response_ids, now, revision
        )
    except ExclusionConflict as exc:
        raise DecisionTaken(f"exclusion #{exclusion_id} was already decided") from exc
    except RevisionConflict as exc:
        raise AdminError(f"{exc}; nothing was stored, try again") from exc
    logger.info("exclusion #%d in force (%s, %d responses)", done.id, done.kind, done.count)
    return done, None if row is None else reports.stored_revision(wave, row, settings)


async def exclude(
    engine: AsyncEngine,
    settings: Settings,
    wave: storage.waves.Wave,
    flagged: FlaggedSet,
    reason: str,
    *,
    by: str,
    today: date,
    now: datetime,
) -> tuple[StoredExclusion, reports.Revision | None]:
    """Exclude a flagged set at once (the CLI: its confirmation is `--yes`)."""
    pending = await draft(engine, wave, flagged, by=by, now=now, reason=clean_reason(reason))
    try:
        return await confirm(engine, settings, pending.id, today=today, now=now)
    except AdminError:
        await stored.discard(engine, pending.id)  # no half-made decision is left behind
        raise


async def restore(
    engine: AsyncEngine,
    settings: Settings,
    exclusion_id: int,
    *,
    by: str,
    reason: str,
    now: datetime,
) -> tuple[StoredExclusion, reports.Revision | None]:
    """Put an exclusion's responses back into the index (a closed wave: a dated revision).
    AdminError when there is no such exclusion in force."""
    current = await stored.get_exclusion(engine, exclusion_id)
    if current is None or current.status is not ExclusionStatus.ACTIVE:
        raise DecisionTaken(f"no exclusion #{exclusion_id} in force")
    wave = await storage.waves.get_wave_by_id(engine, current.wave_id)
    if wave is None:
        raise AdminError(f"exclusion #{exclusion_id}: its wave is gone")
    note = clean_typed(reason).strip()[:REASON_LIMIT]
    change = ExclusionChange(remove=exclusion_id)
    revision = await _revision(
        engine, settings, wave, RevisionKind.RESTORED, note or current.reason, change, now
    )
    try:
        done, row = await stored.restore(
            engine, exclusion_id, by=by, reason=note, now=now, revision=revision
        )
    except ExclusionConflict as exc:
        raise DecisionTaken(f"exclusion #{exclusion_id} was already restored") from exc
    except RevisionConflict as exc:
        raise AdminError(f"{exc}; nothing was stored, try again") from exc
    logger.info("exclusion #%d restored", done.id)
    return done, None if row is None else reports.stored_revision(wave, row, settings)
