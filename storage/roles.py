"""Roles (leadership, unit head) and the one-time links that grant them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import from_db, read_connection, utc, write_transaction
from storage.dialects import upsert
from storage.models import ClaimStatus, GrantClaim, Role, RoleAssignment, RoleGrant
from storage.schema import role_grants, roles

__all__ = [
    "claim_role_grant",
    "create_role_grant",
    "get_roles",
    "list_role_grants",
    "list_roles",
    "revoke_role",
    "revoke_role_grant",
]


def _grant(row: Any) -> RoleGrant:
    """Build a RoleGrant from a role_grants row."""
    return RoleGrant(
        id=row.id,
        role=Role(row.role),
        unit_id=row.unit_id,
        created_at=from_db(row.created_at),
        used=bool(row.used),
    )


def _assignment(row: Any) -> RoleAssignment:
    """Build a RoleAssignment from a roles row."""
    return RoleAssignment(
        pseudonym=row.pseudonym,
        role=Role(row.role),
        unit_id=row.unit_id,
        granted_at=from_db(row.granted_at),
    )


async def create_role_grant(
    engine: AsyncEngine, token_hash: str, role: Role, unit_id: int | None, now: datetime
) -> RoleGrant:
    """Store a one-time role link (its token's hash only)."""
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
                )
                .returning(role_grants.c.id)
            )
        ).scalar_one()
    return RoleGrant(grant_id, role, unit_id, utc(now), used=False)


async def claim_role_grant(
    engine: AsyncEngine, token_hash: str, pseudonym: str, now: datetime
) -> GrantClaim:
    """Use a role link once: the first claimer gets the role, later ones ALREADY_USED."""
    async with write_transaction(engine) as conn:
        # The conditional UPDATE is the claim: only one transaction can flip used to true.
        claimed = await conn.execute(
            update(role_grants)
            .where(role_grants.c.token_hash == token_hash, role_grants.c.used.is_(False))
            .values(used=True)
        )
        row = (
            await conn.execute(select(role_grants).where(role_grants.c.token_hash == token_hash))
        ).first()
        if row is None:
            return GrantClaim(ClaimStatus.UNKNOWN)
        if claimed.rowcount != 1:
            return GrantClaim(ClaimStatus.ALREADY_USED, _grant(row))
        await conn.execute(
            upsert(
                conn,
                roles,
                {
                    "pseudonym": pseudonym,
                    "role": row.role,
                    "unit_id": row.unit_id,
                    "granted_at": utc(now),
                },
                ["pseudonym", "role"],
                ["unit_id", "granted_at"],
            )
        )
    return GrantClaim(ClaimStatus.CLAIMED, _grant(row))


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
