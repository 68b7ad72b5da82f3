"""Waves: opening, closing and listing; one open wave even under concurrent openers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from storage.errors import NotFound, WaveConflict
from storage.questionnaires import save_questionnaire
from storage.waves import (
    WaveStatus,
    close_wave,
    current_wave,
    get_wave,
    get_wave_by_id,
    list_waves,
    open_wave,
)
from tests.storage_fixtures import NOW


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
