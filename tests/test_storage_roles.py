"""Role grants by one-time link, subscriptions of report chats, and index corrections."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from storage import (
    ClaimStatus,
    NotFound,
    Role,
    add_correction,
    claim_role_grant,
    correction_history,
    create_role_grant,
    current_correction,
    get_roles,
    get_subscription,
    list_role_grants,
    list_roles,
    list_subscriptions,
    pause_subscription,
    revoke_role,
    revoke_role_grant,
    subscribe,
    unsubscribe,
)
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


async def test_subscriptions(db):
    group_chat = -1001234567890  # supergroup ids need BIGINT
    first = await subscribe(db.engine, group_chat, "id", NOW)
    assert (first.chat_id, first.language, first.active, first.created_at) == (
        group_chat,
        "id",
        True,
        NOW,
    )
    await subscribe(db.engine, 42, "en", NOW)
    assert [s.chat_id for s in await list_subscriptions(db.engine)] == [group_chat, 42]

    assert await pause_subscription(db.engine, group_chat, "bot was removed from the chat")
    assert [s.chat_id for s in await list_subscriptions(db.engine)] == [42]
    paused = await get_subscription(db.engine, group_chat)
    assert paused is not None
    assert (paused.active, paused.paused_reason) == (False, "bot was removed from the chat")
    assert len(await list_subscriptions(db.engine, active_only=False)) == 2

    again = await subscribe(db.engine, group_chat, "en", NOW + timedelta(days=1))
    assert (again.id, again.active, again.paused_reason, again.language) == (
        first.id,
        True,
        None,
        "en",
    )
    assert again.created_at == NOW

    assert await unsubscribe(db.engine, 42)
    assert not await unsubscribe(db.engine, 42)
    assert not await pause_subscription(db.engine, 42, "gone")
    assert await get_subscription(db.engine, 42) is None


async def test_corrections_newest_in_force(survey_setup):
    db = survey_setup.db
    wave = survey_setup.wave.id
    assert await current_correction(db.engine, wave) is None
    await add_correction(db.engine, wave, 3.28, 0.32, "KPK 2022", NOW)
    newest = await add_correction(db.engine, wave, 3.0, 0.5, "", NOW + timedelta(days=1))
    assert await current_correction(db.engine, wave) == newest
    history = await correction_history(db.engine, wave)
    assert [(c.integrity, c.prevalence, c.note) for c in history] == [
        (3.0, 0.5, ""),
        (3.28, 0.32, "KPK 2022"),
    ]
    with pytest.raises(ValueError, match="non-negative"):
        await add_correction(db.engine, wave, -1, 0, "", NOW)
    with pytest.raises(NotFound):
        await add_correction(db.engine, wave + 100, 1, 0, "", NOW)
