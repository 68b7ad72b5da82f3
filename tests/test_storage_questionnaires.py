"""Questionnaire versions: idempotent saves, conflicts, the newest per key."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from storage.errors import QuestionnaireConflict
from storage.questionnaires import get_questionnaire, latest_questionnaires, save_questionnaire
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
    assert latest["internal"].source_yaml == "v3"
    assert "nope" not in latest
