"""The inspectorate's exclusions of flagged responses (issue 24): who, when, why, which.

An exclusion leaves a set of responses out of a wave's index after a survey-integrity
signal (`scoring.integrity`); it names them by their random response ids only and keeps
who decided ("admin:" and a pseudonym code, or "cli:" and a shell user), when and why. A
restore puts them back and keeps the trail. For a closed wave the revision of its frozen
report that the decision makes is written in the same transaction (both or neither).
A chat dialogue keeps its state in a 'pending' row: its reason, then its confirmation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.answers import responses
from storage.db import from_db, read_connection, utc, write_transaction
from storage.errors import NotFound, StorageError
from storage.metadata import GROUPS, metadata
from storage.report_revisions import RevisionDraft, StoredRevision, insert_revision
from storage.units import units

__all__ = [
    "ActiveExclusion",
    "ExclusionConflict",
    "ExclusionStatus",
    "StoredExclusion",
    "activate",
    "active_exclusions",
    "discard",
    "draft_exclusion",
    "excluded_responses",
    "get_exclusion",
    "integrity_exclusions",
    "list_exclusions",
    "pending_for",
    "restore",
    "set_reason",
]


# Responses the inspectorate left out of a wave's index after a survey-integrity signal
# (issue 24), with who decided, when and why, and whether they were restored. `created_by`
# is the decider ("admin:" and their 12-character pseudonym code, or "cli:" and the shell
# user), never a respondent. A 'pending' row is a chat dialogue waiting for its reason or
# its confirmation: its responses are found again when it is confirmed, and must still match
# `fingerprint` (a hash of the set the officer was shown).
integrity_exclusions = Table(
    "integrity_exclusions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), nullable=False),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("grp", String(10), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("fingerprint", String(16), nullable=False),
    Column("status", String(10), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("count", Integer, nullable=False, server_default="0"),
    Column("created_by", String(80), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("restored_by", String(80), nullable=True),
    Column("restored_at", DateTime(timezone=True), nullable=True),
    Column("restore_reason", Text, nullable=True),
    CheckConstraint(f"grp IN {GROUPS}", name="grp"),
    CheckConstraint("kind IN ('burst', 'uniform', 'rushing', 'contradiction')", name="kind"),
    CheckConstraint("status IN ('pending', 'active', 'restored')", name="status"),
)

Index("ix_integrity_exclusions_wave_id", integrity_exclusions.c.wave_id)


# Which responses an exclusion leaves out: random response ids only (no time, no person),
# stored in key order (WITHOUT ROWID; see the note in storage.metadata), kept after a restore as the
# trail of what was excluded.
excluded_responses = Table(
    "excluded_responses",
    metadata,
    Column(
        "exclusion_id",
        ForeignKey("integrity_exclusions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("response_id", ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True),
    sqlite_with_rowid=False,
)

_MAX_BY = 80


class ExclusionStatus(StrEnum):
    """Where an exclusion stands."""

    PENDING = "pending"  # a chat dialogue: waiting for its reason or its confirmation
    ACTIVE = "active"  # its responses are out of the index
    RESTORED = "restored"  # put back; kept as the trail


class ExclusionConflict(StorageError):
    """The exclusion is not in the state the action needs (a double tap, a stale button)."""


@dataclass(frozen=True, slots=True)
class StoredExclusion:
    """One exclusion as stored (the response ids live in `excluded_responses`)."""

    id: int
    wave_id: int
    unit_code: str
    grp: str
    kind: str
    fingerprint: str
    status: ExclusionStatus
    reason: str
    count: int
    created_by: str
    created_at: datetime
    decided_at: datetime | None
    restored_by: str | None
    restored_at: datetime | None
    restore_reason: str | None


@dataclass(frozen=True, slots=True)
class ActiveExclusion:
    """An exclusion in force and the responses it leaves out."""

    exclusion: StoredExclusion
    response_ids: frozenset[str]


_COLUMNS = [*integrity_exclusions.c, units.c.code]


def _exclusion(row: Any) -> StoredExclusion:
    def moment(value: datetime | None) -> datetime | None:
        return None if value is None else from_db(value)

    return StoredExclusion(
        id=row.id,
        wave_id=row.wave_id,
        unit_code=row.code,
        grp=row.grp,
        kind=row.kind,
        fingerprint=row.fingerprint,
        status=ExclusionStatus(row.status),
        reason=row.reason,
        count=row.count,
        created_by=row.created_by,
        created_at=from_db(row.created_at),
        decided_at=moment(row.decided_at),
        restored_by=row.restored_by,
        restored_at=moment(row.restored_at),
        restore_reason=row.restore_reason,
    )


def _select() -> Any:
    return select(*_COLUMNS).join(units, units.c.id == integrity_exclusions.c.unit_id)


async def _get(conn: AsyncConnection, exclusion_id: int) -> StoredExclusion | None:
    row = (await conn.execute(_select().where(integrity_exclusions.c.id == exclusion_id))).first()
    return None if row is None else _exclusion(row)


async def get_exclusion(engine: AsyncEngine, exclusion_id: int) -> StoredExclusion | None:
    """Return one exclusion, or None."""
    async with read_connection(engine) as conn:
        return await _get(conn, exclusion_id)


async def draft_exclusion(
    engine: AsyncEngine,
    *,
    wave_id: int,
    unit_code: str,
    grp: str,
    kind: str,
    fingerprint: str,
    created_by: str,
    now: datetime,
    reason: str = "",
) -> StoredExclusion:
    """Start an exclusion as 'pending' (its responses come at `activate`); the same
    decider's older pending drafts go, so only the newest dialogue is live. NotFound for
    an unknown unit."""
    async with write_transaction(engine) as conn:
        unit_id = (
            await conn.execute(select(units.c.id).where(units.c.code == unit_code))
        ).scalar_one_or_none()
        if unit_id is None:
            raise NotFound(f"unknown unit code {unit_code!r}")
        await conn.execute(
            delete(integrity_exclusions).where(
                integrity_exclusions.c.created_by == created_by[:_MAX_BY],
                integrity_exclusions.c.status == ExclusionStatus.PENDING.value,
            )
        )
        exclusion_id = (
            await conn.execute(
                integrity_exclusions.insert()
                .values(
                    wave_id=wave_id,
                    unit_id=unit_id,
                    grp=grp,
                    kind=kind,
                    fingerprint=fingerprint,
                    status=ExclusionStatus.PENDING.value,
                    reason=reason,
                    created_by=created_by[:_MAX_BY],
                    created_at=utc(now),
                )
                .returning(integrity_exclusions.c.id)
            )
        ).scalar_one()
        found = await _get(conn, exclusion_id)
    assert found is not None
    return found


async def pending_for(
    engine: AsyncEngine, created_by: str, since: datetime
) -> StoredExclusion | None:
    """Return the decider's pending exclusion started after `since`, or None."""
    async with read_connection(engine) as conn:
        row = (
            await conn.execute(
                _select()
                .where(
                    integrity_exclusions.c.created_by == created_by[:_MAX_BY],
                    integrity_exclusions.c.status == ExclusionStatus.PENDING.value,
                    integrity_exclusions.c.created_at > utc(since),
                )
                .order_by(integrity_exclusions.c.id.desc())
                .limit(1)
            )
        ).first()
    return None if row is None else _exclusion(row)


async def discard(engine: AsyncEngine, exclusion_id: int) -> bool:
    """Drop a pending exclusion (the officer cancelled); False when it is not pending."""
    async with write_transaction(engine) as conn:
        gone = await conn.execute(
            delete(integrity_exclusions).where(
                integrity_exclusions.c.id == exclusion_id,
                integrity_exclusions.c.status == ExclusionStatus.PENDING.value,
            )
        )
    return gone.rowcount == 1


async def set_reason(engine: AsyncEngine, exclusion_id: int, reason: str) -> bool:
    """Give a pending exclusion its reason; False when it is no longer pending."""
    async with write_transaction(engine) as conn:
        changed = await conn.execute(
            update(integrity_exclusions)
            .where(
                integrity_exclusions.c.id == exclusion_id,
                integrity_exclusions.c.status == ExclusionStatus.PENDING.value,
            )
            .values(reason=reason)
        )
    return changed.rowcount == 1


async def activate(
    engine: AsyncEngine,
    exclusion_id: int,
    response_ids: Iterable[str],
    now: datetime,
    revision: tuple[RevisionDraft, int] | None = None,
) -> tuple[StoredExclusion, StoredRevision | None]:
    """Put a pending exclusion in force with its responses (and, for a closed wave, the
    revision it makes): all or nothing. ExclusionConflict when it is not pending any more
    (confirmed twice, or replaced) or a response is not of its wave; RevisionConflict when
    the revision number was taken meanwhile."""
    ids = sorted(set(response_ids))  # written in key order: nothing of when they came
    async with write_transaction(engine) as conn:
        current = await _get(conn, exclusion_id)
        if current is None or current.status is not ExclusionStatus.PENDING:
            raise ExclusionConflict(f"exclusion {exclusion_id} is not waiting to be confirmed")
        if not ids:
            raise ExclusionConflict(f"exclusion {exclusion_id} has no responses")
        of_wave = (
            await conn.execute(
                select(responses.c.id).where(
                    responses.c.id.in_(ids), responses.c.wave_id == current.wave_id
                )
            )
        ).all()
        if len(of_wave) != len(ids):
            raise ExclusionConflict(f"exclusion {exclusion_id}: responses of another wave")
        changed = await conn.execute(
            update(integrity_exclusions)
            .where(
                integrity_exclusions.c.id == exclusion_id,
                integrity_exclusions.c.status == ExclusionStatus.PENDING.value,
            )
            .values(status=ExclusionStatus.ACTIVE.value, count=len(ids), decided_at=utc(now))
        )
        if changed.rowcount != 1:
            raise ExclusionConflict(f"exclusion {exclusion_id} is not waiting to be confirmed")
        await conn.execute(
            excluded_responses.insert(),
            [{"exclusion_id": exclusion_id, "response_id": i} for i in ids],
        )
        stored = None
        if revision is not None:
            stored = await insert_revision(conn, current.wave_id, *revision, now)
        done = await _get(conn, exclusion_id)
    assert done is not None
    return done, stored


async def restore(
    engine: AsyncEngine,
    exclusion_id: int,
    *,
    by: str,
    reason: str,
    now: datetime,
    revision: tuple[RevisionDraft, int] | None = None,
) -> tuple[StoredExclusion, StoredRevision | None]:
    """Put an exclusion's responses back (and write the revision it makes): all or nothing.
    ExclusionConflict when it is not in force (restored already, or never confirmed)."""
    async with write_transaction(engine) as conn:
        current = await _get(conn, exclusion_id)
        if current is None or current.status is not ExclusionStatus.ACTIVE:
            raise ExclusionConflict(f"exclusion {exclusion_id} is not in force")
        changed = await conn.execute(
            update(integrity_exclusions)
            .where(
                integrity_exclusions.c.id == exclusion_id,
                integrity_exclusions.c.status == ExclusionStatus.ACTIVE.value,
            )
            .values(
                status=ExclusionStatus.RESTORED.value,
                restored_by=by[:_MAX_BY],
                restored_at=utc(now),
                restore_reason=reason,
            )
        )
        if changed.rowcount != 1:
            raise ExclusionConflict(f"exclusion {exclusion_id} is not in force")
        stored = None
        if revision is not None:
            stored = await insert_revision(conn, current.wave_id, *revision, now)
        done = await _get(conn, exclusion_id)
    assert done is not None
    return done, stored


async def active_exclusions(engine: AsyncEngine, wave_id: int) -> list[ActiveExclusion]:
    """Return a wave's exclusions in force with their responses, oldest first."""
    async with read_connection(engine) as conn:
        rows = (
            await conn.execute(
                _select()
                .where(
                    integrity_exclusions.c.wave_id == wave_id,
                    integrity_exclusions.c.status == ExclusionStatus.ACTIVE.value,
                )
                .order_by(integrity_exclusions.c.id)
            )
        ).all()
        found = [_exclusion(row) for row in rows]
        members: dict[int, set[str]] = {e.id: set() for e in found}
        if found:
            pairs = await conn.execute(
                select(excluded_responses.c.exclusion_id, excluded_responses.c.response_id).where(
                    excluded_responses.c.exclusion_id.in_(list(members))
                )
            )
            for exclusion_id, response_id in pairs:
                members[exclusion_id].add(response_id)
    return [ActiveExclusion(e, frozenset(members[e.id])) for e in found]


async def list_exclusions(engine: AsyncEngine, wave_id: int) -> list[StoredExclusion]:
    """Return a wave's decided exclusions (in force and restored), oldest first."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(
            _select()
            .where(
                integrity_exclusions.c.wave_id == wave_id,
                integrity_exclusions.c.status != ExclusionStatus.PENDING.value,
            )
            .order_by(integrity_exclusions.c.id)
        )
        return [_exclusion(row) for row in rows]
