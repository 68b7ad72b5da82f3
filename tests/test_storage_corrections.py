"""Index corrections: the newest one of a wave is in force."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from storage.corrections import add_correction, correction_history, current_correction
from storage.errors import NotFound
from tests.storage_fixtures import NOW

ALICE = "a" * 64
BOB = "b" * 64


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
    for integrity, prevalence in ((-1, 0), (math.inf, 0), (0, math.nan), (25, 0)):
        # Refused before the database sees it: no IntegrityError, nothing stored.
        with pytest.raises(ValueError, match="from 0 to 20"):
            await add_correction(db.engine, wave, integrity, prevalence, "", NOW)
    assert await current_correction(db.engine, wave) == newest
    with pytest.raises(NotFound):
        await add_correction(db.engine, wave + 100, 1, 0, "", NOW)
