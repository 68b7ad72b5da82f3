"""Published numbers never move silently: a closed wave's final report is frozen, and a later
correction makes a dated revision (docs/scoring.md §9).

`close_wave` closes a wave and freezes its report (revision 1) at once, so later changes to
code, units or data do not move it; `freeze` also catches a wave closed some other way (the
first read freezes it). `set_correction` records a correction: for a closed wave it applies
the new deductions to the report in force (`scoring.revisions.with_corrections`, no
re-scoring) and stores the result as the next revision, with what changed and why, in one
transaction. The scheduler pushes every revision to the subscribed chats
(`services.pushes`), and every text that shows a number of a revised wave says so.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime

import storage.corrections
import storage.waves
from scoring import Corrections, Report, WaveResult
from scoring.frozen import FrozenReportError, report_from_json, report_to_json
from scoring.revisions import Change, report_changes, with_corrections
from services.errors import AdminError
from services.reports.build import ScoringContext, build_live, load_context
from services.settings import Settings
from storage import report_revisions as stored
from storage.db import AsyncEngine
from storage.report_revisions import RevisionConflict, RevisionDraft, RevisionKind

__all__ = [
    "Revision",
    "RevisionKind",
    "changes_json",
    "close_wave",
    "earlier_results",
    "earlier_scopes",
    "freeze",
    "latest_number",
    "revisions_after",
    "revisions_of",
    "set_correction",
    "stored_revision",
]

logger = logging.getLogger(__name__)

# Revisions told to subscribed chats as such (a reclosed wave's final report goes out again).
_PUSHED = frozenset({RevisionKind.CORRECTION, RevisionKind.EXCLUSION, RevisionKind.RESTORED})


@dataclass(frozen=True, slots=True)
class Revision:
    """One published version of a closed wave's report, as texts show it."""

    wave: str
    number: int  # 1: the final report as the wave closed
    kind: RevisionKind
    note: str  # the correction's note; empty for the final report
    created_on: date  # in the bot's time zone
    changes: tuple[Change, ...]  # from the revision before


def _changes_json(changes: tuple[Change, ...]) -> str:
    return json.dumps(
        [
            {"what": c.what, "unit": c.unit_code, "before": c.before, "after": c.after}
            for c in changes
        ],
        ensure_ascii=False,
    )


def changes_json(changes: tuple[Change, ...]) -> str:
    """Return what a revision changed as the JSON stored beside it."""
    return _changes_json(changes)


def stored_revision(
    wave: storage.waves.Wave, row: stored.StoredRevision, settings: Settings
) -> Revision:
    """Return a stored revision as texts show it."""
    return _revision(wave, row, settings)


async def latest_number(engine: AsyncEngine, wave: storage.waves.Wave) -> int | None:
    """Return the number of the revision in force, or None when the wave was never frozen."""
    latest = await stored.latest_revision(engine, wave.id)
    return None if latest is None else latest.number


def _changes(text: str) -> tuple[Change, ...]:
    try:
        return tuple(
            Change(c["what"], c["unit"], c["before"], c["after"]) for c in json.loads(text)
        )
    except (KeyError, TypeError, ValueError):
        return ()


def _revision(wave: storage.waves.Wave, row: stored.StoredRevision, settings: Settings) -> Revision:
    return Revision(
        wave=wave.name,
        number=row.number,
        kind=row.kind,
        note=row.note,
        created_on=row.created_at.astimezone(settings.zone).date(),
        changes=_changes(row.changes_json),
    )


async def revisions_after(
    engine: AsyncEngine, settings: Settings, moment: datetime
) -> list[tuple[storage.waves.Wave, Revision, datetime]]:
    """Return the revisions written after `moment` by corrections and by the inspectorate's
    exclusions and restores, oldest first, with their wave and exact time: what a
    subscribed chat must still be told. (A wave closed again
    after a reopening gets its final report again instead, which carries the note.)"""
    out: list[tuple[storage.waves.Wave, Revision, datetime]] = []
    for row in await stored.revisions_after(engine, moment):
        if row.kind not in _PUSHED:
            continue
        wave = await storage.waves.get_wave_by_id(engine, row.wave_id)
        if wave is not None:
            out.append((wave, _revision(wave, row, settings), row.created_at))
    return out


async def revisions_of(
    engine: AsyncEngine, settings: Settings, wave: storage.waves.Wave
) -> tuple[Revision, ...]:
    """Return a wave's published versions, oldest first (empty while it was never closed)."""
    rows = await stored.list_revisions(engine, wave.id)
    return tuple(_revision(wave, row, settings) for row in rows)


def _is_closed(wave: storage.waves.Wave) -> bool:
    return not wave.is_open and wave.closed_at is not None


async def freeze(
    engine: AsyncEngine,
    settings: Settings,
    wave: storage.waves.Wave,
    *,
    ctx: ScoringContext | None = None,
    history: tuple[WaveResult, ...] = (),
    now: datetime,
) -> Report | None:
    """Return the closed wave's report in force, freezing it first when this closing has not
    been frozen yet (revision 1; after a reopening, the next revision). None when open."""
    if not _is_closed(wave):
        return None
    assert wave.closed_at is not None
    latest = await stored.latest_revision(engine, wave.id)
    if latest is not None and latest.created_at >= wave.closed_at:
        return _read(latest)
    context = ctx or await load_context(engine, settings)
    day = wave.closed_at.astimezone(settings.zone).date()
    report = await build_live(engine, settings, context, wave, history, day)
    before = None if latest is None else _read(latest)
    kind = RevisionKind.FINAL if latest is None else RevisionKind.RECLOSED
    changes = () if before is None else report_changes(before, report)
    draft = RevisionDraft(kind, "", report_to_json(report), _changes_json(changes))
    number = 1 if latest is None else latest.number + 1
    # Dated no earlier than the closing it freezes (a clock behind the closing time must not
    # make the next read take this closing for a new one).
    try:
        await stored.add_revision(engine, wave.id, draft, number, max(now, wave.closed_at))
        logger.info("wave %s: report frozen as revision %d (%s)", wave.name, number, kind.value)
    except RevisionConflict:  # another process froze this closing first: read its revision
        found = await stored.latest_revision(engine, wave.id)
        assert found is not None
        return _read(found)
    return report


def _read(row: stored.StoredRevision) -> Report:
    try:
        return report_from_json(row.report_json)
    except FrozenReportError as exc:
        # Never silently re-score a published report: say what is wrong and stop.
        raise AdminError(
            f"the stored report of wave id {row.wave_id} (revision {row.number}) cannot be "
            f"read: {exc}"
        ) from exc


async def earlier_scopes(
    engine: AsyncEngine,
    settings: Settings,
    wave: storage.waves.Wave,
    ctx: ScoringContext,
    now: datetime,
) -> dict[str | None, tuple[WaveResult, ...]]:
    """Return the results of the waves opened before `wave`, oldest first, per scope: the
    institution under None and each unit under its code (a unit head's /tren). Each closed
    wave's report in force (frozen if it was not yet); the institution's marked when revised."""
    waves = await storage.waves.list_waves(engine)  # newest first (opening time, then id)
    ids = [w.id for w in waves]
    earlier = list(reversed(waves[ids.index(wave.id) + 1 :])) if wave.id in ids else []
    today = now.astimezone(settings.zone).date()
    history: list[WaveResult] = []
    per_unit: dict[str, list[WaveResult]] = {}
    for older in earlier:
        report = await freeze(engine, settings, older, ctx=ctx, history=tuple(history), now=now)
        if report is None:  # an open wave older than this one: only its live result
            report = await build_live(engine, settings, ctx, older, tuple(history), today)
            result = report.to_wave_result()
        else:
            revised = await stored.latest_revision_date(engine, older.id)
            result = report.to_wave_result()
            if revised is not None:
                result = dataclasses.replace(
                    result, revised_on=revised.astimezone(settings.zone).date()
                )
        history.append(result)
        for unit in report.units:
            if unit.code is not None:
                per_unit.setdefault(unit.code, []).append(report.to_wave_result(unit.code))
    return {None: tuple(history), **{code: tuple(r) for code, r in per_unit.items()}}


async def earlier_results(
    engine: AsyncEngine,
    settings: Settings,
    wave: storage.waves.Wave,
    ctx: ScoringContext,
    now: datetime,
) -> tuple[WaveResult, ...]:
    """Return the institution results of the waves opened before `wave`, oldest first."""
    return (await earlier_scopes(engine, settings, wave, ctx, now))[None]


async def close_wave(
    engine: AsyncEngine, settings: Settings, wave: storage.waves.Wave, now: datetime
) -> bool:
    """Close an open wave and freeze its final report; False if it was not open.

    The comparison with the previous wave is frozen as a reader would have seen it then.
    """
    if not await storage.waves.close_wave(engine, wave.id, now):
        return False
    closed = await storage.waves.get_wave_by_id(engine, wave.id)
    assert closed is not None
    ctx = await load_context(engine, settings)
    history = await earlier_results(engine, settings, closed, ctx, now)
    await freeze(engine, settings, closed, ctx=ctx, history=history, now=now)
    return True


async def set_correction(
    engine: AsyncEngine,
    settings: Settings,
    wave: storage.waves.Wave,
    corrections: Corrections,
    now: datetime,
) -> tuple[storage.corrections.Correction, Revision | None]:
    """Record a wave's corrections; for a closed wave also the revision they make.

    AdminError for a deduction outside 0-20 points, or when another revision was written at
    the same moment (nothing is stored then: run the command again).
    """
    revision: tuple[RevisionDraft, int] | None = None
    wave = await storage.waves.get_wave_by_id(engine, wave.id) or wave  # closed since it was read?
    if _is_closed(wave):
        await freeze(engine, settings, wave, now=now)
        latest = await stored.latest_revision(engine, wave.id)
        assert latest is not None
        before = _read(latest)
        after = with_corrections(before, corrections)
        changes = report_changes(before, after)
        draft = RevisionDraft(
            RevisionKind.CORRECTION, corrections.note, report_to_json(after), _changes_json(changes)
        )
        revision = (draft, latest.number + 1)
        assert wave.closed_at is not None
        now = max(now, wave.closed_at)  # a revision is never dated before the closing
    try:
        correction, row = await stored.correct_wave(
            engine,
            wave.id,
            corrections.integrity,
            corrections.prevalence,
            corrections.note,
            now,
            revision,
        )
    except ValueError as exc:
        raise AdminError(str(exc)) from exc
    except RevisionConflict as exc:
        raise AdminError(f"{exc}; nothing was stored, run the command again") from exc
    return correction, None if row is None else _revision(wave, row, settings)
