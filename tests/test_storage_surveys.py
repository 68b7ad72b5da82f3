"""Questionnaire versions, waves and one-time invitations (bulk creation, race-safe claims)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from storage import (
    ClaimStatus,
    NewInvitation,
    NotFound,
    QuestionnaireConflict,
    WaveConflict,
    WaveStatus,
    claim_invitation,
    close_wave,
    create_invitations,
    current_wave,
    get_invitation,
    get_questionnaire,
    get_wave,
    get_wave_by_id,
    latest_questionnaire,
    latest_questionnaires,
    list_waves,
    open_wave,
    save_questionnaire,
)
from tests.storage_fixtures import NOW


async def test_save_questionnaire_is_idempotent(db):
    first = await save_questionnaire(db.engine, "internal", 1, "internal", "a: 1\n", NOW)
    again = await save_questionnaire(
        db.engine, "internal", 1, "internal", "a: 1\n", NOW + timedelta(days=1)
    )
    assert again == first
    assert first.loaded_at == NOW
    assert await get_questionnaire(db.engine, first.id) == first
    assert await get_questionnaire(db.engine, 999) is None


async def test_same_version_with_other_text_is_refused(db):
    await save_questionnaire(db.engine, "internal", 1, "internal", "a: 1\n", NOW)
    with pytest.raises(QuestionnaireConflict, match="raise its version"):
        await save_questionnaire(db.engine, "internal", 1, "internal", "a: 2\n", NOW)


async def test_concurrent_saves_of_one_version_agree(db):
    saved = await asyncio.gather(
        *(save_questionnaire(db.engine, "expert", 3, "expert", "x\n", NOW) for _ in range(5))
    )
    assert len({item.id for item in saved}) == 1


async def test_latest_questionnaire_per_key(db):
    for version in (1, 3, 2):
        await save_questionnaire(db.engine, "internal", version, "internal", f"v{version}", NOW)
    await save_questionnaire(db.engine, "external", 1, "external", "e1", NOW)
    latest = await latest_questionnaires(db.engine)
    assert {key: q.version for key, q in latest.items()} == {"internal": 3, "external": 1}
    internal = await latest_questionnaire(db.engine, "internal")
    assert internal is not None
    assert internal.source_yaml == "v3"
    assert await latest_questionnaire(db.engine, "nope") is None


async def _questionnaires(db):
    return {
        grp: (await save_questionnaire(db.engine, grp, 1, grp, grp, NOW)).id
        for grp in ("internal", "external", "expert")
    }


async def test_open_close_and_list_waves(db):
    ids = await _questionnaires(db)
    assert await current_wave(db.engine) is None
    wave = await open_wave(db.engine, "2025-1", ids, NOW)
    assert wave.is_open
    assert wave.status is WaveStatus.OPEN
    assert dict(wave.questionnaire_ids) == ids
    assert wave.opened_at == NOW
    assert await current_wave(db.engine) == wave
    assert await get_wave(db.engine, "2025-1") == wave
    assert await get_wave_by_id(db.engine, wave.id) == wave

    with pytest.raises(WaveConflict, match="already open"):
        await open_wave(db.engine, "2025-2", ids, NOW)

    closed_at = NOW + timedelta(days=30)
    assert await close_wave(db.engine, wave.id, closed_at)
    assert not await close_wave(db.engine, wave.id, closed_at)
    assert await current_wave(db.engine) is None
    closed = await get_wave(db.engine, "2025-1")
    assert closed is not None
    assert (closed.status, closed.closed_at) == (WaveStatus.CLOSED, closed_at)

    with pytest.raises(WaveConflict, match="already exists"):
        await open_wave(db.engine, "2025-1", ids, closed_at)
    second = await open_wave(db.engine, "2025-2", {"external": ids["external"]}, closed_at)
    assert [w.name for w in await list_waves(db.engine)] == ["2025-2", "2025-1"]
    assert dict(second.questionnaire_ids) == {"external": ids["external"]}
    assert await get_wave(db.engine, "nope") is None


async def test_open_wave_with_unknown_questionnaire(db):
    with pytest.raises(NotFound, match="unknown questionnaire"):
        await open_wave(db.engine, "2025-1", {"internal": 42}, NOW)
    assert await list_waves(db.engine) == []


async def test_concurrent_open_wave_only_one_wins(db):
    ids = await _questionnaires(db)
    results = await asyncio.gather(
        *(open_wave(db.engine, f"w{i}", ids, NOW) for i in range(4)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, WaveConflict) for r in results if isinstance(r, BaseException))
    assert len(await list_waves(db.engine)) == 1


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
