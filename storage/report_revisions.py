"""Frozen final reports and their dated revisions (issue 22); the newest revision is in force.

Revision 1 of a wave is its final report as it was when the wave closed; a correction entered
later, or closing the wave again after a reopening, adds the next number. Rows are written
once and never changed: what was published stays readable as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.corrections import Correction, insert_correction
from storage.db import from_db, read_connection, utc, write_transaction
from storage.errors import StorageError
from storage.metadata import metadata

__all__ = [
    "RevisionConflict",
    "RevisionDraft",
    "RevisionKind",
    "StoredRevision",
    "add_revision",
    "correct_wave",
    "insert_revision",
    "latest_revision",
    "latest_revision_date",
    "list_revisions",
    "report_revisions",
    "revisions_after",
]


# A closed wave's published report, frozen (issue 22): number 1 is the final report as it was
# when the wave closed; each later row is a dated revision (a correction, or the wave closed
# again after a reopening), and the newest is in force. `report_json` is the whole `Report`
# (scoring/frozen.py): the numbers as shown, counts per unit and group, no answers and no
# person; `changes_json` lists what this revision changed from the one before.
report_revisions = Table(
    "report_revisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("kind", String(12), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("report_json", Text, nullable=False),
    Column("changes_json", Text, nullable=False, server_default="[]"),
    Column("correction_id", ForeignKey("corrections.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("wave_id", "number"),
    CheckConstraint(
        "kind IN ('final', 'correction', 'reclosed', 'exclusion', 'restored')", name="kind"
    ),
)


class RevisionKind(StrEnum):
    """Why a revision exists."""

    FINAL = "final"  # the report frozen when the wave closed (number 1)
    CORRECTION = "correction"  # a correction entered after the wave closed
    RECLOSED = "reclosed"  # the wave was reopened and closed again
    EXCLUSION = "exclusion"  # the inspectorate excluded flagged responses (issue 24)
    RESTORED = "restored"  # the inspectorate restored responses it had excluded


class RevisionConflict(StorageError):
    """Another revision of the wave was written at the same time (try again)."""


@dataclass(frozen=True, slots=True)
class RevisionDraft:
    """A revision to write: what it is, why, the report and what changed (both JSON)."""

    kind: RevisionKind
    note: str
    report_json: str
    changes_json: str = "[]"


@dataclass(frozen=True, slots=True)
class StoredRevision:
    """A stored revision. `report_json` is empty when listed without reports."""

    id: int
    wave_id: int
    number: int
    kind: RevisionKind
    note: str
    changes_json: str
    correction_id: int | None
    created_at: datetime
    report_json: str = ""


def _revision(row: Any, *, with_report: bool) -> StoredRevision:
    return StoredRevision(
        id=row.id,
        wave_id=row.wave_id,
        number=row.number,
        kind=RevisionKind(row.kind),
        note=row.note,
        changes_json=row.changes_json,
        correction_id=row.correction_id,
        created_at=from_db(row.created_at),
        report_json=row.report_json if with_report else "",
    )


_LISTED = [c for c in report_revisions.c if c.name != "report_json"]


async def _insert(
    conn: AsyncConnection,
    wave_id: int,
    draft: RevisionDraft,
    number: int,
    now: datetime,
    correction_id: int | None,
) -> StoredRevision:
    """Insert revision `number`; RevisionConflict when that number was taken meanwhile."""
    try:
        async with conn.begin_nested():
            revision_id = (
                await conn.execute(
                    report_revisions.insert()
                    .values(
                        wave_id=wave_id,
                        number=number,
                        kind=draft.kind.value,
                        note=draft.note,
                        report_json=draft.report_json,
                        changes_json=draft.changes_json,
                        correction_id=correction_id,
                        created_at=utc(now),
                    )
                    .returning(report_revisions.c.id)
                )
            ).scalar_one()
    except IntegrityError as exc:
        raise RevisionConflict(f"revision {number} of wave {wave_id} already exists") from exc
    return StoredRevision(
        revision_id,
        wave_id,
        number,
        draft.kind,
        draft.note,
        draft.changes_json,
        correction_id,
        utc(now),
        draft.report_json,
    )


async def insert_revision(
    conn: AsyncConnection, wave_id: int, draft: RevisionDraft, number: int, now: datetime
) -> StoredRevision:
    """Write revision `number` inside the caller's transaction (an exclusion's, with it);
    RevisionConflict when that number was taken meanwhile."""
    return await _insert(conn, wave_id, draft, number, now, None)


async def add_revision(
    engine: AsyncEngine, wave_id: int, draft: RevisionDraft, number: int, now: datetime
) -> StoredRevision:
    """Write revision `number` of a wave (the caller read `number - 1` as the one in force).

    RevisionConflict when another process wrote that number first: the caller reads again.
    """
    async with write_transaction(engine) as conn:
        return await _insert(conn, wave_id, draft, number, now, None)


async def correct_wave(
    engine: AsyncEngine,
    wave_id: int,
    integrity: float,
    prevalence: float,
    note: str,
    now: datetime,
    revision: tuple[RevisionDraft, int] | None,
) -> tuple[Correction, StoredRevision | None]:
    """Record a correction and, for a closed wave, its revision (draft, number): both or none.

    ValueError for a deduction outside 0-20 points; NotFound for an unknown wave;
    RevisionConflict when the revision number was taken meanwhile (nothing is written).
    """
    async with write_transaction(engine) as conn:
        correction = await insert_correction(conn, wave_id, integrity, prevalence, note, now)
        stored = None
        if revision is not None:
            draft, number = revision
            stored = await _insert(conn, wave_id, draft, number, now, correction.id)
    return correction, stored


async def latest_revision(engine: AsyncEngine, wave_id: int) -> StoredRevision | None:
    """Return the revision in force (the newest, with its report), or None when not frozen."""
    async with read_connection(engine) as conn:
        row = (
            await conn.execute(
                select(report_revisions)
                .where(report_revisions.c.wave_id == wave_id)
                .order_by(report_revisions.c.number.desc())
                .limit(1)
            )
        ).first()
    return None if row is None else _revision(row, with_report=True)


async def list_revisions(engine: AsyncEngine, wave_id: int) -> list[StoredRevision]:
    """Return a wave's revisions, oldest first, without their reports."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(
            select(*_LISTED)
            .where(report_revisions.c.wave_id == wave_id)
            .order_by(report_revisions.c.number)
        )
        return [_revision(row, with_report=False) for row in rows]


async def revisions_after(engine: AsyncEngine, moment: datetime) -> list[StoredRevision]:
    """Return the revisions (not first final reports) written after `moment`, oldest first,
    without their reports: what subscribed chats must still be told."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(
            select(*_LISTED)
            .where(
                report_revisions.c.number > 1,
                report_revisions.c.created_at > utc(moment),
            )
            .order_by(report_revisions.c.created_at, report_revisions.c.id)
        )
        return [_revision(row, with_report=False) for row in rows]


async def latest_revision_date(engine: AsyncEngine, wave_id: int) -> datetime | None:
    """Return when the revision in force was written, if it is a revision (number > 1)."""
    async with read_connection(engine) as conn:
        found = await conn.execute(
            select(func.max(report_revisions.c.created_at)).where(
                report_revisions.c.wave_id == wave_id, report_revisions.c.number > 1
            )
        )
        moment = found.scalar_one_or_none()
    return None if moment is None else from_db(moment)
