"""One-time invitations: bulk creation, all or nothing, race-safe claims."""

from __future__ import annotations

import asyncio
import time

import pytest

from storage.invitations import NewInvitation, claim_invitation, create_invitations, get_invitation
from storage.values import ClaimStatus
from tests.storage_fixtures import NOW


def _invitations(setup, count, grp="internal", prefix="t"):
    unit = setup.units["DINKES"].id
    return [
        NewInvitation(token_hash=f"{prefix}{i:063d}", wave_id=setup.wave.id, grp=grp, unit_id=unit)
        for i in range(count)
    ]


async def test_claim_invitation_once(survey_setup):
    db = survey_setup.db
    assert await create_invitations(db.engine, _invitations(survey_setup, 3), NOW) == 3
    token = "t" + "0" * 63

    first = await claim_invitation(db.engine, token)
    assert first.status is ClaimStatus.CLAIMED
    assert first.invitation is not None
    assert (first.invitation.grp, first.invitation.unit_id) == (
        "internal",
        survey_setup.units["DINKES"].id,
    )
    assert first.invitation.used

    second = await claim_invitation(db.engine, token)
    assert second.status is ClaimStatus.ALREADY_USED
    assert second.invitation is not None
    assert second.invitation.id == first.invitation.id

    unknown = await claim_invitation(db.engine, "u" * 64)
    assert unknown.status is ClaimStatus.UNKNOWN
    assert unknown.invitation is None

    untouched = await get_invitation(db.engine, "t" + "1".zfill(63))
    assert untouched is not None
    assert not untouched.used


async def test_concurrent_claims_exactly_one_wins(survey_setup):
    db = survey_setup.db
    await create_invitations(db.engine, _invitations(survey_setup, 1), NOW)
    token = "t" + "0" * 63
    claims = await asyncio.gather(*(claim_invitation(db.engine, token) for _ in range(8)))
    statuses = sorted(claim.status for claim in claims)
    assert statuses.count(ClaimStatus.CLAIMED) == 1
    assert statuses.count(ClaimStatus.ALREADY_USED) == 7


async def test_bulk_invitations_are_fast(survey_setup):
    db = survey_setup.db
    rows = _invitations(survey_setup, 5000, grp="expert")
    started = time.perf_counter()
    assert await create_invitations(db.engine, rows, NOW) == 5000
    elapsed = time.perf_counter() - started
    # Generous bound for shared CI machines; typically ~0.1 s.
    assert elapsed < 3.0
    last = await get_invitation(db.engine, rows[-1].token_hash)
    assert last is not None
    assert last.grp == "expert"


async def test_bulk_invitations_are_all_or_nothing(survey_setup):
    db = survey_setup.db
    rows = _invitations(survey_setup, 10)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await create_invitations(db.engine, [*rows, rows[0]], NOW)
    assert await get_invitation(db.engine, rows[0].token_hash) is None
