"""Personal one-time invitations: only token hashes are stored, and one claim wins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    Row,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.answers import responses
from storage.db import from_db, read_connection, utc, write_transaction
from storage.metadata import metadata
from storage.respondents import survey_sessions
from storage.units import units
from storage.values import ClaimStatus

__all__ = [
    "Invitation",
    "InvitationClaim",
    "InvitationUptake",
    "NewInvitation",
    "claim_invitation",
    "create_invitations",
    "get_invitation",
    "invitation_uptake",
    "invitations",
]


@dataclass(frozen=True, slots=True)
class NewInvitation:
    """One personal invitation to create: only the token's hash is stored."""

    token_hash: str
    wave_id: int
    grp: str
    unit_id: int


@dataclass(frozen=True, slots=True)
class Invitation:
    """A personal one-time invitation (internal or expert group)."""

    id: int
    wave_id: int
    grp: str
    unit_id: int
    used: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class InvitationClaim:
    """Result of `claim_invitation`: the invitation when claimed or already used."""

    status: ClaimStatus
    invitation: Invitation | None = None


@dataclass(frozen=True, slots=True)
class InvitationUptake:
    """Personal links of one unit and group in a wave: issued, opened (in use), completed."""

    unit_code: str
    unit_name: str
    grp: str
    issued: int
    opened: int
    completed: int


# Personal one-time invitations (internal, expert). Only the token's hash is kept, and no name.
# `used`: a survey was submitted on the link (a survey in progress on it is its session).
invitations = Table(
    "invitations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("wave_id", ForeignKey("waves.id", ondelete="CASCADE"), nullable=False),
    Column("grp", String(10), nullable=False),
    Column("unit_id", ForeignKey("units.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("used", Boolean, nullable=False, server_default="0"),
    CheckConstraint("grp IN ('internal', 'expert')", name="grp"),
)

# Rows per INSERT statement for bulk invitations: well under SQLite's variable limit.
_BATCH: Final = 1000


async def create_invitations(
    engine: AsyncEngine, new: Iterable[NewInvitation], now: datetime
) -> int:
    """Store invitations (token hashes only) in one transaction; return how many."""
    created_at = utc(now)
    rows = [
        {
            "token_hash": item.token_hash,
            "wave_id": item.wave_id,
            "grp": item.grp,
            "unit_id": item.unit_id,
            "created_at": created_at,
            "used": False,
        }
        for item in new
    ]
    async with write_transaction(engine) as conn:
        for start in range(0, len(rows), _BATCH):
            await conn.execute(invitations.insert(), rows[start : start + _BATCH])
    return len(rows)


def _invitation(row: Row[Any]) -> Invitation:
    """Build an Invitation from an invitations row."""
    return Invitation(
        id=row.id,
        wave_id=row.wave_id,
        grp=row.grp,
        unit_id=row.unit_id,
        used=bool(row.used),
        created_at=from_db(row.created_at),
    )


async def get_invitation(engine: AsyncEngine, token_hash: str) -> Invitation | None:
    """Return the invitation with this token hash, or None."""
    async with read_connection(engine) as conn:
        row = (
            await conn.execute(select(invitations).where(invitations.c.token_hash == token_hash))
        ).first()
    return None if row is None else _invitation(row)


async def claim_invitation(engine: AsyncEngine, token_hash: str) -> InvitationClaim:
    """Mark an unused invitation used and return it; exactly one concurrent claim wins.

    The bot marks a link used when a survey is submitted on it (`storage.sessions.submit`);
    while one is in progress, its session is the claim.
    """
    async with write_transaction(engine) as conn:
        # The conditional UPDATE is the claim: only one transaction can flip used to true.
        claimed = await conn.execute(
            update(invitations)
            .where(invitations.c.token_hash == token_hash, invitations.c.used.is_(False))
            .values(used=True)
        )
        row = (
            await conn.execute(select(invitations).where(invitations.c.token_hash == token_hash))
        ).first()
    if row is None:
        return InvitationClaim(ClaimStatus.UNKNOWN)
    status = ClaimStatus.CLAIMED if claimed.rowcount == 1 else ClaimStatus.ALREADY_USED
    return InvitationClaim(status, _invitation(row))


async def invitation_uptake(engine: AsyncEngine, wave_id: int) -> list[InvitationUptake]:
    """Return, per unit and group, how many personal links were issued, opened and completed.

    Opened counts links in use (a survey started on them, finished or not); completed counts
    submitted responses of the unit and group, which only personal links can start.
    """
    in_progress = exists().where(survey_sessions.c.invitation_id == invitations.c.id)
    opened = func.sum(case((or_(invitations.c.used.is_(True), in_progress), 1), else_=0))
    issued_stmt = (
        select(
            invitations.c.unit_id,
            invitations.c.grp,
            func.count().label("issued"),
            opened.label("opened"),
        )
        .where(invitations.c.wave_id == wave_id)
        .group_by(invitations.c.unit_id, invitations.c.grp)
        .subquery()
    )
    done = (
        select(responses.c.unit_id, responses.c.grp, func.count().label("completed"))
        .where(responses.c.wave_id == wave_id)
        .group_by(responses.c.unit_id, responses.c.grp)
        .subquery()
    )
    stmt = (
        select(
            units.c.code,
            units.c.name,
            issued_stmt.c.grp,
            issued_stmt.c.issued,
            issued_stmt.c.opened,
            func.coalesce(done.c.completed, 0).label("completed"),
        )
        .join(units, units.c.id == issued_stmt.c.unit_id)
        .outerjoin(
            done, and_(done.c.unit_id == issued_stmt.c.unit_id, done.c.grp == issued_stmt.c.grp)
        )
        .order_by(units.c.code, issued_stmt.c.grp)
    )
    async with read_connection(engine) as conn:
        rows = await conn.execute(stmt)
        return [
            InvitationUptake(
                unit_code=row.code,
                unit_name=row.name,
                grp=row.grp,
                issued=int(row.issued),
                opened=int(row.opened or 0),
                completed=int(row.completed),
            )
            for row in rows
        ]
