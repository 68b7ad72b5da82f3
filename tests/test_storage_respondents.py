"""Respondents: idempotent creation and the chosen language."""

from __future__ import annotations

from storage.respondents import ensure_respondent, get_respondent_language, set_respondent_language

ALICE = "a" * 64
BOB = "b" * 64


async def test_respondent_language(db):
    await ensure_respondent(db.engine, ALICE)
    await ensure_respondent(db.engine, ALICE)
    assert await get_respondent_language(db.engine, ALICE) is None
    await set_respondent_language(db.engine, ALICE, "en")
    assert await get_respondent_language(db.engine, ALICE) == "en"
    await set_respondent_language(db.engine, BOB, "id")  # creates the respondent
    assert await get_respondent_language(db.engine, BOB) == "id"
    assert await get_respondent_language(db.engine, "c" * 64) is None
