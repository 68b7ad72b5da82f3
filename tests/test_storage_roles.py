"""Role grants by one-time link: claimed once, re-granted, revoked."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from storage.roles import (
    Role,
    claim_role_grant,
    create_role_grant,
    get_roles,
    list_role_grants,
    list_roles,
    revoke_role,
    revoke_role_grant,
)
from storage.values import ClaimStatus
from tests.storage_fixtures import NOW

ALICE = "a" * 64
BOB = "b" * 64


async def test_role_grant_claimed_once(survey_setup):
    db = survey_setup.db
    unit = survey_setup.units["DINKES"].id
    grant = await create_role_grant(db.engine, "g" * 64, Role.UNIT_HEAD, unit, NOW)
    assert [g.id for g in await list_role_grants(db.engine)] == [grant.id]

    claim = await claim_role_grant(db.engine, "g" * 64, ALICE, NOW + timedelta(hours=1))
    assert claim.status is ClaimStatus.CLAIMED
    assert claim.grant is not None
    assert claim.grant.used
    (role,) = await get_roles(db.engine, ALICE)
    assert (role.role, role.unit_id, role.granted_at) == (
        Role.UNIT_HEAD,
        unit,
        NOW + timedelta(hours=1),
    )

    again = await claim_role_grant(db.engine, "g" * 64, BOB, NOW)
    assert again.status is ClaimStatus.ALREADY_USED
    assert await get_roles(db.engine, BOB) == []
    assert (await claim_role_grant(db.engine, "x" * 64, BOB, NOW)).status is ClaimStatus.UNKNOWN
    assert await list_role_grants(db.engine) == []
    assert len(await list_role_grants(db.engine, include_used=True)) == 1


async def test_concurrent_role_claims_exactly_one_wins(db):
    await create_role_grant(db.engine, "g" * 64, Role.LEADERSHIP, None, NOW)
    claims = await asyncio.gather(
        *(claim_role_grant(db.engine, "g" * 64, f"{i:064d}", NOW) for i in range(6))
    )
    assert [c.status for c in claims].count(ClaimStatus.CLAIMED) == 1
    assert len(await list_roles(db.engine)) == 1


async def test_regrant_replaces_unit_and_revoke(survey_setup):
    db = survey_setup.db
    units = survey_setup.units
    await create_role_grant(db.engine, "1" * 64, Role.UNIT_HEAD, units["DINKES"].id, NOW)
    await create_role_grant(db.engine, "2" * 64, Role.UNIT_HEAD, units["KEC-01"].id, NOW)
    await create_role_grant(db.engine, "3" * 64, Role.LEADERSHIP, None, NOW)
    for token in ("1", "2", "3"):
        await claim_role_grant(db.engine, token * 64, ALICE, NOW)
    roles = {r.role: r.unit_id for r in await get_roles(db.engine, ALICE)}
    assert roles == {Role.UNIT_HEAD: units["KEC-01"].id, Role.LEADERSHIP: None}
    assert await revoke_role(db.engine, ALICE, Role.LEADERSHIP)
    assert not await revoke_role(db.engine, ALICE, Role.LEADERSHIP)
    assert [r.role for r in await list_roles(db.engine)] == [Role.UNIT_HEAD]


async def test_revoke_unused_grant_only(db):
    grant = await create_role_grant(db.engine, "g" * 64, Role.LEADERSHIP, None, NOW)
    used = await create_role_grant(db.engine, "h" * 64, Role.LEADERSHIP, None, NOW)
    await claim_role_grant(db.engine, "h" * 64, ALICE, NOW)
    assert await revoke_role_grant(db.engine, grant.id)
    assert not await revoke_role_grant(db.engine, used.id)
    assert (await claim_role_grant(db.engine, "g" * 64, ALICE, NOW)).status is ClaimStatus.UNKNOWN


async def test_grant_needs_unit_exactly_for_unit_head(db):
    with pytest.raises(ValueError, match="unit"):
        await create_role_grant(db.engine, "g" * 64, Role.UNIT_HEAD, None, NOW)
    with pytest.raises(ValueError, match="unit"):
        await create_role_grant(db.engine, "g" * 64, Role.LEADERSHIP, 1, NOW)


async def test_a_holder_code_of_digits_only_is_a_code_not_a_link_id(db):
    """`spibot grant --revoke 20481937`: a code that happens to be all digits names its holder
    (a link is "#N", or bare digits shorter than the shortest code)."""
    from services.admin import roles

    digits = "20481937" + "c" * 56
    grant = await create_role_grant(db.engine, "h" * 64, Role.LEADERSHIP, None, NOW)
    await claim_role_grant(db.engine, "h" * 64, digits, NOW + timedelta(minutes=1))
    found, link = await roles.find(db.engine, "20481937")
    assert ([h.pseudonym for h in found], link) == ([digits], None)
    found, link = await roles.find(db.engine, f"#{grant.id}")
    assert ([h.pseudonym for h in found], link) == ([digits], grant.id)
    found, link = await roles.find(db.engine, str(grant.id))
    assert link == grant.id
