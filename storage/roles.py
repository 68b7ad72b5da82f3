"""Roles (leadership, unit head), the one-time links that grant them, and how a role ends.

Officials are not anonymous: a link and the role it gives carry the label the admin wrote
("Bupati"). Ending a role (`end_role`) is one transaction: the role row, the person's
follow-up drafts and their due-date contact go, and the subscriptions they set up pause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    delete,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.actions import action_drafts
from storage.contacts import ContactPurpose, contacts
from storage.db import from_db, read_connection, utc, write_transaction
from storage.dialects import upsert
from storage.metadata import metadata
from storage.subscriptions import subscriptions
from storage.values import ClaimStatus

__all__ = [
    "GrantClaim",
    "Role",
    "RoleAssignment",
    "RoleEnd",
    "RoleGrant",
    "claim_role_grant",
    "create_role_grant",
    "end_role",
    "get_role_grant",
    "get_roles",
    "list_role_grants",
    "list_roles",
    "revoke_role",
    "revoke_role_grant",
    "role_grants",
    "roles",
]


class Role(StrEnum):
    """Roles granted by one-time links (admins come from configuration, not the database)."""

    LEADERSHIP = "leadership"
    UNIT_HEAD = "unit_head"


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """A one-time link that grants `role` (for `unit_id` when the role is unit_head)."""

    id: int
    role: Role
    unit_id: int | None
    created_at: datetime
    used: bool
    label: str | None = None  # who it is for, as the admin wrote it ("Bupati")


@dataclass(frozen=True, slots=True)
class GrantClaim:
    """Result of `claim_role_grant`: the grant when claimed or already used."""

    status: ClaimStatus
    grant: RoleGrant | None = None


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    """A role held by a pseudonym."""

    pseudonym: str
    role: Role
    unit_id: int | None
    granted_at: datetime
    label: str | None = None  # the label of the link that gave it
    grant_id: int | None = None  # that link (None for roles from before issue 20)


roles = Table(
    "roles",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("role", String(20), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=True),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    # Officials are not anonymous: the label the admin gave the link ("Bupati"), and the link.
    Column("label", String(80), nullable=True),
    Column("grant_id", Integer, nullable=True),
    CheckConstraint("role IN ('leadership', 'unit_head')", name="role"),
)


# One-time links that grant a role to whoever opens them.
role_grants = Table(
    "role_grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("used", Boolean, nullable=False, server_default="0"),
    # Who the link is for, as the admin wrote it ("Kadis Kesehatan"); shown by /akses.
    Column("label", String(80), nullable=True),
    CheckConstraint("role IN ('leadership', 'unit_head')", name="role"),
)


def _grant(row: Any) -> RoleGrant:
    """Build a RoleGrant from a role_grants row."""
    return RoleGrant(
        id=row.id,
        role=Role(row.role),
        unit_id=row.unit_id,
        created_at=from_db(row.created_at),
        used=bool(row.used),
        label=row.label,
    )


def _assignment(row: Any) -> RoleAssignment:
    """Build a RoleAssignment from a roles row."""
    return RoleAssignment(
        pseudonym=row.pseudonym,
        role=Role(row.role),
        unit_id=row.unit_id,
        granted_at=from_db(row.granted_at),
        label=row.label,
        grant_id=row.grant_id,
    )


async def create_role_grant(
    engine: AsyncEngine,
    token_hash: str,
    role: Role,
    unit_id: int | None,
    now: datetime,
    label: str | None = None,
) -> RoleGrant:
    """Store a one-time role link (its token's hash only) with the admin's label."""
    if (role is Role.UNIT_HEAD) != (unit_id is not None):
        raise ValueError("a unit_head grant needs a unit; a leadership grant has none")
    async with write_transaction(engine) as conn:
        grant_id = (
            await conn.execute(
                role_grants.insert()
                .values(
                    token_hash=token_hash,
                    role=role.value,
                    unit_id=unit_id,
                    created_at=utc(now),
                    used=False,
                    label=label,
                )
                .returning(role_grants.c.id)
            )
        ).scalar_one()
    return RoleGrant(grant_id, role, unit_id, utc(now), used=False, label=label)


async def claim_role_grant(
    engine: AsyncEngine,
    token_hash: str,
    pseudonym: str,
    now: datetime,
    *,
    created_after: datetime | None = None,
) -> GrantClaim:
    """Use a role link once: the first claimer gets the role, later ones ALREADY_USED.

    A link created at or before `created_after` has expired: EXPIRED, and it stays unused.
    """
    async with write_transaction(engine) as conn:
        # The conditional UPDATE is the claim: only one transaction can flip used to true.
        fresh = [role_grants.c.token_hash == token_hash, role_grants.c.used.is_(False)]
        if created_after is not None:
            fresh.append(role_grants.c.created_at > utc(created_after))
        claimed = await conn.execute(update(role_grants).where(*fresh).values(used=True))
        row = (
            await conn.execute(select(role_grants).where(role_grants.c.token_hash == token_hash))
        ).first()
        if row is None:
            return GrantClaim(ClaimStatus.UNKNOWN)
        if claimed.rowcount != 1:
            status = ClaimStatus.ALREADY_USED if row.used else ClaimStatus.EXPIRED
            return GrantClaim(status, _grant(row))
        await conn.execute(
            upsert(
                conn,
                roles,
                {
                    "pseudonym": pseudonym,
                    "role": row.role,
                    "unit_id": row.unit_id,
                    "granted_at": utc(now),
                    "label": row.label,
                    "grant_id": row.id,
                },
                ["pseudonym", "role"],
                ["unit_id", "granted_at", "label", "grant_id"],
            )
        )
    return GrantClaim(ClaimStatus.CLAIMED, _grant(row))


async def get_role_grant(engine: AsyncEngine, grant_id: int) -> RoleGrant | None:
    """Return a role link by its id (used or not), or None."""
    async with read_connection(engine) as conn:
        row = (await conn.execute(select(role_grants).where(role_grants.c.id == grant_id))).first()
    return None if row is None else _grant(row)


async def get_roles(engine: AsyncEngine, pseudonym: str) -> list[RoleAssignment]:
    """Return the roles this pseudonym holds."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(
            select(roles).where(roles.c.pseudonym == pseudonym).order_by(roles.c.role)
        )
        return [_assignment(row) for row in rows]


async def list_roles(engine: AsyncEngine) -> list[RoleAssignment]:
    """Return every role assignment, oldest first."""
    async with read_connection(engine) as conn:
        rows = await conn.execute(select(roles).order_by(roles.c.granted_at, roles.c.role))
        return [_assignment(row) for row in rows]


async def revoke_role(engine: AsyncEngine, pseudonym: str, role: Role) -> bool:
    """Take a role away; return False if the pseudonym did not hold it."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            delete(roles).where(roles.c.pseudonym == pseudonym, roles.c.role == role.value)
        )
        return result.rowcount == 1


async def list_role_grants(engine: AsyncEngine, *, include_used: bool = False) -> list[RoleGrant]:
    """Return role links, newest first (unused ones only unless `include_used`)."""
    stmt = select(role_grants).order_by(role_grants.c.created_at.desc(), role_grants.c.id.desc())
    if not include_used:
        stmt = stmt.where(role_grants.c.used.is_(False))
    async with read_connection(engine) as conn:
        return [_grant(row) for row in await conn.execute(stmt)]


async def revoke_role_grant(engine: AsyncEngine, grant_id: int) -> bool:
    """Withdraw an unused role link; return False if it is unknown or already used."""
    async with write_transaction(engine) as conn:
        result = await conn.execute(
            delete(role_grants).where(role_grants.c.id == grant_id, role_grants.c.used.is_(False))
        )
        return result.rowcount == 1


@dataclass(frozen=True, slots=True)
class RoleEnd:
    """What `end_role` did."""

    revoked: bool  # the role row was there and is gone
    paused_chats: tuple[int, ...]  # subscriptions paused (chat ids)
    drafts_dropped: int
    contact_dropped: bool


async def end_role(
    engine: AsyncEngine,
    pseudonym: str,
    role: Role,
    *,
    reason: str,
    pause_subscriptions: bool,
    private_chats: Sequence[int] = (),
    drop_official_contact: bool,
) -> RoleEnd:
    """Take a role away and, in the same transaction, what it set up.

    Always drops the person's follow-up drafts. With `pause_subscriptions`, pauses (with
    `reason`) every active subscription they set up (`created_by`) and those of
    `private_chats` (their own private chat, for rows from before `created_by`). With
    `drop_official_contact`, deletes the encrypted chat id kept for due-date reminders.
    """
    async with write_transaction(engine) as conn:
        revoked = (
            await conn.execute(
                delete(roles).where(roles.c.pseudonym == pseudonym, roles.c.role == role.value)
            )
        ).rowcount == 1
        drafts = (
            await conn.execute(delete(action_drafts).where(action_drafts.c.pseudonym == pseudonym))
        ).rowcount
        dropped = False
        if drop_official_contact:
            dropped = (
                await conn.execute(
                    delete(contacts).where(
                        contacts.c.pseudonym == pseudonym,
                        contacts.c.purpose == ContactPurpose.OFFICIAL.value,
                    )
                )
            ).rowcount > 0
        paused: list[int] = []
        if pause_subscriptions:
            theirs = or_(
                subscriptions.c.created_by == pseudonym,
                subscriptions.c.chat_id.in_(list(private_chats)),
            )
            where = [theirs, subscriptions.c.active.is_(True)]
            paused = [
                int(chat)
                for (chat,) in await conn.execute(
                    select(subscriptions.c.chat_id).where(*where).order_by(subscriptions.c.id)
                )
            ]
            if paused:
                await conn.execute(
                    update(subscriptions)
                    .where(subscriptions.c.chat_id.in_(paused))
                    .values(active=False, paused_reason=reason[:200])
                )
    return RoleEnd(revoked, tuple(paused), int(drafts), dropped)
